"""The nurse line through a real gunicorn server with signed requests, TwiML parsed as XML,
and what was saved read back from the database with SQLAlchemy (each test on SQLite, and again
on PostgreSQL when scripts/postgres.sh started one)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ivr.store import CallbackRequest, Message

from .conftest import DATABASE_BACKENDS, LiveServer, fresh_database, start_server

SLUG = "cryotherapy-for-kidney-cancer"
NURSE = "+441632960001"
LINE = "+441632960000"
CALLER = "+447900123456"
MID_SECTION = f"/nurse?l={SLUG}&s=2&p=3&r=normal"


def server_config(tmp: Path, **overrides: str) -> dict[str, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    return {
        "IVR_INSTANCE_DIR": str(tmp), "TWILIO_AUTH_TOKEN": "nurse-test-token", "IVR_NURSE_NUMBER": NURSE,
        "IVR_NURSE_HOURS": "always", "IVR_SPEECH": "say", "IVR_CLOSED_DATES": "", "IVR_CLOCK": "",
        "IVR_DATABASE_URL": f"sqlite:///{tmp / 'ivr.sqlite3'}", "IVR_NURSE_CALLER_ID": "",
        "IVR_NURSE_RING_SECONDS": "25", "IVR_MESSAGE_MAX_SECONDS": "120", "IVR_HOLIDAYS_REGION": "ENG",
    } | overrides


_DATABASES: dict[str, str] = {}  # a server's URL -> its IVR_DATABASE_URL


def serve(config: dict[str, str], tmp: Path) -> Iterator[LiveServer]:
    server = start_server(config, tmp)
    _DATABASES[server.url] = config["IVR_DATABASE_URL"]
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def line(request, tmp_path_factory) -> Iterator[LiveServer]:
    """The nurses always open (the real clock does not matter)."""
    tmp = tmp_path_factory.mktemp("always")
    with fresh_database(request.param, tmp) as url:
        yield from serve(server_config(tmp, IVR_DATABASE_URL=url), tmp)


def call(sid: str, **extra: str) -> dict[str, str]:
    return {"CallSid": sid, "From": CALLER, "To": LINE, "AccountSid": "AC" + "0" * 32} | extra


def twiml(server: LiveServer, path: str, params: dict[str, str]) -> ET.Element:
    response = server.post(path, params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    return root


def said(element: ET.Element) -> list[str]:
    return [say.text or "" for say in element.iter("Say")]


def only(root: ET.Element, tag: str) -> ET.Element:
    found = root.findall(tag)
    assert len(found) == 1, ET.tostring(root, encoding="unicode")
    return found[0]


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def database_rows(server_tmp_db: str, model: type) -> list:
    engine = create_engine(server_tmp_db)
    with Session(engine) as session:
        found = list(session.scalars(select(model).order_by(model.id)))
    engine.dispose()
    return found


def db_url(server: LiveServer) -> str:
    return _DATABASES[server.url]


BUSY_OPTIONS = [
    "To leave a message for the nurses, press 1.", "To ask a nurse to call you back, press 2.",
    "To go back to the leaflet, press 3.", "To try the nurses again, press 0.",
]


# --- in hours: the transfer and the whisper ---


def test_zero_from_the_middle_of_a_section_dials_the_nurses(line):
    root = twiml(line, MID_SECTION, call("CA-mid"))
    assert said(root) == ["Putting you through to a nurse. Please hold."]
    dial = only(root, "Dial")
    assert dial.get("answerOnBridge") == "true" and dial.get("timeout") == "25"
    assert dial.get("callerId") == LINE  # the number the caller dialled, by default
    assert urlsplit(dial.get("action")).path == "/nurse/after-dial"
    assert query(dial.get("action"))["s"] == "2" and query(dial.get("action"))["p"] == "3"
    number = only(dial, "Number")
    assert number.text == NURSE and number.get("method") == "POST"
    # The nurse's leg: the whisper names the leaflet and section, then asks for 1.
    whisper = twiml(line, number.get("url"), {"CallSid": "CA-nurse-leg", "From": LINE, "To": NURSE})
    first, second = whisper.findall("Gather")
    assert said(first) == [
        "A caller from the information line. They were listening to Cryotherapy for kidney cancer, Who has it.",
        "Press 1 to accept the call.",
    ]
    assert first.get("numDigits") == "1" and said(second) == ["Press 1 to accept the call."]
    # No key at all (a voicemail answered): the whisper ends by hanging up the nurse's leg.
    assert [child.tag for child in whisper] == ["Gather", "Gather", "Hangup"]
    # 1 accepts: an empty document, so the whisper ends and Twilio bridges the call.
    accepted = twiml(line, first.get("action"), {"CallSid": "CA-nurse-leg", "Digits": "1"})
    assert list(accepted) == []
    declined = twiml(line, first.get("action"), {"CallSid": "CA-nurse-leg", "Digits": "9"})
    assert [child.tag for child in declined] == ["Hangup"]


@pytest.mark.parametrize(
    ("path", "whisper"),
    [
        ("/nurse", "A caller from the information line."),
        ("/nurse?r=slow", "A caller from the information line."),
        (f"/nurse?l={SLUG}", "A caller from the information line. They were listening to Cryotherapy for kidney cancer."),
        (f"/nurse?l={SLUG}&s=0&p=1",
         "A caller from the information line. They were listening to the introduction of Cryotherapy for kidney cancer."),
        ("/nurse?l=no-such-leaflet&s=2", "A caller from the information line."),  # tampered: not guessed
        (f"/nurse?l={SLUG}&s=99", "A caller from the information line. They were listening to Cryotherapy for kidney cancer."),
    ],
)
def test_zero_from_a_menu_whispers_what_is_known(line, path, whisper):
    root = twiml(line, path, call("CA-menu"))
    number = only(only(root, "Dial"), "Number")
    heard = twiml(line, number.get("url"), {"CallSid": "CA-leg"})
    assert said(heard)[0] == whisper


def test_answered_and_bridged_call_says_goodbye(line):
    root = twiml(line, f"/nurse/after-dial?l={SLUG}&s=2&p=3&r=normal",
                 call("CA-done", DialCallStatus="completed", DialBridged="true", DialCallDuration="300"))
    assert said(root) == ["Thank you for calling. Goodbye."]
    assert [child.tag for child in root] == ["Say", "Hangup"]


@pytest.mark.parametrize(
    "status",
    [
        {"DialCallStatus": "busy"},
        {"DialCallStatus": "no-answer"},
        {"DialCallStatus": "failed"},
        {"DialCallStatus": "canceled"},
        {"DialCallStatus": "completed", "DialBridged": "false"},  # the whisper hung up (voicemail, declined)
        {"DialCallStatus": "something-new"},
        {},
    ],
)
def test_every_other_dial_outcome_offers_message_and_call_back(line, status):
    root = twiml(line, f"/nurse/after-dial?l={SLUG}&s=2&p=3&r=normal", call("CA-busy", **status))
    assert said(root)[0] == "Sorry, the nurses are all busy at the moment."
    gather = only(root, "Gather")
    assert said(gather) == BUSY_OPTIONS
    assert gather.get("numDigits") == "1" and gather.get("timeout") == "5"
    assert urlsplit(gather.get("action")).path == "/nurse/choice"
    redirect = only(root, "Redirect")  # silence is never a dead end
    assert query(redirect.text)["n"] == "1"


def test_silence_reprompts_then_helps_then_says_goodbye(line):
    root = twiml(line, "/nurse/after-dial", call("CA-quiet", DialCallStatus="no-answer"))
    assert said(only(root, "Gather")) == [*BUSY_OPTIONS[:2], "To go back to the main menu, press 3.", BUSY_OPTIONS[3]]
    root = twiml(line, only(root, "Redirect").text, call("CA-quiet"))
    assert said(root)[0] == "Sorry, I did not hear a key." and only(root, "Gather") is not None
    root = twiml(line, only(root, "Redirect").text, call("CA-quiet"))
    assert said(root)[0] == "Please use the keys on your telephone keypad to choose."
    root = twiml(line, only(root, "Redirect").text, call("CA-quiet"))
    assert said(root) == ["Thank you for calling. Goodbye."] and root[-1].tag == "Hangup"


def test_wrong_key_says_so_and_repeats_the_options(line):
    busy = twiml(line, f"/nurse/after-dial?l={SLUG}&s=2&p=3&r=normal", call("CA-wrong", DialCallStatus="busy"))
    root = twiml(line, only(busy, "Gather").get("action"), call("CA-wrong", Digits="7"))
    assert said(root)[0] == "Sorry, that key is not an option."
    assert said(only(root, "Gather")) == BUSY_OPTIONS


def test_hash_repeats_the_choices(line):
    busy = twiml(line, f"/nurse/after-dial?l={SLUG}&s=2&p=3&r=normal", call("CA-hash", DialCallStatus="busy"))
    root = twiml(line, only(busy, "Gather").get("action"), call("CA-hash", Digits="#"))
    assert said(root) == BUSY_OPTIONS


def test_a_line_that_keeps_failing_ends_the_call_kindly(line):
    root = twiml(line, "/nurse?faults=3", call("CA-faults"))
    assert said(root) == ["Thank you for calling. Goodbye."] and root[-1].tag == "Hangup"


@pytest.mark.parametrize(
    ("start", "key", "target"),
    [
        (f"/nurse/after-dial?l={SLUG}&s=2&p=3&r=slow", "3", f"/voice/read?l={SLUG}&s=2&p=3&r=slow"),
        (f"/nurse/after-dial?l={SLUG}&s=2&p=3&r=normal", "*", f"/voice/read?l={SLUG}&s=2&p=3&r=normal"),
        ("/nurse/after-dial", "3", "/voice/menu?r=normal"),
        (f"/nurse/after-dial?l={SLUG}&s=2&p=3&r=normal", "0", f"/nurse?l={SLUG}&s=2&p=3&r=normal"),
    ],
)
def test_back_to_the_leaflet_or_try_again(line, start, key, target):
    busy = twiml(line, start, call("CA-back", DialCallStatus="busy"))
    root = twiml(line, only(busy, "Gather").get("action"), call("CA-back", Digits=key))
    assert only(root, "Redirect").text == target
    if target.startswith("/nurse"):  # 0: the nurses are tried again, from the same place
        assert only(twiml(line, target, call("CA-back")), "Dial") is not None


# --- messages ---


def choose(server: LiveServer, sid: str, key: str, start: str = f"/nurse/after-dial?l={SLUG}&s=2&p=3&r=normal",
           **extra: str) -> ET.Element:
    busy = twiml(server, start, call(sid, DialCallStatus="busy", **extra))
    return twiml(server, only(busy, "Gather").get("action"), call(sid, Digits=key, **extra))


def recording(sid: str, rec: str, seconds: str = "14") -> dict[str, str]:
    url = f"https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/{rec}"
    return call(sid, RecordingSid=rec, RecordingUrl=url, RecordingDuration=seconds, Digits="#")


def test_message_is_recorded_saved_and_not_duplicated(line):
    root = choose(line, "CA-msg", "1")
    assert said(root)[0].startswith("After the tone, please say your name")
    record = only(root, "Record")
    assert record.get("playBeep") == "true" and record.get("finishOnKey") == "#"
    assert record.get("maxLength") == "120" and record.get("recordingStatusCallbackMethod") == "POST"
    assert said(root)[-1] == "Sorry, we did not hear a message."  # where Twilio goes if nothing was recorded
    saved = twiml(line, record.get("action"), recording("CA-msg", "RE-msg-1"))
    assert said(saved)[0] == "Thank you. Your message is saved, and a nurse will listen to it."
    assert said(only(saved, "Gather")) == ["To go back to the leaflet, press 3. Or you can hang up now."]
    (row,) = [r for r in database_rows(db_url(line), Message) if r.recording_sid == "RE-msg-1"]
    assert (row.call_sid, row.leaflet, row.section, row.reason, row.duration_seconds) == ("CA-msg", SLUG, 2, "busy", 14)
    assert row.caller_masked == "+44 7*** ***456"
    # Twilio retries the action, then reports the finished recording: still one row, now complete.
    twiml(line, record.get("action"), recording("CA-msg", "RE-msg-1"))
    status = line.post(record.get("recordingStatusCallback"),
                       recording("CA-msg", "RE-msg-1") | {"RecordingStatus": "completed"})
    assert status.status_code == 200 and ET.fromstring(status.text).tag == "Response"
    (row,) = [r for r in database_rows(db_url(line), Message) if r.call_sid == "CA-msg"]
    assert row.recording_status == "completed" and row.recording_url.endswith("/RE-msg-1")


def test_empty_recording_is_not_saved(line):
    record = only(choose(line, "CA-empty", "1"), "Record")
    root = twiml(line, record.get("action"), recording("CA-empty", "RE-empty", seconds="0"))
    assert said(root)[0] == "Sorry, we did not hear a message."
    assert said(only(root, "Gather"))[0] == BUSY_OPTIONS[0]
    assert not [r for r in database_rows(db_url(line), Message) if r.call_sid == "CA-empty"]


def test_after_saving_3_goes_back_and_silence_says_goodbye(line):
    record = only(choose(line, "CA-after", "1"), "Record")
    saved = twiml(line, record.get("action"), recording("CA-after", "RE-after"))
    back = twiml(line, only(saved, "Gather").get("action"), call("CA-after", Digits="3"))
    assert only(back, "Redirect").text == f"/voice/read?l={SLUG}&s=2&p=3&r=normal"
    quiet = twiml(line, only(saved, "Redirect").text, call("CA-after"))
    assert said(quiet) == ["Thank you for calling. Goodbye."] and quiet[-1].tag == "Hangup"


# --- call-backs ---


def test_call_back_on_this_number_reads_back_three_digits_and_saves_once(line):
    root = choose(line, "CA-cb", "2")
    gather = only(root, "Gather")
    assert said(gather) == ["We can call you back on the number ending in", "4", "5", "6",
                            "To use this number, press 1. Or key in a different number, followed by the hash key."]
    assert gather.get("finishOnKey") == "#" and gather.get("numDigits") is None
    for _ in range(2):  # the second is Twilio retrying the same webhook
        saved = twiml(line, gather.get("action"), call("CA-cb", Digits="1"))
        assert said(saved)[:4] == ["Thank you. A nurse will call you back on the number ending in", "4", "5", "6"]
    found = [r for r in database_rows(db_url(line), CallbackRequest) if r.call_sid == "CA-cb"]
    assert len(found) == 1
    assert (found[0].number, found[0].number_source, found[0].leaflet, found[0].section) == (CALLER, "caller", SLUG, 2)
    assert found[0].done_at is None and found[0].reason == "busy"


def test_call_back_on_a_keyed_number(line):
    gather = only(choose(line, "CA-keyed", "2"), "Gather")
    saved = twiml(line, gather.get("action"), call("CA-keyed", Digits="02079460123"))
    assert said(saved)[1:4] == ["1", "2", "3"]
    (row,) = [r for r in database_rows(db_url(line), CallbackRequest) if r.call_sid == "CA-keyed"]
    assert (row.number, row.number_source) == ("+442079460123", "keyed")


@pytest.mark.parametrize("keyed", ["12345", "07700900123", "09098790000", "0", "11"])
def test_invalid_number_gets_a_clear_reprompt(line, keyed):
    gather = only(choose(line, f"CA-bad-{keyed}", "2"), "Gather")
    root = twiml(line, gather.get("action"), call(f"CA-bad-{keyed}", Digits=keyed))
    assert said(root)[0] == "Sorry, that is not a UK phone number we can call."
    assert only(root, "Gather").get("finishOnKey") == "#"
    assert not [r for r in database_rows(db_url(line), CallbackRequest) if r.call_sid == f"CA-bad-{keyed}"]


def test_withheld_number_is_asked_for(line):
    gather = only(choose(line, "CA-withheld", "2", From="anonymous"), "Gather")
    assert said(gather) == ["Please key in the phone number for us to call, starting with 0, followed by the hash key."]
    root = twiml(line, gather.get("action"), call("CA-withheld", From="anonymous", Digits="1"))
    assert said(root)[0] == "Sorry, that is not a UK phone number we can call."
    saved = twiml(line, gather.get("action"), call("CA-withheld", From="anonymous", Digits="07900123999"))
    assert said(saved)[1:4] == ["9", "9", "9"]


def test_forged_signature_is_refused(line):
    response = line.post("/nurse/callback/number", call("CA-forged", Digits="1"), signature="forged")
    assert response.status_code == 403
    assert not [r for r in database_rows(db_url(line), CallbackRequest) if r.call_sid == "CA-forged"]


def test_logs_never_hold_a_full_number(line):
    gather = only(choose(line, "CA-log", "2"), "Gather")
    twiml(line, gather.get("action"), call("CA-log", Digits="1"))
    twiml(line, gather.get("action"), call("CA-log", Digits="02079460123"))
    record = only(choose(line, "CA-log-msg", "1"), "Record")
    twiml(line, record.get("action"), recording("CA-log-msg", "RE-log"))
    log = line.log()
    assert "+44 7*** ***456" in log  # call-backs and messages are logged, masked
    for full in (CALLER, CALLER[1:], "07900123456", "7900123456", "+442079460123", "2079460123"):
        assert full not in log
