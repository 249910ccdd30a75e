"""The voice webhooks through a real gunicorn server, called with Twilio-signed requests.

TwiML is parsed with xml.etree. Golden files under tests/golden/ hold the exact TwiML of each
kind of state (host and port normalised); regenerate them with IVR_UPDATE_GOLDEN=1 after a
reviewed change, and read the diff.
"""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.content.catalogue import load_catalogue
from ivr.prompts import load_prompts
from ivr.speech.sources import leaflet_utterances
from ivr.tree import spoken_utterances

from .conftest import PROJECT, LiveServer, start_server

SEED = "cryotherapy-for-kidney-cancer"
MANY = PROJECT / "tests" / "fixtures" / "leaflets-many"
GOLDEN = PROJECT / "tests" / "golden"
CALL = {"CallSid": "CA0123456789abcdef", "AccountSid": "ACtest", "From": "+447700900123",
        "To": "+441632960000", "CallStatus": "in-progress", "Direction": "inbound"}
KEYS = [*"0123456789*#", None]


def _config(tmp: Path, **extra: object) -> dict[str, object]:
    instance = tmp / "instance"
    instance.mkdir(parents=True, exist_ok=True)
    return {"IVR_INSTANCE_DIR": instance, "TWILIO_AUTH_TOKEN": "test-auth-token",
            "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": "always",
            "IVR_AUDIO_DIR": tmp / "no-audio", **extra}


