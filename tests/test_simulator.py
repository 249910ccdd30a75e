"""The simulator against a small fixture line served by a real HTTP server on 127.0.0.1.

The fixture checks every request's X-Twilio-Signature with twilio's RequestValidator (403
otherwise), records what it was sent, and answers canned TwiML built with VoiceResponse.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile
from flask import Flask, Response, abort, request, send_from_directory
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse
from werkzeug.serving import make_server

from ivr.prompts import Utterance
from ivr.simulator import SpeechIndex, parse_keys, simulate_call
from ivr.speech.manifest import AudioEntry, Manifest

PROJECT = Path(__file__).resolve().parent.parent
TOKEN = "fixture-auth-token"
MENU_SECONDS = 1.5
TEXTS = {
    "test.welcome": "Welcome to the test line.",
    "test.menu_options": "Press 1 for part one, 2 for part two, or 0 for a nurse.",
    "test.reprompt": "Please press a key.",
    "test.goodbye": "Thank you for calling. Goodbye.",
    "test.sorry": "Sorry, that key is not an option.",
    "test.connecting": "Putting you through to a nurse.",
    "test.whisper": "A caller from the test line. Press 1 to accept.",
    "test.oops": "Oops.",
    "test.busy": "The nurses are busy. Please leave a message after the beep.",
    "test.saved_goodbye": "Your message is saved. Goodbye.",
    "test.dial_goodbye": "Thank you for talking to the nurse. Goodbye.",
    "test.code": "Enter the leaflet code, then press hash.",
    "leaflet/test/1/1": "Part one says hello.",
    "leaflet/test/2/1": "Part two says more.",
}
INDEX = SpeechIndex.build(
    [Utterance(i, t) for i, t in TEXTS.items()],
    Manifest((AudioEntry("test.menu_intro", "normal", "Main menu.", "menu.wav", MENU_SECONDS),)),
)


def words(prompt_id: str) -> float:
    return len(TEXTS[prompt_id].split()) * 60 / 155


def say(response: VoiceResponse | Gather, prompt_id: str) -> None:
    response.say(TEXTS[prompt_id])


def twiml(response: VoiceResponse) -> Response:
    return Response(str(response), mimetype="text/xml")


def fixture_app(audio_dir: Path, *, broken: bool = False) -> Flask:
    """A tiny line: welcome, a menu (1, 2, 0 nurse, 9 code), no-input reprompt then goodbye.

    ``broken`` adds faults for the checker: key 2 plays a missing file (so part two is never
    heard), key 8 hangs up with no goodbye, key 5 leads to a Gather with no no-input path whose
    0 does not reach the nurse.
    """
    app = Flask("sim_fixture")
    seen: list[tuple[str, str, dict[str, str]]] = []
    app.config["SEEN"] = seen
    validator = RequestValidator(TOKEN)

    @app.before_request
    def check_signature() -> None:
        if request.path.startswith("/audio/"):
            return
        params = request.form.to_dict() if request.method == "POST" else {}
        if not validator.validate(request.url, params, request.headers.get("X-Twilio-Signature", "")):
            abort(403)
        seen.append((request.method, request.path, {**request.args.to_dict(), **request.form.to_dict()}))

    @app.post("/voice")
    def answer() -> Response:
        response = VoiceResponse()
        say(response, "test.welcome")
        response.redirect("voice/menu")  # relative to /voice
        return twiml(response)

    @app.post("/voice/menu")
    def menu() -> Response:
        tries = int(request.args.get("tries", "0"))
        response = VoiceResponse()
        gather = Gather(action="/voice/choose", num_digits=1, timeout=5)
        gather.play("/audio/menu.wav")
        say(gather, "test.menu_options")
        response.append(gather)
        if tries < 1:
            say(response, "test.reprompt")
            response.redirect(f"/voice/menu?tries={tries + 1}")
        else:
            say(response, "test.goodbye")
            response.hangup()
        return twiml(response)

    @app.post("/voice/choose")
    def choose() -> Response:
        digits = request.form.get("Digits", "")
        response = VoiceResponse()
        if digits == "0":
            response.redirect("/nurse")
            return twiml(response)
        if broken and digits == "8":
            say(response, "test.oops")
            response.hangup()
            return twiml(response)
        if broken and digits == "5":
            response.redirect("/voice/stuck")
            return twiml(response)
        if digits == "1":
            say(response, "leaflet/test/1/1")
        elif digits == "2":
            if broken:
                response.play("/audio/missing.wav")
            else:
                say(response, "leaflet/test/2/1")
        elif digits == "9":
            response.redirect("/voice/code")
            return twiml(response)
        else:
            say(response, "test.sorry")
        response.redirect("/voice/menu")
        return twiml(response)

    @app.post("/voice/stuck")
    def stuck() -> Response:
        response = VoiceResponse()
        gather = Gather(action="/voice/stuck-choice", num_digits=1)
        say(gather, "test.reprompt")
        response.append(gather)
        return twiml(response)

    @app.post("/voice/stuck-choice")
    def stuck_choice() -> Response:
        response = VoiceResponse()
        say(response, "test.sorry")
        response.redirect("/voice/menu")
        return twiml(response)

    @app.post("/voice/code")
    def code() -> Response:
        response = VoiceResponse()
        gather = Gather(action="/voice/code-entered", finish_on_key="#", timeout=3)
        say(gather, "test.code")
        response.append(gather)
        response.redirect("/voice/menu")
        return twiml(response)

    @app.post("/voice/code-entered")
    def code_entered() -> Response:
        digits = request.form["Digits"]
        response = VoiceResponse()
        if digits == "0":
            response.redirect("/nurse")
        else:
            response.say(f"You entered {digits}.")
            response.redirect("/voice/menu")
        return twiml(response)

    @app.route("/voice/get-menu", methods=["POST"])
    def get_menu() -> Response:
        response = VoiceResponse()
        gather = Gather(action="/voice/choose-get", method="GET", num_digits=1)
        say(gather, "test.reprompt")
        response.append(gather)
        return twiml(response)

    @app.get("/voice/choose-get")
    def choose_get() -> Response:
        response = VoiceResponse()
        response.say(f"Got {request.args['Digits']} by GET.")
        return twiml(response)

    @app.post("/voice/empty")
    def empty() -> Response:
        response = VoiceResponse()
        gather = Gather(action="/voice/empty-result", num_digits=1, timeout=2, action_on_empty_result=True)
        say(gather, "test.reprompt")
        response.append(gather)
        return twiml(response)

    @app.post("/voice/empty-result")
    def empty_result() -> Response:
        response = VoiceResponse()
        response.say(f"Digits were {request.form['Digits'] or 'empty'}.")
        return twiml(response)

    @app.post("/voice/boom")
    def boom() -> Response:
        return Response("kaput", status=500)

    @app.post("/voice/not-xml")
    def not_xml() -> Response:
        return Response("<Response><Say>unclosed</Response>", mimetype="text/xml")

    @app.post("/voice/unknown-verb")
    def unknown_verb() -> Response:
        return Response("<Response><Say>Hello.</Say><Dance/></Response>", mimetype="text/xml")

    @app.post("/voice/wrong-audio")
    def wrong_audio() -> Response:
        response = VoiceResponse()
        response.play("/audio/wrong.wav")
        say(response, "test.goodbye")
        return twiml(response)

    @app.post("/nurse")
    def nurse() -> Response:
        response = VoiceResponse()
        say(response, "test.connecting")
        dial = Dial(action="/nurse/after", timeout=20, answer_on_bridge=True)
        dial.number("+441632960001", url="/nurse/whisper")
        response.append(dial)
        return twiml(response)

    @app.post("/nurse/whisper")
    def whisper() -> Response:
        response = VoiceResponse()
        gather = Gather(action="/nurse/accept", num_digits=1, timeout=5)
        say(gather, "test.whisper")
        response.append(gather)
        response.hangup()
        return twiml(response)

    @app.post("/nurse/accept")
    def accept() -> Response:
        response = VoiceResponse()
        if request.form.get("Digits") != "1":
            response.hangup()
        return twiml(response)

    @app.post("/nurse/after")
    def after_dial() -> Response:
        response = VoiceResponse()
        if request.form["DialCallStatus"] == "completed" and request.form["DialBridged"] == "true":
            say(response, "test.dial_goodbye")
            response.hangup()
        else:
            say(response, "test.busy")
            response.record(action="/nurse/saved", recording_status_callback="/nurse/recording",
                            max_length=60, finish_on_key="#")
        return twiml(response)

    @app.post("/nurse/saved")
    def saved() -> Response:
        response = VoiceResponse()
        say(response, "test.saved_goodbye")
        response.hangup()
        return twiml(response)

    @app.post("/nurse/recording")
    def recording() -> Response:
        return Response(status=204)

    @app.post("/voice/status")
    def call_status() -> Response:  # the call status callback `ivr call` sends when the call is over
        return Response(status=204)

    @app.get("/audio/<name>")
    def audio(name: str) -> Response:
        return send_from_directory(audio_dir, name, mimetype="audio/wav")

    return app


def write_audio(folder: Path) -> None:
    """menu.wav: telephone audio (mu-law 8 kHz mono); wrong.wav: CD-style PCM."""
    folder.mkdir(parents=True, exist_ok=True)
    tone = 0.3 * np.sin(2 * math.pi * 440 * np.arange(int(8000 * MENU_SECONDS)) / 8000)
    soundfile.write(folder / "menu.wav", tone, 8000, subtype="ULAW", format="WAV")
    soundfile.write(folder / "wrong.wav", np.zeros(22050), 22050, subtype="PCM_16", format="WAV")


@dataclass
class FixtureLine:
    url: str
    app: Flask

    @property
    def seen(self) -> list[tuple[str, str, dict[str, str]]]:
        return self.app.config["SEEN"]

    def posted(self, path: str) -> list[dict[str, str]]:
        return [form for _, p, form in self.seen if p == path]


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` on a free port of 127.0.0.1 in a thread; its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


@pytest.fixture
def line(tmp_path: Path) -> Iterator[FixtureLine]:
    write_audio(tmp_path / "audio")
    app = fixture_app(tmp_path / "audio")
    with serve(app) as url:
        yield FixtureLine(url, app)


def call(line: FixtureLine, path: str = "/voice", **kwargs):
    kwargs.setdefault("token", TOKEN)
    kwargs.setdefault("index", INDEX)
    return simulate_call(line.url + path, **kwargs)


def test_scripted_call_follows_the_twiml_with_a_running_clock(line):
    transcript = call(line, keys=["1", None, None])

    assert not transcript.failed, transcript.text()
    assert transcript.ids() == [
        "test.welcome", "test.menu_intro", "leaflet/test/1/1",
        "test.menu_intro", "test.menu_options", "test.reprompt",
        "test.menu_intro", "test.menu_options", "test.goodbye",
    ]
    assert transcript.ended_by == "hangup"
    plays = [e for e in transcript.events if e.kind == "play"]
    assert all(e.text == "Main menu." and e.duration == pytest.approx(MENU_SECONDS) for e in plays)
    expected = (words("test.welcome") + 3 * MENU_SECONDS + words("leaflet/test/1/1")
                + 2 * (words("test.menu_options") + 5) + words("test.reprompt") + words("test.goodbye"))
    assert transcript.clock == pytest.approx(expected)
    assert line.posted("/voice/choose") == [{**line.posted("/voice/choose")[0], "Digits": "1"}]
    sids = {form["CallSid"] for _, _, form in line.seen}
    assert len(sids) == 1 and next(iter(sids)).startswith("CA")
    first = line.seen[0][2]
    assert (first["From"], first["Direction"], first["CallStatus"]) == ("+447700900123", "inbound", "ringing")
    assert line.seen[1][2]["CallStatus"] == "in-progress"


def test_a_key_during_the_first_nested_audio_acts_at_once(line):
    transcript = call(line, keys=["1"])

    # the menu options after the first <Play> in the Gather are never heard
    assert transcript.ids() == ["test.welcome", "test.menu_intro", "leaflet/test/1/1"]
    keys = [e for e in transcript.events if e.kind == "keys"]
    assert [k.keys for k in keys] == ["1"]
    assert keys[0].clock == pytest.approx(words("test.welcome") + MENU_SECONDS)
    assert transcript.ended_by == "caller"  # the script ran out as the next menu began


def test_the_transcript_reads_as_a_caller_hears_it(line):
    text = call(line, keys=["1"]).text()

    lines = text.splitlines()
    assert lines[0] == '[  0:01.9] line: "Welcome to the test line."  (Say, about 1.9 s, test.welcome)'
    assert lines[1] == '[  0:03.4] line: "Main menu."  (audio 1.5 s, test.menu_intro)'
    assert lines[2] == "[  0:03.4] you press 1"
    assert lines[-1].endswith("you hang up: no more scripted keys")
    assert "POST" not in text
    assert "-> POST /voice/choose (Digits=1)" in call(line, keys=["1"]).text(urls=True)


def test_a_forged_signature_is_a_failed_call(line):
    transcript = call(line, token="not-the-token", keys=["1"])

    assert transcript.failed
    assert transcript.ended_by == "error"
    assert "HTTP 403" in transcript.errors[0].text
    assert transcript.heard() == []
    assert line.seen == []  # the fixture refused before recording anything


def test_silence_falls_through_to_the_next_verb_then_goodbye(line):
    transcript = call(line, keys=[None, ""])

    silences = [e for e in transcript.events if e.kind == "silence"]
    assert [s.duration for s in silences] == [5, 5]
    assert transcript.ids()[-1] == "test.goodbye"
    assert transcript.ended_by == "hangup"
    assert line.posted("/voice/choose") == []


def test_action_on_empty_result_posts_empty_digits(line):
    transcript = call(line, "/voice/empty", keys=[None])

    assert transcript.heard()[-1].text == "Digits were empty."
    assert transcript.clock == pytest.approx(words("test.reprompt") + 2 + 3 * 60 / 155)


@pytest.mark.parametrize(
    ("keys", "posted", "waited"),
    [
        ("42#", "42", []),  # finished by the finish key: no wait
        ("42", "42", [3]),  # no finish key: Twilio waits the timeout for more digits
        ("#", None, []),  # the finish key alone is no input: on to the Redirect, no request
    ],
)
def test_multi_digit_entry_honours_finish_key_and_timeout(line, keys, posted, waited):
    transcript = call(line, "/voice/code", keys=[keys, None])

    assert [f["Digits"] for f in line.posted("/voice/code-entered")] == ([posted] if posted else [])
    # then the menu, where the caller says nothing (5 s)
    assert [e.duration for e in transcript.events if e.kind == "silence"] == [*waited, 5]


def test_a_gather_with_method_get_signs_the_query_string(line):
    transcript = call(line, "/voice/get-menu", keys=["4"])

    assert not transcript.failed, transcript.text()
    assert transcript.heard()[-1].text == "Got 4 by GET."
    assert line.seen[-1][:2] == ("GET", "/voice/choose-get")


@pytest.mark.parametrize(
    ("nurse", "status", "bridged", "last"),
    [
        ("answer", "completed", "true", "test.dial_goodbye"),
        ("voicemail", "completed", "false", "test.saved_goodbye"),
        ("busy", "busy", "false", "test.saved_goodbye"),
        ("no-answer", "no-answer", "false", "test.saved_goodbye"),
    ],
)
def test_dial_outcomes_with_whisper(line, nurse, status, bridged, last):
    transcript = call(line, keys=["0"], nurse=nurse)

    assert not transcript.failed, transcript.text()
    after = line.posted("/nurse/after")
    assert [(f["DialCallStatus"], f["DialBridged"]) for f in after] == [(status, bridged)]
    assert transcript.ids()[-1] == last
    whispers = line.posted("/nurse/whisper")
    if nurse in ("answer", "voicemail"):
        (leg,) = whispers
        assert leg["ParentCallSid"] == after[0]["CallSid"] and leg["CallSid"] == after[0]["DialCallSid"]
        assert leg["Direction"] == "outbound-dial" and leg["To"] == "+441632960001"
        assert transcript.ids("nurse") == ["test.whisper"]
        assert [f.get("Digits") for f in line.posted("/nurse/accept")] == (["1"] if nurse == "answer" else [])
    else:
        assert whispers == []
    if nurse == "no-answer":
        rang = next(e for e in transcript.events if e.kind == "dial")
        assert rang.duration == 20


def test_record_posts_the_recording_then_its_status_callback(line):
    transcript = call(line, keys=["0"], nurse="busy")

    (saved,) = line.posted("/nurse/saved")
    assert saved["RecordingUrl"].startswith("https://api.twilio.com/2010-04-01/Accounts/AC")
    assert (saved["RecordingDuration"], saved["Digits"]) == ("8", "#")
    (status,) = line.posted("/nurse/recording")
    assert (status["RecordingSid"], status["RecordingStatus"]) == (saved["RecordingSid"], "completed")
    paths = [p for _, p, _ in line.seen]
    assert paths.index("/nurse/recording") > paths.index("/nurse/saved")  # Twilio calls back later
    message = next(e for e in transcript.events if e.kind == "message")
    assert message.duration == 8


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/voice/boom", "answered HTTP 500"),
        ("/voice/not-xml", "answered invalid XML"),
        ("/voice/unknown-verb", "<Dance> is not a TwiML voice verb"),
        ("/voice/nowhere", "answered HTTP 404"),
    ],
)
def test_faults_end_the_call_as_failures(line, path, error):
    transcript = call(line, path, keys=[])

    assert transcript.failed and transcript.ended_by == "error"
    assert error in transcript.errors[0].text


@pytest.mark.parametrize(
    ("path", "keys", "error"),
    [
        ("/voice/wrong-audio", [], "is WAV PCM_16 22050 Hz 1 channel(s); expected WAV mu-law 8000 Hz mono"),
    ],
)
def test_bad_audio_is_an_error_but_the_call_goes_on(line, path, keys, error):
    transcript = call(line, path, keys=keys)

    assert error in transcript.errors[0].text
    assert transcript.ids() == ["test.goodbye"]
    assert transcript.ended_by == "end"


def test_missing_audio_is_an_error_but_the_call_goes_on(tmp_path):
    write_audio(tmp_path / "audio")
    with serve(fixture_app(tmp_path / "audio", broken=True)) as url:
        transcript = simulate_call(url + "/voice", token=TOKEN, index=INDEX, keys=["2"])

    assert "missing.wav answered HTTP 404" in transcript.errors[0].text
    assert transcript.ids()[-1] == "test.menu_intro"  # back at the menu
    assert transcript.failed


@pytest.mark.parametrize(
    ("text", "entries"),
    [("1,,6", ["1", None, "6"]), ("12#, *", ["12#", "*"]), ("", [None]), ("0", ["0"])],
)
def test_parse_keys(text, entries):
    assert parse_keys(text) == entries


@pytest.mark.parametrize("text", ["1,a", "12 3", "9!"])
def test_parse_keys_refuses_what_a_keypad_cannot_press(text):
    with pytest.raises(ValueError, match="is not keypad keys"):
        parse_keys(text)


def run_ivr_call(*args: str, stdin: str | None = None, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TWILIO_AUTH_TOKEN": token}
    return subprocess.run(
        [str(Path(sys.executable).parent / "ivr"), "call", *args], cwd=PROJECT, env=env, input=stdin,
        capture_output=True, text=True, timeout=60,
    )


def test_ivr_call_prints_the_transcript_as_it_goes(line):
    result = run_ivr_call("--url", line.url + "/voice", "--keys", "1,,")

    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    assert out[0] == f"Calling {line.url}/voice from +44 7*** ***123 (nurse: answer)"
    assert out[1].startswith('[  0:01.9] line: "Welcome to the test line."')
    assert "[  0:03.4] you press 1" in out
    assert any("you say nothing (waited 5 s)" in row for row in out)
    assert out[-2].endswith("the line hangs up")
    assert out[-1].startswith("Call over after")
    assert "7700900123" not in result.stdout + result.stderr
    (status,) = line.posted("/voice/status")  # once the call is over, as a number `ivr twilio connect` set up
    assert status["CallStatus"] == "completed" and int(status["CallDuration"]) >= 3


def test_ivr_call_reads_keys_from_the_keyboard(line):
    result = run_ivr_call("--url", line.url + "/voice", stdin="1\nq")

    assert result.returncode == 0, result.stderr
    assert "keypad: 1 2 3 / 4 5 6 / 7 8 9 / * 0 #" in result.stdout
    assert "you press 1" in result.stdout
    assert "you hang up: you hung up" in result.stdout


def test_ivr_call_fails_on_a_forged_signature(line):
    result = run_ivr_call("--url", line.url + "/voice", "--keys", "1", token="forged")

    assert result.returncode == 1
    assert "ERROR: POST /voice answered HTTP 403" in result.stdout


def test_ivr_call_refuses_bad_keys(line):
    result = run_ivr_call("--url", line.url + "/voice", "--keys", "1,x")

    assert result.returncode == 2
    assert "'x' is not keypad keys" in result.stderr
