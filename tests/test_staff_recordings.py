"""Message recordings played through the staff pages: a simulated call leaves a message, and the
signed-in queue plays it, fetched by the real server from a fake Twilio (a real HTTP server on
127.0.0.1 that checks the account's credentials and serves a real WAV). Also the checks that
keep any other address from being fetched, and TWILIO_API_BASE_URL's validation."""

from __future__ import annotations

import io
import re
import sqlite3

import httpx
import pytest
import soundfile

from ivr.config import load_settings
from ivr.errors import ConfigError
from ivr.simulator import simulate_call
from ivr.staff.recordings import recording_problem
from tests.conftest import free_port
from tests.fake_twilio import ACCOUNT_SID, fake_twilio
from tests.staff_client import StaffSession

FIXTURES = (fake_twilio,)  # pytest finds fixtures by their names in this module
TO_MESSAGE = ["1", None, "6", "0", "2"]  # the first section, two parts, 0, nurses busy: 2 = leave a message
RE = "RE" + "ab" * 16


# --- TWILIO_API_BASE_URL at start-up ---


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", "https://api.twilio.com"),
        ("https://api.twilio.com/", "https://api.twilio.com"),
        ("https://API.Dublin.ie1.twilio.com", "https://api.dublin.ie1.twilio.com"),
        ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
        ("http://localhost", "http://localhost"),
    ],
)
def test_api_base_url_accepted(value, expected, instance_dir):
    settings = load_settings({"TWILIO_API_BASE_URL": value, "IVR_INSTANCE_DIR": instance_dir,
                              "TWILIO_AUTH_TOKEN": "t"})
    assert settings.twilio_api_base_url == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("http://api.twilio.com", "Expected https:// in TWILIO_API_BASE_URL (the account's credentials are sent "
                                  "there), got 'http://api.twilio.com'. Hint: http:// is allowed only for a test "
                                  "server on this machine (127.0.0.1 or localhost)."),
        ("http://10.0.0.5:8080", "got 'http://10.0.0.5:8080'. Hint: http:// is allowed only"),
        ("api.twilio.com", "Expected an address like https://api.twilio.com in TWILIO_API_BASE_URL, got "
                           "'api.twilio.com'. Hint: Leave it unset for Twilio (https://api.twilio.com), or give "
                           "an https:// address with no path."),
        ("ftp://api.twilio.com", "got 'ftp://api.twilio.com'"),
        ("https://api.twilio.com/2010-04-01", "got 'https://api.twilio.com/2010-04-01'"),
        ("https://AC1:secret@api.twilio.com", "got 'https://AC1:secret@api.twilio.com'"),
        ("https://api.twilio.com?x=1", "got 'https://api.twilio.com?x=1'"),
        ("https://api.twilio.com:http", "got 'https://api.twilio.com:http'"),
    ],
)
def test_api_base_url_refused_with_value_and_hint(value, message, instance_dir):
    with pytest.raises(ConfigError) as raised:
        load_settings({"TWILIO_API_BASE_URL": value, "IVR_INSTANCE_DIR": instance_dir, "TWILIO_AUTH_TOKEN": "t"})
    assert message in str(raised.value)


# --- Which addresses are fetched at all ---


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE}", None),
        (f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE}.wav", None),
        (f"https://api.twilio.com:443/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE}", None),
        (f"HTTPS://API.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE}", None),
        (None, "not sent this recording's address yet"),
        ("", "not sent this recording's address yet"),
        (f"http://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE}", "not stored at Twilio"),
        (f"https://api.twilio.com:8443/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE}", "not stored at Twilio"),
        (f"https://api.twilio.com.evil.example/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE}",
         "not stored at Twilio"),
        (f"https://evil.example/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE}", "not stored at Twilio"),
        (f"https://api.edge.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE}", "not stored at Twilio"),
        (f"https://x@api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE}", "not stored at Twilio"),
        (f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE}?x=1", "not stored at Twilio"),
        (f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE}.mp3", "not stored at Twilio"),
        (f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/RE123", "not stored at Twilio"),
        (f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/../Calls", "not stored at Twilio"),
        (f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Calls/{RE}", "not stored at Twilio"),
        (f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Recordings/{RE}", "another Twilio account"),
        ("https://api.twilio.com:x/", "not stored at Twilio"),
    ],
)
def test_only_this_accounts_recordings_at_the_api_base_are_fetched(url, problem, instance_dir):
    settings = load_settings({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": "t",
                              "IVR_INSTANCE_DIR": instance_dir})
    found = recording_problem(settings, url)
    assert (found is None) if problem is None else (found is not None and problem in found), found


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"TWILIO_AUTH_TOKEN": "t"}, "once TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set"),
        ({"TWILIO_ACCOUNT_SID": ACCOUNT_SID}, "once TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set"),
        ({"TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": "t", "TWILIO_API_BASE_URL": "http://127.0.0.1:9"},
         "not stored at Twilio"),
    ],
)
def test_recordings_need_the_account_and_the_configured_base(overrides, problem, instance_dir, monkeypatch):
    monkeypatch.delenv("TWILIO_AUTH_TOKEN", raising=False)
    monkeypatch.delenv("TWILIO_ACCOUNT_SID", raising=False)
    settings = load_settings({"IVR_INSTANCE_DIR": instance_dir, **overrides})
    url = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{RE}"
    assert problem in (recording_problem(settings, url) or "")


# --- Through the real server, from the fake Twilio ---