def _fake_manifest(folder: Path, leaflets: Path) -> Path:
    """A manifest naming a file for everything the tree says, at both rates (TwiML only: the
    files are not fetched here)."""
    folder.mkdir(parents=True)
    catalogue = load_catalogue(leaflets)
    items = [*leaflet_utterances(catalogue), *spoken_utterances(catalogue, load_prompts("en-GB"))]
    entries = [{"id": u.id, "rate": rate, "text": u.text, "file": f"{rate}-{u.id.replace('/', '-')}-{n}.wav", "duration": 1.0}
               for n, u in enumerate(items) for rate in ("normal", "slow")]
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
def audio_server(tmp_path_factory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("audio")
    yield from _serve(tmp, IVR_AUDIO_DIR=_fake_manifest(tmp / "audio", PROJECT / "leaflets"))


@pytest.fixture(scope="module")
def many_server(tmp_path_factory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory.mktemp("many"), IVR_LEAFLETS_DIR=MANY, IVR_SPEECH="say")


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


def said(root: ET.Element) -> list[str]:
    return [e.text or "" for e in root.iter() if e.tag == "Say"]


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


def test_behind_a_proxy_the_public_url_is_signed_and_used_for_audio(tmp_path):
    manifest = _fake_manifest(tmp_path / "audio", PROJECT / "leaflets")
    for server in _serve(tmp_path, IVR_PUBLIC_URL="https://public.example", IVR_AUDIO_DIR=manifest):
        signature = server.sign("https://public.example/voice", CALL)
        root = twiml(server.post("/voice", CALL, signature=signature))
        plays = [e.text for e in root.iter("Play")]
        assert plays and all(p.startswith("https://public.example/audio/") for p in plays)
        assert server.post("/voice", CALL).status_code == 403  # signed for the inside address


# --- structure: barge-in, absolute audio URLs, <Say> mode -------------------------------------

def test_parts_play_inside_a_gather_followed_by_the_next_step(audio_server):
    root = post(audio_server, f"/voice/read?l={SEED}&s=1&p=1&r=normal")
    gather = root.find("Gather")
    assert [child.tag for child in root] == ["Gather", "Redirect"]
    assert gather.get("input") == "dtmf" and gather.get("finishOnKey") == "" and gather.get("numDigits") == "1"
    assert [child.tag for child in gather] == ["Play", "Play"]
    assert all(p.text.startswith(audio_server.url + "/audio/") for p in gather)
    assert follow(root) == f"/voice/read?l={SEED}&s=1&p=2&r=normal"
    slow = post(audio_server, f"/voice/read?l={SEED}&s=1&p=1&r=slow")
    assert all("/audio/slow-" in p.text for p in slow.iter("Play"))


def test_rendered_audio_urls_are_absolute_and_fetchable(rendered_audio_dir, tmp_path):
    import httpx

    for server in _serve(tmp_path, IVR_AUDIO_DIR=rendered_audio_dir):
        urls = []
        for path in ("/voice", f"/voice/read?l={SEED}&s=1&p=1&r=normal", f"/voice/read?l={SEED}&s=4&p=2&r=slow"):
            root = post(server, path)
            assert not list(root.iter("Say")), "everything the tree says here should be rendered"
            urls += [p.text for p in root.iter("Play")]
        assert urls and all(u.startswith(server.url + "/audio/") for u in urls)
        for url in urls:
            fetched = httpx.get(url, timeout=10)
            assert fetched.status_code == 200 and fetched.content[:4] == b"RIFF"


def test_say_mode_speaks_the_same_text_with_the_configured_voice(say_server, audio_server):
    say = post(say_server, "/voice")
    assert not list(say.iter("Play"))
    says = list(say.iter("Say"))
    assert says and all(s.get("voice") == "Polly.Amy" and s.get("language") == "en-GB" for s in says)
    assert said(say)[0] == "Patient information line: Cryotherapy for kidney cancer."
    assert len(list(post(audio_server, "/voice").iter("Play"))) == len(says)
    slow = post(say_server, f"/voice/read?l={SEED}&s=1&p=1&r=slow")
    assert slow.find("Gather/Say/prosody").get("rate") == "80%"


# --- every key at every kind of state ----------------------------------------------------------

STATES = {
    "menu": "/voice/key?k=sections&l=" + SEED,
    "read": f"/voice/key?k=read&l={SEED}&s=2&p=2&r=normal",
    "pause": f"/voice/key?k=pause&l={SEED}&s=2&p=2&r=normal",
    "end": f"/voice/key?k=end&l={SEED}&s=1&p=2&r=normal",
    "last-end": f"/voice/key?k=end&l={SEED}&s=4&p=3&r=normal",
}


@pytest.mark.parametrize("key", KEYS, ids=lambda k: "silence" if k is None else k)
@pytest.mark.parametrize("state", list(STATES))
def test_every_key_at_every_state_answers_valid_twiml(say_server, state, key):
    root = post(say_server, STATES[state], key)
    verb = last_verb(root)
    assert verb.tag in ("Redirect", "Hangup")
    gather = root.find("Gather")
    if key == "0":
        assert [c.tag for c in root] == ["Redirect"] and verb.text.startswith(f"/nurse?l={SEED}")
    elif gather is not None:
        assert gather.get("action").startswith("/voice/key?") and list(gather)
        assert verb.tag == "Redirect"
    else:
        assert said(root)


@pytest.mark.parametrize("key", KEYS, ids=lambda k: "silence" if k is None else k)
@pytest.mark.parametrize("state", ["/voice/key?k=leaflets", "/voice/key?k=leaflets&pg=1", "/voice/key?k=code"])
def test_every_key_in_the_leaflet_menus(many_server, state, key):
    root = post(many_server, state, key)
    if key == "0":
        assert follow(root) == "/nurse"
    else:
        assert last_verb(root).tag == "Redirect" and root.find("Gather") is not None


def test_code_keyed_in_opens_that_leaflet(many_server):
    code = post(many_server, "/voice/key?k=leaflets", "8")
    assert code.find("Gather").get("finishOnKey") == "#" and code.find("Gather").get("numDigits") is None
    assert said(post(many_server, key_url(code), "303"))[0] == "Charlie care."
    assert said(post(many_server, key_url(code), "404"))[0] == "Sorry, there is no leaflet with that code."


# --- sequences: no input, wrong keys, round trips ------------------------------------------------

def test_silence_reprompts_helps_offers_the_nurse_then_says_goodbye(say_server):
    root = post(say_server, "/voice")
    heard = []
    while last_verb(root).tag != "Hangup":
        root = post(say_server, follow(root))  # the no-input <Redirect>: no Digits
        heard.append(said(root)[0])
    assert heard == ["Sorry, I did not hear a key.",
                     "Please press a key on your phone's keypad when you hear the choice you want.",
                     "If you would like to speak to a nurse, press zero now.",
                     "Thank you for calling. Goodbye."]


def test_wrong_key_says_sorry_then_the_options(say_server):
    root = post(say_server, key_url(post(say_server, "/voice")), "8")
    assert said(root)[:2] == ["Sorry, that key is not an option.", "For What it is, press 1."]


def test_back_then_forward_over_http_returns_to_the_same_part(say_server):
    start = post(say_server, f"/voice/read?l={SEED}&s=2&p=2&r=normal")
    back = post(say_server, key_url(start), "4")
    forward = post(say_server, key_url(back), "6")
    assert key_url(forward) == key_url(start)
    assert said(forward) == said(start)


def test_tampered_positions_lead_to_a_menu_not_an_error(say_server):
    for path in ("/voice/read?l=nope&s=1&p=1&r=normal", f"/voice/read?l={SEED}&s=99&p=1&r=normal",
                 f"/voice/read?l={SEED}&s=1&p=-3&r=junk", "/voice/at?k=%3Cscript%3E&l=%22x%22"):
        root = post(say_server, path)
        assert root.find("Gather") is not None
    assert said(post(say_server, f"/voice/read?l={SEED}&s=99&p=1&r=normal"))[0] == "Cryotherapy for kidney cancer."


def test_logs_never_hold_the_callers_number(say_server):
    post(say_server, "/voice")
    assert "7700900123" not in say_server.log()


# --- faults: a broken prompts folder under a running server ----------------------------------------

def _broken_locale(tmp: Path, prompt_file: str, old: str, new: str) -> Path:
    folder = tmp / "broken-en-GB"
    folder.mkdir()
    for source in (PROJECT / "ivr" / "prompts" / "en-GB").glob("*.yaml"):
        text = source.read_text()
        (folder / source.name).write_text(text.replace(old, new) if source.name == prompt_file else text)
    return folder


def test_a_fault_answers_200_with_an_apology_and_the_menu(tmp_path):
    locale = _broken_locale(tmp_path, "reading.yaml", "Part {part} of {parts}.", "Part {part} of {total}.")
    for server in _serve(tmp_path, IVR_LOCALE=locale, IVR_SPEECH="say"):
        root = post(server, f"/voice/key?k=read&l={SEED}&s=1&p=1&r=normal", "5")  # "where am I"
        assert said(root) == ["Sorry, something went wrong on our side. Taking you back to the main menu."]
        assert follow(root) == "/voice/menu?faults=1"
        assert post(server, follow(root)).find("Gather") is not None  # the menu itself works
        assert "CA0123456789abcdef" in server.log() and "7700900123" not in server.log()


def test_a_second_fault_in_a_row_goes_to_the_nurse_line(tmp_path):
    locale = _broken_locale(tmp_path, "menu.yaml", "these choices again, press {key}", "these again, press {button}")
    for server in _serve(tmp_path, IVR_LOCALE=locale, IVR_SPEECH="say"):
        first = post(server, "/voice")
        assert follow(first) == "/voice/menu?faults=1"
        assert follow(post(server, follow(first))) == "/nurse?faults=2"


# --- golden TwiML of each kind of state ----------------------------------------------------------

GOLDEN_CASES = {
    "answer": ("audio", "/voice", None),
    "menu": ("audio", "/voice/menu", None),
    "read": ("audio", f"/voice/read?l={SEED}&s=2&p=2&r=normal", None),
    "read-slow-say": ("say", f"/voice/read?l={SEED}&s=2&p=1&r=slow", None),
    "where-am-i": ("audio", f"/voice/key?k=read&l={SEED}&s=2&p=2&r=normal", "5"),
    "pause": ("audio", f"/voice/key?k=read&l={SEED}&s=2&p=2&r=normal", "#"),
    "end-of-section": ("audio", f"/voice/at?k=end&l={SEED}&s=1&p=2&r=normal", None),
    "end-of-leaflet": ("audio", f"/voice/key?k=read&l={SEED}&s=4&p=1&r=normal", "9"),
    "about": ("audio", f"/voice/key?k=sections&l={SEED}", "6"),
    "wrong-key": ("say", f"/voice/key?k=sections&l={SEED}", "8"),
    "no-input-3": ("say", f"/voice/key?k=sections&l={SEED}&q=2", None),
    "goodbye": ("say", f"/voice/key?k=sections&l={SEED}&q=3", None),
    "nurse": ("say", f"/voice/key?k=read&l={SEED}&s=2&p=2&r=slow", "0"),
    "leaflet-menu": ("many", "/voice", None),
    "leaflet-menu-page-2": ("many", "/voice/key?k=leaflets", "9"),
    "code-entry": ("many", "/voice/key?k=leaflets", "8"),
}


@pytest.mark.parametrize("name", list(GOLDEN_CASES))
def test_golden_twiml(name, audio_server, say_server, many_server):
    which, path, digits = GOLDEN_CASES[name]
    server = {"audio": audio_server, "say": say_server, "many": many_server}[which]
    params = {**CALL, **({"Digits": digits} if digits is not None else {})}
    response = server.post(path, params)
    assert response.status_code == 200
    text = response.text.replace(server.url, "http://SERVER").replace("><", ">\n<") + "\n"
    golden = GOLDEN / f"{name}.xml"
    if os.environ.get("IVR_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(text)
    assert text == golden.read_text()
