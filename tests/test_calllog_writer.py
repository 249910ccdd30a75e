"""The call log's batched writer on real databases (SQLite, and PostgreSQL when scripts/postgres.sh
started one): what a call's row becomes, batches, races between workers, failures, exit."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import subprocess
import sys
import textwrap
import threading

from sqlalchemy import create_engine, text

from ivr.calllog import CallLogWriter, record_batch, webhook_facts
from ivr.calllog.facts import Facts, Key, Read, StepFacts
from ivr.store import Store

from .conftest import PROJECT, run_together

SLUG = "cryotherapy-for-kidney-cancer"
T0 = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)


def read(section: int, part: int, key: Key | None = None) -> StepFacts:
    return StepFacts("read", SLUG, section, part, Read(SLUG, section, part, "normal"), key=key)


def facts(call_sid: str, seconds: float, endpoint: str, step: StepFacts) -> Facts:
    found = webhook_facts(endpoint, {"CallSid": call_sid, "From": "+447700900123"}, step,
                          T0 + dt.timedelta(seconds=seconds))
    assert found is not None
    return found


def query(url: str, sql: str) -> list[tuple]:
    """Read back with a connection of our own, not the store under test."""
    engine = create_engine(url)
    with engine.connect() as connection:
        found = [tuple(row) for row in connection.execute(text(sql))]
    engine.dispose()
    return found


def a_call(call_sid: str = "CA1") -> list[Facts]:
    """Answered, a section chosen, its second part, then the nurse line asked for and busy."""
    return [
        facts(call_sid, 0, "voice.answer", StepFacts("sections", SLUG)),
        facts(call_sid, 5, "voice.key", read(1, 1, Key("sections", "1"))),
        facts(call_sid, 20, "voice.at", read(1, 2)),
        facts(call_sid, 30, "voice.key", StepFacts("nurse-ringing", SLUG, 1, 2, key=Key("read", "0"),
                                                   nurse_requested=True)),
        facts(call_sid, 60, "voice.dial", StepFacts("nurse-options", SLUG, 1, 2, transfer_status="busy")),
    ]


def test_a_calls_webhooks_build_its_row_and_events(database_url):
    store = Store(database_url)
    store.migrate()
    writer = CallLogWriter(store, "secret")
    for item in a_call():
        writer.submit(item, seconds=12.5 if item.read else None)
    assert writer.flush()
    ((started, ended, stage, leaflet, section, part, webhooks, nurse, transfer, caller),) = query(
        database_url, "SELECT started_at, ended_at, stage, leaflet, section, part, webhooks, nurse_requested,"
                      " transfer_status, caller_hash FROM calls")
    assert (stage, leaflet, section, part, webhooks, bool(nurse), transfer) == (
        "nurse-options", SLUG, 1, 2, 5, True, "busy")  # the nurse line knows where the caller was
    assert str(started).startswith("2026-11-25 10:00:00") and str(ended).startswith("2026-11-25 10:01:00")
    assert len(caller) == 64 and "7700900123" not in caller
    events = query(database_url, "SELECT kind, menu, digits, part, seconds, detail FROM call_events ORDER BY id")
    assert events == [("key", "sections", "1", None, None, None), ("read", None, None, 1, 12.5, None),
                      ("read", None, None, 2, 12.5, None), ("key", "read", "0", None, None, None),
                      ("nurse", None, None, None, None, "open"), ("dial", None, None, None, None, "busy")]


def test_a_late_reordered_webhook_does_not_move_the_caller_back(database_url):
    store = Store(database_url)
    store.migrate()
    answered, chose, second_part, *_ = a_call()
    # One batch holding the same call three times, the oldest webhook last (it arrived late).
    record_batch(store, [(answered, None), (second_part, 9.0), (chose, 9.0)], secret="secret")
    assert query(database_url, "SELECT stage, section, part, webhooks FROM calls") == [("read", 1, 2, 3)]
    assert [kind for (kind,) in query(database_url, "SELECT kind FROM call_events ORDER BY id")] == ["read", "key", "read"]


def test_a_spoken_choice_keeps_what_it_meant_and_how_sure_never_the_words(database_url):
    from ivr.calllog.facts import Said

    store = Store(database_url)
    store.migrate()
    said = facts("CA-said", 5, "voice.key", StepFacts("read", SLUG, 4, 1, said=Said("sections", "section:4", 0.87)))
    record_batch(store, [(said, None)], secret="secret")
    assert query(database_url, "SELECT kind, menu, detail, confidence FROM call_events") == [
        ("said", "sections", "section:4", 0.87)]


def test_workers_writing_one_call_at_once_make_one_row(database_url):
    """Two stores (two workers, or two servers) write the same calls at the same moment."""
    stores = [Store(database_url) for _ in range(2)]
    stores[0].migrate()
    calls = [a_call(f"CA{n}") for n in range(20)]

    def worker(store: Store) -> None:
        for call in calls:
            record_batch(store, [(item, None) for item in call[:3]], secret="secret")

    assert run_together(worker, stores) == []
    assert query(database_url, "SELECT count(*), sum(webhooks) FROM calls") == [(20, 120)]


def test_a_database_fault_loses_that_batch_only_and_is_logged(tmp_path, caplog):
    path = tmp_path / "ivr.sqlite3"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    writer = CallLogWriter(store, "secret", linger=0)
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE calls RENAME TO calls_away")
    with caplog.at_level(logging.WARNING, logger="ivr.calllog.writer"):
        writer.submit(a_call("CA1")[0])
        assert writer.flush()
    assert "call log: could not record 1 webhooks" in caplog.text and "+447700900123" not in caplog.text
    with sqlite3.connect(path) as db:
        db.execute("ALTER TABLE calls_away RENAME TO calls")
    writer.submit(a_call("CA2")[0])
    assert writer.flush()
    assert query(f"sqlite:///{path}", "SELECT call_sid FROM calls") == [("CA2",)]


def test_a_stalled_database_fills_the_queue_and_drops_with_a_warning(tmp_path, caplog):
    path = tmp_path / "ivr.sqlite3"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    writer = CallLogWriter(store, "secret", linger=0, max_queue=2)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the database: the writer waits
    with caplog.at_level(logging.WARNING, logger="ivr.calllog.writer"):
        for n in range(2000):
            writer.submit(a_call(f"CA{n}")[0])
        blocker.execute("COMMIT")
        blocker.close()
        assert writer.flush()
    assert "call log: queue full (database too slow?)" in caplog.text
    (written,) = query(f"sqlite:///{path}", "SELECT count(*) FROM calls")[0]
    assert 0 < written < 2000


def test_flush_does_not_wait_out_the_linger(tmp_path):
    url = f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
    store = Store(url)
    store.migrate()
    writer = CallLogWriter(store, "secret", linger=3600)
    writer.submit(a_call()[0])
    assert writer.flush(timeout=30)  # would time out if the hour's linger were waited out
    assert query(url, "SELECT count(*) FROM calls") == [(1,)]


def test_a_process_that_exits_writes_what_it_gathered_first(tmp_path):
    """A gunicorn worker stopped gracefully exits through ``sys.exit``: the writer's exit hook
    writes the batch it was still gathering (an hour's linger: nothing else would write it)."""
    url = f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
    script = textwrap.dedent(f"""
        from tests.test_calllog_writer import a_call
        from ivr.calllog import CallLogWriter
        from ivr.store import Store
        store = Store({url!r}); store.migrate()
        writer = CallLogWriter(store, "secret", linger=3600)
        for item in a_call():
            writer.submit(item)
        raise SystemExit(0)
    """)
    subprocess.run([sys.executable, "-c", script], cwd=PROJECT, check=True, timeout=60)
    assert query(url, "SELECT webhooks FROM calls") == [(5,)]


def test_the_writer_thread_runs_below_the_webhooks_priority(tmp_path):
    import os

    from ivr.calllog.writer import WRITER_NICENESS

    store = Store(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
    store.migrate()
    writer = CallLogWriter(store, "secret", linger=0)
    writer.submit(a_call()[0])
    assert writer.flush(timeout=30)
    thread = writer._thread.native_id
    assert os.getpriority(os.PRIO_PROCESS, thread) == os.getpriority(os.PRIO_PROCESS, 0) + WRITER_NICENESS
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == os.getpriority(os.PRIO_PROCESS, 0)


def test_the_writer_thread_hands_the_gil_back_within_a_millisecond(tmp_path):
    # A webhook waiting for the GIL while the writer converts a batch waits the switch interval.
    from ivr.calllog.writer import GIL_SWITCH_SECONDS

    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)  # Python's default
    try:
        store = Store(f"sqlite:///{tmp_path / 'ivr.sqlite3'}")
        store.migrate()
        writer = CallLogWriter(store, "secret", linger=0)
        writer.submit(a_call()[0])
        assert writer.flush(timeout=30)
        assert abs(sys.getswitchinterval() - GIL_SWITCH_SECONDS) < 1e-6
        writer.close()
    finally:
        sys.setswitchinterval(before)
