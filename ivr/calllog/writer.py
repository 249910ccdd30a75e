"""The call log's background writer: webhooks hand their facts over and go on answering calls.

A thread in each server process gathers the facts that arrive within :data:`LINGER_SECONDS`
and writes them in one transaction (:func:`ivr.calllog.record.record_batch`). Writing each
webhook's facts on its own cost more CPU than answering the webhook, and a sync worker cannot
take the next call meanwhile (``scripts/bench_webhook.py`` measures both).

The call log is best effort, unlike messages and call-backs: the facts of the last
``LINGER_SECONDS`` die with a process that is killed (a graceful stop writes them first, at
exit), facts are dropped, and logged, when the database fails or the queue is full, and nothing
waits for the disk. Other workers' last second is not yet in the database when a page is read.

The thread starts with the first fact a process submits, so a process forked after the writer
was made (a gunicorn worker) gets a thread of its own.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import sys
import threading
from collections import deque

from ivr.calllog.facts import Facts
from ivr.calllog.record import record_batch
from ivr.errors import StoreError
from ivr.store import Store

__all__ = ["GIL_SWITCH_SECONDS", "LINGER_SECONDS", "CallLogWriter"]

log = logging.getLogger(__name__)
LINGER_SECONDS = 1.0  # gather a batch this long: about 100 webhooks a transaction at 100 a second
MAX_BATCH = 500
MAX_QUEUE = 20_000  # about 100 s of webhooks at 200 a second, if the database stalls
# The thread runs this much nicer than the webhooks: its batches (the database's work, a few ms
# each) took a core from the request threads at just the wrong moments (at saturation, p99 2.0x
# the baseline's; 1.2x with no call log; 1.7x at this niceness). At 10 the kernel still gives it
# about a tenth of a busy core, twice what it needs at the line's most (4,000 webhooks a second).
WRITER_NICENESS = 10
# While the thread turns a batch into rows it holds the GIL, and the webhook waiting for it gets
# it back only after the switch interval (Python's default 5 ms, at every switch). At 1 ms the
# saturation p99 was lower in each of 10 rounds of two runs on 3 December (median 1.40-1.44x the
# baseline's against 1.51-1.54x); 0.5 and 0.2 ms were no better.
GIL_SWITCH_SECONDS = 0.001


class CallLogWriter:
    """Writes call-log facts to ``store`` from a background thread, in batches.

    Handing a fact over is an append to a deque: no lock is taken and no thread woken per
    webhook. The thread wakes for the first fact of a batch, sleeps out the linger, then takes
    everything gathered.
    """

    def __init__(self, store: Store, secret: str, *, linger: float = LINGER_SECONDS, max_queue: int = MAX_QUEUE) -> None:
        self.store, self._secret, self._linger, self._max_queue = store, secret, linger, max_queue
        self._pid = 0  # the process whose thread is running
        self._start_lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._pending: deque[tuple[Facts, float | None]] = deque()
        self._work = threading.Event()  # something is pending
        self._hurry = threading.Event()  # cut the linger short: a flush, or the process is ending
        self._stopping = False
        self._done = threading.Condition()
        self._submitted = self._finished = self._dropped = 0

    def submit(self, facts: Facts, seconds: float | None = None) -> None:
        """Queue ``facts`` (``seconds``: the length of the part read, if any) for writing. Never
        blocks: when the database has stalled long enough to fill the queue, drops them, logged."""
        self._ensure_thread()
        if len(self._pending) >= self._max_queue:
            self._dropped += 1
            if self._dropped in (1, 10, 100) or self._dropped % 1000 == 0:
                log.warning("call log: queue full (database too slow?): %d webhooks not logged", self._dropped)
            return
        self._pending.append((facts, seconds))
        self._submitted += 1  # one request thread a worker (gunicorn sync workers)
        if not self._work.is_set():
            self._work.set()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every fact submitted so far is written (or dropped); False on timeout."""
        target = self._submitted
        if self._pid != os.getpid():
            return True  # no thread here: nothing was submitted in this process
        self._hurry.set()
        with self._done:
            return self._done.wait_for(lambda: self._finished >= target, timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending and stop the thread (run at exit)."""
        if self._pid != os.getpid():
            return
        self._stopping = True
        self._hurry.set()
        self._work.set()
        self._thread.join(timeout)
        self._pid = 0

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid == os.getpid():
                return
            if self._pid:  # forked from a process whose thread did not come along: start afresh
                self._reset()
            sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_SECONDS))
            self._thread = threading.Thread(target=self._run, name="call-log-writer", daemon=True)
            self._thread.start()
            self._pid = os.getpid()
            atexit.register(self.close)

    def _run(self) -> None:
        if sys.platform == "linux":  # there a thread's id names the thread alone (elsewhere: the process)
            with contextlib.suppress(OSError):
                me = threading.get_native_id()
                os.setpriority(os.PRIO_PROCESS, me, min(19, os.getpriority(os.PRIO_PROCESS, me) + WRITER_NICENESS))
        while True:
            self._work.wait()
            self._hurry.wait(self._linger)
            self._hurry.clear()
            self._work.clear()  # before taking the batch: a fact added from now on sets it again
            batch = [self._pending.popleft() for _ in range(min(len(self._pending), MAX_BATCH))]
            if len(self._pending):
                self._work.set()  # more than one batch's worth: go round again at once
                self._hurry.set()
            if batch:
                self._write(batch)
            with self._done:
                self._finished += len(batch)
                self._done.notify_all()
            if self._stopping and not self._pending:
                return

    def _write(self, batch: list[tuple[Facts, float | None]]) -> None:
        try:
            record_batch(self.store, batch, secret=self._secret)
        except StoreError as exc:
            log.warning("call log: could not record %d webhooks: %s", len(batch), exc)
        except Exception:  # never let the log kill its own thread
            log.exception("call log: unexpected fault recording %d webhooks", len(batch))
