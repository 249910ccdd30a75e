"""Welcome back (issue 16): a caller who left a leaflet unfinished is offered, after the emergency
sentence, to carry on where they left off.

The engine alone, by prompt ids; then real calls to a real server (gunicorn, the simulator, the
call log in its real database), with the faults real: a database nobody answers at, and one held
by another process so that the look-up is slow. Between a call and the next, the server is stopped
as in service (SIGTERM: the call log's writer writes what it gathered) and started again, so the
second call finds the first in the database without waiting on a clock. Last, the look-up itself:
on each database against the three statements it replaced, and its budget kept inline on SQLite
against a file held by another connection and a statement slow for real.
"""

from __future__ import annotations

import datetime as dt
import gc
import logging
import os
import random
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import and_, insert, or_, select

from ivr.calllog import record_batch, webhook_facts
from ivr.calllog.facts import Read, StepFacts
from ivr.calllog.record import caller_hash
from ivr.calllog.returning import RECENT_CALLS, ReturningCallers, last_listen
from ivr.config import load_settings
from ivr.content.catalogue import load_catalogue
from ivr.dialogue.engine import WELCOME_TIMEOUT, CallEngine
from ivr.dialogue.steps import Heard, Keys, NoInput, Position, Resume, Step
from ivr.keymap import KEYPAD
from ivr.simulator import SpeechIndex, simulate_call
from ivr.store import Store
from ivr.store.models import CallEvent, CallRecord
from tests.conftest import TEST_LEAFLETS, LiveServer, free_port, run_together, start_server

from .test_dialogue import SLUG, at, engine, ids, talking

LEAFLETS = TEST_LEAFLETS
CALLER = "+447700900123"
OTHER_CALLER = "+447700900456"
THIRD_CALLER = "+447700900789"
GREETING = ["call.greeting_one", "safety.emergency"]


# --- the engine alone -----------------------------------------------------------------------------

ENGINE_FIXTURES = (engine, talking)  # pytest finds fixtures by their names in this module


LEFT_OFF = Resume(SLUG, 3, 2)  # the second paragraph of section 3


def welcome(engine: CallEngine, resume: Resume = LEFT_OFF) -> Step:
    step = engine.answer(at(engine), resume)
    assert step.position.kind == "welcome", step.position
    return step


def test_the_offer_follows_the_emergency_sentence_and_names_no_topic(engine):
    step = welcome(engine)
    assert [u.id for u in step.before] == GREETING
    assert [u.id for u in step.utterances] == ["call.welcome_back"]
    assert step.listen is not None and step.listen.timeout == WELCOME_TIMEOUT < engine.rules.key_timeout
    assert not step.listen.speech
    leaflet = engine.catalogue.leaflets[0]
    named = {leaflet.title, *(s.title for s in leaflet.sections), *(s.label for s in leaflet.sections)}
    offer = step.utterances[0].text
    assert not any(name.casefold() in offer.casefold() for name in named), offer  # phones are shared


def test_no_offer_when_there_is_nothing_to_carry_on_with(engine):
    plain = engine.answer(at(engine))
    assert plain.position.kind == "sections"
    last = engine.catalogue.leaflets[0].sections[-1]
    for resume in (None, Resume(SLUG, last.number, len(last.parts), ended=True),  # finished the leaflet
                   Resume("a-leaflet-since-withdrawn", 1, 1), Resume(SLUG, 99, 1)):
        assert engine.answer(at(engine), resume) == plain, resume


def test_a_section_heard_to_its_end_carries_on_with_the_next(engine):
    assert welcome(engine, Resume(SLUG, 2, 3, ended=True)).position.but(kind="read") == Position("read", SLUG, 3, 1)
    assert welcome(engine, Resume(SLUG, 3, 99)).position.part == 4  # a paragraph since removed: the section's last


def test_key_1_carries_on_at_the_paragraph_saying_where_and_the_caveat(engine):
    step = engine.respond(welcome(engine).position, Keys("1"), at(engine))
    assert isinstance(step, Step) and step.position == Position("read", SLUG, 3, 2)
    assert ids(step) == ["reading.where", "reading.stale", f"leaflet/{SLUG}/3/2"]
    start = engine.respond(welcome(engine, Resume(SLUG, 3, 1)).position, Keys("1"), at(engine))
    assert isinstance(start, Step)
    assert ids(start) == ["reading.where", "reading.section_start", "reading.stale", f"leaflet/{SLUG}/3/1"]


