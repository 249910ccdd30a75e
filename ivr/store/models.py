"""The tables: voicemail messages and call-back requests, with who/when they were dealt with.

Portable SQL only (SQLite by default, PostgreSQL for several servers): plain types, times
stored as UTC, uniqueness enforced by constraints so that a webhook Twilio retries can never
make a second row.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base", "CallEvent", "CallRecord", "CallbackRequest", "LoginFailure", "Message", "StaffSession", "StaffUser",
    "TextMessage", "UTCDateTime", "utcnow",
]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """An aware UTC datetime on every database (SQLite keeps no zone: store naive UTC, add it back)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("store aware datetimes only")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        return None if value is None else value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    # Named constraints, matching the migrations, so every database reports the same names.
    metadata = MetaData(naming_convention={"uq": "uq_%(table_name)s_%(column_0_name)s"})


class Message(Base):
    """A voicemail left for the nurses. Keyed by Twilio's RecordingSid: the <Record> action and the
    recording status callback may each arrive more than once, in either order, and fill one row.
    The caller's full number is kept (staff must be able to ring back) and shown only to staff."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recording_sid: Mapped[str] = mapped_column(String(64), unique=True)
    call_sid: Mapped[str] = mapped_column(String(64), index=True)
    caller_masked: Mapped[str] = mapped_column(String(32))  # for lists and logs
    caller_number: Mapped[str | None] = mapped_column(String(20))  # E.164, to ring back; staff pages only
    leaflet: Mapped[str | None] = mapped_column(String(120))
    section: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(16))  # "busy" or "closed": why the caller was not put through
    recording_url: Mapped[str | None] = mapped_column(String(500))
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    recording_status: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # when the caller was told to expect a call
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(120))


class CallbackRequest(Base):
    """A caller asking a nurse to ring them back. One per call (unique CallSid): a retried
    webhook finds the row already there. The full number is kept because a nurse must dial it."""

    __tablename__ = "callback_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    number: Mapped[str] = mapped_column(String(20))  # E.164
    number_source: Mapped[str] = mapped_column(String(16))  # "caller" (their own line) or "keyed"
    leaflet: Mapped[str | None] = mapped_column(String(120))
    section: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(16))  # "busy", "no-answer" or "closed"
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # when the caller was told to expect the call
    done_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(String(120))


# --- Call log and staff (issue 8) --------------------------------------------------------------


class CallRecord(Base):
    """One telephone call, built up best effort from its webhooks, and closed by Twilio's call
    status callback (``/voice/status``): its final ``call_status``, ``duration_seconds``
    (CallDuration) and ``hung_up_at``. Either may arrive first: a row made by the status callback
    has no webhooks yet, and the first webhook then sets where the caller was. ``stage`` is the
    place of the last webhook, so once the call is over it is where the caller hung up. The
    caller's number is kept only as a keyed hash (repeat callers are counted)."""

    __tablename__ = "calls"
    # A caller's latest calls, newest first, straight from the index (ivr.calllog.returning; 0007).
    __table_args__ = (Index("ix_calls_caller_hash_started_at", "caller_hash", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64), unique=True)
    caller_hash: Mapped[str | None] = mapped_column(String(64))  # indexed with started_at (above)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    ended_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    stage: Mapped[str] = mapped_column(String(24))  # where the caller was last: "read", "sections", "nurse-options"...
    leaflet: Mapped[str | None] = mapped_column(String(120))  # last leaflet position, if any
    section: Mapped[int | None] = mapped_column(Integer)
    part: Mapped[int | None] = mapped_column(Integer)
    nurse_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    nurse_closed: Mapped[bool] = mapped_column(Boolean, default=False)  # reached the nurse line out of hours
    transfer_status: Mapped[str | None] = mapped_column(String(24))  # "answered" or Twilio's DialCallStatus
    transfer_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    message_left: Mapped[bool] = mapped_column(Boolean, default=False)
    callback_left: Mapped[bool] = mapped_column(Boolean, default=False)
    webhooks: Mapped[int] = mapped_column(Integer, default=0)
    past_first_menu: Mapped[bool] = mapped_column(Boolean, default=False)  # reached anything beyond the main menu
    call_status: Mapped[str | None] = mapped_column(String(16))  # Twilio's final CallStatus: completed, busy...
    duration_seconds: Mapped[int | None] = mapped_column(Integer)  # Twilio's CallDuration
    hung_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())  # when the call really ended


