"""Staff users: salted password hashes (werkzeug's scrypt), and back-off after failed sign-ins.

Failed sign-ins are kept in the database for a day (every worker and server sees the same),
keyed on the client's real address (``request.remote_addr`` behind IVR_TRUSTED_PROXIES) and on
a keyed hash of the name typed (which may be a password typed into the wrong box: it is never
stored or logged as typed). They slow guessing down without handing anyone a way to lock staff
out:

- per name and address together: :data:`FREE_FAILURES_PER_NAME_AND_ADDRESS` failures in the
  last :data:`FAILURE_MEMORY`, then each further try must wait twice as long as the one before
  (from :data:`FIRST_WAIT_SECONDS` up to :data:`LONGEST_WAIT_SECONDS`) after the last failure;
- per address, whatever the name (one machine trying many names): the same after
  :data:`FREE_FAILURES_PER_ADDRESS`.

A try made while waiting is not checked (nor counted). There is no limit per name alone: a
guesser elsewhere, or many of them, never stops the real user signing in from their own
computer. Staff see failed sign-ins on the dashboard, and a user is told at sign-in how many
there were for their name since they last signed in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ivr.errors import IvrError
from ivr.store import Store
from ivr.store.models import LoginFailure, StaffSession, StaffUser, utcnow
from ivr.store.store import rows_changed

__all__ = [
    "FAILURE_MEMORY",
    "FIRST_WAIT_SECONDS",
    "FREE_FAILURES_PER_ADDRESS",
    "FREE_FAILURES_PER_NAME_AND_ADDRESS",
    "LONGEST_WAIT_SECONDS",
    "MIN_PASSWORD_LENGTH",
    "FailureSummary",
    "LoginOutcome",
    "StaffUserError",
    "UserInfo",
    "add_user",
    "check_login",
    "failed_sign_ins",
    "list_users",
    "remove_user",
]

NAME_RE = re.compile(r"[a-z0-9][a-z0-9._@-]{0,79}")
MIN_PASSWORD_LENGTH = 10
FAILURE_MEMORY = dt.timedelta(hours=1)  # failures older than this no longer slow anyone down
FREE_FAILURES_PER_NAME_AND_ADDRESS = 5  # a person mistyping is well inside this
FREE_FAILURES_PER_ADDRESS = 20  # several staff behind one office address
FIRST_WAIT_SECONDS = 5
LONGEST_WAIT_SECONDS = 15 * 60  # so a guesser gets about 15 tries an hour per name and address
KEEP_FAILURES = dt.timedelta(days=1)  # shown to staff, then deleted
# Checked when the name is unknown, so that an unknown name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")


class StaffUserError(IvrError):
    """A user name or password that cannot be used, or a user that does not exist."""


@dataclass(frozen=True)
class UserInfo:
    name: str
    created_at: dt.datetime
    last_login_at: dt.datetime | None


@dataclass(frozen=True)
class LoginOutcome:
    """What a sign-in got: ``ok``, ``wrong`` (counted), or ``wait`` (not tried: ``retry_after``
    seconds to go). ``name`` is the name in its stored form; ``failures_before`` (for ``ok``) is
    how many failed sign-ins there were for this user since their previous sign-in;
    ``known_user`` whether ``name`` is a staff user's (only then may it be logged)."""

    result: Literal["ok", "wrong", "wait"]
    name: str
    known_user: bool
    retry_after: int = 0
    failures_before: int = 0


@dataclass(frozen=True)
class FailureSummary:
    """Failed sign-ins for one staff user (``user_name``), or for names that are no staff user's (None)."""

    user_name: str | None
    failures: int
    addresses: int
    last_at: dt.datetime


def normalise_name(name: str) -> str:
    """The stored form of a user name (lower case); StaffUserError if it cannot be one."""
    clean = name.strip().lower()
    if not NAME_RE.fullmatch(clean):
        raise StaffUserError(
            f"Expected a user name of letters, digits, '.', '_', '@' or '-' (at most 80), got {name!r}.",
            hint="e.g. ivr users add j.smith",
        )
    return clean


def add_user(store: Store, name: str, password: str) -> tuple[str, int]:
    """Create a user, or set a new password for an existing one (which ends all their sessions);
    returns the stored name and how many sessions were ended. StaffUserError for a bad name or
    a password shorter than MIN_PASSWORD_LENGTH; StoreError if the database fails."""
    clean = normalise_name(name)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffUserError(
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters.",
            hint="A few unrelated words make a long password that is easy to type.",
        )
    hashed = generate_password_hash(password)
    with store.transaction() as session:
        row = session.scalars(select(StaffUser).where(StaffUser.name == clean)).one_or_none()
        if row is None:
            session.add(StaffUser(name=clean, password_hash=hashed))
            return clean, 0
        row.password_hash = hashed
        return clean, _end_sessions(session, clean)


