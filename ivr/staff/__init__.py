"""Staff accounts and sign-in for the staff pages (users, password hashes, failed sign-in limits)."""

from __future__ import annotations

from ivr.staff.users import (
    LOGIN_WINDOW_SECONDS,
    MAX_FAILURES_PER_ADDRESS,
    MAX_FAILURES_PER_NAME,
    MIN_PASSWORD_LENGTH,
    StaffUserError,
    add_user,
    check_login,
    list_users,
    remove_user,
    user_exists,
)

__all__ = [
    "LOGIN_WINDOW_SECONDS",
    "MAX_FAILURES_PER_ADDRESS",
    "MAX_FAILURES_PER_NAME",
    "MIN_PASSWORD_LENGTH",
    "StaffUserError",
    "add_user",
    "check_login",
    "list_users",
    "remove_user",
    "user_exists",
]
