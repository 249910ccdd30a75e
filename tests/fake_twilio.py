"""A fake of Twilio's REST API (2010-04-01) for tests: a real HTTP server on 127.0.0.1.

Every request needs HTTP basic auth with the account SID and auth token, or gets 401; another
account's or an unknown path gets 404 with Twilio's JSON error. ``requests`` lists what was asked
(path, whether the credentials were right). It serves:

- Recordings (the staff pages): ``GET .../Recordings/RE<32 hex>.wav`` answers a real WAV file
  (8 s, 8 kHz mono, 16-bit) with ``audio/x-wav``. Tests change ``token``, ``gone`` or ``body`` to
  make Twilio refuse, lose a recording, or answer something that is not audio.
- Incoming phone numbers (``ivr twilio``): ``GET .../IncomingPhoneNumbers.json?PhoneNumber=...``
  lists the account's numbers as Twilio does, matching partial numbers and ``*`` for any digit;
  ``GET`` / ``POST .../IncomingPhoneNumbers/PN<32 hex>.json`` reads or updates one. An update
  takes Twilio's form fields (VoiceUrl, VoiceMethod, ...); an unknown field or a method other
  than GET or POST is refused with 400, and nothing of that request is applied. Tests add
  numbers with ``add_number``; ``changes`` lists each update applied (number SID, form fields).
- Messages (text messages): ``POST .../Messages.json`` with ``To``, ``Body`` and ``From`` or
  ``MessagingServiceSid`` answers 201 with the message (SID SM...) and records it in ``texts``.
  ``refuse(status, code, message)`` makes it answer Twilio's error JSON instead (recorded in
  ``refused``); ``hold()`` keeps each request waiting until ``release()`` (to prove that the
  caller is not kept waiting for the send). ``wait_for_texts(n)`` / ``wait_for_attempts(n)``
  wait, on a condition, until that many have arrived.
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pytest
import soundfile
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

__all__ = ["ACCOUNT_SID", "AUTH_TOKEN", "DEMO_VOICE_URL", "FakeTwilio", "fake_twilio", "message_wav", "running_fake"]

ACCOUNT_SID = "AC" + "5e" * 16
AUTH_TOKEN = "test-auth-token"  # the token tests/conftest.py gives the line
SAMPLE_RATE = 8000
SECONDS = 8.0  # as long as the simulator says its callers speak (RecordingDuration 8)
_PATH_RE = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-f]{32})/Recordings/(RE[0-9a-f]{32})\.wav")
_MESSAGES_RE = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json")
_NUMBERS_RE = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-f]{32})/IncomingPhoneNumbers(?:/(PN[0-9a-f]{32}))?\.json")
DEMO_VOICE_URL = "https://demo.twilio.com/welcome/voice/"  # what Twilio sets on a newly bought number
# Fields an update may set (Twilio's form names); the JSON record names them in snake_case.
_UPDATABLE = ("FriendlyName", "VoiceUrl", "VoiceMethod", "VoiceFallbackUrl", "VoiceFallbackMethod",
              "StatusCallback", "StatusCallbackMethod", "VoiceApplicationSid", "TrunkSid", "VoiceCallerIdLookup")
_METHODS = ("VoiceMethod", "VoiceFallbackMethod", "StatusCallbackMethod")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def message_wav() -> bytes:
    """A voicemail-like WAV: 8 s of 8 kHz mono 16-bit PCM, a tone rising and falling in pitch."""
    t = np.arange(int(SAMPLE_RATE * SECONDS)) / SAMPLE_RATE
    pitch = 300 + 150 * np.sin(2 * np.pi * 0.5 * t)
    signal = 0.3 * np.sin(2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE)
    out = io.BytesIO()
    soundfile.write(out, signal.astype(np.float32), SAMPLE_RATE, format="WAV", subtype="PCM_16")
    return out.getvalue()


def _error(status: int, message: str) -> Response:
    body = {"code": 20000 + status, "message": message, "more_info": "", "status": status}
    return Response(json.dumps(body), status=status, mimetype="application/json")


@dataclass
class FakeTwilio:
    url: str
    wav: bytes
    token: str = AUTH_TOKEN
    account_sid: str = ACCOUNT_SID
    gone: set[str] = field(default_factory=set)
    body: tuple[bytes, str] | None = None  # (content, content type) instead of the WAV
    requests: list[tuple[str, bool]] = field(default_factory=list)
    numbers: dict[str, dict] = field(default_factory=dict)  # PN sid -> Twilio's JSON record
    changes: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    texts: list[dict[str, str]] = field(default_factory=list)  # form fields of each text message taken
    refused: list[dict[str, str]] = field(default_factory=list)  # ... and of each one refused
    refusal: tuple[int, int, str] | None = None  # (HTTP status, Twilio code, message) while refusing
    _free: threading.Event = field(default_factory=threading.Event)  # set: messages are answered at once
    _arrived: threading.Condition = field(default_factory=threading.Condition)
    _attempts: int = 0

    def __post_init__(self) -> None:
        self._free.set()

    def refuse(self, status: int, code: int, message: str) -> None:
        """Answer every text message from now on with this Twilio error."""
        self.refusal = (status, code, message)

    def hold(self) -> None:
        """Keep every text message request waiting (unanswered) until :meth:`release`."""
        self._free.clear()

    def release(self) -> None:
        self._free.set()

    def wait_for_attempts(self, count: int, timeout: float = 20.0) -> bool:
        """Wait until ``count`` text message requests have arrived (taken, refused or held)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self._attempts >= count, timeout)

    def wait_for_texts(self, count: int, timeout: float = 20.0) -> bool:
        """Wait until ``count`` text messages have been taken."""
        with self._arrived:
            return self._arrived.wait_for(lambda: len(self.texts) >= count, timeout)

    def _message(self, request: Request, account: str) -> Response:
        if account != self.account_sid:
            return _error(404, f"The requested resource {request.path} was not found")
        if request.method != "POST":
            return _error(405, "Method not allowed")
        form = request.form.to_dict()
        with self._arrived:
            self._attempts += 1
            self._arrived.notify_all()
        self._free.wait(60)  # held: the request waits, as a slow Twilio would
        if "To" not in form or "Body" not in form or not ("From" in form or "MessagingServiceSid" in form):
            return _error(400, "A 'To' phone number, a 'Body' and a 'From' or 'MessagingServiceSid' are required.")
        with self._arrived:
            if self.refusal is not None:
                self.refused.append(form)
                self._arrived.notify_all()
                status, code, message = self.refusal
                body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                        "status": status}
                return Response(json.dumps(body), status=status, mimetype="application/json")
            self.texts.append(form)
            sid = "SM" + f"{len(self.texts):032x}"
            self._arrived.notify_all()
        record = {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": form["Body"],
            "date_created": "Wed, 02 Dec 2026 10:00:00 +0000", "direction": "outbound-api", "error_code": None,
            "error_message": None, "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_segments": "1", "price": None, "sid": sid, "status": "queued", "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        return Response(json.dumps(record), status=201, mimetype="application/json")

    def add_number(self, phone_number: str, **fields: str | None) -> str:
        """Put a number on the account, set as Twilio sets a new one except for ``fields``
        (snake_case, as in the JSON); its SID."""
        sid = "PN" + f"{len(self.numbers) + 1:032x}"
        record = {
            "account_sid": self.account_sid, "address_requirements": "none", "address_sid": None,
            "api_version": "2010-04-01", "beta": False, "bundle_sid": None,
            "capabilities": {"voice": True, "sms": True, "mms": False, "fax": False},
            "date_created": "Mon, 05 Jan 2026 10:00:00 +0000", "date_updated": "Mon, 05 Jan 2026 10:00:00 +0000",
            "emergency_address_sid": None, "emergency_address_status": "unregistered", "emergency_status": "Inactive",
            "friendly_name": phone_number, "identity_sid": None, "origin": "twilio", "phone_number": phone_number,
            "sid": sid, "sms_application_sid": "", "sms_fallback_method": "POST", "sms_fallback_url": "",
            "sms_method": "POST", "sms_url": "", "status": "in-use", "status_callback": "",
            "status_callback_method": "POST", "trunk_sid": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/IncomingPhoneNumbers/{sid}.json",
            "voice_application_sid": "", "voice_caller_id_lookup": False, "voice_fallback_method": "POST",
            "voice_fallback_url": "", "voice_method": "POST", "voice_receive_mode": "voice",
            "voice_url": DEMO_VOICE_URL,
        }
        unknown = set(fields) - set(record)
        assert not unknown, f"not a field of an IncomingPhoneNumber: {unknown}"
        record.update(fields)
        self.numbers[sid] = record
        return sid

    def number(self, phone_number: str) -> dict:
        """The record of ``phone_number`` as the fake holds it now."""
        return next(r for r in self.numbers.values() if r["phone_number"] == phone_number)

    def _list_numbers(self, request: Request) -> Response:
        pattern = request.args.get("PhoneNumber", "")
        regex = re.compile("".join(r"\d" if c == "*" else re.escape(c) for c in pattern))
        found = [r for r in self.numbers.values() if regex.search(r["phone_number"])]
        uri = request.full_path
        body = {"end": max(len(found) - 1, 0), "first_page_uri": uri, "incoming_phone_numbers": found,
                "next_page_uri": None, "page": 0, "page_size": 50, "previous_page_uri": None, "start": 0,
                "uri": uri}
        return Response(json.dumps(body), mimetype="application/json")

    def _update_number(self, sid: str, request: Request) -> Response:
        form = request.form.to_dict()
        unknown = sorted(set(form) - set(_UPDATABLE))
        if unknown:
            return _error(400, f"Unknown parameter(s) {', '.join(unknown)}")
        bad = [name for name in _METHODS if name in form and form[name].upper() not in ("GET", "POST")]
        if bad:
            return _error(400, f"{bad[0]} must be GET or POST")
        record = self.numbers[sid]
        for name, value in form.items():
            value = value.upper() if name in _METHODS else value
            if name == "VoiceCallerIdLookup":
                record[_snake(name)] = value.lower() == "true"
            else:
                record[_snake(name)] = (value or None) if name.endswith("Sid") else value
        # As Twilio does: setting an application takes the number off its trunk, and the reverse.
        if form.get("VoiceApplicationSid"):
            record["trunk_sid"] = None
        if form.get("TrunkSid"):
            record["voice_application_sid"] = None
        self.changes.append((sid, form))
        return Response(json.dumps(record), mimetype="application/json")

    def __call__(self, environ: dict, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        auth = request.authorization
        authorised = (auth is not None and auth.type == "basic"
                      and (auth.username, auth.password) == (self.account_sid, self.token))
        self.requests.append((request.path, authorised))
        if not authorised:
            response = _error(401, "Authenticate")
            response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        elif (messages := _MESSAGES_RE.fullmatch(request.path)) is not None:
            response = self._message(request, messages.group(1))
        elif (numbers := _NUMBERS_RE.fullmatch(request.path)) is not None:
            response = self._numbers(request, numbers.group(1), numbers.group(2))
        elif request.method != "GET":
            response = _error(405, "Method not allowed")
        else:
            match = _PATH_RE.fullmatch(request.path)
            if match is None or match.group(1) != self.account_sid or match.group(2) in self.gone:
                response = _error(404, f"The requested resource {request.path} was not found")
            elif self.body is not None:
                response = Response(self.body[0], mimetype=self.body[1])
            else:
                response = Response(self.wav, mimetype="audio/x-wav")
        return response(environ, start_response)

    def _numbers(self, request: Request, account: str, sid: str | None) -> Response:
        if account != self.account_sid or (sid is not None and sid not in self.numbers):
            return _error(404, f"The requested resource {request.path} was not found")
        if sid is None:
            return self._list_numbers(request) if request.method == "GET" else _error(405, "Method not allowed")
        if request.method == "POST":
            return self._update_number(sid, request)
        if request.method == "GET":
            return Response(json.dumps(self.numbers[sid]), mimetype="application/json")
        return _error(405, "Method not allowed")


@contextmanager
def running_fake() -> Iterator[FakeTwilio]:
    """The fake Twilio API, serving on a free port of 127.0.0.1 while the block runs."""
    holder: list[FakeTwilio] = []
    server: BaseWSGIServer = make_server("127.0.0.1", 0, lambda env, start: holder[0](env, start), threaded=True)
    holder.append(FakeTwilio(f"http://127.0.0.1:{server.server_port}", message_wav()))
    thread = threading.Thread(target=server.serve_forever, name="fake-twilio", daemon=True)
    thread.start()
    try:
        yield holder[0]
    finally:
        holder[0].release()  # a request still held must not keep the server from stopping
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def fake_twilio() -> Iterator[FakeTwilio]:
    """The fake Twilio API until the test ends."""
    with running_fake() as fake:
        yield fake