@pytest.fixture
def line(app_config, fake_twilio, request):
    """The staff server (user alice) with this account's SID and the fake Twilio as its API."""
    app_config.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_BASE_URL=fake_twilio.url)
    return request.getfixturevalue("staff_server")


@pytest.fixture
def staff(line):
    session = StaffSession(line)
    session.login()
    yield session
    session.close()


def leave_message(server, api_base_url: str, account_sid: str = ACCOUNT_SID) -> None:
    transcript = simulate_call(server.url + "/voice", token=server.token, keys=TO_MESSAGE, nurse="busy",
                               account_sid=account_sid, api_base_url=api_base_url)
    assert not transcript.failed, transcript
    assert any(event.kind == "message" for event in transcript.events), transcript


def only_message(staff: StaffSession) -> tuple[int, str]:
    """The id of the one open message, and the queue page."""
    queue = staff.get("/staff/queue").text
    (row_id,) = re.findall(r'action="/staff/messages/(\d+)/done"', queue)
    return int(row_id), queue


def recording_sid(instance_dir, row_id: int) -> str:
    with sqlite3.connect(instance_dir / "ivr.sqlite3") as db:
        (sid,) = db.execute("SELECT recording_sid FROM messages WHERE id = ?", (row_id,)).fetchone()
    return sid


@pytest.mark.slow
def test_a_message_plays_through_the_app_from_twilio(staff, line, fake_twilio, instance_dir):
    leave_message(line, fake_twilio.url)
    row_id, queue = only_message(staff)
    sid = recording_sid(instance_dir, row_id)
    audio_src = f"/staff/messages/{row_id}/audio"
    assert f'<audio controls preload="none" src="{audio_src}"' in queue
    assert "Recording not available" not in queue
    # Never a link to the recording itself: neither Twilio's address nor the recording's SID.
    assert fake_twilio.url not in queue and "/Recordings/" not in queue and sid not in queue
    assert fake_twilio.requests == []  # listing the queue fetches nothing

    played = staff.get(audio_src)
    assert played.status_code == 200, played.text
    assert played.headers["content-type"] == "audio/wav"
    assert "no-store" in played.headers["cache-control"]
    assert played.content == fake_twilio.wav
    data, rate = soundfile.read(io.BytesIO(played.content))
    assert (rate, data.ndim) == (8000, 1) and len(data) / rate == pytest.approx(8.0)
    assert fake_twilio.requests == [(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}.wav", True)]

    part = staff.http.get(audio_src, headers={"Range": "bytes=0-99"})  # how a player seeks
    assert part.status_code == 206 and part.content == fake_twilio.wav[:100]
    assert part.headers["content-range"] == f"bytes 0-99/{len(fake_twilio.wav)}"


@pytest.mark.slow
def test_recordings_are_refused_when_signed_out(line, fake_twilio):
    leave_message(line, fake_twilio.url)
    signed_out = httpx.get(line.url + "/staff/messages/1/audio", timeout=20)
    assert signed_out.status_code == 401 and signed_out.content != fake_twilio.wav
    forged = httpx.get(line.url + "/staff/messages/1/audio", cookies={"session": "forged"}, timeout=20)
    assert forged.status_code == 401
    assert fake_twilio.requests == []  # nothing is fetched for someone who is not signed in


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fault", "status", "reason"),
    [
        ("deleted at Twilio", 404, "Twilio has no such recording (it may have been deleted)."),
        ("auth token rotated", 502, "Twilio refused the line's credentials"),
        ("Twilio answers a web page", 502, "Twilio's answer was not a WAV recording."),
    ],
)
def test_twilio_failures_give_a_clear_answer(fault, status, reason, staff, line, fake_twilio, instance_dir):
    leave_message(line, fake_twilio.url)
    row_id, _ = only_message(staff)
    if fault == "deleted at Twilio":
        fake_twilio.gone.add(recording_sid(instance_dir, row_id))
    elif fault == "auth token rotated":
        fake_twilio.token = "a-new-token"
    else:
        fake_twilio.body = (b"<html><script>alert(1)</script></html>", "text/html")
    answer = staff.get(f"/staff/messages/{row_id}/audio")
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/plain")
    assert answer.text.startswith("Recording not available. ") and reason in answer.text
    assert "<script>" not in answer.text
    assert len(fake_twilio.requests) == 1
    assert "could not fetch recording of message" in line.log()


@pytest.mark.slow
def test_twilio_unreachable(app_config, request, tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    app_config.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_BASE_URL=closed)
    server = request.getfixturevalue("staff_server")
    leave_message(server, closed)
    session = StaffSession(server)
    session.login()
    row_id, queue = only_message(session)
    assert "<audio" in queue
    answer = session.get(f"/staff/messages/{row_id}/audio")
    assert answer.status_code == 502 and "Twilio could not be reached. Try again later." in answer.text
    session.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("whose", "reason"),
    [("simulator default", "another Twilio account"), ("other base", "not stored at Twilio")],
)
def test_other_recordings_are_listed_but_never_fetched(whose, reason, staff, line, fake_twilio):
    if whose == "simulator default":
        leave_message(line, fake_twilio.url, account_sid="AC" + "0" * 32)
    else:
        leave_message(line, "https://api.twilio.com")
    row_id, queue = only_message(staff)
    assert "Recording not available" in queue and reason in queue and "<audio" not in queue
    answer = staff.get(f"/staff/messages/{row_id}/audio")
    assert answer.status_code == 404 and reason in answer.text
    assert fake_twilio.requests == []
