"""Indexes for the returning caller's look-up (ivr/calllog/returning.py), which sits in front of
every call's first words: a caller's latest calls, newest first, from (caller_hash, started_at);
a call's latest "read" (or an "end" after it) from (call_sid, kind, at, id). With them each step
of the look-up's one statement is an index probe whose conditions and order the index holds
entirely, so the planner has no cheaper-looking scan to choose even with stale statistics.

The single-column indexes these begin with (ix_calls_caller_hash, ix_call_events_call_sid) are
dropped: the new ones serve every query they did, and each index is written on every webhook
(the call log's writer was a seventh of a worker's time at saturation). On PostgreSQL building these holds call-log writes back while it
runs (0.1 s for 100,000 events here); a write waiting longer than its lock_timeout (3 s) is
logged and that batch lost, as in any outage of the call log.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_calls_caller_hash_started_at", "calls", ["caller_hash", "started_at"])
    op.create_index("ix_call_events_call_sid_kind_at_id", "call_events", ["call_sid", "kind", "at", "id"])
    op.drop_index("ix_calls_caller_hash", table_name="calls")
    op.drop_index("ix_call_events_call_sid", table_name="call_events")


def downgrade() -> None:
    op.create_index("ix_call_events_call_sid", "call_events", ["call_sid"])
    op.create_index("ix_calls_caller_hash", "calls", ["caller_hash"])
    op.drop_index("ix_call_events_call_sid_kind_at_id", table_name="call_events")
    op.drop_index("ix_calls_caller_hash_started_at", table_name="calls")
