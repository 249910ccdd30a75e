"""A copied web page as plain text -> a list of blocks, each with its source lines.

First step of ``ivr import`` (see :mod:`ivr.content.importer`; saved HTML pages are read by
:mod:`ivr.content.source_html`): this module reads the file, refuses what it cannot understand,
normalises odd characters, drops web clutter (the rules in ``ivr/data/clutter.yaml``), noting
each line it drops, and finds paragraphs, bullets and headings. It does not yet know about the
title, introduction, review dates or references.

Lines: a paragraph copied from a web page is one long line, so consecutive lines are separate
blocks (a contact block, "Last reviewed: ..." then "Next review due: ...") unless the text was
wrapped by hand (as in an e-mail): a line carries on the one before when that one was broken
because the next word did not fit (it would pass the file's longest line), or when it starts in
lower case after a line without a colon.

Normalisation: non-breaking, thin and zero-width spaces become plain spaces (or nothing); en and
em dashes and minus signs become a hyphen ("v58–v68" -> "v58-v68"; the speech text reads number
ranges as "58 to 68"); curly quotes become straight ones; runs of spaces become one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ivr.content.page_dates import starts_with_date_label
from ivr.content.rules import ClutterRules, clutter_rules
from ivr.errors import SourceNotUnderstood

__all__ = ["SourceBlock", "SourceNote", "is_html", "normalise", "read_source", "refuse_all_clutter", "text_blocks"]

_SPACES = dict.fromkeys(map(ord, "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"), " ")
_REMOVED = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_PUNCTUATION = {
    **dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-"),
    **dict.fromkeys(map(ord, "\u2018\u2019\u201b\u2032"), "'"),
    **dict.fromkeys(map(ord, "\u201c\u201d\u201f\u2033"), '"'),
    ord("\u2026"): "...",
    ord("\t"): "    ",
}
_TABLE = {**_SPACES, **_REMOVED, **_PUNCTUATION}
# Bullets as web pages and word processors copy them: • - * ▪ ◦ ➢ ►, Symbol-font ones (U+F0A7,
# U+F0B7, U+F0D8), numbers ("1." "2)") and letters ("a)").
_BULLET = re.compile(r"^(?:[•·▪◦‣●○■□*➢►▸✓✔\uf0a7\uf0b7\uf0d8-]|\d{1,2}[.)]|[a-h]\))\s+(.*)$")
WRAPPED_MAX_CHARS = 100  # text wrapped by hand is wrapped at a width below this
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class SourceNote:
    """A part of the source that ``ivr import`` dropped, or placed somewhere a reviewer should check."""

    line: int
    text: str  # what it was, shortened
    reason: str  # why: "web clutter (rule 'Share')", "section of links to other pages", ...
    last_line: int | None = None  # for a note on several lines

    def where(self) -> str:
        return f"{self.line}" if not self.last_line or self.last_line == self.line else f"{self.line}-{self.last_line}"


@dataclass
class SourceBlock:
    kind: Literal["heading", "paragraph", "bullet"]
    pieces: list[tuple[str, int]]  # (text, line in the source file)
    indent: int = 0
    explicit: bool = False  # a heading marked as one ('## ' in text, <h2> in HTML), not guessed
    level: int = 2  # of an explicit heading: 1 for '# ' or <h1>, 2 for '## ' or <h2>, ...
    grouped_next: bool = False  # the next block follows on the very next line (no blank line)
    link_only: bool = False  # HTML: a paragraph that is nothing but a link to another page
    after_dates: bool = False  # the first block after the page's dates (set by the importer)
    new_list: bool = False  # a bullet that starts a list of its own (set by the importer)

    @property
    def line(self) -> int:
        return self.pieces[0][1]

    @property
    def last_line(self) -> int:
        return self.pieces[-1][1]

    @property
    def text(self) -> str:
        return " ".join(text for text, _ in self.pieces)


def shorten(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def normalise(line: str) -> str:
    """One source line with odd spaces, dashes and quotes made plain; leading indentation kept."""
    line = line.translate(_TABLE).rstrip()
    body = line.lstrip(" ")
    return " " * (len(line) - len(body)) + " ".join(body.split())


def _line_at(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def read_source(path: Path) -> str:
    """The file's text; SourceNotUnderstood (naming the line) if empty, blank, binary or not UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceNotUnderstood(f"cannot be read ({exc.strerror}).", path=path) from exc
    if not data:
        raise SourceNotUnderstood("is empty.", path=path, line=1, hint="Copy the web page's text into it.")
    if b"\x00" in data:
        raise SourceNotUnderstood(
            "looks binary (it has NUL bytes), not text.", path=path, line=_line_at(data, data.index(b"\x00")),
            hint="Copy the text from the web page and save it as plain text (UTF-8), or save the page as HTML.",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceNotUnderstood(
            f"is not UTF-8 text (byte {data[exc.start]:#04x}).", path=path, line=_line_at(data, exc.start),
            hint="Save it again as UTF-8 (in most editors: Save as, Encoding: UTF-8).",
        ) from exc
    control = _CONTROL.search(text)
    if control:
        raise SourceNotUnderstood(
            f"looks binary (control character {ord(control.group()):#04x}), not text.", path=path,
            line=text.count("\n", 0, control.start()) + 1,
            hint="Copy the text from the web page and save it as plain text (UTF-8).",
        )
    if not text.strip():
        raise SourceNotUnderstood("has only blank lines.", path=path, line=1)
    return text


def is_html(path: Path, text: str) -> bool:
    return path.suffix.lower() in (".html", ".htm") or bool(
        re.match(r"\s*<(!doctype|html|body|h1|h2|p)\b", text, re.IGNORECASE)
    )


def refuse_all_clutter(path: Path, dropped: list[SourceNote]) -> None:
    """SourceNotUnderstood: the page had no text once its clutter was dropped."""
    if dropped:
        first = dropped[0]
        raise SourceNotUnderstood(
            f"has nothing but web clutter (line {first.line}: {first.text!r}, and {len(dropped) - 1} more).",
            path=path, line=first.line, hint=f"Is it the right file? The clutter rules are in {clutter_rules().path}.",
        )
    raise SourceNotUnderstood("has no text.", path=path, line=1)


def _wrap_width(lines: list[str]) -> int:
    """The width text was wrapped at: its longest line, ignoring a few very long ones (web addresses)."""
    lengths = [len(line.strip()) for line in lines if line.strip()]
    short = [n for n in lengths if n <= WRAPPED_MAX_CHARS]
    if len(short) >= 5 and len(short) >= 0.8 * len(lengths):
        return max(short)
    return max(lengths, default=0)


def _continues(previous: str, line: str, width: int) -> bool:
    """Whether ``line`` carries on the paragraph whose last line is ``previous`` (see the module docstring)."""
    if starts_with_date_label(line) or starts_with_date_label(previous):
        return False
    if line[:1].islower() and not previous.endswith(":"):
        return True
    return len(previous) + 1 + len(line.split()[0]) > width


def text_blocks(text: str, path: Path, rules: ClutterRules | None = None) -> tuple[list[SourceBlock], list[SourceNote]]:
    """Blocks of plain text copied from a web page, and the clutter lines dropped.

    A bullet starts with a bullet sign, "-", "*", "1." or "a)"; a line indented more than the
    bullet above continues it (even after a blank line); a line starting with '#' is a heading
    ('#' the title, '##' a section, '###' a sub-heading). SourceNotUnderstood if nothing but clutter.
    """
    rules = rules or clutter_rules()
    lines = [normalise(raw) for raw in text.splitlines()]
    base = min((len(s) - len(s.lstrip(" ")) for s in lines if s.strip()), default=0)
    width = _wrap_width(lines)
    blocks: list[SourceBlock] = []
    dropped: list[SourceNote] = []
    blank_before = True
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        # A clutter section's heading is kept for the importer, which drops it with its section.
        rule = rules.match(stripped) if stripped and not rules.section(stripped) else None
        if rule:
            dropped.append(SourceNote(number, shorten(stripped), f"web clutter (rule {shorten(rule, 40)!r})"))
        if not stripped or rule:
            blank_before = True
            continue
        indent = len(line) - len(line.lstrip(" ")) - base
        last = blocks[-1] if blocks else None
        bullet = _BULLET.match(stripped)
        if last is not None and not blank_before:
            last.grouped_next = True
        if stripped.startswith("#"):
            level = len(stripped) - len(stripped.lstrip("#"))
            blocks.append(SourceBlock("heading", [(stripped.lstrip("#").strip(), number)], explicit=True, level=level))
        elif bullet:
            blocks.append(SourceBlock("bullet", [(bullet[1], number)], indent))
        elif last is not None and last.kind == "bullet" and indent > last.indent:
            last.pieces.append((stripped, number))  # a continuation line of the bullet above
            last.grouped_next = False
        elif last is not None and last.kind == "paragraph" and not blank_before \
                and _continues(last.pieces[-1][0], stripped, width):
            last.pieces.append((stripped, number))  # a wrapped line
            last.grouped_next = False
        elif indent >= 2:
            blocks.append(SourceBlock("bullet", [(stripped, number)], indent))  # an indented list item
        else:
            blocks.append(SourceBlock("paragraph", [(stripped, number)], indent))
        blank_before = False
    if not blocks:
        refuse_all_clutter(path, dropped)
    return blocks, dropped