class CallEvent(Base):
    """Something that happened in a call: a leaflet part started ("read"), the end of a section
    reached without a key ("end": its last part was heard to the end), a key pressed ("key"; never
    the digits of a phone number), the nurse line reached ("nurse"), a transfer's outcome ("dial"),
    a message or call-back left."""

    __tablename__ = "call_events"
    # A call's latest event of a kind, by (at, id), is one index probe (ivr.calllog.returning; 0007).
    __table_args__ = (Index("ix_call_events_call_sid_kind_at_id", "call_sid", "kind", "at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64))  # indexed with kind, at and id (above)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    menu: Mapped[str | None] = mapped_column(String(24))  # where a key was pressed
    digits: Mapped[str | None] = mapped_column(String(8))
    leaflet: Mapped[str | None] = mapped_column(String(120))
    section: Mapped[int | None] = mapped_column(Integer)
    part: Mapped[int | None] = mapped_column(Integer)
    rate: Mapped[str | None] = mapped_column(String(8))
    seconds: Mapped[float | None] = mapped_column(Float)  # the part's length (audio, or estimated)
    detail: Mapped[str | None] = mapped_column(String(32))  # e.g. a transfer's outcome, what spoken words chose
    confidence: Mapped[float | None] = mapped_column(Float)  # how sure speech recognition was (never the words)


class StaffUser(Base):
    """A member of staff who may sign in to the staff pages. Only a salted password hash is kept."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LoginFailure(Base):
    """A failed sign-in, kept a day to slow down password guessing (per name and address, and per
    address) and to show staff who is trying. In the database so that every worker and server
    sees the same. The name typed is kept only as a keyed hash (it may be a password typed in
    the wrong box); ``user_name`` only when it is a staff user's."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)  # the client's, behind IVR_TRUSTED_PROXIES
    name_key: Mapped[str] = mapped_column(String(64), index=True)  # HMAC-SHA256 of the name typed
    user_name: Mapped[str | None] = mapped_column(String(80), index=True)


class StaffSession(Base):
    """A signed-in staff member's session. The browser's (signed) cookie holds a random token;
    only its SHA-256 is kept here, so a copy of the database opens no session. Deleting the row
    ends the session on every server at once."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_name: Mapped[str] = mapped_column(String(80), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    address: Mapped[str] = mapped_column(String(64))


# --- A link to a leaflet by text message (issue 17) ---------------------------------------------


class TextMessage(Base):
    """A text message with a link to a leaflet, asked for in a call. Written (committed) by the
    webhook before the caller hears "we'll send it now"; sent afterwards by a background thread
    (:mod:`ivr.texts.sender`), which claims it (``queued`` -> ``sending``) and records the outcome
    (``sent`` with Twilio's message SID, or ``failed`` with Twilio's error code).

    One per leaflet per call (unique ``call_sid`` and ``leaflet``). The caller's number is counted
    by a keyed hash (``number_hash``, as the call log keys callers); the full number is kept only
    until the message is sent or has failed (``number`` is then emptied), and shown nowhere."""

    __tablename__ = "text_messages"
    __table_args__ = (UniqueConstraint("call_sid", "leaflet", name="uq_text_messages_call_sid_leaflet"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    call_sid: Mapped[str] = mapped_column(String(64))
    leaflet: Mapped[str] = mapped_column(String(120))
    number_hash: Mapped[str] = mapped_column(String(64), index=True)
    number_masked: Mapped[str] = mapped_column(String(32))  # for staff pages and logs
    number: Mapped[str | None] = mapped_column(String(20))  # E.164, to send to; None once sent or failed
    body: Mapped[str] = mapped_column(String(320))  # the message: the leaflet's title and short link
    status: Mapped[str] = mapped_column(String(16), index=True)  # queued, sending, sent, failed
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    twilio_sid: Mapped[str | None] = mapped_column(String(64))  # SM... once Twilio took it
    error_code: Mapped[str | None] = mapped_column(String(16))  # Twilio's error code (21610 ...), or "network"
    error_message: Mapped[str | None] = mapped_column(String(200))
