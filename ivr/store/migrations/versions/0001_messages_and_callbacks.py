"""Messages and call-back requests.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ivr.store.models import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("recording_sid", sa.String(64), nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("caller_masked", sa.String(32), nullable=False),
        sa.Column("leaflet", sa.String(120), nullable=True),
        sa.Column("section", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("recording_url", sa.String(500), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("recording_status", sa.String(32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("done_by", sa.String(120), nullable=True),
        sa.UniqueConstraint("recording_sid", name="uq_messages_recording_sid"),
    )
    op.create_index("ix_messages_call_sid", "messages", ["call_sid"])
    op.create_index("ix_messages_created_at", "messages", ["created_at"])
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("number_source", sa.String(16), nullable=False),
        sa.Column("leaflet", sa.String(120), nullable=True),
        sa.Column("section", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("done_at", UTCDateTime(), nullable=True),
        sa.Column("done_by", sa.String(120), nullable=True),
        sa.UniqueConstraint("call_sid", name="uq_callback_requests_call_sid"),
    )
    op.create_index("ix_callback_requests_created_at", "callback_requests", ["created_at"])


def downgrade() -> None:
    op.drop_table("callback_requests")
    op.drop_table("messages")
