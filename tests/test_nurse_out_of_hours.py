"""Out of hours and database failures, through real servers: the caller is always told, the call goes on."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from ivr.store import CallbackRequest, Message

from .conftest import DATABASE_BACKENDS, LiveServer, free_port, fresh_database
from .test_nurse_line import (
    CALLER,
    SLUG,
    call,
    choose,
    database_rows,
    db_url,
    only,
    query,
    recording,
    said,
    serve,
    server_config,
    twiml,
)

CLOSED_OPTIONS = [
    "To leave a message for the nurses, press 1.", "To ask a nurse to call you back, press 2.",
    "To go back to the leaflet, press 3.",
]


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def christmas_eve(request, tmp_path_factory) -> Iterator[LiveServer]:
    """Weekday hours, with the clock fixed at 18:00 on Thursday 24 December 2026."""
    tmp = tmp_path_factory.mktemp("closed")
    with fresh_database(request.param, tmp) as url:
        config = server_config(tmp, IVR_NURSE_HOURS="Mon-Fri 09:00-17:00", IVR_CLOCK="2026-12-24T18:00:00+00:00",
                               IVR_DATABASE_URL=url)
        yield from serve(config, tmp)


DOWN_WORDS: dict[str, str] = {}  # a down server's URL -> what its database driver says


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def database_down(request, tmp_path_factory) -> Iterator[LiveServer]:
    """The database cannot be reached at all. SQLite: its folder is a regular file (refused even
    to root); PostgreSQL: nothing listens on its port."""
    tmp = tmp_path_factory.mktemp("down")
    if request.param == "sqlite":
        (tmp / "db-folder").write_text("not a folder")
        url, words = f"sqlite:///{tmp / 'db-folder' / 'ivr.sqlite3'}", "unable to open database file"
    else:
        url, words = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/ivr", "Connection refused"
    config = server_config(tmp, IVR_DATABASE_URL=url, IVR_NURSE_CALLER_ID="+441632960999", IVR_NURSE_RING_SECONDS="15")
    for server in serve(config, tmp):
        DOWN_WORDS[server.url] = words
        yield server


def test_closed_says_when_the_nurses_open_and_where_to_get_urgent_help(christmas_eve):
    root = twiml(christmas_eve, f"/nurse?l={SLUG}&s=2&p=3&r=normal", call("CA-xmas"))
    assert root.find("Dial") is None
    assert said(root)[:2] == [
        "The nurse helpline is closed at the moment. It opens again on Tuesday 29 December at 9 am.",
        "If it is an emergency, call nine nine nine. For urgent medical advice, call NHS one one one.",
    ]
    assert said(only(root, "Gather")) == CLOSED_OPTIONS  # no "try the nurses again" when they are closed
    assert query(only(root, "Redirect").text)["w"] == "closed"


def test_closed_message_and_call_back_are_saved_as_out_of_hours(christmas_eve):
    start = f"/nurse?l={SLUG}&s=2&p=3&r=normal"
    closed = twiml(christmas_eve, start, call("CA-xmas-msg"))
    record = only(twiml(christmas_eve, only(closed, "Gather").get("action"), call("CA-xmas-msg", Digits="1")), "Record")
    saved = twiml(christmas_eve, record.get("action"), recording("CA-xmas-msg", "RE-xmas"))
    assert said(saved)[0] == "Thank you. Your message is saved, and a nurse will listen to it."
    closed = twiml(christmas_eve, start, call("CA-xmas-cb"))
    prompt = twiml(christmas_eve, only(closed, "Gather").get("action"), call("CA-xmas-cb", Digits="2"))
    twiml(christmas_eve, only(prompt, "Gather").get("action"), call("CA-xmas-cb", Digits="1"))
    (message,) = [r for r in database_rows(db_url(christmas_eve), Message) if r.call_sid == "CA-xmas-msg"]
    (request,) = [r for r in database_rows(db_url(christmas_eve), CallbackRequest) if r.call_sid == "CA-xmas-cb"]
    assert message.reason == request.reason == "closed"
    assert request.number == CALLER


def test_never_open_says_closed_without_a_time(tmp_path):
    for server in serve(server_config(tmp_path, IVR_NURSE_HOURS="never"), tmp_path):
        root = twiml(server, "/nurse", call("CA-never"))
        assert said(root)[0] == "The nurse helpline is closed at the moment."
        assert said(only(root, "Gather"))[-1] == "To go back to the main menu, press 3."


def test_database_down_does_not_stop_the_line_starting_or_transferring(database_down):
    dial = only(twiml(database_down, "/nurse", call("CA-down-dial")), "Dial")
    assert dial.get("callerId") == "+441632960999" and dial.get("timeout") == "15"
    assert "message store unavailable at start-up" in database_down.log()  # the worker is up: it answered


def test_database_down_message_is_told_and_offered_retry_or_nurses(database_down):
    record = only(choose(database_down, "CA-down-msg", "1"), "Record")
    root = twiml(database_down, record.get("action"), recording("CA-down-msg", "RE-down"))
    assert said(root)[0] == "Sorry, we could not save your message because of a problem on our side."
    gather = only(root, "Gather")
    assert said(gather) == ["To try saving it again, press 1.", "To go back to the leaflet, press 3.",
                            "To try the nurses again, press 0."]
    retry = twiml(database_down, gather.get("action"), call("CA-down-msg", Digits="1"))
    assert said(retry)[0] == "Sorry, we could not save your message because of a problem on our side."
    again = twiml(database_down, gather.get("action"), call("CA-down-msg", Digits="0"))
    assert only(again, "Redirect").text == f"/nurse?l={SLUG}&s=2&p=3&r=normal"
    assert only(twiml(database_down, only(again, "Redirect").text, call("CA-down-msg")), "Dial") is not None


def test_database_down_call_back_is_told_and_offered_retry(database_down):
    prompt = only(choose(database_down, "CA-down-cb", "2"), "Gather")
    root = twiml(database_down, prompt.get("action"), call("CA-down-cb", Digits="1"))
    assert said(root)[0] == "Sorry, we could not save your call-back request because of a problem on our side."
    assert said(only(root, "Gather"))[0] == "To try again, press 1."
    retry = twiml(database_down, only(root, "Gather").get("action"), call("CA-down-cb", Digits="1"))
    assert said(only(retry, "Gather"))[0] == "We can call you back on the number ending in"


def test_database_down_recording_callback_still_answers(database_down):
    response = database_down.post("/nurse/recording", recording("CA-down-rs", "RE-down-rs") | {"RecordingStatus": "completed"})
    assert response.status_code == 200


def test_database_failures_are_logged_without_the_number(database_down):
    prompt = only(choose(database_down, "CA-down-log", "2"), "Gather")
    twiml(database_down, prompt.get("action"), call("CA-down-log", Digits="1"))
    log = database_down.log()
    assert "could not save a call-back request for +44 7*** ***456 (CallSid CA-down-log)" in log
    assert DOWN_WORDS[database_down.url] in log
    for full in (CALLER, CALLER[1:], "7900123456"):
        assert full not in log


def test_locked_database_is_told_then_the_retry_saves(tmp_path):
    for server in serve(server_config(tmp_path), tmp_path):
        record = only(choose(server, "CA-lock", "1"), "Record")
        prompt = only(choose(server, "CA-lock-cb", "2"), "Gather")
        holder = sqlite3.connect(tmp_path / "ivr.sqlite3", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the busy timeout
        try:
            failed_message = twiml(server, record.get("action"), recording("CA-lock", "RE-lock"))
            failed_callback = twiml(server, prompt.get("action"), call("CA-lock-cb", Digits="1"))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert said(failed_message)[0].startswith("Sorry, we could not save your message")
        assert said(failed_callback)[0].startswith("Sorry, we could not save your call-back request")
        # The lock is gone: pressing 1 saves the same recording, without recording it again.
        saved = twiml(server, only(failed_message, "Gather").get("action"), call("CA-lock", Digits="1"))
        assert said(saved)[0] == "Thank you. Your message is saved, and a nurse will listen to it."
        (row,) = [r for r in database_rows(db_url(server), Message) if r.call_sid == "CA-lock"]
        assert row.recording_url.endswith("/RE-lock") and row.duration_seconds == 14
        again = twiml(server, only(failed_callback, "Gather").get("action"), call("CA-lock-cb", Digits="1"))
        done = twiml(server, only(again, "Gather").get("action"), call("CA-lock-cb", Digits="1"))
        assert said(done)[0] == "Thank you. A nurse will call you back on the number ending in"
        assert len([r for r in database_rows(db_url(server), CallbackRequest) if r.call_sid == "CA-lock-cb"]) == 1
        assert "database is locked" in server.log()
