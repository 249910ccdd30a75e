"""Alembic environment: always run online, on the connection ``ivr.store`` hands over.

Start-up calls ``ivr.store.migrate.upgrade(engine)``; there is no alembic.ini. To write a new
migration, copy the newest file in ``versions/`` and chain ``down_revision`` to it.
"""

from __future__ import annotations

from alembic import context

from ivr.store.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
