"""Run the Alembic migrations shipped in ``ivr/store/migrations`` on an engine (no alembic.ini)."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Engine

__all__ = ["MIGRATIONS_DIR", "current_revision", "head_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)
MIGRATION_LOCK_KEY = 0x1E1E_0001  # any constant: PostgreSQL advisory lock held while migrating
logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin chatter; we log what changes


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine) -> None:
    """``alembic upgrade head`` in one transaction; raises SQLAlchemyError if the database fails.

    On SQLite the store's ``BEGIN IMMEDIATE`` makes workers starting together take turns, so
    the second finds the schema already current; on PostgreSQL an advisory lock does the same.
    """
    config = _config()
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Several servers (or workers) starting together: one migrates, the others wait here
            # (until its commit) and then find the schema current, instead of failing on CREATE TABLE.
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.execute(text("SET LOCAL statement_timeout = 0"))  # a migration may be slow; a webhook not
        before = MigrationContext.configure(connection).get_current_revision()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        after = MigrationContext.configure(connection).get_current_revision()
    if before != after:
        log.info("database schema upgraded from %s to %s", before or "empty", after)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