def test_any_other_key_is_the_main_menus_own(engine):
    top = engine.answer(at(engine)).position
    offered = welcome(engine).position
    for key in KEYPAD.replace("1", ""):
        assert engine.respond(offered, Keys(key), at(engine)) == engine.respond(top, Keys(key), at(engine)), key


def test_silence_or_words_not_understood_give_the_greeting_menu(talking):
    greeting = talking.answer(at(talking))
    menu = Step(greeting.position, (), greeting.utterances, greeting.listen, greeting.then)
    offered = welcome(talking)
    assert [u.id for u in offered.utterances] == ["call.welcome_back_say"] and offered.listen.speech
    assert talking.respond(offered.position, NoInput(), at(talking)) == menu
    assert talking.respond(offered.position, Heard("purple elephant", 0.9), at(talking)) == menu
    assert talking.respond(offered.position, Heard("carry on", 0.2), at(talking)) == menu  # not sure: no guess
    resumed = talking.respond(offered.position, Heard("carry on", 0.9), at(talking))
    assert resumed == talking.respond(offered.position, Keys("1"), at(talking))
    assert talking.respond(offered.position, Heard("continue", 0.9), at(talking)) == resumed


def test_the_offer_travels_in_its_url_and_a_tampered_one_settles(engine):
    offered = welcome(engine).position
    assert Position.from_params(offered.params()) == offered
    for stale in (offered.but(slug="gone"), offered.but(section=42), offered.but(part=77)):
        assert engine.enter(stale, at(engine)).position.kind == "sections", stale


# --- real calls to a real server ------------------------------------------------------------------

INDEX = SpeechIndex.from_settings(load_settings({
    "IVR_LEAFLETS_DIR": str(LEAFLETS), "TWILIO_AUTH_TOKEN": "test-auth-token", "IVR_SPEECH": "say"}))


class Line:
    """A real server for these settings, started again (same instance folder) between calls."""

    def __init__(self, config: dict[str, object], tmp_path: Path) -> None:
        self.config, self.tmp_path = config, tmp_path
        self.server: LiveServer | None = None
        self.logs: list[str] = []

    def start(self, **settings: object) -> LiveServer:
        self.stop()
        self.config.update(settings)
        self.server = start_server(self.config, self.tmp_path)
        return self.server

    def stop(self) -> None:
        """As in service (SIGTERM): the call log's writer writes what it gathered on the way out."""
        if self.server is not None:
            self.server.process.terminate()
            assert self.server.process.wait(timeout=20) == 0
            self.logs.append(self.server.log())
            self.server = None

    def call(self, keys: list[str | None], caller: str = CALLER) -> list[str | None]:
        assert self.server is not None
        transcript = simulate_call(self.server.url + "/voice", token=self.server.token, keys=keys,
                                   from_number=caller, index=INDEX)
        assert not transcript.failed, transcript.text(urls=True)
        return transcript.ids()

    def log(self) -> str:
        return "".join(self.logs) + (self.server.log() if self.server is not None else "")


@pytest.fixture
def line(app_config, tmp_path) -> Iterator[Line]:
    # A generous budget where the offer is expected: a first look-up on a loaded test machine may
    # open the database; the default's own cost is measured by scripts/bench_welcome_back.py.
    app_config.update(IVR_LEAFLETS_DIR=str(LEAFLETS), IVR_SPEECH="say", IVR_WELCOME_BACK_WAIT_MS="1000")
    found = Line(app_config, tmp_path)
    yield found
    found.stop()


LISTENED = ["3", None]  # section 3 from the main menu, its first paragraph; they hang up as the second begins
OFFERED = [*GREETING, "call.welcome_back_say"]


@pytest.mark.slow
def test_a_second_call_is_offered_to_carry_on_and_key_1_resumes_at_the_paragraph(line):
    line.start()
    first = line.call(LISTENED)
    assert first[:2] == GREETING and "call.welcome_back_say" not in first  # a first call: no offer
    assert first[-1] == f"leaflet/{SLUG}/3/1"  # the line had sent them on to the second: it carries on there
    line.start()
    assert line.call(["1", None]) == [*OFFERED, "reading.where", "reading.stale", f"leaflet/{SLUG}/3/2"]
    assert "call.welcome_back_say" not in line.call([None], caller=OTHER_CALLER)  # only the caller who listened
    assert CALLER not in line.log() and CALLER[1:] not in line.log()


