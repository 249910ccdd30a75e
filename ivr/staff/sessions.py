"""Staff sessions kept in the database, so that any server can end one and every server agrees.

Signing in makes a random token; the browser keeps it (in the app's signed session cookie) and
the database keeps only its SHA-256 with the user, the address, and when the session started
and was last used. Every staff request looks the token up (:func:`session_user`). A session
ends when its row is deleted: signing out, a new password (``ivr users add`` for an existing
user), ``ivr users remove``, ``ivr users sessions NAME --end``; and when it has been idle longer
than IVR_STAFF_IDLE_MINUTES or is older than IVR_STAFF_SESSION_HOURS. A cookie copied before
any of these opens nothing afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, or_, select

from ivr.store import Store
from ivr.store.models import StaffSession, StaffUser, utcnow
from ivr.store.store import rows_changed

__all__ = ["SessionInfo", "SessionLimits", "end_session", "end_sessions", "list_sessions", "session_user",
           "start_session"]

TOUCH_EVERY = dt.timedelta(minutes=1)  # "last used" is written at most this often (not on every page)


@dataclass(frozen=True)
class SessionLimits:
    """How long a session lasts: ``idle`` without a page, ``lifetime`` from signing in."""

    idle: dt.timedelta
    lifetime: dt.timedelta

    @classmethod
    def from_settings(cls, idle_minutes: int, session_hours: int) -> SessionLimits:
        return cls(dt.timedelta(minutes=idle_minutes), dt.timedelta(hours=session_hours))

    def expired(self, now: dt.datetime) -> ColumnElement[bool]:
        return or_(StaffSession.last_seen_at < now - self.idle, StaffSession.created_at < now - self.lifetime)


@dataclass(frozen=True)
class SessionInfo:
    user_name: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    address: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(store: Store, user_name: str, address: str, limits: SessionLimits, *,
                  now: dt.datetime | None = None) -> str:
    """A new session for ``user_name`` signing in from ``address``; returns its token (for the
    cookie). Expired sessions of anyone are deleted on the way. StoreError if the database fails."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    with store.transaction() as session:
        session.execute(delete(StaffSession).where(limits.expired(now)))
        session.add(StaffSession(token_hash=_hash(token), user_name=user_name, created_at=now, last_seen_at=now,
                                 address=address[:64]))
    return token


def session_user(store: Store, token: str, limits: SessionLimits, *, now: dt.datetime | None = None) -> str | None:
    """The user whose live session ``token`` is, or None (no such session, ended, expired, user
    removed). Notes the use. StoreError if the database fails."""
    now = now or utcnow()
    with store.transaction() as session:
        row = session.scalars(
            select(StaffSession).join(StaffUser, StaffUser.name == StaffSession.user_name)
            .where(StaffSession.token_hash == _hash(token))).one_or_none()
        if row is None:
            return None
        if row.last_seen_at < now - limits.idle or row.created_at < now - limits.lifetime:
            session.delete(row)
            return None
        if now - row.last_seen_at >= TOUCH_EVERY:
            row.last_seen_at = now
        return row.user_name


def end_session(store: Store, token: str) -> None:
    """End the session of ``token`` (signing out); nothing if it has already ended."""
    with store.transaction() as session:
        session.execute(delete(StaffSession).where(StaffSession.token_hash == _hash(token)))


def end_sessions(store: Store, user_name: str) -> int:
    """End every session of ``user_name``; returns how many there were."""
    with store.transaction() as session:
        return rows_changed(session.execute(delete(StaffSession).where(StaffSession.user_name == user_name)))


def list_sessions(store: Store, user_name: str, limits: SessionLimits, *,
                  now: dt.datetime | None = None) -> list[SessionInfo]:
    """The live sessions of ``user_name``, newest first."""
    now = now or utcnow()
    query = (select(StaffSession).where(StaffSession.user_name == user_name, ~limits.expired(now))
             .order_by(StaffSession.created_at.desc()))
    with store.transaction() as session:
        return [SessionInfo(row.user_name, row.created_at, row.last_seen_at, row.address)
                for row in session.scalars(query)]
