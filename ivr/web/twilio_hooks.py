"""Safety nets shared by every Twilio webhook blueprint: signature check and never-a-5xx.

Twilio signs each request (``X-Twilio-Signature``) over the full URL it called plus the POST
form parameters. Behind a TLS-terminating proxy the URL Flask sees differs from the one Twilio
called, so when IVR_PUBLIC_URL is set the URL is rebuilt from it.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlparse

import werkzeug.urls  # noqa: F401  # registers the "werkzeug.url_quote" decoding error handler
from flask import Blueprint, Flask, Request, Response, abort, request
from twilio.request_validator import add_port, remove_port
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.sansio.utils import get_current_url

from ivr.runtime import current_runtime

__all__ = [
    "MAX_WEBHOOK_BYTES", "LineApp", "LineRequest", "apology_response", "called_url", "current_url", "host_url",
    "is_form", "parameters", "register_safety_nets", "require_twilio_signature", "signature_matches", "signed_url",
    "twiml_response",
]

log = logging.getLogger(__name__)

# Twilio's webhook forms are a few kB; without a limit Werkzeug reads any urlencoded body whole.
MAX_WEBHOOK_BYTES = 256 * 1024


class _Parameters(ImmutableMultiDict[str, str]):
    """``request.args``, ``request.form`` and ``request.cookies``, whose ``get`` of an absent field returns the default
    without werkzeug's way there: raising and catching a BadRequestKeyError (an HTTPException,
    built with its description) for each, about ten a webhook (a position's absent parameters)."""

    def get(self, key: str, default: object = None, type: object = None) -> object:  # type: ignore[override]
        if key not in self:
            return default
        return super().get(key, default, type)  # type: ignore[call-overload]


FORM = "application/x-www-form-urlencoded"


def parameters(text: str) -> _Parameters:
    """URL-encoded ``text`` (a query string, a form's body) parsed as werkzeug parses ``request.args``:
    blank values kept, invalid escapes left as they are."""
    return _Parameters(parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"))


def is_form(environ: Mapping[str, Any]) -> bool:
    """Whether the request's body is a urlencoded form (every Twilio webhook's)."""
    return str(environ.get("CONTENT_TYPE", "")).partition(";")[0].strip().lower() == FORM


class LineRequest(Request):
    """The app's request class: its query, form and cookies are :class:`_Parameters`, and a
    urlencoded form of known length (every Twilio webhook) is read straight from the WSGI input,
    as werkzeug's FormDataParser reads it but without the parser and stream objects it makes on
    the way (about a tenth of a cached webhook's time). Anything else is werkzeug's to parse."""

    parameter_storage_class = _Parameters
    dict_storage_class = _Parameters

    def _load_form_data(self) -> None:
        if "form" in self.__dict__:
            return
        environ = self.environ
        length = self.content_length
        limit = self.max_content_length
        if (length is None or getattr(self, "_cached_data", None) is not None or not self.want_form_data_parsed
                or not is_form(environ)):
            super()._load_form_data()
            return
        if limit is not None and length > limit:
            raise RequestEntityTooLarge()
        stream = environ["wsgi.input"]
        try:
            form = parameters(stream.read(length).decode())
        except ValueError:  # not UTF-8: no fields, as werkzeug's silent parser gives
            form = self.parameter_storage_class()
        self.__dict__.update(stream=stream, form=form, files=self.parameter_storage_class())


class LineApp(Flask):
    """The app's Flask class: :class:`LineRequest` requests; ``answer_early`` (set by the voice
    webhooks: :mod:`ivr.web.kept_answers`) may answer a request before Flask dispatches it; and
    Flask's ``ensure_sync`` is answered once per function rather than on each call (Flask asks
    ``inspect`` whether every hook and view is a coroutine on every request: seven a webhook)."""

    request_class = LineRequest

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable[..., Any], Callable[..., Any]] = {}
        self.answer_early: Callable[[dict[str, Any]], bytes | None] | None = None

    def wsgi_app(self, environ: dict[str, Any], start_response: Any) -> Any:
        if self.answer_early is not None:
            document = self.answer_early(environ)
            if document is not None:  # the headers Flask gives twiml_response's
                start_response("200 OK", [("Content-Type", "text/xml; charset=utf-8"),
                                          ("Content-Length", str(len(document)))])
                return [document]
        return super().wsgi_app(environ, start_response)

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        found = self._sync.get(func)
        if found is None:
            found = super().ensure_sync(func)
            if len(self._sync) < 4096:  # hooks and views: a few dozen
                self._sync[func] = found
        return found


@functools.lru_cache(maxsize=64)
def current_url(scheme: str, host: str, root_path: str | None) -> str:
    """werkzeug's ``get_current_url(scheme, host, root_path)``, worked out once per host."""
    return get_current_url(scheme, host, root_path)


def host_url() -> str:
    """``request.host_url``, worked out once per host rather than on every webhook."""
    return current_url(request.scheme, request.host, None)


def called_url() -> str:
    """The URL Twilio called, as it signed it: the query string exactly as sent (``request.url``
    would decode characters such as ``%22``), behind IVR_PUBLIC_URL when that is set."""
    path = request.full_path if request.query_string else request.path
    return signed_url(current_runtime().settings.public_url, request.scheme, request.host, request.root_path, path)


def signed_url(public: str, scheme: str, host: str, root_path: str, path: str) -> str:
    """The URL Twilio signs for ``path`` (with its query string): under IVR_PUBLIC_URL when set,
    else the request's root URL (worked out once per host)."""
    if not public:
        return current_url(scheme, host, root_path).rstrip("/") + path
    return public + path


@functools.lru_cache(maxsize=256)
def _url_forms(url: str) -> tuple[str, str]:
    """``url`` with its port and without it, as twilio's validator writes them; the form the URL
    is in comes first (the one Twilio most likely signed)."""
    parsed = urlparse(url)
    with_port, without_port = add_port(parsed), remove_port(parsed)
    return (with_port, without_port) if parsed.port else (without_port, with_port)


def signature_matches(token: str, url: str, params: Mapping[str, str], signature: str) -> bool:
    """Exactly ``RequestValidator(token).validate(url, params, signature)`` for form parameters
    (the signature over the URL with or without its port is accepted; repeated fields count), but
    the second signature is computed only when the first does not match: the check is on every
    webhook. Like it, raises ValueError for a URL with a malformed port (from the Host header)."""
    given = signature.encode("utf-8")
    fields = _signed_fields(params)
    return any(hmac.compare_digest(_signature(token, form + fields), given) for form in _url_forms(url))


def _signed_fields(params: Mapping[str, str]) -> str:
    """What ``RequestValidator.compute_signature`` appends to the URL: each field's name and
    values, sorted (without its way to a MultiDict's values: raising and catching an
    AttributeError a field, as it asks for Django's ``getall`` first)."""
    if isinstance(params, MultiDict):
        return "".join(name + value for name, values in sorted(params.lists()) for value in sorted(set(values)))
    return "".join(name + params[name] for name in sorted(params))


@functools.lru_cache(maxsize=8)
def _keyed(token: str) -> Any:
    """HMAC-SHA1 keyed with ``token``, to be copied: keying costs as much as the digest."""
    return hmac.new(token.encode("utf-8"), digestmod=hashlib.sha1)


def _signature(token: str, text: str) -> bytes:
    mac = _keyed(token).copy()
    mac.update(text.encode("utf-8"))
    return base64.b64encode(mac.digest())


def require_twilio_signature(blueprint: Blueprint) -> None:
    """Every request to ``blueprint`` must be signed with the auth token, or it gets 403 (also
    when its body is over MAX_WEBHOOK_BYTES: it is not read, so it cannot be checked)."""

    @blueprint.before_request
    def _check() -> None:
        token = current_runtime().settings.auth_token
        signature = request.headers.get("X-Twilio-Signature", "")
        request.max_content_length = MAX_WEBHOOK_BYTES  # never read a huge body into memory
        try:
            params = request.form if request.method == "POST" else {}  # a MultiDict: repeated fields count
        except RequestEntityTooLarge:  # a form too large to read cannot be checked
            log.warning("refused a request to %s too large to check (%s bytes)", request.path, request.content_length)
            abort(403)
        if not signature or not signature_matches(token, called_url(), params, signature):
            log.warning("refused unsigned or forged request to %s", request.path)
            abort(403)


def twiml_response(twiml: object) -> Response:
    return Response(str(twiml), status=200, mimetype="text/xml")


def _fault_target(faults_seen: int) -> str:
    """The main menu after a first fault, the nurse line after a second (no menu loop).
    A fault there too ends in the nurse line again: it never builds a menu."""
    return f"{request.script_root}{'/voice/menu' if faults_seen < 2 else '/nurse'}?faults={faults_seen}"


def apology_response() -> Response:
    """Valid TwiML for a fault: a spoken apology, then the main menu (or, after two faults in
    one call, the nurse line).

    Uses <Say> of the reviewed prompt (the audio path may be what failed). If even that fails
    (say, a broken prompts file), the caller is moved on without the apology: never a 5xx.
    """
    from ivr.twiml import apology_response as apology_twiml

    faults = request.args.get("faults", "0")
    faults_seen = int(faults) + 1 if faults.isascii() and faults.isdigit() and len(faults) < 3 else 1  # not "²"
    target = _fault_target(faults_seen)
    try:
        runtime = current_runtime()
        settings = runtime.settings
        document = apology_twiml(runtime.prompts.say("errors.apology"), settings.say_voice, settings.say_language, target)
    except Exception:
        log.exception("could not even apologise: moving the caller on without it")
        document = apology_twiml(None, "", "", target)
    return twiml_response(document)


def register_safety_nets(blueprint: Blueprint) -> None:
    """Signature check on every request, and any exception answered with apology TwiML (logged)."""
    require_twilio_signature(blueprint)

    @blueprint.errorhandler(Exception)
    def _fault(exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.code in (403, 404, 405):
            return exc  # type: ignore[return-value]  # refusals stay refusals
        log.exception("fault answering %s (CallSid %s): apologised to the caller",
                      request.path, request.form.get("CallSid", "?"))
        return apology_response()