@pytest.mark.slow
def test_another_key_acts_as_in_the_main_menu_and_silence_gives_it(line, instance_dir):
    line.start()
    line.call(LISTENED)
    new_pressed = line.call(["2"], caller=OTHER_CALLER)  # presses 2 once the first choice is heard
    new_silent = line.call([None, None], caller=THIRD_CALLER)
    assert new_pressed[2].startswith("menu.")  # the first choice (the index cannot tell its two "Say X" forms apart)
    line.start()
    pressed_two = line.call(["2"])  # presses 2 once the offer is heard
    assert pressed_two[:3] == OFFERED and pressed_two[3:] == new_pressed[3:]  # as a new caller pressing 2
    silent = line.call([None, None, None])  # silence at the offer: then the greeting's menu, as a new caller
    assert silent[:3] == OFFERED and silent[3:] == new_silent[2:]
    assert "menu.stay_open" in silent
    line.stop()
    with sqlite3.connect(instance_dir / "ivr.sqlite3") as db:
        last = db.execute("SELECT stage, past_first_menu FROM calls ORDER BY id DESC LIMIT 1").fetchone()
    assert last == ("sections", 0)  # the offer is before the main menu: the figures still say so


@pytest.mark.slow
def test_no_offer_once_the_leaflet_was_heard_to_its_end(line):
    last = load_catalogue(LEAFLETS).leaflets[0].sections[-1]  # its key in the main menu is its number
    line.start()
    line.call([str(last.number), *[None] * len(last.parts)])  # the last section, every paragraph, then its end
    line.start()
    assert line.call([None])[2] != "call.welcome_back_say"


@pytest.mark.slow
def test_no_offer_when_welcome_back_is_turned_off(line):
    line.start()
    line.call(LISTENED)
    line.start(IVR_WELCOME_BACK_DAYS="0")
    assert "call.welcome_back_say" not in line.call([None])


@pytest.mark.slow
def test_no_offer_when_the_database_is_down(line):
    line.start(IVR_DATABASE_URL=f"postgresql+psycopg://ivr@127.0.0.1:{free_port()}/ivr")  # nothing listens there
    for _ in range(2):
        heard = line.call(["3", None])
        assert heard[:2] == GREETING and "call.welcome_back_say" not in heard
    line.stop()
    assert "welcome back: not offered" in line.log()


@pytest.mark.slow
def test_no_offer_when_the_look_up_is_slower_than_its_budget(line, instance_dir):
    line.start()
    line.call(LISTENED)
    line.start(IVR_WELCOME_BACK_WAIT_MS="20")
    holder = sqlite3.connect(instance_dir / "ivr.sqlite3", isolation_level=None)
    try:  # another process holds the database: the server's read waits for its busy timeout (3 s)
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        heard = line.call([None])
    finally:
        holder.close()
    assert heard[:2] == GREETING and "call.welcome_back_say" not in heard
    assert "welcome back: not offered: the call log did not answer within 20 ms" in line.log()



# --- the look-up itself, on each database ---------------------------------------------------------

def _listened(sid: str, caller: str, start: dt.datetime, reads: list[tuple[int, int]], *,
              ended: bool = False) -> list:
    """The facts of a call that was sent to these (section, part)s, and heard the last section's end."""
    form, found = {"CallSid": sid, "From": caller}, []
    steps = [("voice.answer", StepFacts("sections", SLUG))]
    steps += [("voice.at", StepFacts("read", SLUG, s, p, Read(SLUG, s, p, "normal"))) for s, p in reads]
    if ended:
        steps.append(("voice.at", StepFacts("end", SLUG, reads[-1][0], reads[-1][1])))
    for n, (endpoint, step) in enumerate(steps):
        found.append((webhook_facts(endpoint, form, step, start + dt.timedelta(seconds=10 * n),
                                    first_menu=("sections", SLUG)), 10.0))
    return found


