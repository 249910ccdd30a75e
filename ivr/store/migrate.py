"""Run the Alembic migrations shipped in ``ivr/store/migrations`` on an engine (no alembic.ini).

Alembic (with Mako and Pygments, some 16 MB a process) is loaded only when the schema is not
current already: every worker of the line migrates at start, and all but the first find nothing to do.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["MIGRATIONS_DIR", "current_revision", "head_revision", "newest_shipped_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger(__name__)
MIGRATION_LOCK_KEY = 0x1E1E_0001  # any constant: PostgreSQL advisory lock held while migrating
logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin chatter; we log what changes


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def upgrade(engine: Engine) -> None:
    """``alembic upgrade head`` in one transaction; raises SQLAlchemyError if the database fails.

    On SQLite the store's ``BEGIN IMMEDIATE`` makes workers starting together take turns, so
    the second finds the schema already current; on PostgreSQL an advisory lock does the same.
    """
    if _recorded_revision(engine) == newest_shipped_revision():
        return
    from alembic import command
    from alembic.runtime.migration import MigrationContext

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
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def newest_shipped_revision() -> str:
    """The newest migration shipped, without Alembic: each is ``versions/NNNN_what.py`` with
    revision "NNNN" (tests/test_store.py checks that this is Alembic's head)."""
    return max(path.name[:4] for path in (MIGRATIONS_DIR / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))


def _recorded_revision(engine: Engine) -> str | None:
    """The revision the database records, read without Alembic; None when it cannot be read
    (no schema yet, or the database is down: the full upgrade then says why)."""
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