def _end_sessions(session: Session, name: str) -> int:
    return rows_changed(session.execute(delete(StaffSession).where(StaffSession.user_name == name)))


def remove_user(store: Store, name: str) -> int:
    """Delete a user and end their sessions (returns how many). StaffUserError if there is no
    such user; StoreError if the database fails."""
    clean = normalise_name(name)
    with store.transaction() as session:
        row = session.scalars(select(StaffUser).where(StaffUser.name == clean)).one_or_none()
        if row is None:
            raise StaffUserError(f"There is no staff user {clean!r}.", hint="See `ivr users list`.")
        session.delete(row)
        return _end_sessions(session, clean)


def list_users(store: Store) -> list[UserInfo]:
    with store.transaction() as session:
        rows = session.scalars(select(StaffUser).order_by(StaffUser.name))
        return [UserInfo(row.name, row.created_at, row.last_login_at) for row in rows]


def name_key(secret: bytes, name: str) -> str:
    """The keyed hash a typed name is kept as (the same name gives the same key)."""
    return hmac.new(secret, name.strip().lower().encode(), hashlib.sha256).hexdigest()


def _wait(failures: int, last: dt.datetime | None, free: int, now: dt.datetime) -> float:
    """Seconds still to wait after ``failures`` (the last at ``last``) when ``free`` are allowed."""
    if failures < free or last is None:
        return 0.0
    wait = min(LONGEST_WAIT_SECONDS, FIRST_WAIT_SECONDS * 2 ** (failures - free))
    return max(0.0, (last - now).total_seconds() + wait)


def check_login(
    store: Store, name: str, password: str, address: str, *, secret: bytes, now: dt.datetime | None = None,
) -> LoginOutcome:
    """Check a sign-in from ``address`` (the client's real address); see the module's doc for the
    back-off. ``secret`` keys the hash the typed name is kept as. StoreError if the database
    fails."""
    try:
        clean = normalise_name(name)
    except StaffUserError:
        clean = name.strip().lower()[:80]
    key, address = name_key(secret, clean), address[:64]
    now = now or utcnow()
    since = now - FAILURE_MEMORY
    with store.transaction() as session:
        def failures(*where: ColumnElement[bool]) -> tuple[int, dt.datetime | None]:
            count, last = session.execute(
                select(func.count(), func.max(LoginFailure.at)).where(LoginFailure.at > since, *where)).one()
            return count, last

        row = session.scalars(select(StaffUser).where(StaffUser.name == clean)).one_or_none()
        pair = failures(LoginFailure.name_key == key, LoginFailure.address == address)
        anyone = failures(LoginFailure.address == address)
        wait = max(_wait(*pair, FREE_FAILURES_PER_NAME_AND_ADDRESS, now),
                   _wait(*anyone, FREE_FAILURES_PER_ADDRESS, now))
        if wait > 0:
            return LoginOutcome("wait", clean, row is not None, retry_after=int(wait) + 1)
        if row is not None and check_password_hash(row.password_hash, password):
            before = session.scalar(select(func.count()).select_from(LoginFailure).where(
                LoginFailure.user_name == clean, LoginFailure.at > (row.last_login_at or row.created_at))) or 0
            row.last_login_at = now
            # their own mistakes from this computer no longer slow them down (already told: failures_before)
            session.execute(delete(LoginFailure).where(LoginFailure.name_key == key, LoginFailure.address == address))
            return LoginOutcome("ok", clean, True, failures_before=before)
        if row is None:
            check_password_hash(_DUMMY_HASH, password)
        session.add(LoginFailure(at=now, address=address, name_key=key, user_name=row.name if row else None))
        session.execute(delete(LoginFailure).where(LoginFailure.at < now - KEEP_FAILURES))
        return LoginOutcome("wrong", clean, row is not None)


def failed_sign_ins(store: Store, since: dt.datetime) -> list[FailureSummary]:
    """Failed sign-ins since ``since``, per staff user (and one line for all names that are no
    user's), most first. StoreError if the database fails."""
    query = (select(LoginFailure.user_name, func.count(), func.count(func.distinct(LoginFailure.address)),
                    func.max(LoginFailure.at))
             .where(LoginFailure.at > since).group_by(LoginFailure.user_name))
    with store.transaction() as session:
        rows = [FailureSummary(*row) for row in session.execute(query)]
    return sorted(rows, key=lambda row: (-row.failures, row.user_name or "~"))
