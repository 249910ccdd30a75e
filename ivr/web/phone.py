"""The browser phone: ``GET /phone`` (a keypad page) and ``POST /phone/step`` (one step of a call).

The server keeps no call state. ``/phone/step`` runs the simulator (:mod:`ivr.simulator.stepper`)
against this same app in-process (``httpx.WSGITransport``: no loopback request, so a single
gunicorn worker cannot deadlock on itself), signing each webhook with the auth token as Twilio
does. It answers with the events to play and, when the line listens for keys, a ``state``: the
rest of the TwiML document and the call's parameters, signed with the app's secret key so a page
can hand it back but not alter it.

Access (IVR_PHONE): ``open`` (anyone who can reach the app; the default with the local development
token), ``staff`` (a staff login; the default once a real Twilio token is set), ``off`` (404).
The JSON endpoint needs the page's token in an ``X-Phone-Token`` header and a JSON body: a
cross-site page can send neither without a CORS preflight, which is never granted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

import httpx
from flask import Blueprint, Flask, Response, abort, current_app, jsonify, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer, URLSafeTimedSerializer
from werkzeug.routing import BuildError

from ivr.runtime import current_runtime
from ivr.simulator.caller import DEFAULT_FROM, DEFAULT_TO, call_params
from ivr.simulator.dial import NURSE_MODES
from ivr.simulator.speech_index import SpeechIndex
from ivr.simulator.stepper import Pending, Step, resume, start
from ivr.simulator.transcript import Event

__all__ = ["bp", "init_app"]

log = logging.getLogger(__name__)
bp = Blueprint("phone", __name__, template_folder="templates", static_folder="static",
               static_url_path="/phone/static")

TOKEN_MAX_AGE = 12 * 3600  # a page left open longer is reloaded (its token has expired)
KEYS_RE = re.compile(r"[0-9*#]{1,20}")
_INDEX = "ivr_phone_index"


def init_app(app: Flask) -> None:
    """Register /phone (IVR_PHONE, validated with the settings, says who may use it)."""
    # each step fetches webhooks and audio in-process: one INFO line per fetch would drown the log
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app.register_blueprint(bp)


def _signed_in_staff() -> str | None:
    """The signed-in staff user's name; None when nobody is signed in or the staff pages are
    not installed (then nobody can be)."""
    try:
        from ivr.web.staff_auth import current_staff
    except ImportError:
        return None
    return current_staff()


def _login_url() -> str | None:
    try:
        return url_for("staff.login")
    except BuildError:
        return None


def _guarded(view: Callable[..., Any]) -> Callable[..., Any]:
    """404 when IVR_PHONE=off; when IVR_PHONE=staff, 403 unless a staff user is signed in."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        mode = current_runtime().settings.phone
        if mode == "off":
            abort(404)
        if mode == "staff" and _signed_in_staff() is None:
            if request.endpoint == "phone.step":
                return _refuse(403, "A staff login is needed to use the browser phone.")
            html = render_template("phone.html", refused=True, login_url=_login_url())
            return Response(html, status=403)
        return view(*args, **kwargs)

    return wrapped


def _csrf() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="ivr-phone-page")


def _states() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="ivr-phone-state")


@bp.get("/phone")
@_guarded
def page() -> Response:
    """The keypad page, carrying the token its script sends with each step."""
    html = render_template("phone.html", refused=False, token=_csrf().dumps("phone"))
    response = Response(html)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"  # no clickjacking of the keypad
    return response


def _refuse(status: int, message: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    return response


def _same_site_problem() -> str | None:
    """Why this request may come from another site (then it is refused), or None."""
    if not request.is_json:
        return "expected a JSON body"
    origin = request.headers.get("Origin")
    if origin:
        # behind a TLS-terminating proxy Flask sees http://, the browser says https://: compare
        # the host, or the whole origin with IVR_PUBLIC_URL's
        public = urlsplit(current_runtime().settings.public_url)
        public_origin = f"{public.scheme}://{public.netloc}" if public.netloc else None
        if urlsplit(origin).netloc != request.host and origin.rstrip("/") != public_origin:
            return f"cross-site request from {origin}"
    try:
        _csrf().loads(request.headers.get("X-Phone-Token", ""), max_age=TOKEN_MAX_AGE)
    except BadSignature:
        return "missing or expired page token: reload the page"
    return None


def _index() -> SpeechIndex:
    """Names what the line says (prompt ids, leaflet parts), built once per process."""
    if _INDEX not in current_app.extensions:
        from ivr.speech.sources import leaflet_utterances

        runtime = current_runtime()
        items = leaflet_utterances(runtime.catalogue)  # prompts are known by their templates
        current_app.extensions[_INDEX] = SpeechIndex.build(items, runtime.manifest, runtime.prompts)
    return current_app.extensions[_INDEX]


def _event_json(event: Event, barge: bool) -> dict[str, Any]:
    audio = None
    if event.kind == "play" and event.url:
        parts = urlsplit(event.url)  # this app serves the audio: the browser fetches it same-origin
        audio = parts.path + (f"?{parts.query}" if parts.query else "")
    return {
        "kind": event.kind, "text": event.text, "id": event.id, "audio": audio, "keys": event.keys,
        "duration": round(event.duration, 2), "leg": event.leg, "barge": barge,
    }


def _step_json(step: Step) -> dict[str, Any]:
    events = [
        _event_json(event, step.pending is not None and i >= step.barge_from and event.leg == "caller")
        for i, event in enumerate(step.events) if event.kind != "request"
    ]
    listen = state = None
    if step.pending is not None:
        pending = step.pending
        listen = {"numDigits": pending.num_digits, "finishOnKey": pending.finish_on_key,
                  "timeout": pending.timeout}
        state = _states().dumps(asdict(pending))
    return {"events": events, "listen": listen, "state": state, "ended": step.ended_by}


@bp.post("/phone/step")
@_guarded
def step() -> Response:
    """One step of a browser call. JSON in: ``{"state": null | "...", "keys": null | "1",
    "nurse": "answer" | "busy" | "no-answer" | "voicemail"}`` (no state: the call starts). JSON
    out: ``events``, ``listen`` (numDigits, finishOnKey, timeout) or null, ``state``, ``ended``.
    400 for a malformed request, 403 for a cross-site one."""
    problem = _same_site_problem()
    if problem:
        log.warning("refused browser phone step: %s", problem)
        return _refuse(403, problem)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return _refuse(400, "expected a JSON object")
    nurse = body.get("nurse", "answer")
    keys = body.get("keys")
    if nurse not in NURSE_MODES:
        return _refuse(400, f"nurse must be one of {', '.join(NURSE_MODES)}")
    if keys is not None and not (isinstance(keys, str) and KEYS_RE.fullmatch(keys)):
        return _refuse(400, "keys must be 1 to 20 of 0-9, * and #, or null for silence")
    settings = current_runtime().settings
    base = settings.public_url or request.host_url.rstrip("/")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url=base) as client:
        common = {"token": settings.auth_token, "client": client, "index": _index(), "nurse": nurse}
        state = body.get("state")
        if state is None:
            result = start(base + "/voice", call=call_params(DEFAULT_FROM, DEFAULT_TO), **common)
        else:
            try:
                pending = Pending(**_states().loads(state))
            except (BadSignature, TypeError):
                return _refuse(400, "the call's state is not one this line gave out")
            result = resume(pending, keys, **common)
    return jsonify(_step_json(result))
