"""Returning callers: where a caller last listened, from the call log, in a few milliseconds or not at all.

A call is answered once the greeting's TwiML is back with Twilio, so this look-up sits in front
of every caller's first words, and costs every ``/voice`` request its CPU. It is waited for at
most IVR_WELCOME_BACK_WAIT_MS: slower, or the database down, and the call is answered without
the offer (logged). It never raises.

The caller is found by the keyed hash of their number the call log keeps (never the number);
their place is the last leaflet part the line sent them to hear in their latest call within
IVR_WELCOME_BACK_DAYS, and whether that section was then heard to its end (an "end" event after
it). Whether that is worth offering (the leaflet still there, not finished) is the call engine's
decision (:meth:`ivr.dialogue.engine.CallEngine.answer`).

Why it is built so (``scripts/bench_welcome_back.py``: on SQLite ~40 µs of CPU for a caller with
20 calls, ~10 µs for a number never seen, where three Core statements on a worker thread cost
1.1 ms and 0.33 ms):

- One statement (:data:`LAST_LISTEN_SQL`), its text made once per driver and run through it:
  building and compiling SQLAlchemy selects cost more CPU than the database's work. Every step
  is an index probe on an index holding all its conditions and its order (migration 0007), and
  there is no join for a planner to turn into a scan: as one join of calls and events,
  PostgreSQL with stale statistics scanned every event (40 ms on 170,000 events).
- On a SQLite file it runs inline, on a connection of the request thread's own
  (:meth:`ivr.store.Store.sqlite_reader`: autocommit, so a deferred read, which in WAL mode never
  waits for the call log's writer): a worker thread, its future and the wait cost more CPU than
  the look-up. SQLite keeps the budget: a busy timeout of the budget (the file held by another
  connection), and a progress handler that interrupts the statement once the budget has passed.
  The caller waits at most the budget plus a few milliseconds: the interval between progress
  checks (:data:`PROGRESS_STEPS`, microseconds), getting the GIL back for a check while another
  thread runs (up to the switch interval, 1 ms once the call log's writer runs), and a thread's
  first look-up opening its connection (a file open; the schema is read under the busy timeout).
  A process forked after a connection was opened (a gunicorn worker) opens its own and leaves
  the parent's alone.
- Elsewhere (PostgreSQL, SQLite in memory) the same statement runs on a worker thread, waited for
  at most the budget: a server that does not answer holds a connection attempt for seconds, which
  nothing inline can cut short. At most :data:`MAX_IN_FLIGHT` of these run at once in a process;
  while a stuck database holds them, later calls do not queue behind them: they are answered
  without the offer.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import functools
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Dialect

from ivr.calllog.record import caller_hash
from ivr.dialogue.steps import Resume
from ivr.errors import StoreError
from ivr.store import Store
from ivr.store.models import UTCDateTime

__all__ = ["LAST_LISTEN_SQL", "MAX_IN_FLIGHT", "PROGRESS_STEPS", "RECENT_CALLS", "ReturningCallers", "last_listen"]

log = logging.getLogger(__name__)
MAX_IN_FLIGHT = 2  # worker-thread look-ups running at once per process; a sync worker answers one call at a time
RECENT_CALLS = 20  # a caller's latest calls searched for a part heard (a caller who rang 20 times without listening: no offer)
PROGRESS_STEPS = 1000  # SQLite steps between looks at the clock (tens of µs); a caller with 20 calls takes ~900

# The caller's latest calls since a moment; each one's latest "read" (at and id: two probes of the
# same index entry); the latest of those by (at, id), NULLS LAST being a call with none; that
# event, and whether an "end" of its section came after it in its call. Parameters: the caller's
# hash, the moment. {p} is the driver's parameter marker.
LAST_LISTEN_SQL = f"""
WITH recent AS (
    SELECT call_sid FROM calls
    WHERE caller_hash = {{p}} AND started_at >= {{p}}
    ORDER BY started_at DESC
    LIMIT {RECENT_CALLS}
), latest AS (
    SELECT (SELECT r.at FROM call_events r WHERE r.call_sid = recent.call_sid AND r.kind = 'read'
            ORDER BY r.at DESC, r.id DESC LIMIT 1) AS at,
           (SELECT r.id FROM call_events r WHERE r.call_sid = recent.call_sid AND r.kind = 'read'
            ORDER BY r.at DESC, r.id DESC LIMIT 1) AS id
    FROM recent
)
SELECT e.call_sid, e.leaflet, e.section, e.part,
       EXISTS (SELECT 1 FROM call_events n
               WHERE n.call_sid = e.call_sid AND n.kind = 'end' AND n.at >= e.at
                 AND (n.at > e.at OR n.id > e.id)
                 AND n.leaflet = e.leaflet AND n.section = e.section) AS ended
