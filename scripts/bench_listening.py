"""Benchmark the listening analytics (not a test): prints figures, asserts nothing.

    .venv/bin/python scripts/bench_listening.py [--calls-a-day N] [--days D]

Fills a temporary SQLite call log with D days of synthetic calls (each: the main menu, a section,
some parts heard whole, some cut short by a key, a status callback; a tenth never past the main
menu), through the line's own writer functions, then times, each best of three:

- baseline: reading the period's rows (calls and events, columns only) from the database;
- the dashboard's figures for 7, 30 and 90 days (reading plus :func:`ivr.calllog.stats.summarise`);
- ``/metrics``' listening gauges (one 90-day read, summed for all three periods).

Ratios are against the baseline read of the same run, so they hold on any machine: how much the
analysis costs on top of fetching what it needs. The gauges are kept 5 minutes, so a scrape pays
this at most that often.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ivr.calllog import CallEnd, record_batch, record_call_end, webhook_facts
from ivr.calllog.facts import Facts, Key, Read, StepFacts
from ivr.calllog.stats import load_period, period_start, summarise
from ivr.config import load_settings
from ivr.runtime import load_runtime
from ivr.store import Store
from ivr.web.calllog import section_lengths
from ivr.web.metrics_listening import _families

SLUG = "cryotherapy-for-kidney-cancer"


def best_of(runs: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


def one_call(number: int, start: dt.datetime, parts: dict[int, int], rng: random.Random) -> tuple[list[Facts], CallEnd]:
    sid, caller = f"CA{number:032x}", f"+4477009{rng.randrange(10000):05d}"
    form = {"CallSid": sid, "From": caller}
    at = start

    def webhook(endpoint: str, step: StepFacts) -> Facts:
        found = webhook_facts(endpoint, form, step, at, first_menu=("sections", SLUG))
        assert found is not None
        return found

    found = [webhook("voice.answer", StepFacts("sections", SLUG))]
    if rng.random() >= 0.1:
        section = rng.choice(sorted(parts))
        for part in range(1, parts[section] + 1):
            key = Key("sections", str(section)) if part == 1 else None
            at += dt.timedelta(seconds=rng.uniform(1, 15))
            found.append(webhook("voice.key" if key else "voice.at",
                                 StepFacts("read", SLUG, section, part, Read(SLUG, section, part, "normal"), key=key)))
            if rng.random() < 0.2:
                break  # hangs up
    at += dt.timedelta(seconds=rng.uniform(1, 10))
    return found, CallEnd(sid, caller, "completed", int((at - start).total_seconds()) + 5, at)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls-a-day", type=int, default=300)
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    runtime = load_runtime(load_settings({"TWILIO_AUTH_TOKEN": "bench"}))
    lengths = section_lengths(runtime)
    leaflet = runtime.catalogue.by_slug(SLUG)
    assert leaflet is not None
    parts = {n: len(s.parts) for n in range(1, 10) if (s := leaflet.section(n)) is not None}
    rng = random.Random(16)
    now = dt.datetime.now(dt.UTC)
    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as folder:
        store = Store(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        store.migrate()
        filled = time.perf_counter()
        number = 0
        for day in range(args.days):
            batch: list[tuple[Facts, float | None]] = []
            ends = []
            for _ in range(args.calls_a_day):
                number += 1
                start = now - dt.timedelta(days=day, seconds=rng.uniform(0, 86000))
                facts, end = one_call(number, start, parts, rng)
                batch += [(f, 10.0 if f.read else None) for f in facts]
                ends.append(end)
            record_batch(store, batch, secret="bench")
            for end in ends:
                record_call_end(store, end, secret="bench")
        print(f"{number} calls over {args.days} days written in {time.perf_counter() - filled:.1f} s")

        def read(days: int) -> object:
            return load_period(store, period_start(now, days), now)

        baseline = {days: best_of(3, lambda days=days: read(days)) for days in (7, 30, 90)}
        for days in (7, 30, 90):
            period = load_period(store, period_start(now, days), now)
            figures = summarise(period, runtime.catalogue, lengths, now, days)
            full = best_of(3, lambda days=days: summarise(read(days), runtime.catalogue, lengths, now, days))
            print(f"dashboard, {days:2d} days: {len(period.calls):6d} calls, {len(period.events):7d} events, "
                  f"{full * 1000:7.1f} ms (read alone {baseline[days] * 1000:6.1f} ms: x{full / baseline[days]:.2f}); "
                  f"{sum(s.plays for s in figures.sections)} plays")
        gauges = best_of(3, lambda: _families(store, runtime.catalogue, lengths, now))
        print(f"/metrics listening gauges, all three periods: {gauges * 1000:7.1f} ms "
              f"(x{gauges / baseline[90]:.2f} the 90-day read)")
        store.engine.dispose()


if __name__ == "__main__":
    main()
