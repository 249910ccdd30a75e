"""Queue a text message for the sender, after the guards against text-message fraud.

Fraudsters ring lines that send texts and have them sent to premium or foreign numbers they are
paid for ("SMS pumping"). The line sends only to the caller's own number, only when it is a UK
mobile (decided before the offer is made), and at most: once per leaflet per call (a unique
constraint), ``per_number_per_day`` to one number in 24 hours (counted by the number's keyed
hash), ``per_hour`` for the whole line. The checks and the insert are one transaction (SQLite
serialises writers; on PostgreSQL the transaction first locks the table against other writers,
so two workers cannot both take the last place: texts are few, the wait is short).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from ivr.calllog.record import caller_hash
from ivr.dialogue.steps import TextOutcome
from ivr.errors import StoreError
from ivr.nurse.numbers import mask_number
from ivr.store import Store
from ivr.store.models import TextMessage, utcnow

__all__ = ["DAY", "HOUR", "TextCounts", "TextLimits", "queue_text", "text_counts"]

DAY = dt.timedelta(hours=24)
HOUR = dt.timedelta(hours=1)


@dataclass(frozen=True)
class TextLimits:
    per_number_per_day: int = 3  # IVR_TEXTS_PER_NUMBER_PER_DAY
    per_hour: int = 100  # IVR_TEXTS_PER_HOUR


def queue_text(
    store: Store, *, call_sid: str, leaflet: str, number: str, body: str, secret: str, limits: TextLimits,
    now: dt.datetime | None = None,
) -> TextOutcome:
    """Commit a text message to ``number`` (the caller's own UK mobile, E.164) for the sender;
    ``queued`` once it is committed, else why not (``already`` for this leaflet in this call,
    ``over-limit``, ``not-possible`` without a CallSid). Raises StoreError when the database fails."""
    key = caller_hash(secret, number)
    if not call_sid or key is None:
        return "not-possible"
    now = now or utcnow()
    try:
        with store.transaction() as session:
            if session.get_bind().dialect.name == "postgresql":
                # Conflicts with itself and with the sender's updates, not with readers.
                session.execute(text("LOCK TABLE text_messages IN SHARE ROW EXCLUSIVE MODE"))
            asked = select(TextMessage.id).where(TextMessage.call_sid == call_sid, TextMessage.leaflet == leaflet)
            if session.scalar(asked) is not None:
                return "already"
            count = select(func.count()).select_from(TextMessage)
            to_number = session.scalar(count.where(TextMessage.number_hash == key, TextMessage.created_at > now - DAY))
            if (to_number or 0) >= limits.per_number_per_day:
                return "over-limit"
            if (session.scalar(count.where(TextMessage.created_at > now - HOUR)) or 0) >= limits.per_hour:
                return "over-limit"
            session.add(TextMessage(call_sid=call_sid, leaflet=leaflet, number_hash=key, number=number,
                                    number_masked=mask_number(number), body=body, status="queued", created_at=now))
            session.flush()
    except StoreError as exc:
        if isinstance(exc.__cause__, IntegrityError):  # the same request from another worker, just now
            return "already"
        raise
    return "queued"


@dataclass(frozen=True)
class TextCounts:
    """Texts asked for since a moment: how many were sent, how many failed, and the failures
    (newest first, at most a page of them) for staff to see."""

    sent: int
    failed: int
    waiting: int  # queued or being sent
    failures: tuple[TextMessage, ...]


def text_counts(store: Store, since: dt.datetime, *, failures_shown: int = 20) -> TextCounts:
    """The dashboard's figures for texts created since ``since``; StoreError if the database fails."""
    with store.transaction() as session:
        rows = dict(session.execute(
            select(TextMessage.status, func.count()).where(TextMessage.created_at >= since).group_by(TextMessage.status)
        ).tuples().all())
        failures = tuple(session.scalars(
            select(TextMessage).where(TextMessage.created_at >= since, TextMessage.status == "failed")
            .order_by(TextMessage.created_at.desc(), TextMessage.id.desc()).limit(failures_shown)))
    return TextCounts(rows.get("sent", 0), rows.get("failed", 0), rows.get("queued", 0) + rows.get("sending", 0),
                      failures)
