"""The fallback (``/voice/fallback``) answers whatever else has gone: through a real server with the
database unreachable and the content and audio folders deleted after start-up; in process with a
fault injected before the view; and as the static TwiML ``ivr twilio fallback-twiml`` prints,
served by a plain static web server. Simulated calls follow each document to its end."""

from __future__ import annotations

import shutil
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from click.testing import CliRunner
from twilio.request_validator import RequestValidator

from ivr import create_app
from ivr.cli import main
from ivr.config import load_settings
from ivr.errors import ConfigError
from ivr.prompts import load_prompts
from ivr.simulator import simulate_call
from tests.conftest import PROJECT, free_port, start_server

from .fake_twilio import ACCOUNT_SID, FakeTwilio, fake_twilio

FIXTURES = (fake_twilio,)
PROMPTS = load_prompts("en-GB")
NURSES = "+441632960001"
CALL = {"AccountSid": "AC" + "0" * 32, "CallSid": "CA" + "1" * 32, "From": "+447700900123", "To": "+441632960000",
        "Direction": "inbound", "CallStatus": "in-progress", "ErrorCode": "11200",
        "ErrorUrl": "https://ivr.example.org/voice/key?k=read&l=cryotherapy-for-kidney-cancer&s=1&p=2"}


def text(*prompt_ids: str) -> list[str]:
    return [PROMPTS.say(prompt_id).text for prompt_id in prompt_ids]


def verbs(document: str) -> list[tuple[str, str]]:
    """(tag, text or the attribute that matters) of each verb, in order."""
    root = ET.fromstring(document)
    assert root.tag == "Response"
    found = []
    for verb in root:
        if verb.tag == "Dial":
            (number,) = verb
            found.append(("Dial", f"{number.text} for {verb.get('timeout')} s, then {verb.get('action')}"))
        elif verb.tag == "Record":
            found.append(("Record", f"{verb.get('action')}, status to {verb.get('recordingStatusCallback')}"))
        else:
            assert verb.tag in ("Say", "Hangup"), verb.tag
            found.append((verb.tag, verb.text or ""))
    return found


def said(*prompt_ids: str) -> list[tuple[str, str]]:
    return [("Say", words) for words in text(*prompt_ids)]


OPEN = [*said("errors.apology", "safety.emergency", "nurse.connecting"),
        ("Dial", f"{NURSES} for 25 s, then /voice/fallback/dialled")]


def message(reason: str) -> list[tuple[str, str]]:
    return [*said("nurse.message.instructions"),
            ("Record", f"/voice/fallback/recorded, status to /voice/recording?k=nurse-message&y={reason}"),
            *said("nurse.message.nothing_heard", "safety.before_goodbye"), ("Hangup", "")]


CLOSED = [*said("errors.apology", "safety.emergency", "nurse.closed.no_hours"), *message("closed")]


@pytest.fixture
def broken_server(app_config, tmp_path):
    """A real server whose database cannot be reached and whose content and audio folders are
    deleted once it has started."""
    leaflets, audio = tmp_path / "leaflets", tmp_path / "audio"
    shutil.copytree(PROJECT / "tests" / "fixtures" / "leaflets-one", leaflets)
    audio.mkdir()

    def start(hours: str):
        app_config.update(IVR_NURSE_HOURS=hours, IVR_LEAFLETS_DIR=str(leaflets), IVR_AUDIO_DIR=str(audio),
                          IVR_DATABASE_URL=f"postgresql+psycopg://ivr@127.0.0.1:{free_port()}/ivr")  # nothing listens
        server = start_server(app_config, tmp_path)
        assert httpx.get(server.url + "/healthz", timeout=20).status_code == 503  # loaded; the database is down
        shutil.rmtree(leaflets)
        shutil.rmtree(audio)
        servers.append(server)
        return server

    servers: list = []
    yield start
    for server in servers:
        server.process.terminate()
        server.process.wait(timeout=10)


def spoken(transcript) -> list[str]:
    return [event.text for event in transcript.heard()]


