"""Render jobs in worker processes: a per-file timeout, one retry, fresh processes regularly.

pyttsx3 with eSpeak can hang or leak in long loops, and eSpeak can only be initialised once
per process, so nothing is synthesised in the caller's process. Each worker holds one
:class:`~ivr.speech.synth.Synthesiser` and takes one job at a time over a pipe; the parent
kills a worker whose job overruns its timeout, replaces a worker after
:data:`JOBS_PER_WORKER` jobs or after any engine error, and gives each failed job one more
try in a fresh worker. Workers come from a ``forkserver`` (never ``fork``: the parent may have
threads, e.g. the progress bar's, whose locks a forked child would inherit).
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

__all__ = ["JOBS_PER_WORKER", "Job", "Outcome", "run_jobs"]

log = logging.getLogger(__name__)

JOBS_PER_WORKER = 40
_START_TIMEOUT = 60.0  # seconds for a new worker to load eSpeak and say it is ready


@dataclass(frozen=True)
class Job:
    name: str  # what the operator is told: "leaflet/<slug>/1/2 (slow)"
    text: str
    voice: str
    rate: int  # pyttsx3 rate setting
    target: Path  # final telephone file
    scratch: Path  # folder for eSpeak's raw output


@dataclass(frozen=True)
class Outcome:
    job: Job
    duration: float | None  # seconds of audio; None when the job failed
    error: str | None = None


def _work(conn: Connection) -> None:
    """Worker main loop: say ready, then render jobs until told to stop or an engine error."""
    from ivr.speech.audio import AudioError, process_file
    from ivr.speech.synth import Synthesiser, SynthesisError

    try:
        synth = Synthesiser()
    except Exception as exc:  # the engine could not start: tell the parent, then leave
        conn.send(("dead", f"eSpeak could not start: {exc}"))
        return
    conn.send(("ready", None))
    while True:
        job: Job | None = conn.recv()
        if job is None:
            return
        raw = job.scratch / f"{job.target.stem}.{os.getpid()}.raw.wav"
        try:
            voice_missing = job.voice not in synth.voices()
            synth.render(job.text, raw, voice=job.voice, rate=job.rate)
            result = process_file(raw, job.target)
        except (SynthesisError, AudioError, OSError) as exc:
            # A missing voice fails the same way every time: no retry, and the engine is fine.
            conn.send(("failed" if voice_missing else "broken", str(exc)))
            if not voice_missing:
                return  # the engine may be in a bad state: the parent starts a fresh worker
            continue
        finally:
            with contextlib.suppress(FileNotFoundError):
                raw.unlink()
        conn.send(("done", result.duration))


class _Worker:
    def __init__(self, context: Any) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_work, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.ready = False
        self.job: Job | None = None
        self.attempt = 0
        self.deadline = time.monotonic() + _START_TIMEOUT
        self.done = 0

    def give(self, job: Job, attempt: int, timeout: float) -> None:
        self.job, self.attempt = job, attempt
        self.deadline = time.monotonic() + timeout
        self.conn.send(job)

    def stop(self, *, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            with contextlib.suppress(OSError, BrokenPipeError):
                self.conn.send(None)
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def run_jobs(
    jobs: Sequence[Job],
    *,
    workers: int,
    timeout: float,
    retries: int = 1,
    on_outcome: Callable[[Outcome], None] = lambda outcome: None,
) -> list[Outcome]:
    """Run every job; return one Outcome each (in completion order), calling ``on_outcome``
    as each finishes. Never raises for a failing job: a job that fails ``1 + retries`` times
    (timeout, engine error, crashed worker) comes back with its last error. A job whose voice
    does not exist is not retried.
    """
    context = multiprocessing.get_context("forkserver")
    # Workers fork from a server that has already imported numpy, soxr, pyloudnorm and pyttsx3
    # (and not the caller's __main__, the default, which may be a script with side effects).
    context.set_forkserver_preload(["numpy", "soundfile", "soxr", "pyloudnorm", "ivr.speech.audio", "ivr.speech.synth"])
    run = _Run(context, jobs, workers=workers, timeout=timeout, retries=retries, on_outcome=on_outcome)
    try:
        while run.pending or any(worker.job is not None for worker in run.pool):
            run.start_and_give()
            first_deadline = min((worker.deadline for worker in run.pool), default=math.inf)
            ready = wait(
                [worker.conn for worker in run.pool] + [worker.process.sentinel for worker in run.pool],
                timeout=None if first_deadline == math.inf else max(0.0, first_deadline - time.monotonic()),
            )
            for worker in list(run.pool):
                if worker.conn in ready:
                    run.heard(worker)
                elif worker.process.sentinel in ready or time.monotonic() > worker.deadline:
                    run.silent(worker)
            if run.start_failures >= 3:
                run.fail_the_rest()  # eSpeak will not start at all: rather than loop forever
    finally:
        for worker in list(run.pool):
            if worker.job is not None:
                run.finish(worker.job, retries, None, "interrupted", retry=False)
            run.retire(worker, kill=worker.job is not None)
    return run.outcomes


class _Run:
    """The state of one :func:`run_jobs`: jobs waiting, the workers, the outcomes so far."""

    def __init__(self, context: Any, jobs: Sequence[Job], *, workers: int, timeout: float, retries: int,
                 on_outcome: Callable[[Outcome], None]) -> None:
        self.context, self.workers, self.timeout, self.retries = context, workers, timeout, retries
        self.on_outcome = on_outcome
        self.pending: deque[tuple[Job, int]] = deque((job, 0) for job in jobs)
        self.outcomes: list[Outcome] = []
        self.pool: list[_Worker] = []
        self.start_failures = 0
        self.start_error = "eSpeak could not start in a worker process"

    def finish(self, job: Job, attempt: int, duration: float | None, error: str | None, *, retry: bool) -> None:
        if error is not None and retry and attempt < self.retries:
            log.info("retrying %s after: %s", job.name, error)
            self.pending.appendleft((job, attempt + 1))
            return
        outcome = Outcome(job, duration, error)
        self.outcomes.append(outcome)
        self.on_outcome(outcome)

    def retire(self, worker: _Worker, *, kill: bool) -> None:
        worker.stop(kill=kill)
        self.pool.remove(worker)

    def start_and_give(self) -> None:
        """Start workers up to what the jobs left need, and give each idle ready one a job."""
        busy = sum(w.job is not None for w in self.pool)
        while self.pending and len(self.pool) < min(self.workers, len(self.pending) + busy):
            self.pool.append(_Worker(self.context))
        for worker in self.pool:
            if worker.ready and worker.job is None and self.pending:
                job, attempt = self.pending.popleft()
                worker.give(job, attempt, self.timeout)

    def heard(self, worker: _Worker) -> None:
        """A message from ``worker``: ready, a job done, or a failure (its job retried or failed)."""
        try:
            kind, value = worker.conn.recv()
        except (EOFError, OSError):
            kind, value = "broken", "the worker process died"
        if kind == "ready":
            worker.ready, worker.deadline, self.start_failures = True, math.inf, 0
            return
        current, attempt = worker.job, worker.attempt
        worker.job, worker.deadline = None, math.inf
        if kind == "done":
            worker.done += 1
            self.finish(current, attempt, value, None, retry=False)  # type: ignore[arg-type]
            if worker.done >= JOBS_PER_WORKER:
                self.retire(worker, kill=False)
            return
        if current is not None:
            self.finish(current, attempt, None, value, retry=kind == "broken")
        if kind != "failed":
            if current is None:
                self.start_failures += 1
                self.start_error = value or self.start_error
            self.retire(worker, kill=True)

    def silent(self, worker: _Worker) -> None:
        """``worker`` died, or overran its deadline (to start, or for its job): stopped, its job retried."""
        current, attempt = worker.job, worker.attempt
        if current is None:
            self.start_failures += 1
        elif worker.process.is_alive():
            self.finish(current, attempt, None, f"no audio within the {self.timeout:g} s timeout", retry=True)
        else:
            self.finish(current, attempt, None, "the worker process died", retry=True)
        self.retire(worker, kill=True)

    def fail_the_rest(self) -> None:
        while self.pending:
            job, _ = self.pending.popleft()
            self.finish(job, self.retries, None, self.start_error, retry=False)
