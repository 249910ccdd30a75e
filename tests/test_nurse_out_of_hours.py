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
    digits,
    ids,
    only,
    query,
    rec,
    recording,
    serve,
    server_config,
    twiml,
)

CHRISTMAS_EVE = "2026-12-24T18:00:00+00:00"
START = f"/voice/key?k=read&l={SLUG}&s=2&p=3"


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
def christmas_eve(request, tmp_path_factory) -> Iterator[LiveServer]:
    """Weekday hours, with the clock fixed at 18:00 on Thursday 24 December 2026."""
    tmp = tmp_path_factory.mktemp("closed")
    with fresh_database(request.param, tmp) as url:
        yield from serve(server_config(tmp, IVR_CLOCK=CHRISTMAS_EVE, IVR_DATABASE_URL=url), tmp)


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
    root = twiml(christmas_eve, START, call("CA-xmas", Digits="0"))
    assert root.find("Dial") is None
    assert ids(root)[:2] == ["nurse.closed.next", "safety.emergency"]
    assert "It opens again on Tuesday 29 December at 9 am." in root[0].text
    # a call-back first; no "try the nurses again" while they are closed
    assert ids(only(root, "Gather")) == ["nurse.options.callback", "nurse.options.message", "nurse.options.back_leaflet"]
    assert query(only(root, "Redirect").text)["y"] == "closed"


def test_the_greeting_says_what_zero_does_tonight(christmas_eve):
    root = twiml(christmas_eve, "/voice", call("CA-xmas-greeting"))
    assert "menu.nurse_closed" in ids(root) and "menu.stay_closed" in ids(root)
    assert "menu.nurse_open" not in ids(root)


def test_closed_message_and_call_back_are_saved_as_out_of_hours_and_promised_after_christmas(christmas_eve):
    closed = twiml(christmas_eve, START, call("CA-xmas-msg", Digits="0"))
    record = only(twiml(christmas_eve, only(closed, "Gather").get("action"), call("CA-xmas-msg", Digits="2")), "Record")
    saved = twiml(christmas_eve, record.get("action"), recording("CA-xmas-msg", rec(10)))
    assert ids(saved)[:2] == ["nurse.message.saved", "nurse.promise.message_later"]
    assert saved[1].text.endswith("after we open on Tuesday 29 December, usually by 11 am.")
    closed = twiml(christmas_eve, START, call("CA-xmas-cb", Digits="0"))
    prompt = twiml(christmas_eve, only(closed, "Gather").get("action"), call("CA-xmas-cb", Digits="1"))
    done = twiml(christmas_eve, only(prompt, "Gather").get("action"), call("CA-xmas-cb", Digits="1"))
    assert "nurse.promise.callback_later" in ids(done)
    (message,) = [r for r in database_rows(db_url(christmas_eve), Message) if r.call_sid == "CA-xmas-msg"]
    (request,) = [r for r in database_rows(db_url(christmas_eve), CallbackRequest) if r.call_sid == "CA-xmas-cb"]
    assert message.reason == request.reason == "closed"
    assert request.number == CALLER and message.caller_number == CALLER
    assert (request.due_at.day, request.due_at.month, request.due_at.hour) == (29, 12, 11)


def test_never_open_says_closed_without_a_time(tmp_path):
    for server in serve(server_config(tmp_path, IVR_NURSE_HOURS="never"), tmp_path):
        root = twiml(server, "/nurse", call("CA-never"))
        assert ids(root)[0] == "nurse.closed.no_hours"
        assert ids(only(root, "Gather"))[-1] == "nurse.options.back_menu"


def test_database_down_does_not_stop_the_line_starting_or_transferring(database_down):
    dial = only(twiml(database_down, "/nurse", call("CA-down-dial")), "Dial")
    assert dial.get("callerId") == CALLER and dial.get("timeout") == "15"
    assert "database unavailable at start-up" in database_down.log()  # the worker is up: it answered


