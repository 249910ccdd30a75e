"""Staff sessions and CSRF protection for the staff pages.

The session itself is kept in the database (:mod:`ivr.staff.sessions`): Flask's signed cookie
(the app's secret key; HttpOnly, SameSite=Lax, Secure when IVR_PUBLIC_URL is https) carries only
its random token and the CSRF token. Each staff request looks the token up, so signing out, a
new password, removing the user or ``ivr users sessions NAME --end`` ends the session on every
server at once, and a copied cookie opens nothing afterwards. Sessions also end after
IVR_STAFF_IDLE_MINUTES without a page, and IVR_STAFF_SESSION_HOURS after signing in.

CSRF: a random token kept in the session must come back in every staff form's hidden
``csrf_token`` field (checked with a constant-time comparison before any POST is handled). A
small check of our own rather than Flask-WTF's CSRFProtect: that protects every POST in the
app, so the Twilio webhooks (signed, not cookie-based) and the browser phone would each need
exempting, and it brings WTForms for forms that are two buttons. SameSite=Lax cookies are a
second line of defence.
"""

from __future__ import annotations

import hmac
import logging
import secrets

from flask import Flask, Request, Response, abort, g, request, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from itsdangerous import URLSafeTimedSerializer

from ivr.errors import StoreError
from ivr.runtime import current_runtime
from ivr.staff.sessions import SessionLimits, end_session, session_user, start_session
from ivr.web.database import current_store

__all__ = ["check_csrf", "configure_sessions", "csrf_token", "current_staff", "session_limits", "sign_in", "sign_out"]

log = logging.getLogger(__name__)


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

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "HTTP_COOKIE" not in request.environ:  # every webhook: an empty session without parsing cookies
            return self.session_class() if self.get_signing_serializer(app) is not None else None
        return super().open_session(app, request)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if not session and not session.accessed and not session.modified:
            return  # Flask's would work out the cookie's settings, then do nothing with them
        super().save_session(app, session, response)


def session_limits() -> SessionLimits:
    settings = current_runtime().settings
    return SessionLimits.from_settings(settings.staff_idle_minutes, settings.staff_session_hours)


def configure_sessions(app: Flask) -> None:
    app.session_interface = _CookieSessions()
    settings = app.extensions["ivr.runtime"].settings
    limits = SessionLimits.from_settings(settings.staff_idle_minutes, settings.staff_session_hours)
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=limits.lifetime,
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
    """The signed-in staff user's name, or None (not signed in, session ended or expired, user
    removed, database down)."""
    if "ivr_staff" in g:
        return g.ivr_staff
    token = session.get("sid")
    found = None
    if isinstance(token, str):
        try:
            found = session_user(current_store(), token, session_limits())
        except StoreError as exc:
            log.error("staff pages: could not check the session: %s", exc)
    g.ivr_staff = found
    return found


def sign_in(name: str) -> None:
    """Start a fresh session for ``name`` (a new CSRF token too: nothing carries over).
    StoreError if the database fails."""
    token = start_session(current_store(), name, request.remote_addr or "unknown", session_limits())
    session.clear()
    session.permanent = True
    session["sid"] = token
    csrf_token()
    g.ivr_staff = name


def sign_out() -> None:
    """End this session (here and in the database). StoreError if the database fails."""
    token = session.get("sid")
    session.clear()
    g.ivr_staff = None
    if isinstance(token, str):
        end_session(current_store(), token)
