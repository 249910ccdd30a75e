"""Staff accounts, sign-in and sessions for the staff pages (users, password hashes, back-off)."""

from __future__ import annotations

from ivr.staff.users import (
    MIN_PASSWORD_LENGTH,
    FailureSummary,
    LoginOutcome,
    StaffUserError,
    add_user,
    check_login,
    failed_sign_ins,
    list_users,
    remove_user,
)

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "FailureSummary",
    "LoginOutcome",
    "StaffUserError",
    "add_user",
    "check_login",
    "failed_sign_ins",
    "list_users",
    "remove_user",
]
