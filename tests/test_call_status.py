"""Twilio's call status callback (``POST /voice/status``): the call's real end in the call log.

It may come before the call's last webhooks are written (the background writer holds them up to a
second), after them, or more than once; each way the call has one row with its place from the
webhooks and its end from the first status. On real databases, then through a real server.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from email.utils import format_datetime

import pytest
from sqlalchemy import create_engine, text

from ivr.calllog import CallEnd, call_end, record_batch, record_call_end, webhook_facts
from ivr.calllog.facts import Facts, Read, StepFacts
from ivr.store import Store
from tests.conftest import PROJECT, free_port, start_server

SLUG = "cryotherapy-for-kidney-cancer"
CALLER = "+447700900123"
T0 = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
RECEIVED = T0 + dt.timedelta(seconds=95)


@pytest.mark.parametrize(("form", "expected"), [
    ({"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "93", "Timestamp": "Wed, 25 Nov 2026 10:01:34 +0000"},
     ("completed", 93, T0 + dt.timedelta(seconds=94))),
    ({"CallSid": "CA1", "CallStatus": "no-answer", "Timestamp": "Wed, 25 Nov 2026 10:01:34 GMT"},
     ("no-answer", None, T0 + dt.timedelta(seconds=94))),
    # No Timestamp, an unreadable one, or one an hour off our clock: the time it arrived.
    ({"CallSid": "CA1", "CallStatus": "canceled", "CallDuration": "0"}, ("canceled", 0, RECEIVED)),
    ({"CallSid": "CA1", "CallStatus": "COMPLETED", "CallDuration": "12", "Timestamp": "yesterday"},
     ("completed", 12, RECEIVED)),
    ({"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "12", "Timestamp": "Wed, 25 Nov 2026 11:01:34 +0000"},
     ("completed", 12, RECEIVED)),
    # A duration that is junk, or longer than any call, is not believed.
    ({"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "-5"}, ("completed", None, RECEIVED)),
    ({"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "²"}, ("completed", None, RECEIVED)),
    ({"CallSid": "CA1", "CallStatus": "failed", "CallDuration": "999999"}, ("failed", None, RECEIVED)),
])
def test_a_final_status_is_read(form, expected):
    end = call_end({**form, "From": CALLER}, RECEIVED)
    assert end is not None
    assert (end.status, end.duration_seconds, end.ended_at) == expected
    assert end.caller == CALLER and end.call_sid == "CA1"


@pytest.mark.parametrize("form", [
    {"CallSid": "CA1", "CallStatus": "ringing"},
    {"CallSid": "CA1", "CallStatus": "in-progress", "CallDuration": "5"},
    {"CallSid": "", "CallStatus": "completed"},
    {"CallStatus": "completed", "CallDuration": "5"},
])
def test_progress_and_unnamed_statuses_end_nothing(form):
    assert call_end(form, RECEIVED) is None


# --- On the databases -------------------------------------------------------------------------


def webhook(seconds: float, stage: str, section: int | None = None, part: int | None = None,
            endpoint: str = "voice.at") -> Facts:
    read = Read(SLUG, section, part, "normal") if stage == "read" and section is not None and part else None
    step = StepFacts(stage, SLUG if section is not None else None, section, part, read)
    found = webhook_facts(endpoint, {"CallSid": "CA1", "From": CALLER}, step, T0 + dt.timedelta(seconds=seconds))
    assert found is not None
    return found


def the_end(duration: int, ended: float, status: str = "completed") -> CallEnd:
    return CallEnd("CA1", CALLER, status, duration, T0 + dt.timedelta(seconds=ended))


def call_row(url: str) -> dict[str, object]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(text(
            "SELECT stage, section, part, webhooks, call_status, duration_seconds, hung_up_at, started_at, caller_hash"
            " FROM calls"))]
    engine.dispose()
    assert len(rows) == 1, rows
    return rows[0]


def when(value: object) -> dt.datetime:
    """A time read back with plain SQL: naive UTC on SQLite (a string), aware on PostgreSQL."""
    moment = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    assert isinstance(moment, dt.datetime)
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


@pytest.fixture
def store(database_url):
    found = Store(database_url)
    found.migrate()
    yield found
    found.engine.dispose()


ANSWER = webhook(0, "sections", endpoint="voice.answer")
READS = [webhook(5, "read", 1, 1, "voice.key"), webhook(20, "read", 1, 2)]


def test_a_status_before_the_webhooks_are_written_keeps_their_place(store, database_url):
    record_call_end(store, the_end(93, 24), secret="k")  # the writer still held every webhook
    row = call_row(database_url)
    assert (row["stage"], row["webhooks"], when(row["started_at"])) == ("no-webhook", 0, T0 - dt.timedelta(seconds=69))
    record_batch(store, [(ANSWER, None)], secret="k")
    record_batch(store, [(facts, 10.0) for facts in READS], secret="k")
    row = call_row(database_url)
    assert (row["stage"], row["section"], row["part"], row["webhooks"]) == ("read", 1, 2, 3)
    assert (row["call_status"], row["duration_seconds"], when(row["hung_up_at"])) == ("completed", 93, T0 + dt.timedelta(seconds=24))
    assert when(row["started_at"]) == T0  # when the line answered, not the end less the length
    assert row["caller_hash"]


def test_a_status_after_the_webhooks_and_again_changes_nothing_the_second_time(store, database_url):
    record_batch(store, [(ANSWER, None), *((facts, 10.0) for facts in READS)], secret="k")
    record_call_end(store, the_end(25, 25), secret="k")
    record_call_end(store, the_end(25, 25), secret="k")  # Twilio retried
    record_call_end(store, the_end(99, 99, "failed"), secret="k")  # a later, different one: the first stands
    row = call_row(database_url)
    assert (row["stage"], row["part"], row["webhooks"]) == ("read", 2, 3)
    assert (row["call_status"], row["duration_seconds"], when(row["hung_up_at"])) == ("completed", 25, T0 + dt.timedelta(seconds=25))


def test_a_status_between_webhooks_written_out_of_order(store, database_url):
    record_batch(store, [(READS[1], 10.0)], secret="k")  # the last webhook, written first by another worker
    record_call_end(store, the_end(25, 25), secret="k")
    record_batch(store, [(ANSWER, None), (READS[0], 10.0)], secret="k")  # earlier ones, late
    row = call_row(database_url)
    assert (row["stage"], row["part"], row["webhooks"], row["call_status"]) == ("read", 2, 3, "completed")
    assert when(row["started_at"]) == T0


# --- Through a real server --------------------------------------------------------------------

LEAFLETS = PROJECT / "tests" / "fixtures" / "leaflets-one"
CALL = {"AccountSid": "AC" + "0" * 32, "CallSid": "CA" + "5" * 32, "From": CALLER, "To": "+441632960000",
        "Direction": "inbound", "CallStatus": "in-progress"}


def status_form(seconds: int) -> dict[str, str]:
    return {**CALL, "CallStatus": "completed", "CallDuration": str(seconds),
            "Timestamp": format_datetime(dt.datetime.now(dt.UTC)), "CallbackSource": "call-progress-events"}


def calls(instance_dir) -> list[tuple]:
    with sqlite3.connect(instance_dir / "ivr.sqlite3") as db:
        return db.execute("SELECT call_sid, stage, section, part, webhooks, call_status, duration_seconds FROM calls").fetchall()


def stop(server) -> None:
    server.process.terminate()  # the call log's writer writes what it holds on the way out
    assert server.process.wait(timeout=20) == 0


@pytest.mark.slow
def test_status_callbacks_around_the_gather_webhooks(app_config, instance_dir, tmp_path):
    app_config["IVR_LEAFLETS_DIR"] = str(LEAFLETS)
    server = start_server(app_config, tmp_path)
    try:
        first = server.post("/voice/status", status_form(47))  # before any webhook of the call
        assert first.status_code == 200 and first.headers["content-type"].startswith("text/xml")
        assert server.post("/voice", CALL).status_code == 200
        assert server.post(f"/voice/key?k=sections&l={SLUG}", {**CALL, "Digits": "1"}).status_code == 200
        assert server.post("/voice/status", status_form(50)).status_code == 200  # between them, again
        assert server.post(f"/voice/at?k=read&l={SLUG}&s=1&p=2", CALL).status_code == 200
        assert server.post("/voice/status", status_form(51)).status_code == 200  # after them, again
        forged = server.post("/voice/status", {**status_form(60), "CallSid": "CA" + "6" * 32}, signature="forged")
        assert forged.status_code == 403
        progress = server.post("/voice/status", {**status_form(5), "CallSid": "CA" + "7" * 32, "CallStatus": "ringing"})
        assert progress.status_code == 200
    finally:
        stop(server)
    assert calls(instance_dir) == [(CALL["CallSid"], "read", 1, 2, 3, "completed", 47)]


@pytest.mark.slow
def test_a_status_with_the_database_down_is_answered_and_logged(app_config, tmp_path):
    app_config["IVR_DATABASE_URL"] = f"postgresql+psycopg://ivr@127.0.0.1:{free_port()}/ivr"  # nothing listens there
    server = start_server(app_config, tmp_path)
    try:
        response = server.post("/voice/status", status_form(30))
        assert response.status_code == 200 and response.text.strip().endswith("<Response />")
    finally:
        stop(server)
    log = server.log()
    assert f"could not record the end of CallSid {CALL['CallSid']} (completed)" in log
    assert CALLER not in log and CALLER[1:] not in log


def test_migration_0005_fills_in_past_first_menu_for_calls_already_logged(database_url):
    from alembic import command

    from ivr.store.migrate import _config, upgrade

    engine = create_engine(database_url)
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0004")
        columns = ("call_sid, started_at, ended_at, stage, leaflet, nurse_requested, nurse_closed, message_left,"
                   " callback_left, webhooks")
        for sid, stage, leaflet, nurse in [("CA-menu", "leaflets", None, False), ("CA-read", "sections", SLUG, False),
                                           ("CA-nurse", "leaflets", None, True), ("CA-end", "end", SLUG, False)]:
            connection.execute(text(f"INSERT INTO calls ({columns}) VALUES (:sid, :t, :t, :stage, :leaflet, :nurse,"
                                    " false, false, false, 2)"),
                               {"sid": sid, "t": T0.replace(tzinfo=None), "stage": stage, "leaflet": leaflet, "nurse": nurse})
        connection.execute(text("INSERT INTO call_events (call_sid, at, kind) VALUES ('CA-read', :t, 'read')"),
                           {"t": T0.replace(tzinfo=None)})
    upgrade(engine)
    with engine.connect() as connection:
        found = dict(connection.execute(text("SELECT call_sid, past_first_menu FROM calls")).all())
    engine.dispose()
    assert {sid: bool(flag) for sid, flag in found.items()} == {
        "CA-menu": False, "CA-read": True, "CA-nurse": True, "CA-end": True}


def test_webhooks_set_the_place_even_when_twilios_clock_says_the_call_ended_before_them(store, database_url):
    # Twilio's Timestamp is believed within 10 minutes of our clock: here it is 20 s behind, so the
    # end less the length falls after every webhook this server logged.
    record_call_end(store, the_end(3, 24), secret="k")
    record_batch(store, [(ANSWER, None), *((facts, 10.0) for facts in READS)], secret="k")
    row = call_row(database_url)
    assert (row["stage"], row["part"], row["webhooks"], when(row["started_at"])) == ("read", 2, 3, T0)