def test_the_look_up_finds_the_last_part_sent_in_the_latest_call_of_the_period(database_url):
    store = Store(database_url)
    store.migrate()
    now = dt.datetime.now(dt.UTC)
    record_batch(store, [
        *_listened("CA-old", CALLER, now - dt.timedelta(days=40), [(1, 1)]),
        *_listened("CA-first", CALLER, now - dt.timedelta(days=3), [(2, 1), (2, 2)]),
        *_listened("CA-latest", CALLER, now - dt.timedelta(days=1), [(4, 3), (4, 4)], ended=True),
        *_listened("CA-menu-only", CALLER, now - dt.timedelta(hours=1), []),  # rang again, chose nothing
        *_listened("CA-other", OTHER_CALLER, now - dt.timedelta(days=50), [(3, 2)]),
    ], secret="k")
    hashed = caller_hash("k", CALLER)
    assert hashed is not None
    assert last_listen(store, hashed, now - dt.timedelta(days=30)) == Resume(SLUG, 4, 4, ended=True)
    assert last_listen(store, hashed, now - dt.timedelta(hours=12)) is None  # only the call that chose nothing
    assert last_listen(store, "0" * 64, now - dt.timedelta(days=30)) is None
    returning = ReturningCallers(store, "k", days=30, wait_ms=5000)
    assert returning.lookup(CALLER, now) == Resume(SLUG, 4, 4, ended=True)
    assert returning.lookup(OTHER_CALLER, now) is None  # listened, but 50 days ago
    assert returning.lookup(None, now) is None and returning.lookup("", now) is None  # withheld
    assert ReturningCallers(store, "k", days=0, wait_ms=5000).lookup(CALLER, now) is None
    store.engine.dispose()


# --- the look-up's one statement against the three it replaced, and its budget inline ----------

def reference_last_listen(store: Store, hashed: str, since: dt.datetime) -> Resume | None:
    """The look-up as it was, three Core statements (kept here to compare the one statement with):
    the caller's RECENT_CALLS latest calls since ``since``; their latest "read" by (at, id); an
    "end" of its section after it in its call."""
    calls = (select(CallRecord.call_sid)
             .where(CallRecord.caller_hash == hashed, CallRecord.started_at >= since)
             .order_by(CallRecord.started_at.desc()).limit(RECENT_CALLS))
    with store.reading() as connection:
        sids = list(connection.execute(calls).scalars())
        if not sids:
            return None
        found = connection.execute(
            select(CallEvent.call_sid, CallEvent.leaflet, CallEvent.section, CallEvent.part, CallEvent.at, CallEvent.id)
            .where(CallEvent.call_sid.in_(sids), CallEvent.kind == "read")
            .order_by(CallEvent.at.desc(), CallEvent.id.desc()).limit(1)).first()
        if found is None or found.leaflet is None or found.section is None or found.part is None:
            return None
        ended = connection.execute(select(CallEvent.id).where(
            CallEvent.call_sid == found.call_sid, CallEvent.kind == "end", CallEvent.leaflet == found.leaflet,
            CallEvent.section == found.section,
            or_(CallEvent.at > found.at, and_(CallEvent.at == found.at, CallEvent.id > found.id))).limit(1)).first()
    return Resume(found.leaflet, found.section, found.part, ended=ended is not None)


SECRET = "k"
EPOCH = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def random_log(store: Store, rng: random.Random, callers: list[str]) -> dict[str, list[dt.datetime]]:
    """Calls from these numbers (0 to 30 each, so some past RECENT_CALLS), within an hour, so
    overlapping, with "read", "end" and "key" events on a coarse clock: many events share a moment,
    within a call and across a caller's calls, so that (at, id) decides; now and then a read with no
    part; some callers seldom choose anything (their place is calls back). Returns when each
    caller's calls started."""
    calls, events, starts = [], [], {}
    for n, number in enumerate(callers):
        listens = rng.choice([0.05, 0.2, 1.0])
        starts[number] = [EPOCH + dt.timedelta(minutes=m) for m in rng.sample(range(60), rng.randrange(31))]
        for start in starts[number]:  # no two of a caller's calls start together: "latest" is never a tie
            sid = f"CA{n:03d}x{start.minute:02d}"
            calls.append({"call_sid": sid, "caller_hash": caller_hash(SECRET, number), "started_at": start,
                          "ended_at": start, "stage": "read", "webhooks": 1})
            for _ in range(rng.randrange(7) if rng.random() < listens else 0):
                kind = rng.choice(["read", "read", "end", "key"])
                events.append({"call_sid": sid, "at": start + dt.timedelta(minutes=rng.randrange(4)), "kind": kind,
                               "leaflet": rng.choice(["a", "b"]), "section": rng.randrange(1, 3),
                               "part": None if kind == "read" and rng.random() < 0.05 else rng.randrange(1, 4)})
    rng.shuffle(events)  # ids in no particular order of time
    with store.transaction() as session:
        session.execute(insert(CallRecord), calls)
        session.execute(insert(CallEvent), events)
    return starts


