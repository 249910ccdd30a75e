"""Staff users: salted password hashes (werkzeug's scrypt), and a limit on failed sign-ins.

Failed sign-ins are counted in the database, per user name and per address, over the last
:data:`LOGIN_WINDOW_SECONDS`; every worker and server sees the same counts. Past the limit a
sign-in is refused without even checking the password, until the window has passed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import delete, func, select
from werkzeug.security import check_password_hash, generate_password_hash

from ivr.errors import IvrError
from ivr.store import Store
from ivr.store.models import LoginFailure, StaffUser, utcnow

__all__ = [
    "LOGIN_WINDOW_SECONDS",
    "MAX_FAILURES_PER_ADDRESS",
    "MAX_FAILURES_PER_NAME",
    "MIN_PASSWORD_LENGTH",
    "LoginResult",
    "StaffUserError",
    "UserInfo",
    "add_user",
    "check_login",
    "list_users",
    "remove_user",
    "user_exists",
]

NAME_RE = re.compile(r"[a-z0-9][a-z0-9._@-]{0,79}")
MIN_PASSWORD_LENGTH = 10
LOGIN_WINDOW_SECONDS = 60
MAX_FAILURES_PER_NAME = 5  # a person mistyping is well inside this; a guesser gets 5 a minute
MAX_FAILURES_PER_ADDRESS = 20  # several staff behind one office address
# Checked when the name is unknown, so that an unknown name takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password")


class StaffUserError(IvrError):
    """A user name or password that cannot be used, or a user that does not exist."""


@dataclass(frozen=True)
class UserInfo:
    name: str
    created_at: dt.datetime
    last_login_at: dt.datetime | None


LoginResult = Literal["ok", "wrong", "limited"]


def normalise_name(name: str) -> str:
    """The stored form of a user name (lower case); StaffUserError if it cannot be one."""
    clean = name.strip().lower()
    if not NAME_RE.fullmatch(clean):
        raise StaffUserError(
            f"Expected a user name of letters, digits, '.', '_', '@' or '-' (at most 80), got {name!r}.",
            hint="e.g. ivr users add j.smith",
        )
    return clean


def add_user(store: Store, name: str, password: str) -> str:
    """Create a user, or set a new password for an existing one; returns the stored name.
    StaffUserError for a bad name or a password shorter than MIN_PASSWORD_LENGTH; StoreError if
    the database fails."""
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
        else:
            row.password_hash = hashed
    return clean


def remove_user(store: Store, name: str) -> None:
    """Delete a user (their sessions stop working at their next page). StaffUserError if there is
    no such user."""
    clean = normalise_name(name)
    with store.transaction() as session:
        row = session.scalars(select(StaffUser).where(StaffUser.name == clean)).one_or_none()
        if row is None:
            raise StaffUserError(f"There is no staff user {clean!r}.", hint="See `ivr users list`.")
        session.delete(row)


def list_users(store: Store) -> list[UserInfo]:
    with store.transaction() as session:
        rows = session.scalars(select(StaffUser).order_by(StaffUser.name))
        return [UserInfo(row.name, row.created_at, row.last_login_at) for row in rows]


def user_exists(store: Store, name: str) -> bool:
    with store.transaction() as session:
        return session.scalar(select(func.count()).select_from(StaffUser).where(StaffUser.name == name)) == 1


def check_login(store: Store, name: str, password: str, address: str) -> tuple[LoginResult, str]:
    """("ok", name) for the right password, ("wrong", name) otherwise (counted), ("limited", name)
    when this name or address has failed too often lately. StoreError if the database fails."""
    try:
        clean = normalise_name(name)
    except StaffUserError:
        clean = name.strip().lower()[:80]
    keys = (f"name:{clean}", f"ip:{address[:120]}")
    now = utcnow()
    since = now - dt.timedelta(seconds=LOGIN_WINDOW_SECONDS)
    with store.transaction() as session:
        counts = [
            session.scalar(select(func.count()).select_from(LoginFailure)
                           .where(LoginFailure.key == key, LoginFailure.at > since)) or 0
            for key in keys
        ]
        if counts[0] >= MAX_FAILURES_PER_NAME or counts[1] >= MAX_FAILURES_PER_ADDRESS:
            return "limited", clean
        row = session.scalars(select(StaffUser).where(StaffUser.name == clean)).one_or_none()
        if row is not None and check_password_hash(row.password_hash, password):
            row.last_login_at = now
            return "ok", clean
        if row is None:
            check_password_hash(_DUMMY_HASH, password)
        session.add_all(LoginFailure(key=key, at=now) for key in keys)
        session.execute(delete(LoginFailure).where(LoginFailure.at < now - dt.timedelta(days=1)))
        return "wrong", clean