@pytest.mark.slow
def test_open_the_fallback_puts_callers_through_with_the_database_and_content_gone(broken_server):
    server = broken_server("always")
    answer = server.post("/voice/fallback", CALL)
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/xml")
    assert verbs(answer.text) == OPEN
    assert server.post("/voice/fallback", CALL, signature="forged").status_code == 403
    assert server.post("/voice/fallback/dialled", {**CALL, "DialCallStatus": "busy"}, signature="").status_code == 403

    talked = simulate_call(server.url + "/voice/fallback", token=server.token, nurse="answer")
    assert not talked.failed, talked.text(urls=True)
    assert spoken(talked) == text("errors.apology", "safety.emergency", "nurse.connecting", "safety.before_goodbye")
    assert talked.ended_by == "hangup"

    busy = simulate_call(server.url + "/voice/fallback", token=server.token, nurse="busy")
    assert not busy.failed, busy.text(urls=True)  # the message's status callback answered too (logged, not saved)
    assert spoken(busy) == text(
        "errors.apology", "safety.emergency", "nurse.connecting", "nurse.busy", "safety.emergency",
        "nurse.message.instructions", "nurse.message.saved", "nurse.promise.message_unknown", "safety.feel_worse")
    assert [event.url.split("?")[0].removeprefix(server.url) for event in busy.requests()] == [
        "/voice/fallback", "/voice/fallback/dialled", "/voice/fallback/recorded", "/voice/recording"]
    assert verbs(server.post("/voice/fallback/dialled", {**CALL, "DialCallStatus": "no-answer"}).text) == [
        *said("nurse.no_answer", "safety.emergency"), *message("no-answer")]
    nothing = server.post("/voice/fallback/recorded", {**CALL, "RecordingDuration": "0"})
    assert verbs(nothing.text) == [*said("nurse.message.nothing_heard", "safety.before_goodbye"), ("Hangup", "")]
    log = server.log()
    assert "Twilio fell back to /voice/fallback for CallSid CA111" in log and "ErrorCode 11200" in log
    assert "could not store recording" in log  # the database is down: Twilio keeps the recording
    assert "fallback: message RE" in log and "check it reaches the nurses' queue" in log
    assert CALL["From"] not in log and CALL["From"][1:] not in log


@pytest.mark.slow
def test_closed_the_fallback_takes_a_message(broken_server):
    server = broken_server("never")
    assert verbs(server.post("/voice/fallback", CALL).text) == CLOSED
    transcript = simulate_call(server.url + "/voice/fallback", token=server.token)
    assert not transcript.failed, transcript.text(urls=True)
    assert spoken(transcript) == text(
        "errors.apology", "safety.emergency", "nurse.closed.no_hours", "nurse.message.instructions",
        "nurse.message.saved", "nurse.promise.message_unknown", "safety.feel_worse")


def _signed(app_config, path: str, form: dict[str, str]) -> dict[str, str]:
    url = "http://localhost" + path
    return {"X-Twilio-Signature": RequestValidator(str(app_config["TWILIO_AUTH_TOKEN"])).compute_signature(url, form)}


def test_a_fault_anywhere_still_answers_the_prebuilt_document(app_config, caplog):
    app = create_app(app_config)

    @app.before_request
    def _broken() -> None:  # a fault in something the fallback does not even use
        raise RuntimeError("the line is broken")

    client = app.test_client()
    answer = client.post("/voice/fallback", data=CALL, headers=_signed(app_config, "/voice/fallback", CALL))
    assert answer.status_code == 200 and verbs(answer.text) == OPEN
    assert "fault in the fallback" in caplog.text
    assert client.post("/voice/fallback", data=CALL, headers={"X-Twilio-Signature": "forged"}).status_code == 403


def test_when_the_hours_cannot_be_worked_out_the_caller_is_put_through(app_config, caplog):
    def broken_clock():
        raise OSError("no clock")

    app_config.update(IVR_NURSE_HOURS="never", CLOCK=broken_clock)
    client = create_app(app_config).test_client()
    answer = client.post("/voice/fallback", data=CALL, headers=_signed(app_config, "/voice/fallback", CALL))
    assert answer.status_code == 200 and verbs(answer.text) == OPEN
    assert "could not work out the nurses' hours" in caplog.text


# --- The static document: a TwiML Bin or any static host ---------------------------------------


