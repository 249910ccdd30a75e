"""Leaflet -> the exact text the speech synthesiser reads, in sections and parts.

A *part* is the unit a caller skips by (keys 4 and 6): a paragraph, or a bullet list together
with the paragraph that leads into it. Section 0 is the leaflet's introduction.

:func:`to_speech` applies these rules, in this order, to each piece of text:

1. whitespace: non-breaking and odd spaces become plain spaces;
2. dates: "17 Jan 2019", "17/01/2019" and "2019-01-17" -> "17 January 2019";
3. abbreviations and acronyms from ``ivr/data/lexicon.yaml`` ("MDT" -> "multidisciplinary team");
4. measurements with the units in the lexicon ("4cm" -> "4 centimetres", "1cm" -> "1 centimetre",
   "2-3mm" -> "2 to 3 millimetres"), and number ranges ("2-3" -> "2 to 3");
5. parenthesised asides are read between commas, keeping the leaflet's own words
   ("a camera (laparoscope) to see" -> "a camera, laparoscope, to see");
6. dashes between spaces are read as a pause (a comma);
7. pronunciations from ``ivr/data/pronunciations.yaml`` (spellings eSpeak NG says right).

The speech text never adds a word that is not in the leaflet, except the expansions listed in
those reviewed files, month names, and "to" in ranges. Bullet lists are read as a list with
pauses: each item its own sentence. References are never read.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cache

from ivr.content.leaflet import Block, BulletList, Leaflet, Paragraph
from ivr.content.rules import Lexicon, Replacement, lexicon

__all__ = ["SpeechLeaflet", "SpeechSection", "leaflet_speech", "spoken_date", "to_speech"]

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)
_MONTH_BY_ABBR = {name[:3].casefold(): number for number, name in enumerate(MONTHS, start=1)}
_MONTH_RE = "(" + "|".join(MONTHS) + "|Sept|" + "|".join(a.title() for a in _MONTH_BY_ABBR) + r")\.?"
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH_RE}(?:\s+(\d{{4}}))?(?![\w])")
_MONTH_YEAR = re.compile(rf"\b{_MONTH_RE}\s+(\d{{4}})\b")
_NUMERIC_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b")
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_NUMBER_RANGE = re.compile(r"(?<![\w.-])(\d+(?:\.\d+)?)\s*(?:-|–|—)\s*(\d+(?:\.\d+)?)(?![\w.-])")
_ASIDE = re.compile(r"\s*\(([^()]*)\)")
_SPACED_DASH = re.compile(r"\s+[-–—]+\s+")


@dataclass(frozen=True)
class SpeechSection:
    number: int  # 1-based position among the leaflet's sections; 0 is the introduction
    title: str  # the heading as speech text ("What it is")
    parts: tuple[str, ...]
    label: str = ""  # how menus name it ("what cryotherapy is"); the title when the leaflet gives none
    phrases: tuple[str, ...] = ()  # other words callers may use for it

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.title)


@dataclass(frozen=True)
class SpeechLeaflet:
    slug: str
    title: str  # speech text of the title
    code: str | None
    last_reviewed: dt.date
    last_reviewed_spoken: str  # "17 January 2019"
    source: str  # speech text of the source
    intro: SpeechSection  # number 0
    sections: tuple[SpeechSection, ...]
    next_review: dt.date | None = None  # None: three years after the last review
    phrases: tuple[str, ...] = ()  # other names callers may use for the leaflet

    def review_overdue(self, today: dt.date) -> bool:
        """Whether the leaflet is past its review date on ``today``."""
        due = self.next_review or self.last_reviewed.replace(year=self.last_reviewed.year + 3)
        return today > due

    def section(self, number: int) -> SpeechSection | None:
        """The section with this 1-based number, the introduction for 0, None if there is none."""
        if number == 0:
            return self.intro
        if 1 <= number <= len(self.sections):
            return self.sections[number - 1]
        return None


def spoken_date(date: dt.date) -> str:
    """"17 January 2019": the day as a number, the month in full (never locale-dependent)."""
    return f"{date.day} {MONTHS[date.month - 1]} {date.year}"


def _date_or_text(match: re.Match[str], year: int, month: int, day: int) -> str:
    try:
        return spoken_date(dt.date(year, month, day))
    except ValueError:
        return match.group(0)  # not a real date: read it as written


def _dates(text: str) -> str:
    text = _ISO_DATE.sub(lambda m: _date_or_text(m, int(m[1]), int(m[2]), int(m[3])), text)
    text = _NUMERIC_DATE.sub(lambda m: _date_or_text(m, int(m[3]), int(m[2]), int(m[1])), text)

    def day_month(m: re.Match[str]) -> str:
        return f"{int(m[1])} {_month(m[2])}" + (f" {m[3]}" if m[3] else "")

    text = _DAY_MONTH_YEAR.sub(day_month, text)
    return _MONTH_YEAR.sub(lambda m: f"{_month(m[1])} {m[2]}", text)


def _month(written: str) -> str:
    """The full month name for "Jan", "Sept.", "January" (the date patterns only match these)."""
    return MONTHS[_MONTH_BY_ABBR[written.rstrip(".").casefold()[:3]] - 1]


def _spoken(entry: Replacement, written: str) -> str:
    # A lower-case entry written with a capital starts a sentence: keep the capital.
    if entry.written.islower() and written[:1].isupper():
        return entry.spoken[:1].upper() + entry.spoken[1:]
    return entry.spoken


def _replace_words(text: str, entries: tuple[Replacement, ...]) -> str:
    for entry in entries:
        text = entry.pattern.sub(lambda m, entry=entry: _spoken(entry, m.group(0)), text)
    return text


@cache
def _unit_pattern(symbols: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(s) for s in sorted(symbols, key=len, reverse=True))
    number = r"\d+(?:\.\d+)?"
    return re.compile(
        rf"(?<![\w.])({number})(?:\s*(?:-|–|to)\s*({number}))?\s?({alternatives})(?![\w])"
    )


def _units(text: str, words: Lexicon) -> str:
    def spoken(m: re.Match[str]) -> str:
        one, many = words.units[m[3]]
        if m[2]:
            return f"{m[1]} to {m[2]} {many}"
        return f"{m[1]} {one if m[1] == '1' else many}"

    text = _unit_pattern(tuple(words.units)).sub(spoken, text)
    return _NUMBER_RANGE.sub(r"\1 to \2", text)


def _asides(text: str) -> str:
    # Innermost first, so nested brackets are read the same way.
    while True:
        changed = _ASIDE.sub(lambda m: f", {m[1].strip()},", text)
        if changed == text:
            break
        text = changed
    text = re.sub(r"^\s*,\s*", "", text)  # an aside that opened the sentence
    text = re.sub(r",\s*([.,;:!?])", r"\1", text)  # ", ." -> "."
    return re.sub(r"([.;:!?])\s*,", r"\1", text)  # "(See below.)," -> "See below."


def to_speech(text: str) -> str:
    """One piece of leaflet text as the synthesiser should read it (rules: module docstring).

    Raises ContentError only if a rule file in ``ivr/data`` is malformed (on first use).
    """
    words = lexicon()
    text = " ".join(text.split())
    text = _dates(text)
    text = _replace_words(text, words.abbreviations)
    text = _units(text, words)
    text = _asides(text)
    text = _SPACED_DASH.sub(", ", text)
    text = _replace_words(text, words.pronunciations)
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    return " ".join(text.split()).strip(" ,")


def _sentence(text: str) -> str:
    """A piece read as a sentence of its own: a capital first, a full stop last (for the pause)."""
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ":")) else text.rstrip(",;") + "."


def _parts(blocks: tuple[Block, ...]) -> tuple[str, ...]:
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            parts.append(_sentence(to_speech(block.text)))
        elif isinstance(block, BulletList):
            items = " ".join(_sentence(to_speech(item).rstrip(":")) for item in block.items)
            if parts and parts[-1].endswith(":"):
                parts[-1] = f"{parts[-1]} {items}"  # a list joins the sentence that leads into it
            else:
                parts.append(items)
    return tuple(parts)


def leaflet_speech(leaflet: Leaflet) -> SpeechLeaflet:
    """The speech text of a whole leaflet; references are never read.

    Raises ContentError only if a rule file in ``ivr/data`` is malformed.
    """
    return SpeechLeaflet(
        slug=leaflet.slug,
        title=to_speech(leaflet.title),
        code=leaflet.code,
        last_reviewed=leaflet.last_reviewed,
        last_reviewed_spoken=spoken_date(leaflet.last_reviewed),
        next_review=leaflet.next_review,
        source=to_speech(leaflet.source),
        intro=SpeechSection(0, to_speech(leaflet.title), _parts(leaflet.intro)),
        sections=tuple(
            SpeechSection(number, to_speech(section.title), _parts(section.blocks))
            for number, section in enumerate(leaflet.sections, start=1)
        ),
    )
