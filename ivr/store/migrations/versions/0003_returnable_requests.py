"""Every request can be returned on time: the caller's full number on messages (staff only), the
time each message and call-back was promised by, and the confidence of spoken choices in the call log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ivr.store.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as table:
        table.add_column(sa.Column("caller_number", sa.String(20), nullable=True))
        table.add_column(sa.Column("due_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("callback_requests") as table:
        table.add_column(sa.Column("due_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("call_events") as table:
        table.add_column(sa.Column("confidence", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("call_events") as table:
        table.drop_column("confidence")
    with op.batch_alter_table("callback_requests") as table:
        table.drop_column("due_at")
    with op.batch_alter_table("messages") as table:
        table.drop_column("due_at")
        table.drop_column("caller_number")
