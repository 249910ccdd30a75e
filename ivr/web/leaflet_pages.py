"""What the public web copy of the leaflets shows, as data built once per process (no Flask).

Built from the same leaflet files as the phone: the *written* text (headings, paragraphs,
bullets, references) from the parsed :class:`~ivr.content.leaflet.Leaflet`, and for each section
the rendered speech of its parts at each rate (looked up in the manifest by the exact speech
text, so a player is offered only when every part of the section has audio at that rate). The
nurse line's number and hours come from the settings; every word around them from the web copy
(:mod:`ivr.web.copy`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import phonenumbers

from ivr.config import Settings
from ivr.content.catalogue import Catalogue
from ivr.content.leaflet import Block, Leaflet
from ivr.content.links import short_code
from ivr.content.review import DEFAULT_REVIEW_PERIOD_MONTHS, review_due
from ivr.content.speech_text import SpeechSection
from ivr.errors import LeafletFormatError
from ivr.nurse.hours import parse_hours
from ivr.nurse.numbers import check_e164
from ivr.speech.joined import joined_name, joined_seconds
from ivr.speech.manifest import RATES, Manifest, Rate
from ivr.web.copy import Copy

__all__ = [
    "LeafletPage",
    "NurseLine",
    "PageSection",
    "SectionAudio",
    "build_pages",
    "date_words",
    "hours_in_words",
    "length_words",
    "nurse_line",
    "review_overdue",
]


@dataclass(frozen=True)
class SectionAudio:
    rate: Rate
    name: str  # the joined file's name: 32 hex digits + ".wav"
    parts: tuple[str, ...]  # the rendered part files, in order
    seconds: float


@dataclass(frozen=True)
class PageSection:
    anchor: str  # "introduction", "section-1", ...
    title: str  # the written heading ("" for the introduction)
    blocks: tuple[Block, ...]
    audio: tuple[SectionAudio, ...]  # one per rate whose every part is rendered


@dataclass(frozen=True)
class LeafletPage:
    leaflet: Leaflet  # the written text, references, review date
    short_code: str
    intro: PageSection
    sections: tuple[PageSection, ...]


@dataclass(frozen=True)
class NurseLine:
    number: str  # as people write it: "01632 960001" (national format for a UK number)
    tel: str  # "tel:+441632960001"
    hours: tuple[str, ...]  # in words, one a line: "Monday to Friday, 9am to 5pm"; () when always open
    always: bool


def review_overdue(leaflet: Leaflet, today: dt.date, period_months: int = DEFAULT_REVIEW_PERIOD_MONTHS) -> bool:
    """Whether the page warns that the leaflet is overdue for review: past its ``next_review``, or
    its last review plus IVR_REVIEW_PERIOD_MONTHS (as the line says it on the phone)."""
    return today > review_due(leaflet.last_reviewed, leaflet.next_review, period_months)


def _audio(speech: SpeechSection, manifest: Manifest, audio_dir: Path) -> tuple[SectionAudio, ...]:
    found = []
    for rate in RATES:
        entries = [manifest.find(text, rate) for text in speech.parts]
        if speech.parts and all(entry and (audio_dir / entry.file).is_file() for entry in entries):
            parts = tuple(entry.file for entry in entries if entry)
            seconds = joined_seconds([entry.duration for entry in entries if entry])
            found.append(SectionAudio(rate, joined_name(parts), parts, seconds))
    return tuple(found)


def build_pages(catalogue: Catalogue, manifest: Manifest, audio_dir: Path) -> dict[str, LeafletPage]:
    """Every leaflet's page, by slug, in the catalogue's order. A section gets a player at a rate
    only when every part has audio in the manifest and its file is in ``audio_dir`` (with
    IVR_AUDIO_BASE_URL the files may live only on a CDN: then there is nothing here to join).

    Raises LeafletFormatError (naming both files) if two slugs hash to the same short code,
    which is vanishingly unlikely but would send a text message's link to the wrong leaflet.
    """
    pages: dict[str, LeafletPage] = {}
    owners: dict[str, Leaflet] = {}
    for leaflet, speech in zip(catalogue.sources, catalogue.leaflets, strict=True):
        code = short_code(leaflet.slug)
        if code in owners:
            raise LeafletFormatError(
                f"has the same short link /l/{code} as {owners[code].path}.", path=leaflet.path, line=1,
                hint="Change the slug of one of them: the short link is made from the slug.",
            )
        owners[code] = leaflet
        sections = tuple(
            PageSection(f"section-{number}", written.title, written.blocks, _audio(spoken, manifest, audio_dir))
            for number, (written, spoken) in enumerate(zip(leaflet.sections, speech.sections, strict=True), 1)
        )
        intro = PageSection("introduction", "", leaflet.intro, _audio(speech.intro, manifest, audio_dir))
        pages[leaflet.slug] = LeafletPage(leaflet, code, intro, sections)
    return pages


def date_words(date: dt.date, copy: Copy) -> str:
    """"17 January 2019", in the copy's words and order."""
    return copy.text("web.date", day=date.day, month=copy.text(f"web.months.{date.month}"), year=date.year)


