"""The listening analytics in ``/metrics``: gauges over the last 7, 30 and 90 days, from the call log.

The counters of :mod:`ivr.web.metrics` count as calls happen, so Prometheus can sum them over
any range. What a caller heard of a section is known only once the next webhook, or Twilio's
status callback, has come, perhaps to another server; so these figures are worked out from the
database (:mod:`ivr.calllog.stats`) at scrape time, for each period (label ``period``: ``7d``,
``30d``, ``90d``), and kept :data:`KEPT_SECONDS` so that frequent scrapes cost one query. When the
database fails they are left out of the page (logged), and the rest of ``/metrics`` still answers.

    ivr_section_plays{period,leaflet,section}              plays started (leaflet slug, section number)
    ivr_section_plays_heard_half{period,leaflet,section}   of them, heard to at least half the section
    ivr_section_plays_heard_end{period,leaflet,section}    of them, heard to the end
    ivr_section_listened_seconds{period,leaflet,section}   time listened
    ivr_period_calls{period}                               calls started
    ivr_period_calls_first_menu_only{period}               of them, never past the main menu
    ivr_period_calls_timed{period}                         of them, with Twilio's CallDuration
    ivr_period_call_seconds_average{period}                their average length
    ivr_period_callers{period}, ivr_period_repeat_callers{period}   callers, and those who rang again
    ivr_period_menu_hangups{period,menu}                   calls that ended in a menu, by menu (stage)
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ivr.calllog.listening import Lengths
from ivr.calllog.stats import MENU_STAGES, PERIODS, load_period, period_start, summarise
from ivr.content.catalogue import Catalogue
from ivr.errors import StoreError
from ivr.store import Store

__all__ = ["KEPT_SECONDS", "ListeningGauges"]

log = logging.getLogger(__name__)
KEPT_SECONDS = 300.0  # figures over days need not be fresher than a few minutes


def _families(store: Store, catalogue: Catalogue, lengths: Lengths, now: dt.datetime) -> list[Any]:
    from prometheus_client.core import GaugeMetricFamily

    def gauge(name: str, text: str, labels: tuple[str, ...] = ()) -> GaugeMetricFamily:
        return GaugeMetricFamily(name, text, labels=["period", *labels])

    section = ("leaflet", "section")
    plays = gauge("ivr_section_plays", "Plays of a leaflet section started in the period.", section)
    half = gauge("ivr_section_plays_heard_half", "Plays of the section heard to at least half its length.", section)
    end = gauge("ivr_section_plays_heard_end", "Plays of the section heard to its end.", section)
    listened = gauge("ivr_section_listened_seconds", "Seconds callers listened to the section.", section)
    calls = gauge("ivr_period_calls", "Calls started in the period.")
    first = gauge("ivr_period_calls_first_menu_only", "Calls in the period that never got past the main menu.")
    timed = gauge("ivr_period_calls_timed", "Calls in the period with a length from Twilio (CallDuration).")
    average = gauge("ivr_period_call_seconds_average", "Average length of the period's timed calls (CallDuration).")
    callers = gauge("ivr_period_callers", "Distinct callers in the period (by keyed hash; withheld numbers not counted).")
    repeat = gauge("ivr_period_repeat_callers", "Callers who rang more than once in the period.")
    hangups = gauge("ivr_period_menu_hangups", "Calls in the period that ended in a menu, by menu.", ("menu",))
    period = load_period(store, period_start(now, max(PERIODS)), now)
    for days in PERIODS:
        label = f"{days}d"
        figures = summarise(period, catalogue, lengths, now, days)
        for s in figures.sections:
            where = [label, s.slug, str(s.number)]
            plays.add_metric(where, s.plays)
            half.add_metric(where, s.to_half)
            end.add_metric(where, s.to_end)
            listened.add_metric(where, round(s.seconds, 1))
        calls.add_metric([label], figures.calls_period)
        first.add_metric([label], figures.first_menu_only)
        timed.add_metric([label], figures.timed_calls)
        if figures.average_seconds is not None:
            average.add_metric([label], round(figures.average_seconds, 1))
        callers.add_metric([label], figures.callers)
        repeat.add_metric([label], figures.repeat_callers)
        ended = Counter(c.stage for c in period.calls if c.started_at >= figures.since and c.stage in MENU_STAGES)
        for stage, count in sorted(ended.items()):
            hangups.add_metric([label, stage], count)
    return [plays, half, end, listened, calls, first, timed, average, callers, repeat, hangups]


@dataclass(eq=False)  # a collector is registered by identity
class ListeningGauges:
    """A prometheus collector of the listening figures, worked out at most every KEPT_SECONDS."""

    store: Store
    catalogue: Catalogue
    lengths: Lengths
    flush: Callable[[], None] = lambda: None  # writes this process's pending call log first
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    _kept: tuple[float, list[Any]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def collect(self) -> Any:
        with self._lock:
            if self._kept is None or time.monotonic() - self._kept[0] > KEPT_SECONDS:
                try:
                    self.flush()
                    self._kept = (time.monotonic(), _families(self.store, self.catalogue, self.lengths, self.clock()))
                except StoreError as exc:
                    log.warning("metrics: listening figures left out (database unavailable): %s", exc)
                    return
            families = self._kept[1]
        yield from families
