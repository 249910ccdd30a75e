"""Twilio's call status callback, read: how and when a call really ended. Pure.

Twilio posts it to the number's status callback (``/voice/status``, set by ``ivr twilio
connect``) once the call is over, with the call's usual parameters plus ``CallStatus``,
``CallDuration`` (whole seconds) and ``Timestamp`` (when the event fired, RFC 2822, whole
seconds). A number set to report progress events sends other statuses too; only the final
ones end a call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

__all__ = ["FINAL_STATUSES", "NO_WEBHOOK", "CallEnd", "call_end"]

NO_WEBHOOK = "no-webhook"  # the stage of a call known only from its status callback (the line never answered)
FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
LONGEST_CALL = 24 * 3600  # Twilio ends any call after 4 hours; a larger duration is junk
SKEW = dt.timedelta(minutes=10)  # a Timestamp further from our clock than this is not believed


@dataclass(frozen=True)
class CallEnd:
    call_sid: str
    caller: str  # the full number: hashed before it is stored, never logged
    status: str  # one of FINAL_STATUSES
    duration_seconds: int | None  # None when Twilio sent none (a call never answered)
    ended_at: dt.datetime  # aware UTC

    @property
    def started_at(self) -> dt.datetime:
        """When the call began: its end less its duration."""
        return self.ended_at - dt.timedelta(seconds=self.duration_seconds or 0)


def _timestamp(text: str, received: dt.datetime) -> dt.datetime:
    """Twilio's ``Timestamp``, or ``received`` when it is missing, unreadable or far off our clock."""
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return received
    if moment.tzinfo is None or abs(moment - received) > SKEW:
        return received
    return moment.astimezone(dt.UTC)


def call_end(form: Mapping[str, str], received: dt.datetime) -> CallEnd | None:
    """The call's end from a status callback's form (``received``: when it arrived, aware), or None
    when it does not end a call (no CallSid, or a progress status such as ``ringing``). Never raises."""
    call_sid = form.get("CallSid", "")[:64]
    status = form.get("CallStatus", "").strip().lower()
    if not call_sid or status not in FINAL_STATUSES:
        return None
    duration_text = form.get("CallDuration", "").strip()
    duration = int(duration_text) if duration_text.isascii() and duration_text.isdigit() and len(duration_text) <= 6 \
        else None
    if duration is not None and duration > LONGEST_CALL:
        duration = None
    return CallEnd(call_sid=call_sid, caller=form.get("From", ""), status=status, duration_seconds=duration,
                   ended_at=_timestamp(form.get("Timestamp", "")[:64], received))