def length_words(seconds: float, copy: Copy) -> str:
    """How long a recording plays, to the nearest 5 seconds: "35 seconds", "1 minute",
    "2 minutes 5 seconds" (never under 5 seconds, so never "1 second")."""
    minutes, rest = divmod(max(5, round(seconds / 5) * 5), 60)
    said_seconds = copy.text("web.length.seconds", seconds=rest) if rest else ""
    if not minutes:
        return said_seconds
    said_minutes = copy.text("web.length.one_minute") if minutes == 1 else copy.text("web.length.minutes", minutes=minutes)
    if not rest:
        return said_minutes
    return copy.text("web.length.minutes_seconds", minutes=said_minutes, seconds=said_seconds)


def _list_words(items: Sequence[str], copy: Copy) -> str:
    """"Monday", "Monday and Friday", "Monday, Wednesday and Friday"."""
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return copy.text("web.list.last", first=items[0], last=items[1])
    return copy.text("web.list.more", first=items[0], rest=_list_words(items[1:], copy))


def _time_words(minute_of_day: int, copy: Copy) -> str:
    """09:00 -> "9am", 13:30 -> "1:30pm", 12:00 -> "midday", 00:00 and 24:00 -> "midnight"."""
    hour, minute = divmod(minute_of_day % (24 * 60), 60)
    if minute == 0 and hour in (0, 12):
        return copy.text("web.hours.midnight" if hour == 0 else "web.hours.midday")
    half_day = copy.text("web.hours.am" if hour < 12 else "web.hours.pm")
    if minute == 0:
        return copy.text("web.hours.hour", hour=hour % 12 or 12, half_day=half_day)
    return copy.text("web.hours.hour_minute", hour=hour % 12 or 12, minute=f"{minute:02d}", half_day=half_day)


def hours_in_words(weekly: dict[int, tuple[tuple[int, int], ...]], copy: Copy) -> tuple[str, ...]:
    """Weekly opening hours (:func:`ivr.nurse.hours.parse_hours`) in words, one line per set of
    hours: ("Monday to Friday, 9am to 5pm", "Saturday, 10am to 1pm"). Days with the same hours
    share a line; a run of three or more days is "Monday to Friday"."""
    by_spans: dict[tuple[tuple[int, int], ...], list[list[int]]] = {}
    for day in sorted(weekly):
        runs = by_spans.setdefault(weekly[day], [])
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    lines = []
    for spans, runs in by_spans.items():
        names = []
        for run in runs:
            if len(run) >= 3:
                names.append(copy.text("web.hours.day_run", first=copy.text(f"web.days.{run[0]}"),
                                       last=copy.text(f"web.days.{run[-1]}")))
            else:
                names += [copy.text(f"web.days.{day}") for day in run]
        times = [copy.text("web.hours.span", start=_time_words(start, copy), end=_time_words(end, copy))
                 for start, end in spans]
        lines.append(copy.text("web.hours.day_times", days=_list_words(names, copy), times=_list_words(times, copy)))
    return tuple(lines)


def nurse_line(settings: Settings, copy: Copy) -> NurseLine | None:
    """The nurse helpline as the pages show it; None when there is none to offer (no usable
    IVR_NURSE_NUMBER, or IVR_NURSE_HOURS is ``never``). Raises ConfigError for malformed hours,
    as the nurse line itself does at start."""
    weekly = parse_hours(settings.nurse_hours)
    if check_e164(settings.nurse_number) is not None or not weekly:
        return None
    parsed = phonenumbers.parse(settings.nurse_number, None)
    uk = parsed.country_code == 44  # also the drama ranges (01632 960...), which have no region
    style = phonenumbers.PhoneNumberFormat.NATIONAL if uk else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    always = all(weekly.get(day) == ((0, 24 * 60),) for day in range(7))
    return NurseLine(
        number=phonenumbers.format_number(parsed, style),
        tel="tel:" + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        hours=() if always else hours_in_words(weekly, copy),
        always=always,
    )
