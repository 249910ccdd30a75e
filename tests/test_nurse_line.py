"""The nurse line through a real gunicorn server with signed requests, TwiML parsed as XML (what is
said asserted by prompt id), and what was saved read back from the database with SQLAlchemy (each
test on SQLite, and again on PostgreSQL when scripts/postgres.sh started one)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ivr.content.catalogue import load_catalogue
from ivr.prompts import load_prompts
from ivr.simulator.speech_index import SpeechIndex
from ivr.speech.sources import leaflet_utterances
from ivr.store import CallbackRequest, Message

from .conftest import DATABASE_BACKENDS, PROJECT, LiveServer, fresh_database, start_server

SLUG = "cryotherapy-for-kidney-cancer"
LEAFLETS = PROJECT / "tests" / "fixtures" / "leaflets-one"
NURSE = "+441632960001"
LINE = "+441632960000"
CALLER = "+447900123456"
MID_SECTION = f"/voice/key?k=read&l={SLUG}&s=2&p=3"
OPEN = "2026-12-07T10:00:00+00:00"  # a Monday morning
INDEX = SpeechIndex.build(leaflet_utterances(load_catalogue(LEAFLETS)), None, load_prompts("en-GB"))


def server_config(tmp: Path, **overrides: str) -> dict[str, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    return {
        "IVR_INSTANCE_DIR": str(tmp), "TWILIO_AUTH_TOKEN": "nurse-test-token", "IVR_NURSE_NUMBER": NURSE,
        "IVR_NURSE_HOURS": "Mon-Fri 09:00-17:00", "IVR_CLOCK": OPEN, "IVR_SPEECH": "say", "IVR_CLOSED_DATES": "",
        "IVR_DATABASE_URL": f"sqlite:///{tmp / 'ivr.sqlite3'}", "IVR_NURSE_CALLER_ID": "",
        "IVR_NURSE_RING_SECONDS": "25", "IVR_MESSAGE_MAX_SECONDS": "120", "IVR_HOLIDAYS_REGION": "ENG",
        "IVR_LEAFLETS_DIR": str(LEAFLETS), "IVR_SPEECH_INPUT": "off", "IVR_CALLBACK_FROM": "",
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
    """The nurses open (the clock is a Monday morning)."""
    tmp = tmp_path_factory.mktemp("open")
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


def ids(element: ET.Element) -> list[str]:
    """The prompt id (or leaflet part) of everything said, in order; "pause" for a <Pause>."""
    found = []
    for node in element.iter():
        if node.tag == "Say":
            found.append(INDEX.say_id("".join(node.itertext())) or f"?{''.join(node.itertext())}")
        elif node.tag == "Pause":
            found.append("pause")
    return found


def digits(element: ET.Element) -> str:
    return "".join(i.rsplit(".", 1)[1] for i in ids(element) if i.startswith("nurse.digits."))


def only(root: ET.Element, tag: str) -> ET.Element:
    found = root.findall(tag)
    assert len(found) == 1, ET.tostring(root, encoding="unicode")
    return found[0]


def query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}


def database_rows(url: str, model: type) -> list:
    engine = create_engine(url)
    with Session(engine) as session:
        found = list(session.scalars(select(model).order_by(model.id)))
    engine.dispose()
    return found


def db_url(server: LiveServer) -> str:
    return _DATABASES[server.url]


def rec(n: int) -> str:
    return f"RE{n:032x}"


# --- in hours: the transfer and the whisper ------------------------------------------------------


def test_zero_from_the_middle_of_a_section_dials_the_nurses_showing_the_callers_number(line):
    root = twiml(line, MID_SECTION, call("CA-mid", Digits="0"))
    assert ids(root) == ["nurse.connecting"]
    dial = only(root, "Dial")
    assert dial.get("answerOnBridge") == "true" and dial.get("timeout") == "25"
    assert dial.get("callerId") == CALLER  # the nurse can ring a dropped caller back
    assert urlsplit(dial.get("action")).path == "/voice/dial"
    assert query(dial.get("action"))["s"] == "2" and query(dial.get("action"))["p"] == "3"
    number = only(dial, "Number")
    assert number.text == NURSE and number.get("method") == "POST"
    # The nurse's leg: who is calling and from where, then "press 1"; silence asks once more.
    whisper = twiml(line, number.get("url"), {"CallSid": "CA-nurse-leg", "From": CALLER, "To": NURSE})
    assert ids(whisper) == ["nurse.whisper.position", "nurse.whisper.accept"]
    assert "Who has it" in whisper.find("Gather/Say").text
    gather = only(whisper, "Gather")
    accepted = twiml(line, gather.get("action"), {"CallSid": "CA-nurse-leg", "Digits": "1"})
    assert list(accepted) == []  # an empty document: the whisper ends and Twilio bridges the call
    again = twiml(line, only(whisper, "Redirect").text, {"CallSid": "CA-nurse-leg"})
    assert ids(again) == ["nurse.whisper.accept"]
    declined = twiml(line, only(again, "Redirect").text, {"CallSid": "CA-nurse-leg"})
    assert [child.tag for child in declined] == ["Hangup"]  # a voicemail never swallows the caller


def test_a_withheld_caller_is_shown_as_the_number_they_dialled(line):
    root = twiml(line, MID_SECTION, call("CA-anon", Digits="0", From="anonymous"))
    assert only(root, "Dial").get("callerId") == LINE


@pytest.mark.parametrize(
    ("path", "whisper"),
    [
        ("/nurse", "nurse.whisper.leaflet"),  # the fault path: from the main menu (the leaflet's menu here)
        (f"/voice/at?k=nurse&l={SLUG}&o=sections", "nurse.whisper.leaflet"),
        (f"/voice/at?k=nurse&l={SLUG}&s=0&p=1&o=read", "nurse.whisper.intro"),
        ("/voice/at?k=nurse&l=no-such-leaflet&s=2&o=read", "nurse.whisper.leaflet"),  # tampered: the main menu
        (f"/voice/at?k=nurse&l={SLUG}&s=99&o=read", "nurse.whisper.leaflet"),
    ],
)
def test_the_whisper_says_what_is_known(line, path, whisper):
    root = twiml(line, path, call("CA-menu"))
    number = only(only(root, "Dial"), "Number")
    assert ids(twiml(line, number.get("url"), {"CallSid": "CA-leg"}))[0] == whisper


def test_answered_and_bridged_call_ends_with_the_emergency_sentence_and_goodbye(line):
    root = twiml(line, f"/voice/dial?k=nurse&l={SLUG}&s=2&p=3&o=read&t=1",
                 call("CA-done", DialCallStatus="completed", DialBridged="true", DialCallDuration="300"))
    assert ids(root) == ["safety.before_goodbye", "call.goodbye"]
    assert [child.tag for child in root] == ["Say", "Say", "Hangup"]


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ({"DialCallStatus": "busy"}, "nurse.busy"),
        ({"DialCallStatus": "no-answer"}, "nurse.no_answer"),
        ({"DialCallStatus": "failed"}, "nurse.busy"),
        ({"DialCallStatus": "canceled"}, "nurse.busy"),
        ({"DialCallStatus": "completed", "DialBridged": "false"}, "nurse.busy"),  # the whisper declined
        ({"DialCallStatus": "something-new"}, "nurse.busy"),
        ({}, "nurse.busy"),
    ],
)
def test_every_other_dial_outcome_says_what_next_and_offers_a_call_back_first(line, status, said):
    root = twiml(line, f"/voice/dial?k=nurse&l={SLUG}&s=2&p=3&o=read&t=1", call("CA-busy", **status))
    before = [child for child in root if child.tag == "Say"]
    assert [INDEX.say_id(s.text) for s in before] == [said, "safety.emergency", "nurse.next_steps"]
    gather = only(root, "Gather")
    assert ids(gather) == ["nurse.options.callback", "nurse.options.message", "nurse.options.again",
                           "nurse.options.back_leaflet"]
    assert gather.get("numDigits") == "1" and gather.get("timeout") == "8"
    assert urlsplit(gather.get("action")).path == "/voice/key"
    assert query(only(root, "Redirect").text)["k"] == "nurse-options"  # silence is never a dead end


def busy(server: LiveServer, sid: str, **extra: str) -> ET.Element:
    return twiml(server, f"/voice/dial?k=nurse&l={SLUG}&s=2&p=3&o=read&t=1",
                 call(sid, DialCallStatus="busy", **extra))


def choose(server: LiveServer, sid: str, key: str, **extra: str) -> ET.Element:
    return twiml(server, only(busy(server, sid, **extra), "Gather").get("action"), call(sid, Digits=key, **extra))


def test_silence_reprompts_then_helps_then_takes_a_message(line):
    root = busy(line, "CA-quiet")
    root = twiml(line, only(root, "Redirect").text, call("CA-quiet"))
    assert ids(root)[0] == "errors.no_input" and only(root, "Gather") is not None
    root = twiml(line, only(root, "Redirect").text, call("CA-quiet"))
    assert ids(root)[0] == "errors.key_help"
    root = twiml(line, only(root, "Redirect").text, call("CA-quiet"))
    assert ids(root) == ["errors.take_message", "nurse.message.instructions"]
    assert only(root, "Record") is not None  # the recording starts without a key


def test_wrong_key_says_so_and_repeats_the_options(line):
    root = choose(line, "CA-wrong", "7")
    assert ids(root)[0] == "errors.wrong_key"
    assert ids(only(root, "Gather"))[:2] == ["nurse.options.callback", "nurse.options.message"]


def test_hash_repeats_the_choices(line):
    assert ids(choose(line, "CA-hash", "#"))[:2] == ["nurse.options.callback", "nurse.options.message"]


@pytest.mark.parametrize(("key", "kind"), [("*", "read"), ("0", "nurse")])
def test_back_to_the_leaflet_or_try_again(line, key, kind):
    root = choose(line, "CA-back", key)
    if kind == "read":  # back where the caller was: reading section 2 from part 3
        assert query(only(root, "Gather").get("action")) == {"k": "read", "l": SLUG, "s": "2", "p": "3"}
    else:  # the nurses tried again, a second time, from the same place
        dial = only(root, "Dial")
        assert query(dial.get("action"))["t"] == "2" and query(dial.get("action"))["s"] == "2"


def test_after_two_tries_zero_says_they_are_still_busy(line):
    root = twiml(line, f"/voice/dial?k=nurse&l={SLUG}&s=2&p=3&o=read&t=2", call("CA-twice", DialCallStatus="busy"))
    assert "nurse.options.again" not in ids(root)
    again = twiml(line, only(root, "Gather").get("action"), call("CA-twice", Digits="0"))
    assert not again.findall("Dial") and ids(again)[0] == "nurse.busy"


# --- messages ---------------------------------------------------------------------------------


def recording(sid: str, recording_sid: str, seconds: str = "14") -> dict[str, str]:
    url = f"https://api.twilio.com/2010-04-01/Accounts/AC{'0' * 32}/Recordings/{recording_sid}"
    return call(sid, RecordingSid=recording_sid, RecordingUrl=url, RecordingDuration=seconds, Digits="#")


def test_message_is_recorded_saved_promised_and_not_duplicated(line):
    root = choose(line, "CA-msg", "2")
    assert ids(root)[0] == "nurse.message.instructions"
    record = only(root, "Record")
    assert record.get("playBeep") == "true" and record.get("finishOnKey") == "#"
    assert record.get("maxLength") == "120" and record.get("recordingStatusCallbackMethod") == "POST"
    saved = twiml(line, record.get("action"), recording("CA-msg", rec(1)))
    said = [INDEX.say_id(s.text) for s in saved if s.tag == "Say"]
    assert said == ["nurse.message.saved", "nurse.promise.message_today", "safety.feel_worse"]
    assert "usually by 12 pm" in saved[1].text or "usually by midday" in saved[1].text
    assert ids(only(saved, "Gather")) == ["nurse.after_saved"]
    (row,) = [r for r in database_rows(db_url(line), Message) if r.recording_sid == rec(1)]
    assert (row.call_sid, row.leaflet, row.section, row.reason, row.duration_seconds) == ("CA-msg", SLUG, 2, "busy", 14)
    assert row.caller_masked == "+44 7*** ***456" and row.caller_number == CALLER  # the nurses can ring back
    assert row.due_at is not None and row.due_at.hour == 12
    # Twilio retries the action, then reports the finished recording: still one row, now complete.
    twiml(line, record.get("action"), recording("CA-msg", rec(1)))
    status = line.post(record.get("recordingStatusCallback"), recording("CA-msg", rec(1)) | {"RecordingStatus": "completed"})
    assert status.status_code == 200 and ET.fromstring(status.text).tag == "Response"
    (row,) = [r for r in database_rows(db_url(line), Message) if r.call_sid == "CA-msg"]
    assert row.recording_status == "completed" and row.recording_url.endswith(rec(1))


def test_nothing_recorded_is_not_saved_and_goes_back_to_the_options(line):
    record = only(choose(line, "CA-empty", "2"), "Record")
    root = twiml(line, record.get("action"), recording("CA-empty", rec(2), seconds="0"))
    assert ids(root)[0] == "nurse.message.nothing_heard"
    assert ids(only(root, "Gather"))[0] == "nurse.options.callback"
    assert not [r for r in database_rows(db_url(line), Message) if r.call_sid == "CA-empty"]
    fell_through = twiml(line, only(choose(line, "CA-empty2", "2"), "Redirect").text, call("CA-empty2"))
    assert ids(fell_through)[0] == "nurse.message.nothing_heard"  # Twilio's <Record> heard nothing at all


def test_after_saving_star_goes_back_and_silence_ends_with_the_emergency_sentence(line):
    record = only(choose(line, "CA-after", "2"), "Record")
    saved = twiml(line, record.get("action"), recording("CA-after", rec(3)))
    back = twiml(line, only(saved, "Gather").get("action"), call("CA-after", Digits="*"))
    assert query(only(back, "Gather").get("action")) == {"k": "read", "l": SLUG, "s": "2", "p": "3"}
    quiet = twiml(line, only(saved, "Redirect").text, call("CA-after"))
    assert ids(quiet) == ["safety.before_goodbye", "call.goodbye"] and quiet[-1].tag == "Hangup"


# --- call-backs -------------------------------------------------------------------------------


def test_call_back_on_this_number_reads_it_in_full_and_saves_once(line):
    root = choose(line, "CA-cb", "1")
    gather = only(root, "Gather")
    assert ids(gather)[0] == "nurse.callback.this_number" and ids(gather)[-1] == "nurse.callback.confirm"
    assert digits(gather) == "07900123456" and ids(gather).count("pause") == 2  # 07900, 123, 456
    assert gather.get("numDigits") == "1"  # 1 acts at once
    for _ in range(2):  # the second is Twilio retrying the same webhook
        saved = twiml(line, gather.get("action"), call("CA-cb", Digits="1"))
        assert ids(saved)[0] == "nurse.callback.saved" and digits(saved) == "07900123456"
        assert "nurse.promise.callback_today" in ids(saved) and "safety.feel_worse" in ids(saved)
    found = [r for r in database_rows(db_url(line), CallbackRequest) if r.call_sid == "CA-cb"]
    assert len(found) == 1
    assert (found[0].number, found[0].number_source, found[0].leaflet, found[0].section) == (CALLER, "caller", SLUG, 2)
    assert found[0].done_at is None and found[0].reason == "busy" and found[0].due_at is not None


def test_call_back_on_a_keyed_number_is_read_back_then_kept(line):
    gather = only(choose(line, "CA-keyed", "1"), "Gather")
    keyin = twiml(line, gather.get("action"), call("CA-keyed", Digits="2"))
    entry = only(keyin, "Gather")
    assert entry.get("finishOnKey") == "#" and entry.get("numDigits") is None
    confirm = twiml(line, entry.get("action"), call("CA-keyed", Digits="02079460123"))
    assert ids(confirm)[0] == "nurse.callback.you_keyed" and digits(confirm) == "02079460123"
    saved = twiml(line, only(confirm, "Gather").get("action"), call("CA-keyed", Digits="1"))
    assert digits(saved) == "02079460123"
    (row,) = [r for r in database_rows(db_url(line), CallbackRequest) if r.call_sid == "CA-keyed"]
    assert (row.number, row.number_source) == ("+442079460123", "keyed")


@pytest.mark.parametrize("keyed", ["12345", "07700900123", "09098790000", "0", "11"])
def test_invalid_number_gets_a_clear_reprompt(line, keyed):
    entry = only(twiml(line, only(choose(line, f"CA-bad-{keyed}", "1"), "Gather").get("action"),
                       call(f"CA-bad-{keyed}", Digits="2")), "Gather")
    root = twiml(line, entry.get("action"), call(f"CA-bad-{keyed}", Digits=keyed))
    assert ids(root)[0] == "nurse.callback.invalid"
    assert only(root, "Gather").get("finishOnKey") == "#"
    assert not [r for r in database_rows(db_url(line), CallbackRequest) if r.call_sid == f"CA-bad-{keyed}"]


def test_withheld_number_is_asked_for_and_star_goes_back(line):
    root = choose(line, "CA-withheld", "1", From="anonymous")
    assert ids(root) == ["nurse.callback.key_in"]
    entry = only(root, "Gather")
    back = twiml(line, entry.get("action"), call("CA-withheld", From="anonymous", Digits="07*"))
    assert ids(back)[0] == "nurse.options.callback"


def test_forged_signature_is_refused(line):
    response = line.post(f"/voice/key?k=nurse-callback&l={SLUG}&o=sections", call("CA-forged", Digits="1"),
                         signature="forged")
    assert response.status_code == 403
    assert not [r for r in database_rows(db_url(line), CallbackRequest) if r.call_sid == "CA-forged"]


def test_logs_never_hold_a_full_number(line):
    gather = only(choose(line, "CA-log", "1"), "Gather")
    twiml(line, gather.get("action"), call("CA-log", Digits="1"))
    record = only(choose(line, "CA-log-msg", "2"), "Record")
    twiml(line, record.get("action"), recording("CA-log-msg", rec(4)))
    log = line.log()
    assert "+44 7*** ***456" in log  # call-backs and messages are logged, masked
    for full in (CALLER, CALLER[1:], "07900123456", "7900123456"):
        assert full not in log
