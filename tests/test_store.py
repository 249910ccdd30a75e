"""The message / call-back store on real databases (a SQLite file, and a PostgreSQL server when
scripts/postgres.sh started one): migrations, idempotency, failures, commands."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect, select
from sqlalchemy.orm import Session

from ivr.cli import main
from ivr.nurse.numbers import check_e164, mask_number, uk_callback_number
from ivr.store import CallbackRequest, Message, Store, StoreError
from ivr.store.migrate import current_revision, head_revision, newest_shipped_revision
from ivr.store.store import BUSY_TIMEOUT_SECONDS

from .conftest import DATABASE_BACKENDS, free_port, fresh_database, run_together

NUMBER = "+447900123456"


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "ivr.sqlite3"


@pytest.fixture
def store(database_url):
    store = Store(database_url)
    store.migrate()
    return store


@pytest.fixture
def sqlite_store(db_path):
    store = Store(f"sqlite:///{db_path}")
    store.migrate()
    return store


def unreachable_url(backend: str, tmp_path) -> tuple[str, str]:
    """A database URL that cannot be reached, and the driver's words for it."""
    if backend == "sqlite":
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the database folder should be")
        return f"sqlite:///{blocker}/ivr.sqlite3", "unable to open database file"
    return f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/ivr", "Connection refused"  # a closed port


def callback(store: Store, call_sid: str = "CA1", number: str = NUMBER, **extra):
    args = {"number_source": "caller", "leaflet": "cryotherapy-for-kidney-cancer", "section": 2, "reason": "busy"}
    return store.save_callback(call_sid=call_sid, number=number, **(args | extra))


def message(store: Store, sid: str = "RE1", **extra):
    args = {"call_sid": "CA1", "caller_masked": mask_number(NUMBER), "leaflet": None, "section": None,
            "reason": "closed", "recording_url": "https://api.twilio.com/Recordings/RE1", "duration_seconds": 12}
    return store.save_message(recording_sid=sid, **(args | extra))


def rows(url, model):
    """Read a table back with SQLAlchemy, independently of the Store under test."""
    engine = create_engine(url)
    with Session(engine) as session:
        found = list(session.scalars(select(model).order_by(model.id)))
    engine.dispose()
    return found


def test_migrations_bring_a_new_database_to_head(store, database_url):
    assert current_revision(store.engine) == head_revision() == "0007"
    engine = create_engine(database_url)
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"messages", "callback_requests", "text_messages", "alembic_version"} <= tables
    again = Store(database_url)
    again.migrate()  # running it again is harmless
    assert current_revision(again.engine) == head_revision()


def test_the_newest_migration_file_is_alembics_head():
    """Workers tell a current schema from the file names alone (without loading Alembic)."""
    assert newest_shipped_revision() == head_revision()


def test_a_worker_finding_the_schema_current_does_not_load_alembic(store, database_url):
    import subprocess
    import sys

    from .conftest import PROJECT

    script = ("import sys; from ivr.store import Store; s = Store(sys.argv[1]); s.migrate(); "
              "print(s.engine.connect().exec_driver_sql('SELECT count(*) FROM messages').scalar(), "
              "'alembic' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script, database_url], cwd=PROJECT, capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.split() == ["0", "False"]


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(sqlite_store):
    with sqlite_store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == BUSY_TIMEOUT_SECONDS * 1000


def test_best_effort_transactions_skip_the_disk_wait_but_messages_never_do(store, database_url):
    """The call log writes on every webhook without waiting for the disk; messages and
    call-backs always wait (a caller hears "saved" only for a row that survives power loss)."""
    from sqlalchemy import text

    setting = "PRAGMA synchronous" if database_url.startswith("sqlite") else "SHOW synchronous_commit"
    with store.transaction() as session:
        durable = str(session.execute(text(setting)).scalar()).lower()
    with store.transaction(durable=False) as session:
        relaxed = str(session.execute(text(setting)).scalar()).lower()
        session.add(Message(call_sid="CA9", recording_sid="RE9", caller_masked="+44 7*** ***123",
                            reason="busy", duration_seconds=1))
    if database_url.startswith("sqlite"):
        assert (durable, relaxed) == ("2", "1")  # FULL, NORMAL
    else:
        assert (durable, relaxed) == ("on", "off")
    assert [row.recording_sid for row in rows(database_url, Message)] == ["RE9"]  # committed all the same


@pytest.mark.parametrize("backend", DATABASE_BACKENDS)
def test_workers_migrating_together_all_succeed(backend, tmp_path):
    """Several rounds, each on a new database: the races are in creating it (SQLite turning the
    file to WAL, PostgreSQL creating the tables), so one round alone would often pass by luck."""
    for _round in range(8):
        with fresh_database(backend, tmp_path) as url:
            stores = [Store(url) for _ in range(4)]
            barrier, errors = threading.Barrier(len(stores)), []

            def run(store: Store, barrier: threading.Barrier, errors: list[StoreError]) -> None:
                barrier.wait()
                try:
                    store.migrate()
                except StoreError as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=(store, barrier, errors)) for store in stores]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert errors == []
            assert current_revision(stores[0].engine) == head_revision()
            for store in stores:
                store.engine.dispose()


