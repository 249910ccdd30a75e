"""A copied web page (plain text or simple HTML) -> a list of blocks, each with its source lines.

First step of ``ivr import`` (see :mod:`ivr.content.importer`): this module reads the file,
refuses what it cannot understand, normalises odd characters, drops web clutter (the rules in
``ivr/data/clutter.yaml``), and finds paragraphs, bullets and headings. It does not yet know
about the introduction, review dates or references.

Normalisation: non-breaking, thin and zero-width spaces become plain spaces (or nothing); en and
em dashes and minus signs become a hyphen ("v58–v68" -> "v58-v68"; the speech text reads number
ranges as "58 to 68"); curly quotes become straight ones; runs of spaces become one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar, Literal

from ivr.content.rules import ClutterRules, clutter_rules
from ivr.errors import SourceNotUnderstood

__all__ = ["SourceBlock", "html_blocks", "is_html", "normalise", "read_source", "text_blocks"]

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
_BULLET = re.compile(r"^(?:[•·▪◦‣●○■*-]|\d{1,2}[.)])\s+(.*)$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


@dataclass
class SourceBlock:
    kind: Literal["heading", "paragraph", "bullet"]
    pieces: list[tuple[str, int]]  # (text, line in the source file)
    indent: int = 0
    explicit: bool = False  # a heading marked as one ('## ' in text, <h2> in HTML), not guessed

    @property
    def line(self) -> int:
        return self.pieces[0][1]

    @property
    def text(self) -> str:
        return " ".join(text for text, _ in self.pieces)


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


def _refuse_all_clutter(path: Path, clutter: list[tuple[str, int]]) -> None:
    if clutter:
        text, line = clutter[0]
        raise SourceNotUnderstood(
            f"has nothing but web clutter (line {line}: {text!r}, and {len(clutter) - 1} more).",
            path=path, line=line, hint=f"Is it the right file? The clutter rules are in {clutter_rules().path}.",
        )
    raise SourceNotUnderstood("has no text.", path=path, line=1)


def text_blocks(text: str, path: Path, rules: ClutterRules | None = None) -> list[SourceBlock]:
    """Blocks of plain text copied from a web page; SourceNotUnderstood if nothing but clutter.

    A paragraph is a run of lines; a bullet starts with •, -, * or "1."; a line indented more than
    the bullet above continues it (even after a blank line); a line starting with '#' is a heading.
    """
    rules = rules or clutter_rules()
    lines = [normalise(raw) for raw in text.splitlines()]
    base = min((len(s) - len(s.lstrip(" ")) for s in lines if s.strip()), default=0)
    blocks: list[SourceBlock] = []
    clutter: list[tuple[str, int]] = []
    blank_before = True
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped and rules.match(stripped):
            clutter.append((stripped, number))
        if not stripped or rules.match(stripped):
            blank_before = True
            continue
        indent = len(line) - len(line.lstrip(" ")) - base
        last = blocks[-1] if blocks else None
        bullet = _BULLET.match(stripped)
        if stripped.startswith("#"):
            blocks.append(SourceBlock("heading", [(stripped.lstrip("#").strip(), number)], explicit=True))
        elif bullet:
            blocks.append(SourceBlock("bullet", [(bullet[1], number)], indent))
        elif last is not None and last.kind == "bullet" and indent > last.indent:
            last.pieces.append((stripped, number))  # a continuation line of the bullet above
        elif last is not None and last.kind == "paragraph" and not blank_before:
            last.pieces.append((stripped, number))  # a wrapped line
        elif indent >= 2:
            blocks.append(SourceBlock("bullet", [(stripped, number)], indent))  # an indented list item
        else:
            blocks.append(SourceBlock("paragraph", [(stripped, number)], indent))
        blank_before = False
    if not blocks:
        _refuse_all_clutter(path, clutter)
    return blocks


class _HtmlReader(HTMLParser):
    SKIP = frozenset({
        "script", "style", "nav", "header", "footer", "aside", "noscript", "form", "button",
        "svg", "template", "iframe", "select", "figure", "figcaption", "head", "title",
    })
    KINDS: ClassVar[dict[str, str]] = {"h1": "title", "h2": "heading", "h3": "heading", "h4": "heading", "li": "bullet"}
    BOUNDARIES = frozenset({
        "p", "div", "section", "article", "main", "body", "ul", "ol", "table", "tr", "td", "th",
        "dd", "dt", "dl", "blockquote", "h5", "h6",
    })

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, list[tuple[str, int]]]] = []
        self.kind = "paragraph"
        self.pieces: list[tuple[str, int]] = []
        self.skipping = 0

    def flush(self, next_kind: str = "paragraph") -> None:
        # Text split by inline tags ("the <b>urethra</b>.") is joined as written, then one piece a line.
        by_line: dict[int, str] = {}
        for text, line in self.pieces:
            by_line[line] = by_line.get(line, "") + text
        pieces = [(normalise(text).strip(), line) for line, text in by_line.items()]
        pieces = [(text, line) for text, line in pieces if text]
        if pieces:
            self.blocks.append((self.kind, pieces))
        self.kind, self.pieces = next_kind, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif not self.skipping and (tag in self.KINDS or tag in self.BOUNDARIES):
            self.flush(self.KINDS.get(tag, "paragraph"))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif not self.skipping and (tag in self.KINDS or tag in self.BOUNDARIES):
            self.flush()

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            first = self.getpos()[0]
            self.pieces += [(text, first + i) for i, text in enumerate(data.split("\n"))]


def html_blocks(text: str, path: Path, rules: ClutterRules | None = None) -> tuple[str | None, list[SourceBlock]]:
    """The page's first <h1> (or None) and its blocks: <h2>-<h4> headings, paragraphs, <li> bullets.

    Navigation, headers, footers, scripts and forms are skipped; clutter rules apply to each block.
    SourceNotUnderstood if nothing but clutter is left.
    """
    rules = rules or clutter_rules()
    reader = _HtmlReader()
    reader.feed(text)
    reader.close()
    reader.flush()
    title = None
    blocks: list[SourceBlock] = []
    clutter: list[tuple[str, int]] = []
    for kind, pieces in reader.blocks:
        joined = " ".join(t for t, _ in pieces)
        if rules.match(joined):
            clutter.append((joined, pieces[0][1]))
        elif kind == "title":
            title = title or joined
        elif kind == "heading":
            blocks.append(SourceBlock("heading", [(joined, pieces[0][1])], explicit=True))
        else:
            blocks.append(SourceBlock("bullet" if kind == "bullet" else "paragraph", pieces))
    if not blocks:
        _refuse_all_clutter(path, clutter)
    return title, blocks
