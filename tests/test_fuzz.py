"""Fuzzing every webhook with random and malformed requests (hypothesis, bounded in examples).

Every Twilio webhook route is taken from the app's own ``url_map`` (the routes whose blueprint has
the signature check), so a new webhook is fuzzed without touching this file. Each request is
properly signed, so it reaches the route's logic, or deliberately unsigned or forged. It must get:

- signed: 200 with valid TwiML (XML, root ``<Response>``, only TwiML verbs and nouns);
- unsigned or forged: 403;
- ``GET /audio/<anything>``: 404 unless it names a rendered file;

never a 5xx, never a stack trace in the body, and never a fault caught by the safety net
(which would answer with the apology: the caller's request went wrong, so that is a bug too).

Most examples run in-process through the Flask test client of a real ``create_app`` (the real
app: real routing, signature check, safety nets, store on a real SQLite file; only the socket
is skipped), for speed; a smaller number go over real HTTP to a real gunicorn server (on
PostgreSQL when scripts/postgres.sh started one). Failing examples found so far are replayed
from ``tests/fuzz_regressions.json`` by a plain test.
"""

from __future__ import annotations

import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ivr import create_app
from ivr.speech.manifest import AUDIO_FILE_RE
from ivr.web.twilio_hooks import MAX_WEBHOOK_BYTES

from .conftest import POSTGRES_URL, LiveServer, fresh_database, start_server

TOKEN = "fuzz-auth-token"
SLUG = "cryotherapy-for-kidney-cancer"
REGRESSIONS = Path(__file__).with_name("fuzz_regressions.json")

# TwiML <Response> and every voice verb and noun Twilio documents: anything else is not TwiML.
TWIML_TAGS = {
    "Response", "Say", "Play", "Pause", "Gather", "Redirect", "Hangup", "Reject", "Dial", "Number",
    "Client", "Conference", "Queue", "Sip", "Record", "Enqueue", "Leave", "Refer", "Connect", "Stream",
    "Start", "Stop", "Pay", "Prompt", "Parameter", "Identity", "Task", "Sms", "Echo", "lang", "p", "s",
    "break", "emphasis", "prosody", "say-as", "sub", "w", "phoneme", "amazon:effect", "amazon:domain",
}
LEAK_MARKERS = ("Traceback", 'File "/', "Internal Server Error", "werkzeug", "sqlalchemy.exc")


# --- the apps under test ---------------------------------------------------------------------


class FaultLog(logging.Handler):
    """Collects log records that carry a stack trace (the safety net's ``log.exception``)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


@dataclass
class Line:
    apps: dict[str, object]  # "open" (nurses always open) and "closed" (never open)
    faults: FaultLog


def _config(folder: Path, hours: str) -> dict[str, object]:
    folder.mkdir(parents=True, exist_ok=True)
    return {
        "TESTING": True, "IVR_INSTANCE_DIR": str(folder), "TWILIO_AUTH_TOKEN": TOKEN,
        "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": hours,
        "IVR_DATABASE_URL": f"sqlite:///{folder / 'ivr.sqlite3'}", "IVR_LOG_LEVEL": "WARNING",
        "IVR_NURSE_CALLER_ID": "", "IVR_CLOCK": "", "IVR_CLOSED_DATES": "",
    }


@pytest.fixture(scope="module")
def line(tmp_path_factory) -> Iterator[Line]:
    tmp = tmp_path_factory.mktemp("fuzz")
    apps = {name: create_app(_config(tmp / name, hours)) for name, hours in (("open", "always"), ("closed", "never"))}
    faults = FaultLog()
    logging.getLogger().addHandler(faults)
    yield Line(apps, faults)
    logging.getLogger().removeHandler(faults)


def webhook_routes(app) -> list[str]:
    """Paths of every POST route whose blueprint checks Twilio's signature (the webhooks)."""
    checked = {
        blueprint for blueprint, funcs in app.before_request_funcs.items()
        if any(func.__module__ == "ivr.web.twilio_hooks" for func in funcs)
    }
    routes = []
    for rule in app.url_map.iter_rules():
        if "POST" in (rule.methods or ()) and rule.endpoint.rpartition(".")[0] in checked:
            routes.append(rule.rule)
    return sorted(routes)