def test_callback_is_idempotent_on_call_sid(store, database_url):
    first, created = callback(store)
    again, created_again = callback(store)
    assert created and not created_again and again.id == first.id
    saved = rows(database_url, CallbackRequest)
    assert len(saved) == 1
    assert saved[0].number == NUMBER and saved[0].section == 2 and saved[0].reason == "busy"
    assert saved[0].created_at.tzinfo is not None and saved[0].done_at is None


def test_a_new_number_in_the_same_call_updates_the_open_request(store, database_url):
    callback(store)
    callback(store, number="+442079460123", number_source="keyed")
    saved = rows(database_url, CallbackRequest)
    assert [(row.number, row.number_source) for row in saved] == [("+442079460123", "keyed")]


def test_concurrent_identical_requests_make_one_row(database_url):
    Store(database_url).migrate()
    stores = [Store(database_url) for _ in range(6)]  # like six workers
    ids = []
    assert run_together(lambda store: ids.append(callback(store, call_sid="CA-race")[0].id), stores) == []
    assert len(set(ids)) == 1
    assert len(rows(database_url, CallbackRequest)) == 1


def test_message_is_idempotent_and_the_status_callback_fills_it_in(store, database_url):
    message(store, recording_url=None, duration_seconds=None, leaflet="cryotherapy-for-kidney-cancer", section=3)
    message(store, recording_url=None, duration_seconds=None)  # a retried <Record> action
    message(store, leaflet=None, recording_status="completed", reason="unknown")  # the status callback
    saved = rows(database_url, Message)
    assert len(saved) == 1
    row = saved[0]
    assert row.recording_url == "https://api.twilio.com/Recordings/RE1" and row.duration_seconds == 12
    assert row.recording_status == "completed" and row.leaflet == "cryotherapy-for-kidney-cancer"
    assert row.section == 3 and row.reason == "closed" and row.caller_masked == "+44 7*** ***456"


def test_status_callback_first_then_action(store, database_url):
    message(store, "RE2", leaflet=None, recording_status="completed", reason="unknown", duration_seconds=None)
    message(store, "RE2", leaflet="cryotherapy-for-kidney-cancer", section=1, reason="busy")
    (row,) = rows(database_url, Message)
    assert (row.leaflet, row.section, row.reason, row.duration_seconds) == ("cryotherapy-for-kidney-cancer", 1, "busy", 12)


def test_lists_newest_first_and_marking_done(store):
    for number in range(3):
        callback(store, call_sid=f"CA{number}")
    assert [row.call_sid for row in store.callbacks()] == ["CA2", "CA1", "CA0"]
    when = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)
    done = store.mark_callback_done(store.callbacks()[1].id, by="Ann", at=when)
    assert done is not None and (done.done_by, done.done_at) == ("Ann", when)
    store.mark_callback_done(done.id, by="Bob")  # already done: the first who/when stay
    assert [row.call_sid for row in store.callbacks(open_only=True)] == ["CA2", "CA0"]
    assert store.callbacks()[1].done_by == "Ann"
    assert store.mark_callback_done(999, by="Ann") is None
    message(store)
    assert store.mark_message_done(store.messages()[0].id, by="Ann") is not None
    assert store.messages(open_only=True) == []


@pytest.mark.parametrize("backend", DATABASE_BACKENDS)
def test_unreachable_database_is_a_store_error(backend, tmp_path):
    url, words = unreachable_url(backend, tmp_path)
    store = Store(url)
    started = time.monotonic()
    with pytest.raises(StoreError, match=words):
        callback(store)
    assert time.monotonic() - started < BUSY_TIMEOUT_SECONDS + 3


