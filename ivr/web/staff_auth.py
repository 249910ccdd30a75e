"""Staff sessions and CSRF protection for the staff pages.

Sessions are Flask's signed cookie (the app's secret key), HttpOnly, SameSite=Lax, Secure when
IVR_PUBLIC_URL is https, and expire after :data:`SESSION_HOURS`. The session names the staff
user; the user must still exist at every request, so ``ivr users remove`` ends their access.

CSRF: a random token kept in the session must come back in every staff form's hidden
``csrf_token`` field (checked with a constant-time comparison before any POST is handled). A
small check of our own rather than Flask-WTF's CSRFProtect: that protects every POST in the
app, so the Twilio webhooks (signed, not cookie-based) and the browser phone would each need
exempting, and it brings WTForms for forms that are two buttons. SameSite=Lax cookies are a
second line of defence.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets

from flask import Flask, abort, g, request, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from ivr.errors import StoreError

__all__ = ["SESSION_HOURS", "check_csrf", "configure_sessions", "csrf_token", "current_staff", "sign_in", "sign_out"]

log = logging.getLogger(__name__)
SESSION_HOURS = 10  # a working shift; then sign in again


class _CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions with the signer made once per key rather than on every
    request: Flask opens a session for each webhook too, and building the signer was about a
    tenth of a webhook's time in the app (cProfile)."""

    def __init__(self) -> None:
        self._signers: dict[tuple[object, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self._signers:
            self._signers = {keys: super().get_signing_serializer(app)}  # the key changed: forget the old
        return self._signers[keys]


def configure_sessions(app: Flask) -> None:
    app.session_interface = _CookieSessions()
    public_url = app.extensions["ivr.runtime"].settings.public_url
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=SESSION_HOURS),
    )


def csrf_token() -> str:
    """This session's CSRF token, made on first use (for templates: ``{{ csrf_token() }}``)."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def check_csrf() -> None:
    """400 unless the form's ``csrf_token`` matches the session's."""
    expected = session.get("csrf")
    given = request.form.get("csrf_token", "")
    if not isinstance(expected, str) or not hmac.compare_digest(given.encode(), expected.encode()):
        log.warning("refused a staff form without a valid CSRF token: %s", request.path)
        abort(400, description="This form has expired. Go back, reload the page and try again.")


def current_staff() -> str | None:
    """The signed-in staff user's name, or None (not signed in, user removed, database down)."""
    if "ivr_staff" in g:
        return g.ivr_staff
    name = session.get("staff")
    found = None
    if isinstance(name, str):
        from ivr.staff import user_exists
        from ivr.web.database import current_store

        try:
            found = name if user_exists(current_store(), name) else None
        except StoreError as exc:
            log.error("staff pages: could not check the user: %s", exc)
    g.ivr_staff = found
    return found


def sign_in(name: str) -> None:
    """Start a fresh session for ``name`` (a new CSRF token too: nothing carries over)."""
    session.clear()
    session.permanent = True
    session["staff"] = name
    csrf_token()
    g.ivr_staff = name


def sign_out() -> None:
    session.clear()
    g.ivr_staff = None
