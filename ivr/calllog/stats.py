"""The dashboard's figures, summed from the call log over a chosen period. Times are counted in Europe/London.

A period of N days is today and the N - 1 days before it. Per leaflet section: plays started, and
how many were heard to half and to the end (:mod:`ivr.calllog.listening`). Per call: its real
length (Twilio's CallDuration, from the status callback; calls without one are left out of the
average and counted), whether it ever got past the main menu, where it was when the caller hung
up (the place of its last webhook), and repeat callers (by the keyed hash of their number).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from ivr.calllog.listening import EventRow, Lengths, Play, plays
from ivr.calllog.status import NO_WEBHOOK
from ivr.content.catalogue import Catalogue
from ivr.nurse.hours import LONDON
from ivr.store import Store
from ivr.store.models import CallEvent, CallRecord

__all__ = [
    "MENU_STAGES", "PERIODS", "PERIOD_DAYS", "CallRow", "Dashboard", "Period", "SectionFigures", "dashboard",
    "load_period", "period_start", "place_name", "summarise",
]

PERIOD_DAYS = 30  # the dashboard's period unless another is chosen
PERIODS = (7, 30, 90)  # the periods offered (days)
EVENT_KINDS = ("read", "end", "key", "said", "nurse")  # what listening needs
# Places where the line waits for a choice: hanging up there is dropping off in the menus.
MENU_STAGES = ("welcome", "leaflets", "sections", "end", "code", "nurse-options", "nurse-callback",
               "nurse-keyin", "nurse-number", "nurse-failed")

STAGES = {
    "welcome": "Offered to carry on where they left off",
    "leaflets": "Main menu", "sections": "Section menu", "read": "Reading", "pause": "Paused while reading",
    "end": "End of a section", "code": "Keying in a leaflet code", "to-nurse": "Asking for a nurse",
    "nurse-ringing": "Ringing the nurses", "nurse-options": "Nurse line options",
    "nurse-message": "Leaving a message", "nurse-callback": "Offered a call-back on their own number",
    "nurse-keyin": "Keying in a call-back number", "nurse-number": "Checking a call-back number",
    "nurse-saved": "After leaving a message or call-back", "nurse-failed": "Message or call-back not saved",
    "goodbye": "The line said goodbye", "nurse": "Nurse line",
    NO_WEBHOOK: "Before the line answered (no webhook logged: Twilio's fallback, or an early hang-up)",
}


@dataclass(frozen=True)
class CallRow:
    """The columns of a call that the figures need."""

    call_sid: str
    caller_hash: str | None
    started_at: dt.datetime
    ended_at: dt.datetime
    stage: str
    leaflet: str | None
    section: int | None
    nurse_requested: bool
    nurse_closed: bool
    transfer_status: str | None
    transfer_at: dt.datetime | None
    message_left: bool
    callback_left: bool
    past_first_menu: bool
    call_status: str | None
    duration_seconds: int | None
    hung_up_at: dt.datetime | None


@dataclass(frozen=True)
class Period:
    """The call log of a period: its calls, and the events that listening needs."""

    since: dt.datetime
    until: dt.datetime
    calls: list[CallRow]
    events: list[EventRow]


@dataclass(frozen=True)
class SectionFigures:
    slug: str
    number: int
    leaflet: str  # title
    section: str  # title
    plays: int  # plays started in the period
    to_half: int  # of them, heard to at least half the section
    to_end: int  # of them, heard to the end
    calls: int  # calls that heard some of it
    seconds: float  # time listened

    @property
    def half_share(self) -> float:
        return self.to_half / self.plays if self.plays else 0.0

    @property
    def end_share(self) -> float:
        return self.to_end / self.plays if self.plays else 0.0


@dataclass(frozen=True)
class Dashboard:
    days: int
    since: dt.datetime  # London time: the start of the period
    calls_today: int
    calls_week: int
    calls_period: int
    timed_calls: int  # calls of the period with Twilio's CallDuration
    average_seconds: float | None  # their average length; None when there are none
    first_menu_only: int  # calls of the period the line answered that never got past its main menu
    callers: int  # distinct callers (numbers withheld are not counted)
    repeat_callers: int  # of them, those who rang more than once in the period
    repeat_calls: int  # calls from repeat callers
    sections: list[SectionFigures]  # most played first
    menu_hangups: list[tuple[str, int]]  # where in the menus callers hung up, most first
    endings: list[tuple[str, int]]  # where calls ended, most first
    statuses: list[tuple[str, int]]  # Twilio's final CallStatus, most first ("unknown": none came)
    transfers_by_hour: list[tuple[int, int, int]]  # (hour, answered, missed), hours with any
    out_of_hours: tuple[int, int, int]  # nurse line reached while closed: today, this week, period
    out_of_hours_by_hour: list[tuple[int, int]]

    @property
    def first_menu_share(self) -> float:
        return self.first_menu_only / self.calls_period if self.calls_period else 0.0


def period_start(now: dt.datetime, days: int) -> dt.datetime:
    """Midnight (London) at the start of a period of ``days`` days ending today."""
    today = now.astimezone(LONDON).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - dt.timedelta(days=days - 1)


def _titles(catalogue: Catalogue, slug: str | None, section: int | None) -> tuple[str, str]:
    leaflet = catalogue.by_slug(slug or "")
    if leaflet is None:
        return (slug or "unknown leaflet", "" if section is None else f"section {section}")
    found = leaflet.section(section) if section is not None else None
    if found is None:
        return leaflet.title, "" if section is None else f"section {section}"
    return leaflet.title, "Introduction" if found.number == 0 else found.title


def place_name(catalogue: Catalogue, stage: str, slug: str | None, section: int | None) -> str:
    """Where a call was, in words: "Reading: Cryotherapy..., What it is"."""
    label = STAGES.get(stage, "Other")
    if stage in ("read", "pause", "end") and slug:
        leaflet, title = _titles(catalogue, slug, section)
        return f"{label}: {leaflet}, {title}" if title else f"{label}: {leaflet}"
    if stage == "sections" and slug:
        return f"{label}: {_titles(catalogue, slug, None)[0]}"
    return label


def load_period(store: Store, since: dt.datetime, until: dt.datetime) -> Period:
    """The calls started since ``since`` and their events (columns only: no ORM objects, a
    period may hold a great many). StoreError if the database fails."""
    call_columns = [getattr(CallRecord, name) for name in CallRow.__dataclass_fields__]
    event_columns = [getattr(CallEvent, name) for name in EventRow.__dataclass_fields__]
    with store.transaction() as session:
        calls = [CallRow(*row) for row in session.execute(
            select(*call_columns).where(CallRecord.started_at >= since).order_by(CallRecord.started_at))]
        events = [EventRow(*row) for row in session.execute(
            select(*event_columns).where(CallEvent.at >= since, CallEvent.kind.in_(EVENT_KINDS))
            .order_by(CallEvent.call_sid, CallEvent.at, CallEvent.id))]
    return Period(since, until, calls, events)


def _sections(catalogue: Catalogue, found: Sequence[Play], since: dt.datetime) -> list[SectionFigures]:
    by_section: dict[tuple[str, int], list[Play]] = {}
    for play in found:
        by_section.setdefault((play.leaflet, play.section), []).append(play)
    figures = []
    for (slug, number), section_plays in by_section.items():
        started = [p for p in section_plays if p.started_at >= since]
        figures.append(SectionFigures(
            slug, number, *_titles(catalogue, slug, number), plays=len(started),
            to_half=sum(p.to_half for p in started), to_end=sum(p.to_end for p in started),
            calls=len({p.call_sid for p in section_plays}), seconds=sum(p.listened for p in section_plays),
        ))
    return sorted(figures, key=lambda s: (-s.plays, -s.seconds, s.leaflet, s.number))


def summarise(period: Period, catalogue: Catalogue, lengths: Lengths, now: dt.datetime, days: int) -> Dashboard:
    """The figures of the last ``days`` days of ``period`` (which may hold more) as of ``now``. Never raises."""
    local = now.astimezone(LONDON)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - dt.timedelta(days=today.weekday())
    since = period_start(now, days)
    calls = [c for c in period.calls if c.started_at >= since]
    wanted = {c.call_sid for c in calls}
    events = [e for e in period.events if e.call_sid in wanted]
    closed_at = {c.call_sid: c.hung_up_at or c.ended_at for c in calls}
    timed = [c.duration_seconds for c in calls if c.duration_seconds is not None]
    callers = Counter(c.caller_hash for c in calls if c.caller_hash)
    answered: Counter[int] = Counter()
    missed: Counter[int] = Counter()
    for call in calls:
        if call.transfer_status is not None and call.transfer_at is not None:
            hour = call.transfer_at.astimezone(LONDON).hour
            (answered if call.transfer_status == "answered" else missed)[hour] += 1
    closed = [c for c in calls if c.nurse_closed]
    place = {c.call_sid: place_name(catalogue, c.stage, c.leaflet, c.section) for c in calls}
    return Dashboard(
        days=days, since=since,
        calls_today=sum(c.started_at >= today for c in calls),
        calls_week=sum(c.started_at >= week for c in period.calls),
        calls_period=len(calls),
        timed_calls=len(timed),
        average_seconds=sum(timed) / len(timed) if timed else None,
        first_menu_only=sum(not c.past_first_menu and c.stage != NO_WEBHOOK for c in calls),
        callers=len(callers),
        repeat_callers=sum(n > 1 for n in callers.values()),
        repeat_calls=sum(n for n in callers.values() if n > 1),
        sections=_sections(catalogue, plays(events, closed_at, lengths), since),
        menu_hangups=Counter(place[c.call_sid] for c in calls if c.stage in MENU_STAGES).most_common(),
        endings=Counter(place.values()).most_common(),
        statuses=Counter(c.call_status or "unknown" for c in calls).most_common(),
        transfers_by_hour=[(h, answered[h], missed[h]) for h in range(24) if answered[h] or missed[h]],
        out_of_hours=(sum(c.started_at >= today for c in closed), sum(c.started_at >= week for c in closed), len(closed)),
        out_of_hours_by_hour=sorted(Counter(c.started_at.astimezone(LONDON).hour for c in closed).items()),
    )


def dashboard(store: Store, catalogue: Catalogue, now: dt.datetime, *, lengths: Lengths,
              days: int = PERIOD_DAYS) -> tuple[Dashboard, Period]:
    """The figures of the last ``days`` days as of ``now`` (aware), and the call log they come
    from (the period, and this week when it began earlier). StoreError if the database fails."""
    week = period_start(now, 1) - dt.timedelta(days=now.astimezone(LONDON).weekday())
    period = load_period(store, min(period_start(now, days), week), now)
    return summarise(period, catalogue, lengths, now, days), period