def test_locked_database_fails_within_the_busy_timeout_then_recovers(sqlite_store, db_path):
    store = sqlite_store
    holder = sqlite3.connect(db_path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holding the lock
    started = time.monotonic()
    try:
        with pytest.raises(StoreError, match="database is locked"):
            callback(store)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert time.monotonic() - started < BUSY_TIMEOUT_SECONDS + 3  # well inside Twilio's 15 s
    assert callback(store)[1] is True


@pytest.mark.parametrize("backend", DATABASE_BACKENDS[1:])
def test_locked_table_fails_within_the_lock_timeout_then_recovers(backend, tmp_path):
    """PostgreSQL: another writer holds the table (SQLite's lock is the file's: the test above)."""
    with fresh_database(backend, tmp_path) as url:
        store = Store(url)
        store.migrate()
        holder = create_engine(url).connect()
        holder.exec_driver_sql("BEGIN")
        holder.exec_driver_sql("LOCK TABLE callback_requests IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        try:
            with pytest.raises(StoreError, match="lock timeout"):
                callback(store)
        finally:
            holder.exec_driver_sql("ROLLBACK")
            holder.close()
        assert time.monotonic() - started < BUSY_TIMEOUT_SECONDS + 3  # well inside Twilio's 15 s
        assert callback(store)[1] is True
        store.engine.dispose()


def test_errors_never_carry_the_number(store, database_url):
    if database_url.startswith("sqlite"):
        read_only = Store(database_url.replace("sqlite:///", "sqlite:///file:") + "?mode=ro&uri=true")
    else:  # the operator's own options in the URL are kept (after the store's timeouts)
        read_only = Store(database_url + "?options=-c%20default_transaction_read_only%3Don")
    with pytest.raises(StoreError) as caught:
        callback(read_only, call_sid="CA-ro")
    assert "readonly" in str(caught.value) or "read-only transaction" in str(caught.value)
    for text in (str(caught.value), str(caught.value.__cause__)):
        assert NUMBER not in text and "7900123456" not in text


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+447900123456", "+44 7*** ***456"),
        ("+442079460123", "+44 2*** ***123"),
        ("+14155550123", "+1 4*** ***123"),
        ("447900123456", "+44 7*** ***456"),
        ("anonymous", "(no number)"),
        ("", "(no number)"),
        (None, "(no number)"),
        ("+12", "***"),
    ],
)
def test_mask_number(number, masked):
    assert mask_number(number) == masked


@pytest.mark.parametrize(
    ("keyed", "e164"),
    [
        ("07900123456", "+447900123456"),
        ("447900123456", "+447900123456"),
        ("+447900123456", "+447900123456"),
        ("02079460123", "+442079460123"),
        ("0800123456", "+44800123456"),
        ("12345", None),  # too short
        ("07700900123", None),  # reserved for drama: no one answers
        ("09098790000", None),  # premium rate
        ("14155550123", None),  # not UK
        ("+14155550123", None),
        ("999", None),
        ("", None),
        ("anonymous", None),
    ],
)
def test_uk_callback_numbers(keyed, e164):
    assert uk_callback_number(keyed) == e164


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("+441632960001", None),
        ("", "is not set"),
        ("01632960001", "is not in E.164 form"),
        ("+44 1632 960001", "is not in E.164 form"),
        ("+4416329", "has the wrong number of digits"),
    ],
)
def test_e164_check(value, problem):
    found = check_e164(value)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_operator_commands(tmp_path, monkeypatch, database_url):
    monkeypatch.setenv("IVR_INSTANCE_DIR", str(tmp_path))
    if database_url.startswith("sqlite"):  # the default: SQLite in the instance folder
        monkeypatch.delenv("IVR_DATABASE_URL", raising=False)
        database_url = f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
    else:
        monkeypatch.setenv("IVR_DATABASE_URL", database_url)
    store = Store(database_url)
    callback(store)
    message(store)
    runner = CliRunner()
    listed = runner.invoke(main, ["callbacks", "list", "--open"])
    assert listed.exit_code == 0
    assert NUMBER in listed.output and "their own number" in listed.output and "OPEN" in listed.output
    done = runner.invoke(main, ["callbacks", "done", "1", "--by", "Ann"])
    assert done.exit_code == 0 and "by Ann" in done.output
    assert "0 call-back request(s) open" in runner.invoke(main, ["callbacks", "list", "--open"]).output
    missing = runner.invoke(main, ["callbacks", "done", "42"])
    assert missing.exit_code == 1 and "no call-back request #42" in missing.output
    messages = runner.invoke(main, ["messages", "list"])
    assert messages.exit_code == 0
    assert "https://api.twilio.com/Recordings/RE1" in messages.output and "+44 7*** ***456" in messages.output


@pytest.mark.parametrize("backend", DATABASE_BACKENDS)
def test_operator_command_with_database_down_is_one_line(backend, tmp_path, monkeypatch):
    url, words = unreachable_url(backend, tmp_path)
    monkeypatch.setenv("IVR_DATABASE_URL", url)
    result = CliRunner().invoke(main, ["messages", "list"])
    assert result.exit_code == 1
    assert "Error: could not bring the database up to date" in result.output and words in result.output
    assert "Traceback" not in result.output
