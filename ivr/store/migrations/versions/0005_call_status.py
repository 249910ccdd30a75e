"""Twilio's call status callback on the call log: the call's final status, real length and end,
and whether it ever got past the main menu.

Calls logged before this have no status. ``past_first_menu`` is filled in for them from what the
log already holds: a leaflet part heard, the nurse line, a message or call-back, or a last place
other than the leaflet or section menu (the log does not say which of those was the main menu,
so a call that only reached a section menu of several leaflets counts as not past it).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ivr.store.models import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("calls") as table:
        table.add_column(sa.Column("past_first_menu", sa.Boolean(), nullable=False, server_default=sa.false()))
        table.add_column(sa.Column("call_status", sa.String(16), nullable=True))
        table.add_column(sa.Column("duration_seconds", sa.Integer(), nullable=True))
        table.add_column(sa.Column("hung_up_at", UTCDateTime(), nullable=True))
    op.execute(
        "UPDATE calls SET past_first_menu = "
        "(nurse_requested OR message_left OR callback_left OR stage NOT IN ('leaflets', 'sections')"
        " OR EXISTS (SELECT 1 FROM call_events e WHERE e.call_sid = calls.call_sid AND e.kind = 'read'))"
    )


def downgrade() -> None:
    with op.batch_alter_table("calls") as table:
        table.drop_column("hung_up_at")
        table.drop_column("duration_seconds")
        table.drop_column("call_status")
        table.drop_column("past_first_menu")
