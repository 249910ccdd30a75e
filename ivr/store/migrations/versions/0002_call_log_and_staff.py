"""Call log (calls, call_events) and staff sign-in (staff_users, login_failures).

Revision ID: 0002
Revises: 0001
Create Date: 2026-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ivr.store.models import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("caller_hash", sa.String(64), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=False),
        sa.Column("stage", sa.String(24), nullable=False),
        sa.Column("leaflet", sa.String(120), nullable=True),
        sa.Column("section", sa.Integer(), nullable=True),
        sa.Column("part", sa.Integer(), nullable=True),
        sa.Column("nurse_requested", sa.Boolean(), nullable=False),
        sa.Column("nurse_closed", sa.Boolean(), nullable=False),
        sa.Column("transfer_status", sa.String(24), nullable=True),
        sa.Column("transfer_at", UTCDateTime(), nullable=True),
        sa.Column("message_left", sa.Boolean(), nullable=False),
        sa.Column("callback_left", sa.Boolean(), nullable=False),
        sa.Column("webhooks", sa.Integer(), nullable=False),
        sa.UniqueConstraint("call_sid", name="uq_calls_call_sid"),
    )
    op.create_index("ix_calls_caller_hash", "calls", ["caller_hash"])
    op.create_index("ix_calls_started_at", "calls", ["started_at"])
    op.create_table(
        "call_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("menu", sa.String(24), nullable=True),
        sa.Column("digits", sa.String(8), nullable=True),
        sa.Column("leaflet", sa.String(120), nullable=True),
        sa.Column("section", sa.Integer(), nullable=True),
        sa.Column("part", sa.Integer(), nullable=True),
        sa.Column("rate", sa.String(8), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("detail", sa.String(32), nullable=True),
    )
    op.create_index("ix_call_events_call_sid", "call_events", ["call_sid"])
    op.create_index("ix_call_events_at", "call_events", ["at"])
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.UniqueConstraint("name", name="uq_staff_users_name"),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
    )
    op.create_index("ix_login_failures_key", "login_failures", ["key"])
    op.create_index("ix_login_failures_at", "login_failures", ["at"])


def downgrade() -> None:
    op.drop_table("login_failures")
    op.drop_table("staff_users")
    op.drop_table("call_events")
    op.drop_table("calls")
