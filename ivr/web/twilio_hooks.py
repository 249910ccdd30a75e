"""Safety nets shared by every Twilio webhook blueprint: signature check and never-a-5xx.

Twilio signs each request (``X-Twilio-Signature``) over the full URL it called plus the POST
form parameters. Behind a TLS-terminating proxy the URL Flask sees differs from the one Twilio
called, so when IVR_PUBLIC_URL is set the URL is rebuilt from it.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, request
from twilio.request_validator import RequestValidator

from ivr.runtime import current_runtime

__all__ = ["called_url", "require_twilio_signature", "twiml_response"]

log = logging.getLogger(__name__)


def called_url() -> str:
    """The URL Twilio called, as it signed it."""
    public = current_runtime().settings.public_url
    if not public:
        return request.url
    path = request.full_path if request.query_string else request.path
    return public + path


def require_twilio_signature(blueprint: Blueprint) -> None:
    """Every request to ``blueprint`` must be signed with the auth token, or it gets 403."""

    @blueprint.before_request
    def _check() -> None:
        token = current_runtime().settings.auth_token
        signature = request.headers.get("X-Twilio-Signature", "")
        params = request.form.to_dict(flat=False) if request.method == "POST" else {}
        if not signature or not RequestValidator(token).validate(called_url(), params, signature):
            log.warning("refused unsigned or forged request to %s", request.path)
            abort(403)


def twiml_response(twiml: object) -> Response:
    return Response(str(twiml), status=200, mimetype="text/xml")
