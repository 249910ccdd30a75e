"""Kept answers given before Flask dispatches: the short way through for most of a call's webhooks.

Most webhooks ask for a document the line has already built (the engine is pure: see
:class:`ivr.web.voice.Answers`). For those, Flask's request context, dispatch, hooks and response
object cost more than everything else the answer needs (``scripts/bench_webhook_inprocess.py``).
So the app (:class:`ivr.web.twilio_hooks.LineApp`) first asks :func:`answer_kept`: for a signed
POST to /voice, /voice/at, /voice/key (keys, or silence), /voice/menu or /nurse whose document is kept, it does
what the view and the hooks would: checks the signature with the same function over the same URL
and form, works out the same key (:func:`ivr.web.voice.answer_key`), counts and logs the webhook
(:func:`ivr.web.calllog.note_webhook`, :func:`ivr.web.metrics.observe_latency`), and answers
the same document with the same headers.

Everything else goes to Flask, with the body put back for it to read: a document not kept yet, a
request that is unsigned or forged (Flask refuses it, logged), words to understand, anything
unusual (another script root, TRUSTED_HOSTS, a body of unknown length), and any fault here
(logged). So refusals, faults and first answers all take the one path the tests walk. The app's
other before-request hooks are for pages (sessions, CSRF) or warn once (an untrusted
X-Forwarded-For), which a request Flask answers still does; the texts' sender is started here too.
"""

from __future__ import annotations

import io
import logging
import time
from typing import TYPE_CHECKING, Any, cast

from werkzeug.wsgi import get_host

from ivr.dialogue.steps import Heard
from ivr.web.calllog import note_webhook
from ivr.web.metrics import observe_latency
from ivr.web.twilio_hooks import (
    MAX_WEBHOOK_BYTES,
    current_url,
    is_form,
    parameters,
    signature_matches,
    signed_url,
)
from ivr.web.voice import (
    answer_key,
    caller_id,
    context_for,
    event_from_gather,
    nurse_entry,
    position_in,
    press_key,
    resume_for,
    with_caller_id,
)

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["ROUTES", "answer_kept"]

log = logging.getLogger(__name__)
ROUTES = {"/voice": "voice.answer", "/voice/at": "voice.at", "/voice/key": "voice.key", "/voice/menu": "voice.menu",
          "/nurse": "voice_legacy.nurse"}


def answer_kept(app: Flask, environ: dict[str, Any]) -> bytes | None:
    """The kept TwiML for this request, its webhook counted and logged; None: Flask answers it."""
    endpoint = ROUTES.get(environ.get("PATH_INFO", ""))
    if endpoint is None or environ.get("REQUEST_METHOD") != "POST" or environ.get("SCRIPT_NAME") \
            or app.config.get("TRUSTED_HOSTS"):
        return None
    length = environ.get("CONTENT_LENGTH", "")
    if not length.isdigit() or int(length) > MAX_WEBHOOK_BYTES or not is_form(environ):
        return None
    started = time.perf_counter()
    body = environ["wsgi.input"].read(int(length))
    environ["wsgi.input"] = io.BytesIO(body)  # for Flask, if it answers after all
    try:
        return _kept(app, environ, endpoint, body, started)
    except Exception:
        log.exception("kept answers: could not look up a webhook to %s: answered the long way", endpoint)
        return None


def _kept(app: Flask, environ: dict[str, Any], endpoint: str, body: bytes, started: float) -> bytes | None:
    signature = environ.get("HTTP_X_TWILIO_SIGNATURE", "")
    if not signature:
        return None
    query = environ.get("QUERY_STRING", "").encode("latin-1")  # as werkzeug's request.query_string
    try:
        form = parameters(body.decode())
        path = environ["PATH_INFO"] + (f"?{query.decode()}" if query else "")  # request.full_path, or .path
    except UnicodeDecodeError:
        return None  # not UTF-8: Flask's to refuse or apologise for
    runtime = app.extensions["ivr.runtime"]
    scheme = environ["wsgi.url_scheme"]
    host = get_host(environ)
    url = signed_url(runtime.settings.public_url, scheme, host, "", path)
    if not signature_matches(runtime.settings.auth_token, url, form, signature):
        return None  # Flask refuses it, and logs that
    engine = app.extensions["ivr.engine"]
    caller = cast("str | None", form.get("From"))
    if endpoint == "voice.answer":  # the greeting, or the offer to carry on where the caller left off
        cache_key: object = ("answer", resume_for(app, caller))
    elif endpoint == "voice.menu":
        cache_key = ("enter", engine.leaflets.top())
    elif endpoint == "voice.at":
        cache_key = ("enter", position_in(query))
    elif endpoint == "voice_legacy.nurse":
        cache_key = ("enter", nurse_entry(engine, position_in(query)))
    else:
        event = event_from_gather(form)
        if isinstance(event, Heard):
            return None
        cache_key = press_key(position_in(query), event)
    if cache_key is None:
        return None
    context = context_for(app, caller)
    found = app.extensions["ivr.answers"].kept(answer_key(cache_key, context, current_url(scheme, host, None), ""))
    if found is None:
        return None
    document, facts = found
    if endpoint == "voice.answer":
        log.info("call %s answered", cast(str, form.get("CallSid", "?"))[:64])
    texts = app.extensions.get("ivr.texts")
    if texts is not None:
        texts.sender.start()  # as the texts' before_request hook: this worker sends what any queued
    note_webhook(app, endpoint, form, facts)
    observe_latency(app, endpoint, time.perf_counter() - started)
    return with_caller_id(document, caller_id(runtime.settings, form)).encode()