def _probe_routes() -> list[str]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return webhook_routes(create_app(_config(Path(folder), "always")))


ROUTES = _probe_routes()


def test_every_webhook_is_found_and_fuzzed():
    """The route list comes from the app; the URL contract's routes must be among it."""
    for path in ("/voice", "/voice/menu", "/voice/read", "/voice/at", "/voice/key", "/voice/dial",
                 "/voice/whisper", "/voice/record", "/voice/recording", "/nurse"):
        assert path in ROUTES
    assert all("<" not in route for route in ROUTES), "a webhook with URL variables: teach the fuzzer its values"


# --- what a request looks like ---------------------------------------------------------------

ODD = st.sampled_from([
    "", " ", "0", "1", "-1", "00", "007", "1e9", "²", "³", "٣", "１", "Ⅻ", "½", "NaN", "inf", "+1", " 1",
    "9" * 40, "-" + "9" * 40, "\x00", "\t\n", "null", "None", "true", "false", SLUG, SLUG.upper(),
    "no-such-leaflet", "../../etc/passwd", "%00", "%zz", "<Say>hi</Say>", "]]>", "&amp;", "\u202e", "😀",
    "slow", "normal", "busy", "closed", "completed", "options", "saved", "message_failed", "callback_failed",
    "read", "pause", "end", "code", "leaflets", "sections", "RE" + "0" * 32, "CA" + "0" * 32,
    "nurse", "nurse-options", "nurse-message", "nurse-callback", "nurse-keyin", "nurse-number", "nurse-saved",
    "nurse-failed", "whisper", "no-answer", "?4", "?0", "?", "+447900123456", "m:RE" + "0" * 32 + ":5",
    "c:+447900123456", "m:", "c:", "m:RE1:²",
])
VALUE = st.one_of(
    ODD,
    st.integers(-(10**30), 10**30).map(str),
    st.text(max_size=30),
    st.text(alphabet="0123456789*#wW", max_size=40),
)
QUERY_KEYS = ["l", "s", "p", "r", "k", "w", "pg", "q", "x", "o", "y", "t", "h", "faults", "bodySHA256"]
FORM_KEYS = [
    "CallSid", "AccountSid", "From", "To", "Caller", "Called", "Digits", "CallStatus", "Direction",
    "DialCallStatus", "DialBridged", "DialCallSid", "DialCallDuration", "RecordingUrl", "RecordingSid",
    "RecordingDuration", "RecordingStatus", "SpeechResult", "Confidence", "msg", "FinishedOnKey",
]
FORM_VALUE = {
    "CallSid": st.one_of(st.just("CA" + "1" * 32), VALUE, st.text(min_size=60, max_size=200)),
    "From": st.one_of(st.sampled_from(["+447900123456", "anonymous", "+14155550123", "client:alice", "+" + "4" * 60,
                                       "07900123456", "+44 7900 123456", "sip:a@b"]), VALUE),
    "Digits": st.one_of(st.text(alphabet="0123456789*#", max_size=30), VALUE),
    "DialCallStatus": st.one_of(st.sampled_from(["completed", "busy", "no-answer", "failed", "canceled", "answered"]), VALUE,
                                st.text(min_size=100, max_size=3000)),
    "DialBridged": st.one_of(st.sampled_from(["true", "false", "TRUE", ""]), VALUE),
    "RecordingUrl": st.one_of(
        st.builds(lambda tail: f"https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE{tail}", st.text(max_size=40)),
        st.builds(lambda n: "https://" + "a" * n, st.integers(0, 5000)), VALUE,
    ),
    "RecordingSid": st.one_of(st.builds(lambda tail: "RE" + tail, st.text(max_size=100)), VALUE),
    "RecordingDuration": st.one_of(st.integers(0, 100_000).map(str), VALUE),
    "RecordingStatus": st.one_of(st.sampled_from(["completed", "failed", "absent", "in-progress"]), VALUE,
                                 st.text(min_size=40, max_size=200)),
    "SpeechResult": st.one_of(st.sampled_from(["side effects", "nurse", "yes", "no", "everything", "", "   "]),
                              VALUE, st.text(min_size=200, max_size=5000)),
    "Confidence": st.one_of(st.sampled_from(["0.9", "0.1", "1", "0", "nan", "inf", "-1", "2", "1e400"]), VALUE),
}


