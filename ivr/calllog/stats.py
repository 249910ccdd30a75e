"""The dashboard's figures, summed from the call log. Times are counted in Europe/London.

"Heard" for a leaflet part is its length, cut short when the caller's next webhook came
sooner (a key pressed during it); for the part during which a caller hung up it is the whole
part (Twilio's status callback, which would say when, is not configured): an upper bound.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import select

from ivr.content.catalogue import Catalogue
from ivr.nurse.hours import LONDON
from ivr.store import Store
from ivr.store.models import CallEvent, CallRecord

__all__ = ["PERIOD_DAYS", "Dashboard", "SectionHeard", "dashboard", "place_name"]

PERIOD_DAYS = 30  # sections, drop-off, transfers and out-of-hours are over this many days


@dataclass(frozen=True)
class SectionHeard:
    leaflet: str  # title
    section: str  # title
    calls: int  # calls that heard some of it
    seconds: float


@dataclass(frozen=True)
class Dashboard:
    calls_today: int
    calls_week: int
    repeat_callers_week: int  # callers (by keyed hash) who called more than once this week
    average_seconds_week: float
    sections: list[SectionHeard]  # most heard first
    endings: list[tuple[str, int]]  # where calls ended, most first
    transfers_by_hour: list[tuple[int, int, int]]  # (hour, answered, missed), hours with any
    out_of_hours: tuple[int, int, int]  # nurse line reached while closed: today, this week, period
    out_of_hours_by_hour: list[tuple[int, int]]
    calls_period: int


def _titles(catalogue: Catalogue, slug: str | None, section: int | None) -> tuple[str, str]:
    leaflet = catalogue.by_slug(slug or "")
    if leaflet is None:
        return (slug or "unknown leaflet", "" if section is None else f"section {section}")
    found = leaflet.section(section) if section is not None else None
    if found is None:
        return leaflet.title, "" if section is None else f"section {section}"
    return leaflet.title, "Introduction" if found.number == 0 else found.title


STAGES = {
    "leaflets": "Main menu", "sections": "Section menu", "read": "Reading", "pause": "Paused while reading",
    "end": "End of a section", "code": "Keying in a leaflet code", "to-nurse": "Asking for a nurse",
    "nurse-ringing": "Ringing the nurses", "nurse-options": "Nurse line options",
    "nurse-message": "Leaving a message", "nurse-callback": "Giving a call-back number",
    "nurse-saved": "After leaving a message or call-back", "nurse-message_failed": "Message not saved",
    "nurse-callback_failed": "Call-back not saved", "goodbye": "The line said goodbye", "nurse": "Nurse line",
}


def place_name(catalogue: Catalogue, stage: str, slug: str | None, section: int | None) -> str:
    """Where a call was, in words: "Reading: Cryotherapy..., What it is"."""
    label = STAGES.get(stage, "Other")
    if stage in ("read", "pause", "end") and slug:
        leaflet, title = _titles(catalogue, slug, section)
        return f"{label}: {leaflet}, {title}" if title else f"{label}: {leaflet}"
    if stage == "sections" and slug:
        return f"{label}: {_titles(catalogue, slug, None)[0]}"
    return label


def _heard(events: list[CallEvent]) -> dict[tuple[str, int], tuple[set[str], float]]:
    """(leaflet, section) -> (calls, seconds heard), from events ordered by call and time."""
    out: dict[tuple[str, int], tuple[set[str], float]] = defaultdict(lambda: (set(), 0.0))
    for index, event in enumerate(events):
        if event.kind != "read" or event.leaflet is None or event.section is None:
            continue
        seconds = event.seconds or 0.0
        following = events[index + 1] if index + 1 < len(events) else None
        if following is not None and following.call_sid == event.call_sid:
            seconds = min(seconds, max(0.0, (following.at - event.at).total_seconds()))
        calls, total = out[(event.leaflet, event.section)]
        calls.add(event.call_sid)
        out[(event.leaflet, event.section)] = (calls, total + seconds)
    return out


def dashboard(store: Store, catalogue: Catalogue, now: dt.datetime) -> Dashboard:
    """The figures as of ``now`` (aware). StoreError if the database fails."""
    local = now.astimezone(LONDON)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - dt.timedelta(days=today.weekday())
    since = today - dt.timedelta(days=PERIOD_DAYS)  # always before the start of the week
    with store.transaction() as session:
        calls = list(session.scalars(select(CallRecord).where(CallRecord.started_at >= since)))
        events = list(session.scalars(
            select(CallEvent).where(CallEvent.at >= since).order_by(CallEvent.call_sid, CallEvent.at, CallEvent.id)
        ))
    this_week = [c for c in calls if c.started_at >= week]
    callers = Counter(c.caller_hash for c in this_week if c.caller_hash)
    lengths = [(c.ended_at - c.started_at).total_seconds() for c in this_week]
    heard = _heard(events)
    sections = sorted(
        (SectionHeard(*_titles(catalogue, slug, number), len(calls_), seconds)
         for (slug, number), (calls_, seconds) in heard.items()),
        key=lambda s: (-s.seconds, -s.calls, s.leaflet, s.section),
    )
    endings = Counter(place_name(catalogue, c.stage, c.leaflet, c.section) for c in calls)
    answered: Counter[int] = Counter()
    missed: Counter[int] = Counter()
    for call in calls:
        if call.transfer_status is not None and call.transfer_at is not None:
            hour = call.transfer_at.astimezone(LONDON).hour
            (answered if call.transfer_status == "answered" else missed)[hour] += 1
    closed = [c for c in calls if c.nurse_closed]
    closed_hours = Counter(c.started_at.astimezone(LONDON).hour for c in closed)
    return Dashboard(
        calls_today=sum(c.started_at >= today for c in calls),
        calls_week=len(this_week),
        repeat_callers_week=sum(n > 1 for n in callers.values()),
        average_seconds_week=sum(lengths) / len(lengths) if lengths else 0.0,
        sections=sections,
        endings=endings.most_common(),
        transfers_by_hour=[(h, answered[h], missed[h]) for h in range(24) if answered[h] or missed[h]],
        out_of_hours=(sum(c.started_at >= today for c in closed), sum(c.started_at >= week for c in closed), len(closed)),
        out_of_hours_by_hour=sorted(closed_hours.items()),
        calls_period=len(calls),
    )
