"""Leaflet checks for ``ivr check``: one finding per problem, each with the file and line.

Errors (``ivr check`` exits 1): a leaflet that does not load (front matter incomplete, a bad
date, an empty section, a ``sections:`` entry naming no heading: the parser's
:class:`LeafletFormatError`), a review date in the future, a ``next_review`` before the last review,
an unknown correction status, web clutter or markup left in the speech text, a malformed rule file.
For service (a real TWILIO_AUTH_TOKEN, or ``ivr check --service``) also: a review overdue, and
spoken words not approved as they are (``ivr approve``). In development those two are warnings.
Warnings: a front matter field the format does not know (a typo?), a ``source_file`` that is not
there, odd spaces, words not in the dictionary or the medical word list, corrections still
``suggested``, and ``confirmed`` ones whose word is still in the text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from ivr.config import Settings
from ivr.content.leaflet import FRONT_MATTER_LOADER, BulletList, Leaflet, Paragraph, load_leaflet
from ivr.content.leaflet_approval import approval_finding
from ivr.content.review import DEFAULT_REVIEW_PERIOD_MONTHS, days_overdue, review_due
from ivr.content.rules import clutter_rules
from ivr.content.speech_text import to_speech
from ivr.content.spelling import is_known, words_of
from ivr.errors import ContentError
from ivr.findings import Finding

__all__ = ["KNOWN_FIELDS", "check_content", "check_leaflet"]

KNOWN_FIELDS = frozenset({
    "title", "slug", "code", "last_reviewed", "next_review", "source", "source_file", "references",
    "corrections", "say", "sections", "approval",
})
STATUSES = ("suggested", "confirmed", "rejected")
# What the synthesiser would read out literally: Markdown, HTML, web addresses, entities.
MARKUP_RE = re.compile(r"\*|#|\[|\]|<|>|`|\{|\}|\||\\|_|https?:|www\.|&[a-z]+;|&#\d+;", re.IGNORECASE)
ODD_SPACE_RE = re.compile("[\u00a0\u2000-\u200d\u202f\u205f\u3000\ufeff\u00ad]")


def check_content(settings: Settings, *, service: bool | None = None, today: dt.date | None = None) -> list[Finding]:
    """Findings for every leaflet in ``settings.leaflets_dir`` (an error if there is none).

    ``service`` (default: a real TWILIO_AUTH_TOKEN is set) makes overdue reviews and unapproved
    words errors rather than warnings.
    """
    paths = sorted(settings.leaflets_dir.glob("*.md"))
    if not paths:
        return [Finding("error", "has no leaflets (*.md); import one with `ivr import SOURCE`.",
                        settings.leaflets_dir, None)]
    findings: list[Finding] = []
    for path in paths:
        findings += check_leaflet(path, today=today, review_period_months=settings.review_period_months,
                                  service=settings.for_service if service is None else service)
    return findings


def check_leaflet(path: Path, *, today: dt.date | None = None,
                  review_period_months: int = DEFAULT_REVIEW_PERIOD_MONTHS, service: bool = False) -> list[Finding]:
    """Every problem with one leaflet file, errors first then warnings, each with its line.

    With ``service``, an overdue review and words not approved as they are are errors.
    """
    try:
        leaflet = load_leaflet(path)
        lines = path.read_text(encoding="utf-8").splitlines()
        level = "error" if service else "warning"
        approval = approval_finding(leaflet, level, lines)
        findings = [
            *_front_matter(leaflet, lines, today or dt.date.today(), review_period_months, level),
            *_corrections(leaflet, lines),
            *_text(leaflet, lines),
            *([approval] if approval else []),
        ]
    except ContentError as exc:  # the leaflet (or a rule file in ivr/data) cannot be used
        hint = f" Hint: {exc.hint}" if exc.hint else ""
        return [Finding("error", f"{exc.message}{hint}", exc.path or path, exc.line)]
    return sorted(findings, key=lambda f: (f.level != "error", f.line or 0))


def _field_line(lines: list[str], name: str) -> int:
    return next((n for n, line in enumerate(lines, start=1) if line.startswith(f"{name}:")), 1)


def _front_matter(leaflet: Leaflet, lines: list[str], today: dt.date, period_months: int,
                  level: str) -> Iterator[Finding]:
    path = leaflet.path
    end = next(n for n in range(1, len(lines)) if lines[n].strip() == "---")
    meta = yaml.load("\n".join(lines[1:end]), Loader=FRONT_MATTER_LOADER) or {}
    for name in sorted(set(meta) - KNOWN_FIELDS):
        yield Finding("warning", f"front matter field {name!r} is not one the line knows (a typo?); "
                      f"known: {', '.join(sorted(KNOWN_FIELDS))}.", path, _field_line(lines, name))
    line = _field_line(lines, "last_reviewed")
    if leaflet.last_reviewed > today:
        yield Finding("error", f"last_reviewed {leaflet.last_reviewed} is in the future.", path, line)
    if leaflet.next_review is not None and leaflet.next_review < leaflet.last_reviewed:
        yield Finding("error", f"next_review {leaflet.next_review} is before last_reviewed {leaflet.last_reviewed}.",
                      path, _field_line(lines, "next_review"))
    due = review_due(leaflet.last_reviewed, leaflet.next_review, period_months)
    if today > due:
        given = "next_review" if leaflet.next_review else f"{period_months} months after last_reviewed: IVR_REVIEW_PERIOD_MONTHS"
        service = "" if level == "error" else " An error for service."
        yield Finding(level, f"review overdue: due {due} ({given}), {days_overdue(due, today)} days ago; callers "  # type: ignore[arg-type]
                      "are told the content is due for review. Ask the clinical team to review it, then update "
                      f"last_reviewed (and next_review) and approve it again.{service}",
                      path, _field_line(lines, "next_review" if leaflet.next_review else "last_reviewed"))
    if leaflet.source_file and path is not None and not (path.parent / leaflet.source_file).is_file():
        yield Finding("warning", f"source_file {leaflet.source_file} is not there: keep the page as copied beside "
                      "the leaflet, so it can be imported again and reviewed.", path, _field_line(lines, "source_file"))


def _corrections(leaflet: Leaflet, lines: list[str]) -> Iterator[Finding]:
    entry_lines = [n for n, line in enumerate(lines, start=1) if line.lstrip().startswith("- original:")]
    body = "\n".join(lines[leaflet.body_line - 1:])
    for index, correction in enumerate(leaflet.corrections):
        line = entry_lines[index] if index < len(entry_lines) else _field_line(lines, "corrections")
        what = f"correction {correction.original!r} -> {correction.fix!r}"
        if correction.status not in STATUSES:
            yield Finding("error", f"{what} has status {correction.status!r}; expected one of "
                          f"{', '.join(STATUSES)}.", leaflet.path, line)
        elif correction.status == "suggested":
            yield Finding("warning", f"{what} is only suggested: a reviewer should confirm it (make the fix "
                          "in the text, status: confirmed) or reject it (status: rejected).", leaflet.path, line)
        elif correction.status == "confirmed" and re.search(
            rf"(?<![\w'-]){re.escape(correction.original)}(?![\w'-])", body
        ):
            yield Finding("warning", f"{what} is confirmed, but the text still has {correction.original!r}.",
                          leaflet.path, line)


def _pieces(leaflet: Leaflet) -> Iterator[tuple[str, int]]:
    """Every piece of text that is spoken, with its line: headings, paragraphs, bullet items."""
    for title, blocks, line in [(None, leaflet.intro, 0)] + [(s.title, s.blocks, s.line) for s in leaflet.sections]:
        if title is not None:
            yield title, line
        for block in blocks:
            if isinstance(block, Paragraph):
                yield block.text, block.line
            elif isinstance(block, BulletList):
                yield from ((item, block.line + i) for i, item in enumerate(block.items))


def _text(leaflet: Leaflet, lines: list[str]) -> Iterator[Finding]:
    path = leaflet.path
    rules = clutter_rules()
    skipped = {c.original for c in leaflet.corrections if c.status in ("suggested", "rejected")}
    unknown_seen: set[str] = set()
    for text, line in [(leaflet.title, _field_line(lines, "title")), *_pieces(leaflet)]:
        rule = rules.match(text)
        if rule:
            yield Finding("error", f"{text!r} is web clutter (rule {rule!r} in {rules.path.name}); delete it.",
                          path, line)
        markup = MARKUP_RE.search(to_speech(text))
        if markup:  # its words are markup, not misspellings: report the markup only
            yield Finding("error", f"the speech text would read out {markup.group()!r}: "
                          f"{to_speech(text)!r}. Remove the markup.", path, line)
        odd = ODD_SPACE_RE.search(text)
        if odd:
            yield Finding("warning", f"odd space character U+{ord(odd.group()):04X}; type a plain space.",
                          path, line)
        for word in [] if markup else words_of(text):
            if word in skipped or word in unknown_seen or is_known(word):
                continue
            unknown_seen.add(word)
            yield Finding("warning", f"unknown word {word!r}: not in the dictionary or "
                          "ivr/data/medical-words.txt (add it there if it is right).", path, line)
