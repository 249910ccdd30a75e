"""Text messages with a link to a leaflet (issue 17): one row per leaflet per call, queued by the
webhook and sent by a background thread.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ivr.store.models import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("leaflet", sa.String(120), nullable=False),
        sa.Column("number_hash", sa.String(64), nullable=False),
        sa.Column("number_masked", sa.String(32), nullable=False),
        sa.Column("number", sa.String(20), nullable=True),
        sa.Column("body", sa.String(320), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("twilio_sid", sa.String(64), nullable=True),
        sa.Column("error_code", sa.String(16), nullable=True),
        sa.Column("error_message", sa.String(200), nullable=True),
        sa.UniqueConstraint("call_sid", "leaflet", name="uq_text_messages_call_sid_leaflet"),
    )
    for column in ("number_hash", "status", "created_at"):
        op.create_index(f"ix_text_messages_{column}", "text_messages", [column])


def downgrade() -> None:
    op.drop_table("text_messages")
