"""The browser phone: ``GET /phone`` (a keypad page) and ``POST /phone/step`` (one step of a call).

A practice line: ``/phone/step`` runs the simulator (:mod:`ivr.simulator.stepper`) in-process
(``httpx.WSGITransport``: no loopback request, so a single gunicorn worker cannot deadlock on
itself) against :func:`ivr.web.practice.practice_app`, the same call engine on a store of its
own, never this app's webhooks: a practice call's messages and call-backs never reach the
nurses' queue, and it is not in the call log or ``/metrics``. Each webhook is signed with the
auth token as Twilio does. The server keeps no call state: a step answers with the events to
play and, when the line listens for keys, a ``state`` (the rest of the TwiML document and the
call's parameters), signed with the app's secret key and valid for :data:`STATE_MAX_AGE`, so a
page can hand it back but not alter it, nor use it once it is older than that.

Access (IVR_PHONE): ``open`` (anyone who can reach the app; the default with the local development
token), ``staff`` (a staff login; the default once a real Twilio token is set), ``off`` (404).
The JSON endpoint needs the page's token in an ``X-Phone-Token`` header, a JSON body of at most
:data:`MAX_STEP_BYTES`, and an ``Origin`` that is IVR_PUBLIC_URL's (when unset: the loopback
address the page was served from), never merely the Host header's (which a DNS-rebinding page
controls). A cross-site page can send none of these without a CORS preflight, which is never
granted. Each client address may take :data:`STEP_BURST` steps at once, then one every
``1 / STEPS_PER_SECOND`` seconds (counted in each worker process).
"""

from __future__ import annotations

import ipaddress
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

import httpx
from flask import Blueprint, Flask, Response, abort, current_app, jsonify, render_template, request, url_for
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import BuildError

from ivr.runtime import current_runtime
from ivr.simulator.caller import DEFAULT_FROM, DEFAULT_TO, call_params
from ivr.simulator.dial import NURSE_MODES
from ivr.simulator.keys import SAY
from ivr.simulator.speech_index import SpeechIndex
from ivr.simulator.stepper import Pending, Step, resume, start
from ivr.simulator.transcript import Event
from ivr.web.practice import practice_app
from ivr.web.security import page_policy

__all__ = ["MAX_STEP_BYTES", "STATE_MAX_AGE", "STEPS_PER_SECOND", "STEP_BURST", "StepLimit", "bp", "init_app"]

log = logging.getLogger(__name__)
bp = Blueprint("phone", __name__, template_folder="templates", static_folder="static",
               static_url_path="/phone/static")

TOKEN_MAX_AGE = 12 * 3600  # a page left open longer is reloaded (its token has expired)
STATE_MAX_AGE = 15 * 60  # seconds: a step's state is sent back within seconds of its audio ending
MAX_STEP_BYTES = 64 * 1024  # a step's JSON is a few kB (the state is most of it)
STEP_BURST = 20  # steps a client address may take at once (keys pressed quickly)...
STEPS_PER_SECOND = 0.5  # ...then one every 2 seconds: a caller listening takes one every 5 to 30
KEYS_RE = re.compile(r"[0-9*#]{1,20}")
MAX_SAID = 200  # characters of words "said" in one step
_INDEX = "ivr_phone_index"


class StepLimit:
    """Steps each client address may take in this process: a bucket of ``burst`` steps, refilled
    at ``per_second``. The addresses seen last are kept, at most ``max_addresses`` of them."""

    def __init__(self, burst: int, per_second: float, max_addresses: int = 10_000) -> None:
        self.burst, self.per_second, self.max_addresses = burst, per_second, max_addresses
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # address -> (steps left, when)
        self._lock = threading.Lock()

    def take(self, address: str, now: float) -> float:
        """0 when ``address`` may take a step now (it is counted), else the seconds to wait."""
        with self._lock:
            left, then = self._buckets.pop(address, (float(self.burst), now))
            left = min(float(self.burst), left + (now - then) * self.per_second)
            wait = 0.0 if left >= 1 else (1 - left) / self.per_second
            self._buckets[address] = (left - 1 if wait == 0 else left, now)
            while len(self._buckets) > self.max_addresses:
                self._buckets.popitem(last=False)
            return wait


def init_app(app: Flask) -> None:
    """Register /phone (IVR_PHONE, validated with the settings, says who may use it)."""
    # each step fetches webhooks and audio in-process: one INFO line per fetch would drown the log
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app.extensions["ivr.phone.limit"] = StepLimit(STEP_BURST, STEPS_PER_SECOND)
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
    return URLSafeTimedSerializer(str(current_app.secret_key), salt="ivr-phone-page")


def _states() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(str(current_app.secret_key), salt="ivr-phone-state")


@bp.get("/phone")
@_guarded
def page() -> Response:
    """The keypad page, carrying the token its script sends with each step. Its script is the one
    file it may run (Content-Security-Policy), fetched from where the page was served."""
    html = render_template("phone.html", refused=False, token=_csrf().dumps("phone"))
    response = Response(html)
    response.headers["Cache-Control"] = "no-store"
    script = request.host_url.rstrip("/") + url_for("phone.static", filename="phone.js")
    response.headers["Content-Security-Policy"] = page_policy(script=script, connect="'self'", form="'none'")
    return response