class _Static(BaseHTTPRequestHandler):
    """A static host: the same file for every request, GET or POST (as a TwiML Bin answers)."""

    body: ClassVar[bytes] = b""
    requests: ClassVar[list[str]] = []

    def _send(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        type(self).requests.append(f"{self.command} {self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    do_GET = do_POST = _send

    def log_message(self, *args: object) -> None:
        pass


def fallback_twiml(env: dict[str, str]) -> str:
    result = CliRunner().invoke(main, ["twilio", "fallback-twiml"], env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("nurse", ["answer", "no-answer"])
def test_the_printed_twiml_runs_from_a_static_host(tmp_path, nurse):
    document = fallback_twiml({"IVR_NURSE_NUMBER": NURSES, "IVR_INSTANCE_DIR": str(tmp_path), "IVR_NURSE_RING_SECONDS": "20"})
    assert verbs(document) == [*said("errors.apology", "safety.emergency", "nurse.connecting"),
                               ("Dial", f"{NURSES} for 20 s, then None"),
                               *said("nurse.try_later", "safety.before_goodbye"), ("Hangup", "")]
    _Static.body, _Static.requests = document.encode(), []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Static)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/twiml/EH{'0' * 32}"
        transcript = simulate_call(url, token="a TwiML Bin checks nothing", nurse=nurse)  # type: ignore[arg-type]
    finally:
        server.shutdown()
    assert not transcript.failed, transcript.text(urls=True)
    assert spoken(transcript) == text("errors.apology", "safety.emergency", "nurse.connecting", "nurse.try_later",
                                      "safety.before_goodbye")
    assert _Static.requests == [f"POST /twiml/EH{'0' * 32}"]  # nothing else is asked of any server


def test_printing_the_twiml_needs_the_nurses_number(tmp_path):
    result = CliRunner().invoke(main, ["twilio", "fallback-twiml"], env={"IVR_NURSE_NUMBER": "",
                                                                          "IVR_INSTANCE_DIR": str(tmp_path)})
    assert result.exit_code == 1
    assert "IVR_NURSE_NUMBER" in result.output and "<Response" not in result.output


# --- IVR_FALLBACK_URL: connect points the number at a second region or a TwiML Bin ---------------

BIN = "https://handler.twilio.com/twiml/EH" + "a" * 32


def test_connect_sets_the_fallback_url_given(fake_twilio: FakeTwilio, tmp_path: Path):
    fake_twilio.add_number(NURSES)
    env = {"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": "test-auth-token",
           "IVR_PUBLIC_URL": "https://ivr.example.org", "TWILIO_API_BASE_URL": fake_twilio.url,
           "IVR_INSTANCE_DIR": str(tmp_path), "IVR_FALLBACK_URL": BIN, "TWILIO_EDGE": None, "TWILIO_REGION": None}
    connected = CliRunner().invoke(main, ["twilio", "connect", "--number", NURSES], env=env)
    assert connected.exit_code == 0, connected.output
    record = fake_twilio.number(NURSES)
    assert (record["voice_fallback_url"], record["voice_url"]) == (BIN, "https://ivr.example.org/voice")
    assert CliRunner().invoke(main, ["twilio", "status", "--number", NURSES], env=env).exit_code == 0
    without = CliRunner().invoke(main, ["twilio", "status", "--number", NURSES], env={**env, "IVR_FALLBACK_URL": ""})
    assert without.exit_code == 1 and "differs: connect sets https://ivr.example.org/voice/fallback" in without.output


@pytest.mark.parametrize("value", ["http://ivr-b.example.org/voice/fallback", "ivr-b.example.org/voice/fallback",
                                   "https:///voice/fallback", "https://user@ivr-b.example.org/voice/fallback",
                                   "https://ivr-b.example.org/voice/fallback#x", "https://ivr-b.example.org:99999/"])
def test_a_fallback_url_twilio_could_not_call_stops_start_up(value):
    with pytest.raises(ConfigError, match="IVR_FALLBACK_URL"):
        load_settings({"IVR_FALLBACK_URL": value, "TWILIO_AUTH_TOKEN": "t"})


def test_the_deploy_guide_shows_what_the_command_prints(tmp_path):
    guide = (PROJECT / "docs" / "deploy.md").read_text()
    shown = guide.split("```xml\n", 1)[1].split("```", 1)[0]
    assert shown == fallback_twiml({"IVR_NURSE_NUMBER": NURSES, "IVR_INSTANCE_DIR": str(tmp_path)})
