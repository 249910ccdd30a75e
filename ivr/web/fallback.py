"""``POST /voice/fallback``: Twilio's fallback URL, answered with documents built at start-up.

    POST /voice/fallback            the call: to the nurses when they are open, a message when closed
    POST /voice/fallback/dialled    the <Dial> ended (DialCallStatus): goodbye, or a message
    POST /voice/fallback/recorded   the <Record> ended: saved, or nothing was heard

What each says is in :mod:`ivr.fallback`. Nothing here touches the database, the leaflets, the
audio or the call engine; the nurses' hours are a pure check (:mod:`ivr.nurse.hours`). Signed
like every webhook (403 otherwise); any fault after that, or in the hours, is logged and
answered with the document that puts the caller through to the nurses (a message if nobody
answers), so the caller always hears something safe.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.exceptions import Forbidden, HTTPException

from ivr.fallback import FallbackDocuments, fallback_documents
from ivr.nurse.hours import OpeningHours, load_opening_hours
from ivr.nurse.numbers import mask_number
from ivr.web.twilio_hooks import called_url, require_twilio_signature, signature_matches, twiml_response

__all__ = ["bp", "init_app"]

log = logging.getLogger(__name__)
bp = Blueprint("fallback", __name__, url_prefix="/voice/fallback")
require_twilio_signature(bp)
SIGNED = "ivr_fallback_signed"


@bp.before_request
def _signed() -> None:
    setattr(g, SIGNED, True)  # runs only once the signature check above has let the request through


def _documents() -> FallbackDocuments:
    return current_app.extensions["ivr.fallback"]


def _count(document: str) -> None:
    try:
        from ivr.web import metrics

        metrics.observe_fallback(document)
    except Exception:  # counting must never cost the caller their answer
        log.exception("fallback: could not count the answer")


def _open_now() -> bool:
    hours: OpeningHours = current_app.extensions["ivr.fallback.hours"]
    clock: Callable[[], dt.datetime] = current_app.extensions.get("ivr.clock") or (lambda: dt.datetime.now(dt.UTC))
    return hours.is_open(clock())


@bp.post("")
def answer() -> Response:
    documents = _documents()
    log.warning("Twilio fell back to /voice/fallback for CallSid %s from %s (ErrorCode %s at %s)",
                request.form.get("CallSid", "?")[:64], mask_number(request.form.get("From")),
                request.form.get("ErrorCode", "?")[:12], request.form.get("ErrorUrl", "?")[:300])
    try:
        is_open = _open_now()
    except Exception:
        log.exception("fallback: could not work out the nurses' hours: putting the caller through")
        is_open = True
    _count("open" if is_open else "closed")
    return twiml_response(documents.open if is_open else documents.closed)


@bp.post("/dialled")
def dialled() -> Response:
    status = request.form.get("DialCallStatus", "")[:20]
    bridged = request.form.get("DialBridged", "").lower() != "false"
    outcome = "answered" if status == "completed" and bridged else "busy" if status == "busy" else "no-answer"
    log.info("fallback: nurse transfer for CallSid %s ended: %s", request.form.get("CallSid", "?")[:64],
             status or "(no status)")
    _count(f"dialled-{outcome}")
    return twiml_response(_documents().dialled[outcome])


@bp.post("/recorded")
def recorded() -> Response:
    sid = request.form.get("RecordingSid", "")[:64]
    if request.form.get("RecordingUrl") and request.form.get("RecordingDuration", "0") not in ("", "0"):
        # The recording status callback files it in the nurses' queue; Twilio keeps it meanwhile.
        log.warning("fallback: message %s left on CallSid %s from %s: check it reaches the nurses' queue",
                    sid or "?", request.form.get("CallSid", "?")[:64], mask_number(request.form.get("From")))
        _count("recorded")
        return twiml_response(_documents().recorded)
    _count("nothing-recorded")
    return twiml_response(_documents().nothing_recorded)


def _signed_now() -> bool:
    """Whether the request is signed, checked again for a fault that came before the check."""
    try:
        token = current_app.extensions["ivr.runtime"].settings.auth_token
        signature = request.headers.get("X-Twilio-Signature", "")
        return bool(signature) and signature_matches(token, called_url(), request.form, signature)
    except Exception:
        return False


@bp.errorhandler(Exception)
def _fault(exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and exc.code in (403, 404, 405):
        return exc  # type: ignore[return-value]  # refusals stay refusals
    log.exception("fault in the fallback (CallSid %s): putting the caller through to the nurses",
                  request.form.get("CallSid", "?")[:64])
    if not (g.get(SIGNED) or _signed_now()):
        return Forbidden()  # type: ignore[return-value]  # never answer a request nobody signed
    return twiml_response(current_app.extensions["ivr.fallback"].open)


def init_app(app: Flask) -> None:
    """Build every fallback document now (PromptError: the line refuses to start without them)."""
    runtime = app.extensions["ivr.runtime"]
    settings = runtime.settings
    app.extensions["ivr.fallback"] = fallback_documents(runtime.prompts, settings)
    app.extensions["ivr.fallback.hours"] = load_opening_hours(settings.nurse_hours, settings.holidays_region,
                                                              settings.closed_dates)
    app.register_blueprint(bp)