def _refuse(status: int, message: str, **headers: str) -> Response:
    response = jsonify(error=message)
    response.status_code = status
    response.headers.update(headers)
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _is_loopback(host: str | None) -> bool:
    if host == "localhost":
        return True
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin_problem() -> str | None:
    """Why this request's Origin is not the phone page's own (then it is refused), or None.

    With IVR_PUBLIC_URL, only that origin; without it, only a loopback origin (127.0.0.1,
    localhost, [::1]) that is also the address this request came to. Never "whatever the Host
    header says": a page on another site whose name now points here (DNS rebinding) sends a
    matching Host."""
    origin = request.headers.get("Origin", "")
    public_url = current_runtime().settings.public_url
    if public_url:
        if origin.lower() == _origin(public_url):
            return None
        return f"cross-site request from {origin or 'a page that sent no Origin'}: open the phone at {public_url}/phone"
    try:
        parts = urlsplit(origin)
        loopback = _is_loopback(parts.hostname)
    except ValueError:
        parts, loopback = None, False
    if parts is not None and loopback and origin.lower() == _origin(request.host_url):
        return None
    return (f"cross-site request from {origin or 'a page that sent no Origin'}: without IVR_PUBLIC_URL the "
            f"phone works only on this computer, at http://127.0.0.1:PORT/phone")


def _same_site_problem() -> str | None:
    """Why this request may come from another site (then it is refused), or None."""
    if not request.is_json:
        return "expected a JSON body"
    problem = _origin_problem()
    if problem:
        return problem
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
                  "timeout": pending.timeout, "speech": pending.speech}
        state = _states().dumps(asdict(pending))
    return {"events": events, "listen": listen, "state": state, "ended": step.ended_by}


@bp.post("/phone/step")
@_guarded
def step() -> Response:
    """One step of a practice call. JSON in: ``{"state": null | "...", "keys": null | "1",
    "say": null | "side effects", "nurse": "answer" | "busy" | "no-answer" | "voicemail"}`` (no
    state: the call starts; ``say``: words instead of keys, as Twilio would hear them). JSON out:
    ``events``, ``listen`` (numDigits, finishOnKey, timeout, speech) or null, ``state``, ``ended``.
    400 for a malformed request or a state not given out in the last STATE_MAX_AGE seconds, 403
    for a cross-site one, 413 for a body over MAX_STEP_BYTES, 429 (with Retry-After) past the
    rate limit."""
    request.max_content_length = MAX_STEP_BYTES  # never read a larger body into memory
    address = request.remote_addr or "unknown"
    wait = current_app.extensions["ivr.phone.limit"].take(address, time.monotonic())
    if wait:
        log.warning("browser phone: too many steps from %s", address)
        return _refuse(429, "Too many steps at once: wait a few seconds, then try again.",
                       **{"Retry-After": str(int(wait) + 1)})
    problem = _same_site_problem()
    if problem:
        log.warning("refused browser phone step: %s", problem)
        return _refuse(403, problem)
    try:
        body = request.get_json(silent=True)
    except RequestEntityTooLarge:
        log.warning("refused a browser phone step of %s bytes", request.content_length)
        return _refuse(413, f"a step is at most {MAX_STEP_BYTES} bytes")
    if not isinstance(body, dict):
        return _refuse(400, "expected a JSON object")
    nurse = body.get("nurse", "answer")
    keys = body.get("keys")
    if nurse not in NURSE_MODES:
        return _refuse(400, f"nurse must be one of {', '.join(NURSE_MODES)}")
    if keys is not None and not (isinstance(keys, str) and KEYS_RE.fullmatch(keys)):
        return _refuse(400, "keys must be 1 to 20 of 0-9, * and #, or null for silence")
    said = body.get("say")
    if said is not None:
        if not isinstance(said, str) or not said.strip() or len(said) > MAX_SAID or keys is not None:
            return _refuse(400, f"say must be 1 to {MAX_SAID} characters of words, instead of keys")
        keys = SAY + " ".join(said.split())
    pending = None
    state = body.get("state")
    if state is not None:
        try:
            pending = Pending(**_states().loads(state, max_age=STATE_MAX_AGE))
        except SignatureExpired:
            return _refuse(400, "this practice call has expired: press Call to ring again")
        except (BadSignature, TypeError):
            return _refuse(400, "the call's state is not one this line gave out")
    settings = current_runtime().settings
    base = settings.public_url or request.host_url.rstrip("/")
    with httpx.Client(transport=httpx.WSGITransport(app=practice_app()), base_url=base) as client:
        common = {"token": settings.auth_token, "client": client, "index": _index(), "nurse": nurse}
        if pending is None:
            result = start(base + "/voice", call=call_params(DEFAULT_FROM, DEFAULT_TO), **common)
        else:
            result = resume(pending, keys, **common)
    return jsonify(_step_json(result))
