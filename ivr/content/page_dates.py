"""The dates a web page gives about itself: last reviewed, next review due, updated, published.

Pages word them many ways, and often put two on one line or in one paragraph::

    Last reviewed: 3 Mar 2022            Page last reviewed: 12 March 2023
    Next review due: 3 Mar 2025          Next review due: 12 March 2026
    Reviewed: June 2022 | Review date: June 2025
    Published: 01/02/2021  Date of next review: 01/02/2024
    Last updated on 14th September 2022
    This information was last reviewed in May 2023.

:func:`page_dates` reads a paragraph made only of such labels and dates; a paragraph with other
words in it is text, not dates. A month without a day means its first day ("June 2025" ->
2025-06-01: a review due in June is due from the 1st). "Review date" on its own means the next
review, as in NHS leaflets.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["DateKind", "PageDate", "page_dates", "parse_date", "starts_with_date_label"]

DateKind = Literal["last_reviewed", "next_review", "updated", "published"]

_ON = r"(?:\s+(?:on|in|by|from))?"
_LABELS: tuple[tuple[DateKind, str], ...] = (
    ("next_review", rf"(?:date\s+of\s+)?next\s+(?:planned\s+)?review(?:\s+(?:due|date))?{_ON}"),
    ("next_review", rf"(?:to\s+be\s+reviewed|due\s+for\s+review|review\s+due|review\s+date){_ON}"),
    ("next_review", rf"we\s+will\s+review\s+(?:it|this\s+(?:page|information|leaflet))(?:\s+again)?{_ON}"),
    ("last_reviewed", rf"(?:(?:this|the)\s+(?:page|information|leaflet|content)\s+was\s+)?(?:page\s+|date\s+|content\s+|"
                      rf"information\s+|clinically\s+)?(?:last\s+)?reviewed{_ON}"),
    ("last_reviewed", rf"(?:date\s+(?:of\s+)?)?last\s+review{_ON}|date\s+reviewed"),
    ("updated", rf"(?:(?:this|the)\s+(?:page|information|leaflet)\s+was\s+)?(?:page\s+|date\s+)?(?:last\s+)?"
                rf"(?:updated|modified){_ON}|date\s+updated"),
    ("published", rf"(?:date\s+(?:of\s+)?)?(?:first\s+)?(?:published|publication(?:\s+date)?|issued|produced){_ON}"
                  rf"|date\s+(?:of\s+)?publication|date\s+issued"),
)
_LABEL_RE = re.compile(
    r"(?:^|(?<=[\s|•·.,;]))(?:" + "|".join(f"(?P<k{i}>{pattern})" for i, (_, pattern) in enumerate(_LABELS))
    + r")\s*(?P<colon>:)?\s*",
    re.IGNORECASE,
)
_MONTHS = {name: number for number, names in enumerate(
    [("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")], start=1) for name in names}
_MONTH = r"(?P<{}>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_DATE_RES = (
    re.compile(rf"{_WEEKDAY}(?P<d>\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+{_MONTH.format('m')},?\s+(?P<y>\d{{4}})", re.I),
    re.compile(rf"{_WEEKDAY}{_MONTH.format('m')}\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})", re.I),
    re.compile(rf"{_MONTH.format('m')},?\s+(?P<y>\d{{4}})", re.I),
    re.compile(r"(?P<y>\d{4})-(?P<n>\d{1,2})-(?P<d>\d{1,2})"),
    re.compile(r"(?P<d>\d{1,2})[/.](?P<n>\d{1,2})[/.](?P<y>\d{4}|\d{2})"),
    re.compile(r"(?P<n>\d{1,2})/(?P<y>\d{4})"),
)
# What may sit between label-and-date pairs: separators, and nothing else.
_FILLER = re.compile(r"^[\s|•·.,;:()\-]*$")


@dataclass(frozen=True)
class PageDate:
    kind: DateKind
    date: dt.date | None  # None: a label whose date is missing or unreadable
    written: str  # the label and date as written, for messages
    date_follows: bool = False  # a label alone at the end ("Last reviewed:"): its date is on the next line


def parse_date(text: str) -> tuple[dt.date, int] | None:
    """The date at the start of ``text`` and how many characters it took, or None.

    "3 Mar 2022", "3rd of March 2022", "Monday 3 March 2022", "March 3, 2022", "March 2022",
    "03/03/2022", "3.3.22", "2022-03-03", "03/2022" (day-first: a UK page). None for anything
    else, including impossible dates ("31/02/2022").
    """
    text = text.lstrip()
    for pattern in _DATE_RES:
        match = pattern.match(text)
        if not match:
            continue
        parts = match.groupdict()
        month = _MONTHS[parts["m"].lower()] if parts.get("m") else int(parts["n"])
        year = int(parts["y"]) + (2000 if len(parts["y"]) == 2 else 0)
        try:
            return dt.date(year, month, int(parts.get("d") or 1)), match.end()
        except ValueError:
            return None
    return None


def _kind(match: re.Match[str]) -> DateKind:
    return next(_LABELS[i][0] for i in range(len(_LABELS)) if match.group(f"k{i}") is not None)


def page_dates(text: str) -> list[PageDate] | None:
    """The labelled dates of a paragraph made only of them, else None (the paragraph is text).

    A label with no date after it (the date on the next line) gives a PageDate whose date is None;
    so does a label followed by something that is not a date ("Last reviewed: some time ago").
    """
    labels = list(_LABEL_RE.finditer(text))
    if not labels or not _FILLER.match(text[: labels[0].start()]):
        return None
    found: list[PageDate] = []
    for index, label in enumerate(labels):
        end = labels[index + 1].start() if index + 1 < len(labels) else len(text)
        rest = text[label.end():end]
        parsed = parse_date(rest)
        if parsed is None:
            # "Last reviewed:" alone (the date is on the next line), or "Last reviewed: some time
            # ago" (a date label, but no date we can read); "Reviewed by our nurses." is text.
            if rest.strip(" .") and (not label["colon"] or index + 1 < len(labels)):
                return None
            found.append(PageDate(_kind(label), None, text[label.start():end].strip(),
                                  date_follows=not rest.strip(" .") and index + 1 == len(labels)))
            continue
        date, used = parsed
        if not _FILLER.match(rest[len(rest) - len(rest.lstrip()) + used:]):
            return None  # a date, then more words: text that happens to start with a label
        found.append(PageDate(_kind(label), date, text[label.start():end].strip(" |•·,;")))
    return found


def starts_with_date_label(text: str) -> bool:
    """True when ``text`` starts with a date label ("Last reviewed:", "Next review due")."""
    match = _LABEL_RE.match(text)
    return match is not None and match.start() == 0