FROM call_events e
WHERE e.id = (SELECT id FROM latest ORDER BY at DESC NULLS LAST, id DESC LIMIT 1)
"""

_MARKERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
_INHERITED: list[sqlite3.Connection] = []  # a parent's connections in a forked child: kept, never used nor closed


@functools.lru_cache(maxsize=8)
def _prepared(dialect: Dialect) -> tuple[str, Callable[[dt.datetime], Any]]:
    """The statement for this dialect's driver, and how the moment is passed to it (as the call
    log stores times: naive UTC, on SQLite as text)."""
    marker = _MARKERS.get(dialect.paramstyle)
    if marker is None:
        raise StoreError(f"the welcome-back look-up cannot use this database driver (paramstyle {dialect.paramstyle}).")
    to_db = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)  # the dialect's own: SQLite's text
    return LAST_LISTEN_SQL.format(p=marker), to_db if to_db is not None else (lambda moment: moment)


def _resume(row: Sequence[Any] | None) -> Resume | None:
    if row is None:
        return None
    _sid, leaflet, section, part, ended = row
    if leaflet is None or section is None or part is None:
        return None
    return Resume(leaflet, section, part, ended=bool(ended))


def last_listen(store: Store, hashed: str, since: dt.datetime) -> Resume | None:
    """Where the caller with this keyed hash last listened in calls started since ``since``, or
    None, with no time limit. StoreError when the database fails."""
    sql, to_db = _prepared(store.engine.dialect)
    with store.reading() as connection:
        row = connection.exec_driver_sql(sql, (hashed, to_db(since))).first()
    return _resume(row)


class _Inline(threading.local):
    """A thread's own SQLite connection for look-ups, the process it was opened in, and the
    moment its progress handler interrupts the statement at."""

    pid = 0
    connection: sqlite3.Connection | None = None
    deadline: list[float]  # a cell the handler reads, so that it holds no reference to the connection

    def __init__(self) -> None:
        self.deadline = [0.0]


class ReturningCallers:
    """Looks returning callers up within a time budget. Safe to share between threads; a process
    forked after it was made (a gunicorn worker) gets threads and connections of its own."""

    def __init__(self, store: Store, secret: str, *, days: int, wait_ms: int) -> None:
        self.store, self._secret, self.days, self.wait_ms = store, secret, days, wait_ms
        self._inline = _Inline() if store.sqlite_file else None
        self._pid = 0
        self._start_lock = threading.Lock()

    def lookup(self, number: str | None, now: dt.datetime) -> Resume | None:
        """Where the caller from ``number`` last listened, or None: off (0 days), number withheld,
        never listened, or no answer within the budget (logged). Never raises."""
        hashed = caller_hash(self._secret, number or "") if self.days else None
        if hashed is None:
            return None
        since = now - dt.timedelta(days=self.days)
        try:
            if self._inline is not None:
                return self._lookup_inline(self._inline, hashed, since)
            return self._lookup_on_worker(hashed, since)
        except concurrent.futures.TimeoutError:
            log.warning("welcome back: not offered: the call log did not answer within %d ms", self.wait_ms)
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.OperationalError) and _out_of_time(exc):
                log.warning("welcome back: not offered: the call log did not answer within %d ms", self.wait_ms)
            else:  # the file replaced, damaged, unreadable...: a new connection next time
                log.warning("welcome back: not offered: the database could not be read (%s: %s)",
                            type(exc).__name__, exc)
                self._forget_connection()
        except StoreError as exc:
            log.warning("welcome back: not offered: %s", exc)
        except Exception:  # a fault here must never cost the caller their call
            log.exception("welcome back: not offered: unexpected fault looking the caller up")
            self._forget_connection()
        return None

    # --- on a SQLite file: inline -----------------------------------------------------------------

    def _lookup_inline(self, inline: _Inline, hashed: str, since: dt.datetime) -> Resume | None:
        if inline.connection is None or inline.pid != os.getpid():
            self._forget_connection()
            connection = self.store.sqlite_reader(busy_timeout_ms=self.wait_ms)
            cell = inline.deadline
            connection.set_progress_handler(lambda: time.monotonic() > cell[0], PROGRESS_STEPS)
            inline.connection, inline.pid = connection, os.getpid()
        sql, to_db = _prepared(self.store.engine.dialect)
        inline.deadline[0] = time.monotonic() + self.wait_ms / 1000
        # Read to its end, so that no read transaction stays open (it would hold back checkpoints).
        rows = inline.connection.execute(sql, (hashed, to_db(since))).fetchall()
        return _resume(rows[0] if rows else None)

    def _forget_connection(self) -> None:
        """The next look-up in this thread opens a connection of its own: after a failure (the
        file may have been replaced or damaged), or in a forked child (the parent's is kept open,
        never used: closing it here could touch the parent's locks)."""
        inline = self._inline
        if inline is not None and inline.connection is not None:
            connection, inline.connection = inline.connection, None
            if inline.pid == os.getpid():
                connection.close()
            else:
                _INHERITED.append(connection)

    # --- elsewhere: on a worker thread ----------------------------------------------------------

    def _pool(self) -> tuple[concurrent.futures.ThreadPoolExecutor, threading.BoundedSemaphore]:
        if self._pid != os.getpid():
            with self._start_lock:
                if self._pid != os.getpid():
                    self._executor = concurrent.futures.ThreadPoolExecutor(MAX_IN_FLIGHT, "returning-callers")
                    self._slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)
                    self._pid = os.getpid()
        return self._executor, self._slots

    def _lookup_on_worker(self, hashed: str, since: dt.datetime) -> Resume | None:
        """TimeoutError past the budget; StoreError when the database fails."""
        executor, slots = self._pool()
        if not slots.acquire(blocking=False):
            log.warning("welcome back: not offered: %d earlier look-ups are still waiting for the database",
                        MAX_IN_FLIGHT)
            return None
        try:
            future = executor.submit(last_listen, self.store, hashed, since)
        except RuntimeError:  # the executor is shutting down (the process is ending)
            slots.release()
            return None
        future.add_done_callback(lambda _done: slots.release())
        return future.result(timeout=self.wait_ms / 1000)


def _out_of_time(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite gave up for the budget: interrupted by the progress handler, or the database
    still locked when the busy timeout ran out."""
    return exc.sqlite_errorcode & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_INTERRUPT)
