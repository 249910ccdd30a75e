"""Write one webhook's facts: update the call's row and add its events, in one small transaction."""

from __future__ import annotations

import hashlib
import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.calllog.facts import Facts
from ivr.errors import StoreError
from ivr.store import Store
from ivr.store.models import CallEvent, CallRecord

__all__ = ["caller_hash", "record_facts"]


def caller_hash(secret: str, number: str) -> str | None:
    """A keyed hash (HMAC-SHA256 with the app's secret key) of the caller's number: the same
    caller gives the same hash, so repeat callers can be counted, but the number cannot be read
    back or found by hashing every possible number without the key. None for no number."""
    number = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    if not number:
        return None
    return hmac.new(secret.encode(), number.encode(), hashlib.sha256).hexdigest()


def _apply(row: CallRecord, facts: Facts) -> None:
    if facts.at >= row.ended_at:  # a late, reordered webhook does not move the caller back
        row.ended_at, row.stage = facts.at, facts.stage
        if facts.leaflet is not None or facts.stage == "leaflets":  # else keep the last leaflet place
            row.leaflet, row.section, row.part = facts.leaflet, facts.section, facts.part
    row.webhooks += 1
    row.nurse_requested = row.nurse_requested or facts.nurse_requested
    row.nurse_closed = row.nurse_closed or facts.nurse_closed
    if facts.transfer_status is not None:
        row.transfer_status, row.transfer_at = facts.transfer_status, facts.at
    row.message_left = row.message_left or facts.message_left
    row.callback_left = row.callback_left or facts.callback_left


def _events(facts: Facts, seconds: float | None) -> list[CallEvent]:
    events = []
    common = {"call_sid": facts.call_sid, "at": facts.at}
    if facts.key is not None:
        events.append(CallEvent(**common, kind="key", menu=facts.key.menu, digits=facts.key.digits))
    if facts.read is not None:
        read = facts.read
        events.append(CallEvent(**common, kind="read", leaflet=read.leaflet, section=read.section,
                                part=read.part, rate=read.rate, seconds=seconds))
    if facts.nurse_requested:
        events.append(CallEvent(**common, kind="nurse", leaflet=facts.leaflet, section=facts.section,
                                detail="closed" if facts.nurse_closed else "open"))
    if facts.transfer_status is not None:
        events.append(CallEvent(**common, kind="dial", detail=facts.transfer_status))
    if facts.message_left:
        events.append(CallEvent(**common, kind="message"))
    if facts.callback_left:
        events.append(CallEvent(**common, kind="callback"))
    return events


def _write(session: Session, facts: Facts, secret: str, seconds: float | None) -> None:
    row = session.scalars(select(CallRecord).where(CallRecord.call_sid == facts.call_sid)).one_or_none()
    if row is None:
        row = CallRecord(
            call_sid=facts.call_sid, caller_hash=caller_hash(secret, facts.caller), started_at=facts.at,
            ended_at=facts.at, stage=facts.stage, nurse_requested=False, nurse_closed=False,
            message_left=False, callback_left=False, webhooks=0,
        )
        session.add(row)
    _apply(row, facts)
    session.add_all(_events(facts, seconds))


def record_facts(store: Store, facts: Facts, *, secret: str, seconds: float | None = None) -> None:
    """Record ``facts`` (``seconds``: the length of the part read, if any). Raises StoreError when
    the database fails; a first webhook racing another of the same call is retried once."""
    for attempt in range(2):
        try:
            with store.transaction(durable=False) as session:  # best effort: no fsync wait
                _write(session, facts, secret, seconds)
            return
        except StoreError as exc:
            if attempt or "IntegrityError" not in str(exc):
                raise
