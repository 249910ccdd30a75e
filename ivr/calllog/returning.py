"""Returning callers: where a caller last listened, from the call log, in a few milliseconds or not at all.

A call is answered once the greeting's TwiML is back with Twilio, so this look-up sits in front
of every caller's first words. It runs on a worker thread and is waited for at most
IVR_WELCOME_BACK_WAIT_MS: slower, or the database down, and the call is answered without the
offer (logged). At most :data:`MAX_IN_FLIGHT` look-ups run at once in a process; while a stuck
database holds them, later calls do not queue behind them: they are answered without the offer.

The caller is found by the keyed hash of their number the call log keeps (never the number);
their place is the last leaflet part the line sent them to hear in their latest call within
IVR_WELCOME_BACK_DAYS, and whether that section was then heard to its end (an "end" event after
it). Whether that is worth offering (the leaflet still there, not finished) is the call engine's
decision (:meth:`ivr.dialogue.engine.CallEngine.answer`).
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import logging
import os
import threading

from sqlalchemy import and_, or_, select

from ivr.calllog.record import caller_hash
from ivr.dialogue.steps import Resume
from ivr.errors import StoreError
from ivr.store import Store
from ivr.store.models import CallEvent, CallRecord

__all__ = ["MAX_IN_FLIGHT", "ReturningCallers", "last_listen"]

log = logging.getLogger(__name__)
MAX_IN_FLIGHT = 2  # look-ups running at once per process; a sync worker answers one call at a time
RECENT_CALLS = 20  # a caller's latest calls searched for a part heard (a caller who rang 20 times without listening: no offer)


def last_listen(store: Store, hashed: str, since: dt.datetime) -> Resume | None:
    """Where the caller with this keyed hash last listened in calls started since ``since``, or
    None. StoreError when the database fails.

    Their calls first (the caller-hash index), then those calls' events (the call-sid index):
    two index look-ups whatever the planner's statistics say. As one join, PostgreSQL with stale
    statistics scanned every event (40 ms on 170,000 events; ``scripts/bench_welcome_back.py``)."""
    calls = (
        select(CallRecord.call_sid)
        .where(CallRecord.caller_hash == hashed, CallRecord.started_at >= since)
        .order_by(CallRecord.started_at.desc())
        .limit(RECENT_CALLS)
    )
    with store.reading() as connection:
        sids = list(connection.execute(calls).scalars())
        if not sids:
            return None
        found = connection.execute(
            select(CallEvent.call_sid, CallEvent.leaflet, CallEvent.section, CallEvent.part, CallEvent.at, CallEvent.id)
            .where(CallEvent.call_sid.in_(sids), CallEvent.kind == "read")
            .order_by(CallEvent.at.desc(), CallEvent.id.desc())
            .limit(1)
        ).first()
        if found is None or found.leaflet is None or found.section is None or found.part is None:
            return None
        ended = connection.execute(
            select(CallEvent.id).where(
                CallEvent.call_sid == found.call_sid, CallEvent.kind == "end", CallEvent.leaflet == found.leaflet,
                CallEvent.section == found.section,
                or_(CallEvent.at > found.at, and_(CallEvent.at == found.at, CallEvent.id > found.id)),
            ).limit(1)
        ).first()
    return Resume(found.leaflet, found.section, found.part, ended=ended is not None)


class ReturningCallers:
    """Looks returning callers up within a time budget. Safe to share between threads; a process
    forked after it was made (a gunicorn worker) gets threads of its own."""

    def __init__(self, store: Store, secret: str, *, days: int, wait_ms: int) -> None:
        self.store, self._secret, self.days, self.wait_ms = store, secret, days, wait_ms
        self._pid = 0
        self._start_lock = threading.Lock()

    def _pool(self) -> tuple[concurrent.futures.ThreadPoolExecutor, threading.BoundedSemaphore]:
        if self._pid != os.getpid():
            with self._start_lock:
                if self._pid != os.getpid():
                    self._executor = concurrent.futures.ThreadPoolExecutor(MAX_IN_FLIGHT, "returning-callers")
                    self._slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)
                    self._pid = os.getpid()
        return self._executor, self._slots

    def lookup(self, number: str | None, now: dt.datetime) -> Resume | None:
        """Where the caller from ``number`` last listened, or None: off (0 days), number withheld,
        never listened, or no answer within the budget (logged). Never raises."""
        hashed = caller_hash(self._secret, number or "") if self.days else None
        if hashed is None:
            return None
        executor, slots = self._pool()
        if not slots.acquire(blocking=False):
            log.warning("welcome back: not offered: %d earlier look-ups are still waiting for the database",
                        MAX_IN_FLIGHT)
            return None
        try:
            future = executor.submit(last_listen, self.store, hashed, now - dt.timedelta(days=self.days))
        except RuntimeError:  # the executor is shutting down (the process is ending)
            slots.release()
            return None
        future.add_done_callback(lambda _done: slots.release())
        try:
            return future.result(timeout=self.wait_ms / 1000)
        except concurrent.futures.TimeoutError:
            log.warning("welcome back: not offered: the call log did not answer within %d ms", self.wait_ms)
        except StoreError as exc:
            log.warning("welcome back: not offered: %s", exc)
        except Exception:  # a fault here must never cost the caller their call
            log.exception("welcome back: not offered: unexpected fault looking the caller up")
        return None
