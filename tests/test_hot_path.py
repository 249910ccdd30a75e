"""The webhook hot path's speed-ups keep behaviour identical: the signature check accepts exactly
what twilio's validator accepts, and TwiML answered again from the kept answers is the same
document, for the right host, with warnings still logged. (Speed itself: scripts/bench_webhook.py.)"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from ivr.config import load_settings
from ivr.content.catalogue import load_catalogue
from ivr.prompts import load_prompts
from ivr.speech.sources import speech_items
from ivr.web.twilio_hooks import signature_matches

from .conftest import TEST_LEAFLETS, start_server

TOKEN = "test-auth-token"
CALL = {"CallSid": "CA0123456789abcdef", "AccountSid": "ACtest", "From": "+447700900123",
        "To": "+441632960000", "CallStatus": "in-progress", "Direction": "inbound"}
URLS = [
    "http://127.0.0.1:5000/voice/key?k=read&l=cryotherapy-for-kidney-cancer&s=1&p=2&r=normal",
    "https://ivr.example.org/voice",
    "https://ivr.example.org:443/voice/menu",
    "https://ivr.example.org:8443/nurse?l=x&s=%22&p=1",
    "http://localhost/voice/at?k=sections&l=%C3%A9t%C3%A9",
]
PARAMS = [
    MultiDict(CALL),
    MultiDict([*CALL.items(), ("Digits", "1"), ("Digits", "2")]),  # a repeated field counts
    MultiDict(),
    {**CALL, "SpeechResult": "côté effets", "Digits": "4"},  # a plain mapping, not a MultiDict
]


def _forms(url: str) -> list[str]:
    from urllib.parse import urlparse

    from twilio.request_validator import add_port, remove_port

    return [add_port(urlparse(url)), remove_port(urlparse(url))]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("params", PARAMS, ids=["call", "repeated", "empty", "mapping"])
def test_the_signature_check_accepts_exactly_what_twilio_accepts(url, params):
    validator = RequestValidator(TOKEN)
    signatures = [validator.compute_signature(form, params) for form in _forms(url)]
    signatures += [
        validator.compute_signature(url + "x", params),  # another URL
        RequestValidator("another-token").compute_signature(url, params),
        "", "bm90IGEgc2lnbmF0dXJl",
    ]
    for signature in signatures:
        assert signature_matches(TOKEN, url, params, signature) == validator.validate(url, params, signature)
    assert signature_matches(TOKEN, url, params, signatures[0])
    assert signature_matches(TOKEN, url, params, signatures[1])
    assert not signature_matches(TOKEN, url, params, signatures[2])


def _full_manifest(folder: Path) -> Path:
    """A manifest naming a file for everything the line can say (TwiML only: no files needed)."""
    folder.mkdir(parents=True)
    settings = load_settings({"TWILIO_AUTH_TOKEN": TOKEN, "IVR_NURSE_NUMBER": "+441632960001"})
    catalogue = load_catalogue(TEST_LEAFLETS)
    items = speech_items(catalogue, load_prompts("en-GB"), settings)
    entries = [{"id": u.id, "rate": rate, "text": u.text, "file": f"{n:016x}{rate == 'slow':016x}.wav", "duration": 1.0}
               for n, u in enumerate(items) for rate in ("normal", "slow")]
    (folder / "manifest.json").write_text(json.dumps({"entries": entries}))
    return folder


def _post(url: str, path: str, params: dict[str, str]) -> httpx.Response:
    signature = RequestValidator(TOKEN).compute_signature(url + path, params)
    return httpx.post(url + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=20)


def test_an_answer_given_again_is_the_same_document_for_the_host_asked(app_config, tmp_path):
    app_config["IVR_AUDIO_DIR"] = str(_full_manifest(tmp_path / "audio"))
    server = start_server(app_config, tmp_path)
    try:
        other = server.url.replace("127.0.0.1", "localhost")
        path = "/voice/key?k=read&l=cryotherapy-for-kidney-cancer&s=1&p=1&r=normal"
        first = [_post(server.url, path, {**CALL, "Digits": "6"}) for _ in range(3)]
        elsewhere = _post(other, path, {**CALL, "Digits": "6"})
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)
    assert [r.status_code for r in first] == [200, 200, 200]
    assert first[0].text == first[1].text == first[2].text
    plays = [e.text for e in ET.fromstring(first[0].text).iter("Play")]
    assert plays and all(p.startswith(server.url + "/audio/") for p in plays)
    assert elsewhere.text == first[0].text.replace(server.url, other)


def test_missing_audio_is_spoken_instead_and_logged_on_every_request(app_config, tmp_path):
    (tmp_path / "empty").mkdir()
    app_config["IVR_AUDIO_DIR"] = str(tmp_path / "empty")
    server = start_server(app_config, tmp_path)
    try:
        answers = [_post(server.url, "/voice/menu", CALL) for _ in range(3)]
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert answers[0].text == answers[2].text
    spoken = ET.fromstring(answers[0].text)
    assert list(spoken.iter("Say")) and not list(spoken.iter("Play")), "missing audio should be spoken instead"
    assert server.log().count("no rendered audio for menu.sections at normal rate") == 3


def test_junk_keys_are_answered_but_not_kept(rendered_audio_dir, app, client):
    # rendered audio first: only documents whose audio all exists are kept
    answers = app.extensions["ivr.answers"]
    url = "http://localhost/voice/key?k=sections&l=cryotherapy-for-kidney-cancer"
    for digits in ["1", "1", "7" * 40, "8" * 40]:
        params = {**CALL, "Digits": digits}
        signature = RequestValidator(TOKEN).compute_signature(url, params)
        response = client.post(url, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200
    assert len(answers) == 1


def test_positions_are_kept_by_query_string_but_never_digits_a_caller_keyed_in(app, client):
    from ivr.web import voice

    def post(query: str, digits: str) -> ET.Element:
        url = f"http://localhost/voice/key?{query}"
        params = {**CALL, "Digits": digits}
        response = client.post(url, data=params,
                               headers={"X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, params)})
        assert response.status_code == 200
        return ET.fromstring(response.data)

    read = "k=read&l=cryotherapy-for-kidney-cancer&s=1&p=2"
    first, again = post(read, "9"), post(read, "9")
    assert ET.tostring(first) == ET.tostring(again)
    assert voice._positions[read.encode()].section == 1
    post("k=nurse-number&h=01632960123&o=sections&l=cryotherapy-for-kidney-cancer", "2")
    assert not [query for query in voice._positions if b"h=" in query]