def test_database_down_message_is_told_and_offered_retry_or_nurses(database_down):
    record = only(choose(database_down, "CA-down-msg", "2"), "Record")
    root = twiml(database_down, record.get("action"), recording("CA-down-msg", rec(11)))
    assert ids(root)[0] == "nurse.message.not_saved"
    gather = only(root, "Gather")
    assert ids(gather) == ["nurse.message.retry", "nurse.options.again", "nurse.options.back_leaflet"]
    retry = twiml(database_down, gather.get("action"), call("CA-down-msg", Digits="1"))
    assert ids(retry)[0] == "nurse.message.not_saved"
    again = twiml(database_down, gather.get("action"), call("CA-down-msg", Digits="0"))
    assert only(again, "Dial") is not None  # the nurses, tried again from the same place


def test_database_down_call_back_is_told_and_offered_retry(database_down):
    prompt = only(choose(database_down, "CA-down-cb", "1"), "Gather")
    root = twiml(database_down, prompt.get("action"), call("CA-down-cb", Digits="1"))
    assert ids(root)[0] == "nurse.callback.not_saved"
    assert ids(only(root, "Gather"))[0] == "nurse.callback.retry"
    retry = twiml(database_down, only(root, "Gather").get("action"), call("CA-down-cb", Digits="1"))
    assert ids(retry)[0] == "nurse.callback.not_saved"


def test_database_down_failing_again_and_again_ends_with_where_to_get_help(database_down):
    prompt = only(choose(database_down, "CA-down-end", "1"), "Gather")
    root = twiml(database_down, prompt.get("action"), call("CA-down-end", Digits="1"))
    for _ in range(3):
        root = twiml(database_down, only(root, "Redirect").text, call("CA-down-end"))
    assert ids(root) == ["nurse.try_later", "safety.before_goodbye", "call.goodbye"] and root[-1].tag == "Hangup"


def test_database_down_recording_callback_still_answers(database_down):
    response = database_down.post("/voice/recording", recording("CA-down-rs", rec(12)) | {"RecordingStatus": "completed"})
    assert response.status_code == 200


def test_database_failures_are_logged_without_the_number(database_down):
    prompt = only(choose(database_down, "CA-down-log", "1"), "Gather")
    twiml(database_down, prompt.get("action"), call("CA-down-log", Digits="1"))
    log = database_down.log()
    assert "could not save a call-back request for +44 7*** ***456 (CallSid CA-down-log)" in log
    assert DOWN_WORDS[database_down.url] in log
    for full in (CALLER, CALLER[1:], "7900123456"):
        assert full not in log


def test_locked_database_is_told_then_the_retry_saves(tmp_path):
    for server in serve(server_config(tmp_path), tmp_path):
        record = only(choose(server, "CA-lock", "2"), "Record")
        prompt = only(choose(server, "CA-lock-cb", "1"), "Gather")
        holder = sqlite3.connect(tmp_path / "ivr.sqlite3", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the busy timeout
        try:
            failed_message = twiml(server, record.get("action"), recording("CA-lock", rec(13)))
            failed_callback = twiml(server, prompt.get("action"), call("CA-lock-cb", Digits="1"))
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert ids(failed_message)[0] == "nurse.message.not_saved"
        assert ids(failed_callback)[0] == "nurse.callback.not_saved"
        # The lock is gone: pressing 1 saves the same recording, without recording it again.
        saved = twiml(server, only(failed_message, "Gather").get("action"), call("CA-lock", Digits="1"))
        assert ids(saved)[0] == "nurse.message.saved"
        (row,) = [r for r in database_rows(db_url(server), Message) if r.call_sid == "CA-lock"]
        assert row.recording_url.endswith(rec(13)) and row.duration_seconds == 14
        done = twiml(server, only(failed_callback, "Gather").get("action"), call("CA-lock-cb", Digits="1"))
        assert ids(done)[0] == "nurse.callback.saved" and digits(done) == "07900123456"
        assert len([r for r in database_rows(db_url(server), CallbackRequest) if r.call_sid == "CA-lock-cb"]) == 1
        assert "database is locked" in server.log()
