"""The call log through real calls: the simulator rings a real server; the database and logs are read back."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest

from ivr.simulator import DEFAULT_FROM, simulate_call
from tests.conftest import start_server

SLUG = "cryotherapy-for-kidney-cancer"
# section menu: 1 = the first section; silence after part 1 goes on to part 2; 6 = forward (to the
# end of the section); 0 = nurse. When the nurses are busy: 1 = a call-back, 2 = a message.
TO_NURSE = ["1", None, "6", "0"]


def rows(instance_dir, sql: str) -> list[tuple]:
    with sqlite3.connect(instance_dir / "ivr.sqlite3") as db:
        return db.execute(sql).fetchall()


def call(server, keys, **options):
    transcript = simulate_call(server.url + "/voice", token=server.token, keys=keys, **options)
    assert not transcript.failed, transcript
    return transcript


def stop(server) -> None:
    """Stop the server as gunicorn is stopped in service (SIGTERM): the call log's writer writes
    what it has gathered on the way out, so the database is complete once the process is gone."""
    server.process.terminate()
    assert server.process.wait(timeout=20) == 0


@pytest.mark.slow
def test_a_call_leaves_its_sections_keys_transfer_and_message(live_server, instance_dir):
    call(live_server, [*TO_NURSE, "2"], nurse="busy")  # busy: 2 leaves a message
    stop(live_server)
    (record,) = rows(instance_dir, "SELECT call_sid, started_at, ended_at, stage, leaflet, section, nurse_requested,"
                                   " nurse_closed, transfer_status, message_left, callback_left FROM calls")
    sid, started, ended, stage, leaflet, section, nurse, closed, transfer, message, callback = record
    assert sid.startswith("CA") and started <= ended
    assert (stage, leaflet, section) == ("nurse-saved", SLUG, 1)
    assert (nurse, closed, transfer, message, callback) == (1, 0, "busy", 1, 0)
    events = rows(instance_dir, "SELECT kind, menu, digits, section, part, seconds, detail FROM call_events ORDER BY id")
    reads = [(s, p) for kind, _, _, s, p, _, _ in events if kind == "read"]
    assert reads == [(1, 1), (1, 2)]
    assert all(seconds and seconds > 1 for kind, *_, seconds, _ in events if kind == "read")
    keys = [(menu, digits) for kind, menu, digits, *_ in events if kind == "key"]
    assert keys == [("sections", "1"), ("read", "6"), ("end", "0"), ("nurse-options", "2")]
    assert [kind for kind, *_ in events if kind in ("nurse", "dial", "message")] == ["nurse", "dial", "message"]


@pytest.mark.slow
def test_an_answered_transfer_and_a_call_back_are_logged_without_the_number(live_server, instance_dir):
    call(live_server, TO_NURSE, nurse="answer")
    call(live_server, [*TO_NURSE, "1", "07900123456#", "1"], nurse="no-answer")  # withheld: keyed in, then confirmed
    stop(live_server)
    outcomes = rows(instance_dir, "SELECT transfer_status, callback_left FROM calls ORDER BY id")
    assert outcomes == [("answered", 0), ("no-answer", 1)]
    digits = [d for (d,) in rows(instance_dir, "SELECT digits FROM call_events WHERE kind = 'key'")]
    assert "07900123456#" not in digits and not any(len(d) > 2 for d in digits)
    log = live_server.log()
    for number in (DEFAULT_FROM, DEFAULT_FROM[1:], "07900123456", "7900123456"):
        assert number not in log
    files = [instance_dir / name for name in ("ivr.sqlite3", "ivr.sqlite3-wal") if (instance_dir / name).exists()]
    calls_db = b"".join(path.read_bytes() for path in files)
    assert DEFAULT_FROM.encode() not in calls_db  # the caller's own number: only as a keyed hash


@pytest.mark.slow
def test_repeat_callers_share_a_keyed_hash(live_server, instance_dir):
    call(live_server, ["1"])
    call(live_server, ["1"])
    call(live_server, ["1"], from_number="+447700900999")
    stop(live_server)
    hashes = [h for (h,) in rows(instance_dir, "SELECT caller_hash FROM calls ORDER BY id")]
    assert hashes[0] == hashes[1] != hashes[2]
    assert hashes[0] != hashlib.sha256(DEFAULT_FROM.encode()).hexdigest()  # keyed: not a plain hash


@pytest.mark.slow
def test_out_of_hours_nurse_requests_are_marked(app_config, instance_dir, tmp_path):
    app_config["IVR_NURSE_HOURS"] = "never"
    server = start_server(app_config, tmp_path)
    try:
        call(server, TO_NURSE)
    finally:
        stop(server)
    assert rows(instance_dir, "SELECT nurse_requested, nurse_closed, transfer_status FROM calls") == [(1, 1, None)]


@pytest.mark.slow
def test_a_broken_call_log_never_breaks_a_call(live_server, instance_dir):
    call(live_server, ["1"])  # creates the database
    with sqlite3.connect(instance_dir / "ivr.sqlite3") as db:
        db.execute("DROP TABLE call_events")
    transcript = call(live_server, TO_NURSE, nurse="answer")
    assert any(event.kind == "nurse" or "nurse" in str(event) for event in transcript.events)
    stop(live_server)
    assert "call log: could not record" in live_server.log()