def test_the_one_statement_finds_what_the_three_did(database_url):
    store = Store(database_url)
    store.migrate()
    rng = random.Random(16)
    callers = [f"+4477009{n:05d}" for n in range(150)]
    starts = random_log(store, rng, callers)
    # Rang RECENT_CALLS times, then once more: only the first call chose anything.
    for number, times in (("+447700700020", RECENT_CALLS), ("+447700700021", RECENT_CALLS + 1)):
        facts = []
        for n in range(times):
            facts += _listened(f"CA-{number}-{n}", number, EPOCH + dt.timedelta(minutes=n), [(2, 3)] if n == 0 else [])
        record_batch(store, facts, secret=SECRET)
    since = EPOCH - dt.timedelta(days=1)
    assert [last_listen(store, caller_hash(SECRET, number) or "", since)
            for number in ("+447700700020", "+447700700021")] == [Resume(SLUG, 2, 3), None]
    returning = ReturningCallers(store, SECRET, days=30, wait_ms=5000)
    compared = found = 0
    for number in [*callers, "+447700700020", "+447700700021", "+447700800000"]:
        hashed = caller_hash(SECRET, number)
        assert hashed is not None
        moments = [EPOCH - dt.timedelta(days=1), EPOCH + dt.timedelta(minutes=rng.randrange(62))]
        moments += rng.sample(starts.get(number, []), min(2, len(starts.get(number, []))))  # one of their calls' starts
        for since in moments:
            expected = reference_last_listen(store, hashed, since)
            assert last_listen(store, hashed, since) == expected, (number, since)
            # as the webhook asks (inline on SQLite, on a worker thread on PostgreSQL)
            assert returning.lookup(number, since + dt.timedelta(days=30)) == expected, (number, since)
            compared, found = compared + 1, found + (expected is not None)
    assert compared > 500 and 250 < found < compared - 100  # both kinds of answer, often
    store.engine.dispose()


BUDGET_MS = 20
MARGIN = 0.05  # seconds, for a loaded test machine; without the budget these waits are 3 s, or the whole scan


def sqlite_log(tmp_path: Path, facts: list) -> str:
    """A SQLite call log holding these facts, and no connection left open to it (another may then
    hold the file to itself)."""
    url = f"sqlite:///{tmp_path / 'ivr.sqlite3'}"
    writer = Store(url)
    writer.migrate()
    record_batch(writer, facts, secret=SECRET)
    del writer
    gc.collect()  # its engines' pools, and their connections, closed
    return url


def timed_lookups(returning: ReturningCallers, times: int, caplog) -> list[float]:
    """How long each of ``times`` look-ups of CALLER took; each must have found nothing and said why."""
    took = []
    with caplog.at_level(logging.WARNING, logger="ivr.calllog.returning"):
        for _ in range(times):
            started = time.monotonic()
            assert returning.lookup(CALLER, dt.datetime.now(dt.UTC)) is None
            took.append(time.monotonic() - started)
    assert caplog.text.count(f"welcome back: not offered: the call log did not answer within {BUDGET_MS} ms") == times
    return took


def test_a_database_held_by_another_connection_is_not_waited_for_past_the_budget(tmp_path, caplog):
    now = dt.datetime.now(dt.UTC)
    url = sqlite_log(tmp_path, _listened("CA-latest", CALLER, now - dt.timedelta(days=1), [(4, 3)]))
    holder = sqlite3.connect(tmp_path / "ivr.sqlite3", isolation_level=None)
    try:  # another process has the file to itself as a worker starts: its first look-up opens the connection
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        returning = ReturningCallers(Store(url), SECRET, days=30, wait_ms=BUDGET_MS)
        took = timed_lookups(returning, 2, caplog)
    finally:
        holder.close()
    assert all(BUDGET_MS / 2000 < t < BUDGET_MS / 1000 + MARGIN for t in took), took  # it waited, up to the budget
    assert returning.lookup(CALLER, now) == Resume(SLUG, 4, 3)  # once the file is free