@st.composite
def form_pairs(draw) -> list[tuple[str, str]]:
    """Form fields as (name, value) pairs: Twilio's names with absurd values, unknown names,
    missing CallSid, repeated names."""
    pairs: list[tuple[str, str]] = []
    if draw(st.booleans()) or draw(st.booleans()):  # CallSid present three times in four
        pairs.append(("CallSid", draw(FORM_VALUE["CallSid"])))
    for _ in range(draw(st.integers(0, 10))):
        name = draw(st.one_of(st.sampled_from(FORM_KEYS), st.text(min_size=1, max_size=12)))
        pairs.append((name, draw(FORM_VALUE.get(name, VALUE))))
    if pairs and draw(st.integers(0, 4)) == 0:  # a field sent twice, with another value
        name = draw(st.sampled_from([name for name, _ in pairs]))
        pairs.append((name, draw(FORM_VALUE.get(name, VALUE))))
    if draw(st.integers(0, 19)) == 0:  # a large field (oversized bodies proper: see the plain tests)
        pairs.append((draw(st.sampled_from(FORM_KEYS)), "9" * draw(st.integers(1000, 30000))))
    return pairs


@st.composite
def query_strings(draw) -> str:
    """A query string: the state parameters with odd values, unknown ones, repeats, or raw junk."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(["&&", "=", "a=%zz", "l=%ff%fe&s=%", ";;", "%", "s=1&s=2&s=3", "l[]=x",
                                     "==&=x&x=", "l=" + SLUG + "&s=1&p=1&r=slow&s=99999", "+=+", "k=%00"]))
    pairs = []
    for _ in range(draw(st.integers(0, 8))):
        name = draw(st.one_of(st.sampled_from(QUERY_KEYS), st.text(min_size=1, max_size=8)))
        pairs.append((name, draw(VALUE)))
    return urlencode(pairs)


@dataclass
class Request:
    path: str
    query: str
    pairs: list[tuple[str, str]]
    signing: str  # "signed", "unsigned", "forged"

    def target(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    def headers(self, url: str) -> dict[str, str]:
        if self.signing == "unsigned":
            return {}
        signature = RequestValidator(TOKEN).compute_signature(url, MultiDict(self.pairs))
        if self.signing == "forged":  # signed for another URL, or with one parameter changed
            signature = RequestValidator(TOKEN).compute_signature(url + "x", MultiDict(self.pairs))
        return {"X-Twilio-Signature": signature}

    def as_json(self) -> dict[str, object]:
        return {"path": self.path, "query": self.query, "pairs": self.pairs, "signing": self.signing}


def requests_(signings: list[str]) -> st.SearchStrategy[Request]:
    return st.builds(Request, st.sampled_from(ROUTES), query_strings(), form_pairs(), st.sampled_from(signings))


# --- what must come back ---------------------------------------------------------------------


def check_twiml(status: int, content_type: str, body: str, request: Request) -> None:
    """The rules at the top of this file, for one response to ``request``."""
    for marker in LEAK_MARKERS:
        assert marker not in body, f"{marker!r} leaked in the body for {request}"
    if request.signing != "signed":
        assert status == 403, f"{status} for an {request.signing} request {request}"
        return
    assert status == 200, f"{status} for {request}:\n{body[:2000]}"
    assert content_type.startswith("text/xml")
    root = ET.fromstring(body)
    assert root.tag == "Response"
    for element in root.iter():
        assert element.tag in TWIML_TAGS, f"<{element.tag}> is not TwiML: {body}"
    for element in root.iter("Redirect"):
        assert (element.text or "").startswith(("/", "http")), body
    for element in root.iter():
        for name in ("action", "url", "recordingStatusCallback"):
            if element.get(name) is not None:
                assert element.get(name).startswith(("/", "http")), body


def post_in_process(line: Line, app_name: str, request: Request) -> None:
    app = line.apps[app_name]
    url = "http://localhost" + request.target()
    line.faults.records.clear()
    with app.test_client() as client:
        response = client.post(request.target(), data=MultiDict(request.pairs), headers=request.headers(url))
    check_twiml(response.status_code, response.content_type or "", response.get_data(as_text=True), request)
    assert not line.faults.records, f"a fault answering {request}: {line.faults.records[0].getMessage()}"


# --- the properties, in-process ---------------------------------------------------------------

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
                print_blob=True)


@settings(FUZZ, max_examples=2000)
@given(request=requests_(["signed"]), app_name=st.sampled_from(["open", "closed"]))
def test_signed_random_requests_get_valid_twiml(line, request, app_name):
    post_in_process(line, app_name, request)


@settings(FUZZ, max_examples=150)
@given(request=requests_(["unsigned", "forged"]))
def test_unsigned_or_forged_requests_are_refused(line, request):
    post_in_process(line, "open", request)


@settings(FUZZ, max_examples=150)
@given(
    path=st.sampled_from(ROUTES),
    body=st.binary(max_size=300) | st.text(max_size=200).map(str.encode),
    content_type=st.sampled_from(["application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz",
                                  "application/json", "text/plain", "", "application/x-www-form-urlencoded; charset=latin-1"]),
    signature=st.sampled_from(["", "forged", "AAAA"]),
)
def test_malformed_bodies_are_refused_not_crashed(line, path, body, content_type, signature):
    line.faults.records.clear()
    with line.apps["open"].test_client() as client:
        response = client.post(path, data=body, headers={"Content-Type": content_type, "X-Twilio-Signature": signature})
    assert response.status_code == 403, response.get_data(as_text=True)[:500]
    assert not line.faults.records


@settings(FUZZ, max_examples=150)
@given(name=st.one_of(st.text(min_size=1, max_size=80), st.sampled_from([
    "..%2f..%2fetc%2fpasswd", "%2e%2e/%2e%2e/etc/passwd", "/etc/passwd", "x" * 32 + ".wav", "0" * 32 + ".WAV",
    "0" * 32 + ".wav/", "0" * 31 + ".wav", "0" * 32 + ".wav%00.txt", "a" * 5000, "%ff%fe", ".", "..",
])), method=st.sampled_from(["GET", "HEAD"]))
def test_unknown_audio_is_404(line, name, method):
    app = line.apps["open"]
    with app.test_client() as client:
        response = client.open("/audio/" + quote(name, safe="/%"), method=method)
    audio_dir = Path(app.extensions["ivr.runtime"].settings.audio_dir)
    exists = bool(AUDIO_FILE_RE.fullmatch(name)) and (audio_dir / name).is_file()
    assert response.status_code == (200 if exists else 404), name
    body = response.get_data(as_text=True)
    assert not any(marker in body for marker in LEAK_MARKERS)


# --- oversized bodies and odd requests, as plain tests ---------------------------------------


@pytest.mark.parametrize("size", [100_000, 400_000, 3_000_000])
@pytest.mark.parametrize("signing", ["signed", "forged"])
def test_oversized_bodies(line, size, signing):
    """Twilio's fields are short; a large body is answered (signed, if under MAX_WEBHOOK_BYTES),
    a huge one refused unread (403: it cannot be checked), never a 5xx or an apology."""
    request = Request("/voice/dial", f"k=nurse&l={SLUG}&s=2&o=read", [("CallSid", "CA1"), ("DialCallStatus", "x" * size)],
                      signing)
    line.faults.records.clear()
    app = line.apps["open"]
    with app.test_client() as client:
        response = client.post(request.target(), data=MultiDict(request.pairs),
                                headers=request.headers("http://localhost" + request.target()))
    assert not line.faults.records
    if signing == "signed" and size < MAX_WEBHOOK_BYTES:
        check_twiml(response.status_code, response.content_type or "", response.get_data(as_text=True), request)
    else:
        assert response.status_code == 403


def _regressions() -> list[dict[str, object]]:
    return json.loads(REGRESSIONS.read_text())["examples"]


@pytest.mark.parametrize("case", _regressions(), ids=lambda case: case["why"][:60])
def test_regressions_replayed(line, case):
    """Every failing example the fuzzer found, kept (tests/fuzz_regressions.json) and replayed."""
    request = Request(case["path"], case["query"], [tuple(pair) for pair in case["pairs"]], case["signing"])
    post_in_process(line, case.get("app", "open"), request)


@pytest.mark.parametrize(("from_", "to", "caller_id"), [
    ("+447900123456", "+441632960000", "+447900123456"),  # the caller's own number: a dropped call can be rung back
    ("anonymous", "+441632960000", "+441632960000"),  # withheld: the number the caller dialled
    ("\x1f", "\x1f", None),  # found by the fuzzer: a control character made the TwiML invalid XML
    ("client:alice", "client:alice", None),  # not a number: Twilio would refuse the <Dial>
    ("", "", None),
])
def test_dial_caller_id_is_a_number_twilio_allows(line, from_, to, caller_id):
    request = Request("/nurse", "", [("CallSid", "CA1"), ("From", from_), ("To", to)], "signed")
    with line.apps["open"].test_client() as client:
        response = client.post("/nurse", data=MultiDict(request.pairs), headers=request.headers("http://localhost/nurse"))
    check_twiml(response.status_code, response.content_type or "", response.get_data(as_text=True), request)
    assert ET.fromstring(response.get_data(as_text=True)).find("Dial").get("callerId") == caller_id


# --- a smaller share over real HTTP, to a real gunicorn server --------------------------------


@pytest.fixture(scope="module")
def http_line(tmp_path_factory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("fuzz-http")
    with fresh_database("postgresql" if POSTGRES_URL else "sqlite", tmp) as url:
        config = _config(tmp, "always") | {"IVR_DATABASE_URL": url, "IVR_SPEECH": "say"}
        server = start_server(config, tmp)
        yield server
        server.process.terminate()
        server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def http_client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=20) as client:  # one for all examples: a new client costs more than a request
        yield client


@settings(FUZZ, max_examples=500)
@given(request=requests_(["signed", "signed", "signed", "forged", "unsigned"]))
def test_random_requests_over_http(http_line, http_client, request):
    """The same property through a real server (and PostgreSQL when available); the server's
    log must show no stack trace either."""
    url = str(httpx.URL(http_line.url + request.target()))  # exactly as httpx will send it
    before = len(http_line.log())
    response = http_client.post(url, content=urlencode(request.pairs).encode(), timeout=20,
                          headers={"Content-Type": "application/x-www-form-urlencoded", **request.headers(url)})
    check_twiml(response.status_code, response.headers.get("content-type", ""), response.text, request)
    assert "Traceback" not in http_line.log()[before:]


@pytest.mark.parametrize("size", [MAX_WEBHOOK_BYTES // 2, 5_000_000])
def test_oversized_body_over_http(http_line, size):
    """Through gunicorn too: a signed body under the limit is answered, a huge one refused unread."""
    request = Request("/voice", "", [("CallSid", "CA1"), ("Digits", "1" * size)], "signed")
    url = http_line.url + "/voice"
    response = httpx.post(url, content=urlencode(request.pairs).encode(), timeout=20,
                          headers={"Content-Type": "application/x-www-form-urlencoded", **request.headers(url)})
    if size < MAX_WEBHOOK_BYTES:
        check_twiml(response.status_code, response.headers.get("content-type", ""), response.text, request)
    else:
        assert response.status_code == 403
