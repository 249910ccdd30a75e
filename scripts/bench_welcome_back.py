"""Benchmark the welcome-back look-up (not a test): prints figures, asserts nothing.

    .venv/bin/python scripts/bench_welcome_back.py [--calls-a-day N] [--days D] [--callers C]
        [--regulars R] [--lookups L] [--database-url URL] [--no-writes]

Fills a call log (a temporary SQLite file, or an empty database at --database-url) with D days
of synthetic calls from C callers (each: the greeting, then most read a few parts of a section,
some to its end), and one call a day from each of R regular callers (so each has more calls in
the period than the look-up searches), through the line's own writer functions. Then answers L
calls' look-ups, half from callers in the log and half from numbers never seen, as ``/voice`` does
(:meth:`ivr.calllog.returning.ReturningCallers.lookup`: inline on SQLite, on a worker thread
elsewhere; at most IVR_WELCOME_BACK_WAIT_MS), while a thread writes a batch of webhooks every second as the call
log's writer does (unless --no-writes). Each look-up is timed from the webhook's side.

Printed: p50 / p99 / max of the look-up against the budget, how many went over it (those calls
would have been answered without the offer), and the same for the baseline of this run: a
``SELECT 1`` through the same read connection (what any database round trip costs here). Then,
with the writes stopped, the CPU per look-up (the whole process's, so a worker thread's share
counts too) for a regular caller, a caller drawn from the log, and a number never seen: what each
``/voice`` request pays for the look-up.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import text

from ivr.calllog import record_batch, webhook_facts
from ivr.calllog.facts import Facts, Key, Read, StepFacts
from ivr.calllog.returning import ReturningCallers
from ivr.config import SETTINGS
from ivr.store import Store

SLUG = "cryotherapy-for-kidney-cancer"
PARTS = {1: 2, 2: 3, 3: 4, 4: 4}  # the seed leaflet's sections and their paragraphs
SECRET = "bench-secret"


def number_of(caller: int) -> str:
    return f"+4477009{caller:05d}"


def one_call(sid: int, caller: int, start: dt.datetime, rng: random.Random) -> list[Facts]:
    form = {"CallSid": f"CA{sid:032x}", "From": number_of(caller)}
    at = start

    def webhook(endpoint: str, step: StepFacts) -> Facts:
        found = webhook_facts(endpoint, form, step, at, first_menu=("sections", SLUG))
        assert found is not None
        return found

    found = [webhook("voice.answer", StepFacts("sections", SLUG))]
    if rng.random() < 0.15:
        return found  # never past the main menu
    section = rng.choice(sorted(PARTS))
    for part in range(1, PARTS[section] + 1):
        at += dt.timedelta(seconds=rng.uniform(5, 20))
        key = Key("sections", str(section)) if part == 1 else None
        found.append(webhook("voice.key" if key else "voice.at",
                             StepFacts("read", SLUG, section, part, Read(SLUG, section, part, "normal"), key=key)))
        if rng.random() < 0.25:
            return found  # hangs up
    at += dt.timedelta(seconds=rng.uniform(5, 20))
    found.append(webhook("voice.at", StepFacts("end", SLUG, section, PARTS[section])))  # heard to its end
    return found


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def describe(name: str, seconds: list[float], budget_ms: int) -> str:
    ms = [s * 1000 for s in seconds]
    over = sum(m > budget_ms for m in ms)
    return (f"{name}: p50 {statistics.median(ms):6.2f} ms, p99 {percentile(ms, 0.99):6.2f} ms, "
            f"max {max(ms):7.2f} ms; over the {budget_ms} ms budget: {over} of {len(ms)}")


def cpu_per_call(work: Callable[[str], object], numbers: list[str]) -> tuple[float, float]:
    """(CPU, wall) seconds per call of ``work`` on each number: CPU of every thread of the process."""
    cpu, wall = time.process_time(), time.perf_counter()
    for number in numbers:
        work(number)
    return (time.process_time() - cpu) / len(numbers), (time.perf_counter() - wall) / len(numbers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls-a-day", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--callers", type=int, default=8000)
    parser.add_argument("--regulars", type=int, default=40, help="callers who ring every day")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--no-writes", action="store_true", help="no call-log writes while looking up")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # a look-up over budget logs a warning per call
    budget_ms = int(SETTINGS["IVR_WELCOME_BACK_WAIT_MS"][0])
    days = int(SETTINGS["IVR_WELCOME_BACK_DAYS"][0])
    rng = random.Random(16)
    now = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as folder:
        store = Store(args.database_url or f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        store.migrate()
        filled, sid = time.perf_counter(), 0
        for day in range(args.days):
            batch: list[tuple[Facts, float | None]] = []
            for _ in range(args.calls_a_day):
                sid += 1
                start = now - dt.timedelta(days=day, seconds=rng.uniform(60, 86000))
                batch += [(f, 10.0 if f.read else None) for f in one_call(sid, rng.randrange(args.callers), start, rng)]
            for regular in range(args.regulars):
                sid += 1
                start = now - dt.timedelta(days=day, seconds=rng.uniform(60, 86000))
                batch += [(f, 10.0 if f.read else None) for f in one_call(sid, args.callers + regular, start, rng)]
            record_batch(store, batch, secret=SECRET)
        print(f"{sid} calls from {args.callers + args.regulars} callers over {args.days} days written in "
              f"{time.perf_counter() - filled:.1f} s ({store.engine.dialect.name})")

        stop = threading.Event()

        def keep_writing() -> None:  # as the call log's writer: a batch of 100 webhooks a second
            nonlocal sid
            while not stop.wait(1.0):
                batch = []
                for _ in range(25):
                    sid += 1
                    batch += [(f, 10.0 if f.read else None)
                              for f in one_call(sid, rng.randrange(args.callers), dt.datetime.now(dt.UTC), rng)]
                record_batch(store, batch, secret=SECRET)

        writer = threading.Thread(target=keep_writing, daemon=True)
        if not args.no_writes:
            writer.start()
        returning = ReturningCallers(store, SECRET, days=days, wait_ms=budget_ms)
        numbers = [number_of(rng.randrange(args.callers)) if i % 2 == 0 else f"+4477008{i:05d}"
                   for i in range(args.lookups)]
        returning.lookup(numbers[0], now)  # the first opens the read connection

        def select_one() -> None:
            with store.reading() as connection:
                connection.execute(text("SELECT 1"))

        baseline, lookups, offered = [], [], 0
        for number in numbers:  # alternated, so both see the same writes
            started = time.perf_counter()
            select_one()
            baseline.append(time.perf_counter() - started)
            started = time.perf_counter()
            found = returning.lookup(number, dt.datetime.now(dt.UTC))
            lookups.append(time.perf_counter() - started)
            offered += found is not None
        stop.set()
        if writer.is_alive():
            writer.join()
        print(describe("baseline (SELECT 1, same connection)", baseline, budget_ms))
        print(describe("welcome-back look-up, as /voice does", lookups, budget_ms))
        print(f"look-up / baseline: p50 x{statistics.median(lookups) / statistics.median(baseline):.1f}, "
              f"p99 x{percentile(lookups, 0.99) / percentile(baseline, 0.99):.1f}; "
              f"p99 is {percentile(lookups, 0.99) * 1000 / budget_ms:.0%} of the budget")
        print(f"{offered} of {len(numbers)} callers had a place to carry on from (half the numbers were never seen)")

        rounds = max(1, args.lookups // 2)
        now = dt.datetime.now(dt.UTC)
        groups: list[tuple[str, list[str]]] = [
            (f"a regular caller ({min(days, args.days)} calls in the period)",
             [number_of(args.callers + r) for r in range(args.regulars)]),
            ("a caller from the log", [number_of(rng.randrange(args.callers)) for _ in range(100)]),
            ("a number never seen", [f"+4477007{i:05d}" for i in range(100)]),
        ]
        print(f"CPU per look-up, no writes, {rounds} each (wall in brackets):")
        baseline_cpu, baseline_wall = cpu_per_call(lambda _number: select_one(), [""] * rounds)
        print(f"  baseline SELECT 1: {baseline_cpu * 1e6:7.1f} us ({baseline_wall * 1e6:.1f} us)")
        for name, group in groups:
            if not group:
                continue
            cpu, wall = cpu_per_call(lambda number: returning.lookup(number, now),
                                     (group * (rounds // len(group) + 1))[:rounds])
            print(f"  {name}: {cpu * 1e6:7.1f} us ({wall * 1e6:.1f} us)")
        store.engine.dispose()


if __name__ == "__main__":
    main()
