"""``POST /voice/status``: Twilio's call status callback, the call's real end in the call log.

``ivr twilio connect`` sets it on the number. Signed like every webhook (403 otherwise). The
final status, ``CallDuration`` and end time are written at once (:func:`ivr.calllog.record_call_end`:
idempotent on CallSid, and whether or not the call's webhooks are written yet: the background
writer may still hold the last one). Twilio ignores the body and does not act on a failure, so
the answer is always an empty ``<Response/>``: a database that is down, or any other fault, is
logged and the end is not recorded (the call log is best effort).
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from ivr.calllog import call_end, record_call_end
from ivr.errors import StoreError
from ivr.store.models import utcnow
from ivr.twiml import empty_response
from ivr.web.database import current_store
from ivr.web.twilio_hooks import require_twilio_signature, twiml_response

__all__ = ["bp", "init_app"]

log = logging.getLogger(__name__)
bp = Blueprint("call_status", __name__, url_prefix="/voice")
require_twilio_signature(bp)


@bp.post("/status")
def status() -> Response:
    end = call_end(request.form, utcnow())
    if end is not None:
        try:
            record_call_end(current_store(), end, secret=str(current_app.secret_key))
        except StoreError as exc:
            log.error("call log: could not record the end of CallSid %s (%s): %s", end.call_sid, end.status, exc)
        from ivr.web import metrics

        metrics.observe_call_end(end)
    return twiml_response(empty_response())


@bp.errorhandler(Exception)
def _fault(exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and exc.code in (403, 404, 405):
        return exc  # type: ignore[return-value]  # refusals stay refusals
    log.exception("fault recording a call status (CallSid %s): not recorded", request.form.get("CallSid", "?")[:64])
    return twiml_response(empty_response())


def init_app(app: Flask) -> None:
    """Register ``/voice/status``."""
    app.register_blueprint(bp)
