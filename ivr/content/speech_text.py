"""Leaflet -> the exact text the speech synthesiser reads, in sections and parts.

A *part* is the unit a caller skips by (keys 4 and 6): a paragraph, or a bullet list together
with the paragraph that leads into it. Section 0 is the leaflet's introduction.

:func:`to_speech` applies these rules, in this order, to each piece of text:

1. whitespace: non-breaking and odd spaces become plain spaces;
2. dates: "17 Jan 2019", "17/01/2019" and "2019-01-17" -> "17 January 2019";
3. telephone numbers are read digit by digit in the groups people say, a pause between groups
   ("0808 157 0192" -> "oh eight oh eight, one five seven, oh one nine two"; UK numbers only, see
   :mod:`ivr.content.phone_numbers`), and so are short numbers after "call", "ring", "dial",
   "phone", "NHS" or "or" ("call 999" -> "call nine nine nine"); times with a full stop are
   written with a colon ("8.30am" -> "8:30am": eSpeak NG reads "8.30am" as "eight point three zero
   am", ``'eIt pOInt Tr'i: z'i@roU ,eI'Em``, and "8:30am" as "eight thirty am", ``'eIt T'3:ti; ,eI'Em``);
4. abbreviations and acronyms from ``ivr/data/lexicon.yaml`` ("MDT" -> "multidisciplinary team");
5. measurements with the units in the lexicon ("4cm" -> "4 centimetres", "1cm" -> "1 centimetre",
   "2-3mm" -> "2 to 3 millimetres"), and number ranges ("2-3" -> "2 to 3");
6. parenthesised asides are read between commas, keeping the leaflet's own words
   ("a camera (laparoscope) to see" -> "a camera, laparoscope, to see");
7. dashes between spaces are read as a pause (a comma);
8. pronunciations from ``ivr/data/pronunciations.yaml`` (spellings eSpeak NG says right).

The speech text never adds a word that is not in the leaflet, except the expansions listed in
those reviewed files (digits included), month names, and "to" in ranges. Bullet lists are read
as a list with pauses: each item its own sentence. References are never read.

A section's *label* (front matter ``sections:``) is what menus say for it; its *phrases* are
other words callers may use for it: recognition hints, never spoken.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass
from functools import cache

from ivr.content.leaflet import Block, BulletList, Leaflet, Paragraph
from ivr.content.phone_numbers import digit_groups
from ivr.content.review import DEFAULT_REVIEW_PERIOD_MONTHS, review_due
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
# A UK number: 0 or +44 (or 0044), then digits in groups split by single spaces or hyphens;
# "18001 " in front is the Relay UK text-relay prefix. Checked by digit_groups before reading.
_PHONE = re.compile(r"(?<![\w+/.-])(?:18001 )?(?:\+44 ?(?:\(0\) ?)?|0044 ?|\(?0)\d[\d)]*(?:[ -]\d+)*(?![\w])")
_DOTTED_TIME = re.compile(r"\b(\d{1,2})\.([0-5]\d)\s?(am|pm)\b", re.IGNORECASE)
_SHORT_NUMBER = re.compile(r"\b(call|ring|dial|phone|NHS|or)(\s+)(\d{3}(?: \d{3})?)(?![\w-]|[.,]\d)", re.IGNORECASE)


@dataclass(frozen=True)
class SpeechSection:
    number: int  # 1-based position among the leaflet's sections; 0 is the introduction
    title: str  # the heading as speech text ("What it is")
    parts: tuple[str, ...]
    label: str  # speech text menus say for it ("what cryotherapy is"); the title unless labelled
    phrases: tuple[str, ...] = ()  # other words callers may use for it; never spoken


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
    next_review: dt.date  # front matter next_review, else last_reviewed + IVR_REVIEW_PERIOD_MONTHS
    phrases: tuple[str, ...] = ()  # other names callers may use for the leaflet; never spoken

    def review_overdue(self, today: dt.date) -> bool:
        """True when ``today`` is past the date the leaflet was due for review."""
        return today > self.next_review

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
        text = entry.pattern.sub(functools.partial(_spoken_match, entry), text)
    return text


def _spoken_match(entry: Replacement, match: re.Match[str]) -> str:
    return _spoken(entry, match.group(0))


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


def _digits(groups: list[str], words: Lexicon) -> str:
    return ", ".join(" ".join(words.digits[d] for d in group) for group in groups)


def _phone_numbers(text: str, words: Lexicon) -> str:
    """Telephone numbers in words, group by group; anything that is not a UK number is left alone."""

    def number(m: re.Match[str]) -> str:
        written = m.group(0)
        relay = "18001 " if written.startswith("18001 ") else ""
        pieces = written.removeprefix(relay).replace("-", " ").split(" ")
        # "020 7946 0000 2 times": try the longest run of groups that is a number.
        for end in range(len(pieces), 0, -1):
            groups = digit_groups(" ".join(pieces[:end]))
            if groups is not None:
                rest = " ".join(pieces[end:])
                spoken = _digits(([relay.strip()] if relay else []) + groups, words)
                return spoken + (f" {rest}" if rest else "")
        return written

    text = _PHONE.sub(number, text)

    def short(m: re.Match[str]) -> str:
        groups = digit_groups(m[3])
        return f"{m[1]}{m[2]}{_digits(groups, words)}" if groups else m.group(0)

    text = _SHORT_NUMBER.sub(short, text)
    return _DOTTED_TIME.sub(r"\1:\2\3", text)


def to_speech(text: str, words: Lexicon | None = None) -> str:
    """One piece of leaflet text as the synthesiser should read it (rules: module docstring).

    ``words``: the rule files to use (default: ``ivr/data``'s). Raises ContentError only if a rule
    file in ``ivr/data`` is malformed (on first use).
    """
    words = words or lexicon()
    text = " ".join(text.split())
    text = _dates(text)
    text = _phone_numbers(text, words)
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


def _parts(blocks: tuple[Block, ...], words: Lexicon | None) -> tuple[str, ...]:
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            parts.append(_sentence(to_speech(block.text, words)))
        elif isinstance(block, BulletList):
            items = " ".join(_sentence(to_speech(item, words).rstrip(":")) for item in block.items)
            if parts and parts[-1].endswith(":"):
                parts[-1] = f"{parts[-1]} {items}"  # a list joins the sentence that leads into it
            else:
                parts.append(items)
    return tuple(parts)


def leaflet_speech(leaflet: Leaflet, *, review_period_months: int = DEFAULT_REVIEW_PERIOD_MONTHS,
                   words: Lexicon | None = None) -> SpeechLeaflet:
    """The speech text of a whole leaflet; references are never read.

    ``review_period_months`` (IVR_REVIEW_PERIOD_MONTHS) gives the next review date of a leaflet
    whose front matter has none; ``words``, the rule files (default: ``ivr/data``'s). Raises
    ContentError only if a rule file in ``ivr/data`` is malformed.
    """
    title = to_speech(leaflet.title, words)
    sections = []
    for number, section in enumerate(leaflet.sections, start=1):
        heading = to_speech(section.title, words)
        sections.append(SpeechSection(
            number, heading, _parts(section.blocks, words),
            label=to_speech(section.label, words) if section.label else heading, phrases=section.phrases,
        ))
    return SpeechLeaflet(
        slug=leaflet.slug,
        title=title,
        code=leaflet.code,
        last_reviewed=leaflet.last_reviewed,
        last_reviewed_spoken=spoken_date(leaflet.last_reviewed),
        source=to_speech(leaflet.source, words),
        intro=SpeechSection(0, title, _parts(leaflet.intro, words), label=title),
        sections=tuple(sections),
        next_review=review_due(leaflet.last_reviewed, leaflet.next_review, review_period_months),
        phrases=leaflet.phrases,
    )
