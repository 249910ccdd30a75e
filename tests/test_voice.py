"""The call's webhooks: through a real gunicorn server with Twilio-signed requests (signatures, audio
URLs, faults), and golden TwiML of every kind of state produced in process (the app's test client,
signed requests): menus, reading, the nurse line, messages, call-backs, speech on and off.

TwiML is parsed with xml.etree. Golden files under tests/golden/ hold the exact TwiML of each kind
of state (host normalised); regenerate them with IVR_UPDATE_GOLDEN=1 after a reviewed change, and
read the diff.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from twilio.request_validator import RequestValidator

from ivr import create_app
from ivr.config import load_settings
from ivr.content.catalogue import load_catalogue
from ivr.prompts import load_prompts
from ivr.speech.sources import speech_items

from .conftest import PROJECT, LiveServer, start_server
from .test_nurse_line import ids

SEED = "cryotherapy-for-kidney-cancer"
ONE = PROJECT / "tests" / "fixtures" / "leaflets-one"
MANY = PROJECT / "tests" / "fixtures" / "leaflets-many"
GOLDEN = PROJECT / "tests" / "golden"
OPEN = "2026-12-07T10:00:00+00:00"
CHRISTMAS_EVE = "2026-12-24T18:00:00+00:00"
CALL = {"CallSid": "CA0123456789abcdef", "AccountSid": "AC" + "0" * 32, "From": "+447900123456",
        "To": "+441632960000", "CallStatus": "in-progress", "Direction": "inbound"}
TOKEN = "test-auth-token"
# Text messages on; the public URL is the one the in-process client signs for. Nothing listens
# at the API address: a text queued by a golden case fails at once, never reaching Twilio.
TEXTS = {"IVR_SMS_FROM": "+447700900000", "TWILIO_ACCOUNT_SID": "AC" + "5e" * 16,
         "TWILIO_API_BASE_URL": "http://127.0.0.1:9", "IVR_PUBLIC_URL": "http://localhost"}


def _config(tmp: Path, **extra: object) -> dict[str, object]:
    instance = tmp / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    return {"IVR_INSTANCE_DIR": instance, "TWILIO_AUTH_TOKEN": TOKEN, "IVR_NURSE_NUMBER": "+441632960001",
            "IVR_NURSE_HOURS": "Mon-Fri 09:00-17:00", "IVR_CLOCK": OPEN, "IVR_AUDIO_DIR": tmp / "no-audio",
            "IVR_LEAFLETS_DIR": ONE, "IVR_SPEECH_INPUT": "off", "IVR_CALLBACK_FROM": "", **extra}


def _fake_manifest(folder: Path, leaflets: Path, tmp: Path) -> Path:
    """A manifest naming a file for everything the line says, at both rates (TwiML only: the
    files are not fetched here)."""
    folder.mkdir(parents=True, exist_ok=True)
    settings = load_settings({"IVR_INSTANCE_DIR": str(tmp), "IVR_NURSE_HOURS": "Mon-Fri 09:00-17:00",
                              "IVR_SPEECH_INPUT": "off", "TWILIO_AUTH_TOKEN": TOKEN})
    items = speech_items(load_catalogue(leaflets), load_prompts("en-GB"), settings)
    entries = [{"id": u.id, "rate": rate, "text": u.text, "file": f"{rate}-{u.id.replace('/', '-')}-{n}.wav",
                "duration": 1.0} for n, u in enumerate(items) for rate in ("normal", "slow")]
    (folder / "manifest.json").write_text(json.dumps({"entries": entries}))
    return folder


def _serve(tmp: Path, **extra: object) -> Iterator[LiveServer]:
    server = start_server(_config(tmp, **extra), tmp)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def say_server(tmp_path_factory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory.mktemp("say"), IVR_SPEECH="say")


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("manifest")
    return _fake_manifest(tmp / "audio", ONE, tmp)


def twiml(response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    return root


def post(server: LiveServer, path: str, digits: str | None = None) -> ET.Element:
    params = dict(CALL)
    if digits is not None:
        params["Digits"] = digits
    return twiml(server.post(path, params))


def last_verb(root: ET.Element) -> ET.Element:
    return list(root)[-1]


def key_url(root: ET.Element) -> str:
    gather = root.find("Gather")
    assert gather is not None
    return gather.get("action")


def follow(root: ET.Element) -> str:
    verb = last_verb(root)
    assert verb.tag == "Redirect" and verb.get("method") == "POST"
    return verb.text


# --- signatures --------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["missing", "forged", "other-url", "params-changed"])
def test_unsigned_or_forged_requests_are_refused(say_server, how):
    url = say_server.url + "/voice"
    signature = {"missing": "", "forged": "bm90IGEgc2lnbmF0dXJl",
                 "other-url": say_server.sign(url + "/menu", CALL),
                 "params-changed": say_server.sign(url, {**CALL, "From": "+447700900999"})}[how]
    response = say_server.post("/voice", CALL, signature=signature)
    assert response.status_code == 403
    assert "<Response" not in response.text


@pytest.mark.parametrize("path", ["/voice/key?k=sections", "/voice/dial?k=nurse", "/voice/whisper?k=whisper",
                                  "/voice/record?k=nurse-message", "/voice/recording", "/nurse", "/voice/at?k=read"])
def test_every_webhook_checks_the_signature(say_server, path):
    assert say_server.post(path, CALL, signature="forged").status_code == 403


def test_behind_a_proxy_the_public_url_is_signed_and_used_for_audio(tmp_path, audio_dir):
    for server in _serve(tmp_path, IVR_PUBLIC_URL="https://public.example", IVR_AUDIO_DIR=audio_dir):
        signature = server.sign("https://public.example/voice", CALL)
        root = twiml(server.post("/voice", CALL, signature=signature))
        plays = [e.text for e in root.iter("Play")]
        assert plays and all(p.startswith("https://public.example/audio/") for p in plays)
        assert not list(root.iter("Say"))
        assert server.post("/voice", CALL).status_code == 403  # signed for the inside address


# --- real audio over real HTTP ------------------------------------------------------------------

def test_rendered_audio_urls_are_absolute_and_fetchable(rendered_audio_dir, tmp_path):
    import httpx

    for server in _serve(tmp_path, IVR_AUDIO_DIR=rendered_audio_dir, IVR_LEAFLETS_DIR=ONE,
                         IVR_SPEECH_INPUT="on"):  # as the audio was rendered (conftest: the test leaflets)
        urls = []
        for path in ("/voice", f"/voice/at?k=read&l={SEED}&s=1&p=1", f"/voice/at?k=read&l={SEED}&s=4&p=2&r=slow"):
            root = post(server, path)
            assert not list(root.iter("Say")), "everything the line says here should be rendered"
            urls += [p.text for p in root.iter("Play")]
        assert urls and all(u.startswith(server.url + "/audio/") for u in urls)
        for url in urls:
            fetched = httpx.get(url, timeout=10)
            assert fetched.status_code == 200 and fetched.content[:4] == b"RIFF"


def test_say_mode_speaks_the_same_text_with_the_configured_voice(say_server):
    say = post(say_server, "/voice")
    assert not list(say.iter("Play"))
    says = list(say.iter("Say"))
    assert says and all(s.get("voice") == "Polly.Amy" and s.get("language") == "en-GB" for s in says)
    assert ids(say)[:2] == ["call.greeting_one", "safety.emergency"]
    slow = post(say_server, f"/voice/at?k=read&l={SEED}&s=2&p=2&r=slow")
    assert slow.find("Gather/Say/prosody").get("rate") == "80%"


def test_the_emergency_sentence_is_said_before_the_first_gather(say_server):
    root = post(say_server, "/voice")
    assert [child.tag for child in root][:3] == ["Say", "Say", "Gather"]  # no key skips the first two
    assert ids(root)[1] == "safety.emergency"


# --- sequences through the real server -------------------------------------------------------------

def test_back_then_forward_over_http_returns_to_the_same_part(say_server):
    start = post(say_server, f"/voice/at?k=read&l={SEED}&s=2&p=2")
    back = post(say_server, key_url(start), "4")
    forward = post(say_server, key_url(back), "6")
    assert key_url(forward) == key_url(start)
    assert ids(forward) == ids(start)


def test_tampered_positions_lead_to_a_menu_not_an_error(say_server):
    for path in ("/voice/read?l=nope&s=1&p=1&r=normal", f"/voice/read?l={SEED}&s=99&p=1&r=normal",
                 f"/voice/at?k=read&l={SEED}&s=1&p=-3&r=junk", "/voice/at?k=%3Cscript%3E&l=%22x%22",
                 f"/voice/key?k=nurse-number&l={SEED}&h=%2B999", "/voice/at?k=nurse-failed&h=m%3Anope"):
        root = post(say_server, path)
        assert root.find("Gather") is not None or root.find("Dial") is not None, path
    assert ids(post(say_server, f"/voice/read?l={SEED}&s=99&p=1&r=normal"))[0] == "menu.sections"


def test_logs_never_hold_the_callers_number(say_server):
    post(say_server, "/voice")
    assert "7900123456" not in say_server.log()


# --- faults: a broken prompts folder under a running server ----------------------------------------

def _broken_locale(tmp: Path, prompt_file: str, old: str, new: str) -> Path:
    folder = tmp / "broken-en-GB"
    folder.mkdir()
    for source in (PROJECT / "ivr" / "prompts" / "en-GB").glob("*.yaml"):  # words.yaml too
        text = source.read_text()
        (folder / source.name).write_text(text.replace(old, new) if source.name == prompt_file else text)
    for copy in (PROJECT / "ivr" / "web" / "copy" / "en-GB").glob("*.yaml"):  # the web copy's wording too
        (folder / copy.name).write_text(copy.read_text())
    return folder


def test_a_fault_answers_200_with_an_apology_and_the_menu(tmp_path):
    locale = _broken_locale(tmp_path, "reading.yaml", "part {part} of {parts}.", "part {part} of {total}.")
    for server in _serve(tmp_path, IVR_LOCALE=locale, IVR_SPEECH="say"):
        root = post(server, f"/voice/key?k=read&l={SEED}&s=1&p=1", "9")  # help says where you are
        assert ids(root) == ["errors.apology"]
        assert follow(root) == "/voice/menu?faults=1"
        assert post(server, follow(root)).find("Gather") is not None  # the menu itself works
        assert "CA0123456789abcdef" in server.log() and "7900123456" not in server.log()


def test_a_second_fault_in_a_row_goes_to_the_nurse_line(tmp_path):
    locale = _broken_locale(tmp_path, "menu.yaml", "these choices again, press {key}", "these again, press {button}")
    for server in _serve(tmp_path, IVR_LOCALE=locale, IVR_SPEECH="say"):
        first = post(server, "/voice")
        assert follow(first) == "/voice/menu?faults=1"
        second = post(server, follow(first))
        assert follow(second) == "/nurse?faults=2"
        assert post(server, follow(second)).find("Dial") is not None  # a person, whatever else is broken


# --- golden TwiML of every kind of state, in process ----------------------------------------------

class _Line:
    """An app in process, called with signed requests as Twilio would."""

    def __init__(self, tmp: Path, **extra: object) -> None:
        config = {k: str(v) for k, v in _config(tmp, **extra).items()} | {"TESTING": True}
        self.client = create_app(config).test_client()

    def post(self, path: str, params: dict[str, str]) -> str:
        url = "http://localhost" + path
        signature = RequestValidator(TOKEN).compute_signature(url, params)
        response = self.client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, response.text
        return response.text


READ = f"/voice/at?k=read&l={SEED}&s=2&p=2"
NURSE = f"k=nurse&l={SEED}&s=2&p=2&o=read"
GOLDEN_CASES: dict[str, tuple[str, str, dict[str, str]]] = {
    # name: (line, path, extra form parameters)
    "answer": ("audio", "/voice", {}),
    "answer-closed": ("closed", "/voice", {}),
    "answer-speech": ("speech", "/voice", {}),
    "menu": ("audio", "/voice/menu", {}),
    "read": ("audio", READ, {}),
    "read-first-part-stale": ("audio", f"/voice/key?k=sections&l={SEED}", {"Digits": "2"}),
    "read-slow-say": ("say", f"/voice/at?k=read&l={SEED}&s=2&p=1&r=slow", {}),
    "read-speech": ("speech", READ, {}),
    "help-reading": ("audio", f"/voice/key?k=read&l={SEED}&s=2&p=2", {"Digits": "9"}),
    "pause": ("audio", f"/voice/key?k=read&l={SEED}&s=2&p=2", {"Digits": "5"}),
    "end-of-section": ("audio", f"/voice/at?k=end&l={SEED}&s=1&p=2", {}),
    "end-of-leaflet": ("audio", f"/voice/key?k=read&l={SEED}&s=4&p=1", {"Digits": "3"}),
    "wrong-key": ("say", f"/voice/key?k=sections&l={SEED}", {"Digits": "6"}),
    "no-input-2": ("say", f"/voice/key?k=sections&l={SEED}&q=1", {}),
    "silent-put-through": ("say", f"/voice/key?k=sections&l={SEED}&q=2", {}),
    "silent-message-closed": ("closed", f"/voice/key?k=sections&l={SEED}&q=2", {}),
    "confirm-spoken-choice": ("speech", f"/voice/key?k=sections&l={SEED}",
                              {"SpeechResult": "side effects", "Confidence": "0.3"}),
    "spoken-choice": ("speech", f"/voice/key?k=sections&l={SEED}", {"SpeechResult": "side affects", "Confidence": "0.9"}),
    "nurse-transfer": ("say", f"/voice/key?k=read&l={SEED}&s=2&p=2&r=slow", {"Digits": "0"}),
    "nurse-whisper": ("say", f"/voice/whisper?k=whisper&l={SEED}&s=2&p=2&o=read", {}),
    "nurse-whisper-accepted": ("say", f"/voice/key?k=whisper&l={SEED}&s=2&p=2&o=read", {"Digits": "1"}),
    "nurse-answered": ("say", f"/voice/dial?{NURSE}&t=1", {"DialCallStatus": "completed", "DialBridged": "true"}),
    "nurse-busy": ("say", f"/voice/dial?{NURSE}&t=1", {"DialCallStatus": "busy"}),
    "nurse-no-answer-speech": ("speech", f"/voice/dial?{NURSE}&t=1", {"DialCallStatus": "no-answer"}),
    "nurse-closed": ("closed", f"/voice/key?k=read&l={SEED}&s=2&p=2", {"Digits": "0"}),
    "nurse-message": ("say", f"/voice/key?{NURSE.replace('k=nurse', 'k=nurse-options')}&y=busy&t=1", {"Digits": "2"}),
    "nurse-message-saved": ("closed", f"/voice/record?{NURSE.replace('k=nurse', 'k=nurse-message')}&y=closed",
                            {"RecordingSid": "RE" + "a" * 32, "RecordingDuration": "14", "Digits": "#",
                             "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RE" + "a" * 32}),
    "nurse-callback-own-number": ("say", f"/voice/key?{NURSE.replace('k=nurse', 'k=nurse-options')}&y=busy&t=1",
                                  {"Digits": "1"}),
    "nurse-callback-key-in": ("say", f"/voice/key?{NURSE.replace('k=nurse', 'k=nurse-callback')}&y=busy&t=1",
                              {"Digits": "2"}),
    "nurse-callback-read-back": ("say", f"/voice/key?{NURSE.replace('k=nurse', 'k=nurse-keyin')}&y=busy&t=1",
                                 {"Digits": "02079460123#"}),
    "nurse-callback-saved": ("closed", f"/voice/key?{NURSE.replace('k=nurse', 'k=nurse-callback')}&y=closed",
                             {"Digits": "1"}),
    "nurse-saved-silence": ("say", f"/voice/key?{NURSE.replace('k=nurse', 'k=nurse-saved')}&y=busy", {}),
    "leaflet-menu": ("many", "/voice", {}),
    "leaflet-menu-page-2": ("many", "/voice/key?k=leaflets", {"Digits": "4"}),
    # a link by text message (issue 17): offered in the leaflet's menu and at its end, and asked for
    "text-offer": ("texts", "/voice", {}),
    "text-offer-speech": ("texts-speech", "/voice", {}),
    "text-end-of-leaflet": ("texts", f"/voice/key?k=read&l={SEED}&s=4&p=1", {"Digits": "3"}),
    "text-queued": ("texts", f"/voice/key?k=sections&l={SEED}", {"Digits": "7"}),
    "code-entry": ("many", "/voice/key?k=leaflets", {"Digits": "6"}),
    # a caller whose earlier call stopped at section 2, paragraph 2 (see _returning)
    "welcome": ("returning", "/voice", {}),
    "welcome-carry-on": ("returning", f"/voice/key?k=welcome&l={SEED}&s=2&p=2", {"Digits": "1"}),
}


def _returning(tmp: Path) -> _Line:
    """A line whose call log has an earlier call from CALL's number that stopped at section 2,
    paragraph 2 (made through the line's own webhooks, then written)."""
    line = _Line(tmp, IVR_SPEECH="say", IVR_WELCOME_BACK_WAIT_MS=1000)  # in process: no budget under test here
    earlier = {**CALL, "CallSid": "CA-earlier-call"}
    line.post("/voice", earlier)
    line.post(f"/voice/at?k=read&l={SEED}&s=2&p=2", earlier)
    assert line.client.application.extensions["ivr.calllog"].flush()
    return line


@pytest.fixture(scope="module")
def lines(tmp_path_factory, audio_dir) -> dict[str, _Line]:
    tmp = tmp_path_factory.mktemp("golden")
    return {
        "audio": _Line(tmp / "audio", IVR_AUDIO_DIR=audio_dir),
        "say": _Line(tmp / "say", IVR_SPEECH="say"),
        "closed": _Line(tmp / "closed", IVR_SPEECH="say", IVR_CLOCK=CHRISTMAS_EVE),
        "speech": _Line(tmp / "speech", IVR_SPEECH="say", IVR_SPEECH_INPUT="on"),
        "many": _Line(tmp / "many", IVR_LEAFLETS_DIR=MANY, IVR_SPEECH="say"),
        "returning": _returning(tmp / "returning"),
        "texts": _Line(tmp / "texts", IVR_SPEECH="say", **TEXTS),
        "texts-speech": _Line(tmp / "texts-speech", IVR_SPEECH="say", IVR_SPEECH_INPUT="on", **TEXTS),
    }


@pytest.mark.parametrize("name", list(GOLDEN_CASES))
def test_golden_twiml(name, lines):
    which, path, extra = GOLDEN_CASES[name]
    text = lines[which].post(path, {**CALL, **extra})
    text = text.replace("http://localhost", "http://SERVER").replace("><", ">\n<") + "\n"
    ET.fromstring(text)  # valid XML
    golden = GOLDEN / f"{name}.xml"
    if os.environ.get("IVR_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()


def test_speech_off_is_keys_only_everywhere(lines):
    for name, (which, _path, _extra) in GOLDEN_CASES.items():
        text = (GOLDEN / f"{name}.xml").read_text()
        if which not in ("speech", "texts-speech"):
            assert 'input="dtmf speech"' not in text and "hints=" not in text and "say nurse" not in text, name


def test_speech_on_listens_for_words_in_menus_but_not_while_reading(lines):
    menu = (GOLDEN / "answer-speech.xml").read_text()
    assert 'input="dtmf speech"' in menu and 'language="en-GB"' in menu and 'speechTimeout="2"' in menu
    assert "side effects" in menu.split('hints="', 1)[1].split('"', 1)[0]
    assert 'input="dtmf"' in (GOLDEN / "read-speech.xml").read_text()


def test_slow_responders_get_eight_seconds_by_default_and_the_setting_changes_it(lines, tmp_path):
    def timeouts(line: _Line, path: str, extra: dict[str, str]) -> set[str]:
        return {g.get("timeout") for g in ET.fromstring(line.post(path, {**CALL, **extra})).iter("Gather")}

    # a menu, the end of a section, keying in a number (reading itself moves on after a second)
    places = [("/voice", {}), (f"/voice/at?k=end&l={SEED}&s=1&p=2", {}),
              (f"/voice/key?{NURSE.replace('k=nurse', 'k=nurse-callback')}&y=busy&t=1", {"Digits": "2"})]
    assert all(timeouts(lines["say"], path, extra) == {"8"} for path, extra in places)
    patient = _Line(tmp_path, IVR_SPEECH="say", IVR_KEY_TIMEOUT="15")
    assert all(timeouts(patient, path, extra) == {"15"} for path, extra in places)