def test_a_writer_holding_a_database_not_in_wal_mode_is_not_waited_for_past_the_budget(tmp_path, caplog):
    now = dt.datetime.now(dt.UTC)
    url = sqlite_log(tmp_path, _listened("CA-latest", CALLER, now - dt.timedelta(days=1), [(4, 3)]))
    with sqlite3.connect(tmp_path / "ivr.sqlite3", isolation_level=None) as db:
        assert db.execute("PRAGMA journal_mode = DELETE").fetchone() == ("delete",)  # where readers do wait
    returning = ReturningCallers(Store(url), SECRET, days=30, wait_ms=BUDGET_MS)
    assert returning.lookup(CALLER, now) == Resume(SLUG, 4, 3)  # this thread's connection is open
    holder = sqlite3.connect(tmp_path / "ivr.sqlite3", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        took = timed_lookups(returning, 2, caplog)
    finally:
        holder.close()
    assert all(BUDGET_MS / 2000 < t < BUDGET_MS / 1000 + MARGIN for t in took), took
    assert returning.lookup(CALLER, now) == Resume(SLUG, 4, 3)  # the same connection, once the writer is done


def test_a_statement_slower_than_the_budget_is_interrupted(tmp_path, caplog):
    now = dt.datetime.now(dt.UTC)
    facts = []
    for n in range(RECENT_CALLS + 5):
        facts += _listened(f"CA-{n}", CALLER, now - dt.timedelta(hours=n + 1), [(1, 1), (1, 2)])
    url = sqlite_log(tmp_path, facts)
    with sqlite3.connect(tmp_path / "ivr.sqlite3") as db:
        # A busy call log whose indexes for the look-up are gone: each of the caller's calls is
        # searched for from the newest event back, past every other call's since.
        db.execute("DROP INDEX ix_call_events_call_sid_kind_at_id")
        db.executemany("INSERT INTO call_events (call_sid, at, kind) VALUES (?, ?, 'key')", (
            (f"CA-other-{n // 5}", (now + dt.timedelta(milliseconds=n)).strftime("%Y-%m-%d %H:%M:%S.%f"))
            for n in range(40_000)))
    store = Store(url)
    hashed = caller_hash(SECRET, CALLER)
    assert hashed is not None
    started = time.monotonic()
    assert last_listen(store, hashed, now - dt.timedelta(days=30)) == Resume(SLUG, 1, 2)  # no budget
    unbounded = time.monotonic() - started
    assert unbounded > 4 * BUDGET_MS / 1000, unbounded  # slow for real
    returning = ReturningCallers(store, SECRET, days=30, wait_ms=BUDGET_MS)
    took = timed_lookups(returning, 2, caplog)
    assert all(t < BUDGET_MS / 1000 + MARGIN for t in took), (took, unbounded)
    store.engine.dispose()


def test_each_thread_and_each_forked_process_reads_on_a_connection_of_its_own(tmp_path):
    now = dt.datetime.now(dt.UTC)
    store = Store(sqlite_log(tmp_path, _listened("CA-latest", CALLER, now - dt.timedelta(days=1), [(2, 2)])))
    returning = ReturningCallers(store, SECRET, days=30, wait_ms=1000)
    assert returning.lookup(CALLER, now) == Resume(SLUG, 2, 2)
    found: list[object] = []
    assert run_together(lambda _n: found.append(returning.lookup(CALLER, now)), range(4)) == []
    assert found == [Resume(SLUG, 2, 2)] * 4
    ours = returning._inline.connection
    child = os.fork()
    if child == 0:  # a gunicorn worker forked after the look-up had run: its own connection, the same answer
        ok = False
        try:
            ok = returning.lookup(CALLER, now) == Resume(SLUG, 2, 2) and returning._inline.connection is not ours
        finally:
            os._exit(0 if ok else 1)
    assert os.waitpid(child, 0)[1] == 0
    assert returning.lookup(CALLER, now) == Resume(SLUG, 2, 2) and returning._inline.connection is ours
    store.engine.dispose()
