"""A saved web page (HTML) -> its title and a list of blocks, each with its source lines.

What a reader of the page would not take as the leaflet is left out, and noted with its lines
for the ``ivr import`` report: navigation, the site's header and footer (outside the article),
side panels, forms, buttons, figures, pop-ups, elements hidden on the page, and parts whose class
or id names a cookie notice, breadcrumbs, sharing links or related links. When the page marks
its main content (``<main>``), everything outside it goes too, except its review dates. Scripts,
styles and the like are never text and are dropped without a note.

Blocks: ``<h1>`` is the title (else the ``<title>`` up to its first " | " or " - "), ``<h2>`` to
``<h6>`` are headings with their level, ``<li>`` bullets, and paragraphs: ``<p>``, ``<div>``, a
``<br>`` line, a table row (its cells joined with commas; the rows of a table, and the lines
split by ``<br>``, are marked as belonging together, like an address). A paragraph that is nothing but a
link to another page (not a ``tel:`` link) is marked, for the importer to drop.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from ivr.content.page_dates import page_dates
from ivr.content.rules import ClutterRules, clutter_rules
from ivr.content.source_blocks import SourceBlock, SourceNote, normalise, refuse_all_clutter, shorten

__all__ = ["html_blocks"]

_SILENT = frozenset({"script", "style", "noscript", "template", "svg", "head", "iframe", "select", "object",
                     "canvas", "map", "video", "audio"})
_CHROME = {
    "nav": "site navigation (<nav>)", "header": "the site's header (<header>)",
    "footer": "the site's footer (<footer>)", "aside": "a side panel (<aside>)", "form": "a form (<form>)",
    "button": "a button", "figure": "a figure (<figure>)", "dialog": "a pop-up (<dialog>)",
}
_CLASS_WORDS = {
    "cookie": "a cookie notice", "cookies": "a cookie notice", "breadcrumb": "breadcrumbs",
    "breadcrumbs": "breadcrumbs", "share": "sharing links", "sharing": "sharing links", "social": "sharing links",
    "related": "related links", "skip": "a skip link",
}
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source", "track", "wbr"})
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BOUNDARIES = frozenset({
    "p", "div", "section", "article", "main", "body", "ul", "ol", "table", "tr", "dd", "dt", "dl",
    "blockquote", "details", "summary", "address", "pre", "hr", "header", "footer", "caption",
})


@dataclass
class _Block:
    kind: str  # "paragraph", "bullet", "heading" (with level), "title"
    level: int
    in_main: bool
    pieces: list[list] = field(default_factory=list)  # [text, line]
    link_text: bool = False
    plain_text: bool = False
    grouped_next: bool = False  # ended by a <br>: the next line belongs with it (an address)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self.dropped: list[SourceNote] = []
        self.block = _Block("paragraph", 0, False)
        self.new_piece = True
        self.skip: tuple[str, int, str | None, int] | None = None  # tag, depth, reason, first line
        self.skip_text: list[str] = []
        self.main = 0  # open <main> elements
        self.article = 0  # open <main> or <article> elements
        self.lists = 0  # open <li> elements
        self.links: list[bool] = []  # open <a> elements: True for a tel: link
        self.page_title: list[str] | None = None  # text of <title> while inside it
        self.title_tag = ""

    def _flush(self, kind: str = "paragraph", level: int = 0) -> None:
        pieces = [(normalise(text).strip(), line) for text, line in self.block.pieces]
        pieces = [(text, line) for text, line in pieces if text]
        if pieces:
            self.block.pieces = [list(p) for p in pieces]
            self.blocks.append(self.block)
        self.block = _Block(kind, level, self.main > 0)
        self.new_piece = True

    def _reason(self, tag: str, attrs: dict[str, str | None]) -> str | None:
        """Why this element is left out ("" when it is left out silently), or None to read it."""
        if tag in _SILENT:
            return ""
        if "hidden" in attrs or attrs.get("aria-hidden") == "true" or \
                re.search(r"display\s*:\s*none", attrs.get("style") or ""):
            return "hidden on the page"
        if tag in _CHROME and not (tag in ("header", "footer") and self.article):
            return _CHROME[tag]
        words = re.split(r"[^a-z]+", f"{attrs.get('class') or ''} {attrs.get('id') or ''}".lower())
        return next((_CLASS_WORDS[w] for w in words if w in _CLASS_WORDS), None)

    def handle_starttag(self, tag: str, attr_list: list[tuple[str, str | None]]) -> None:
        attrs = dict(attr_list)
        line = self.getpos()[0]
        if self.skip is not None:
            if tag == self.skip[0] and tag not in _VOID:
                self.skip = (tag, self.skip[1] + 1, self.skip[2], self.skip[3])
            return
        if tag == "title":
            self.page_title = []
            return
        reason = self._reason(tag, attrs)
        if reason is not None and tag not in _VOID:
            self.skip, self.skip_text = (tag, 1, reason, line), []
            return
        if tag == "main" or attrs.get("role") == "main":
            self._flush()
            self.main += 1
            self.article += 1
            self.block.in_main = True
            return
        if tag == "article":
            self.article += 1
        if tag == "a":
            self.links.append((attrs.get("href") or "").startswith("tel:"))
        elif tag in _HEADINGS:
            self._flush("title" if tag == "h1" else "heading", _HEADINGS[tag])
        elif tag == "li":
            self.lists += 1
            self._flush("bullet")
        elif tag == "br":
            if self.lists and self.block.kind == "bullet":
                self.new_piece = True  # a reference's lines: title<br>authors
            else:
                self.block.grouped_next = True
                self._flush(self.block.kind if self.block.kind != "title" else "paragraph")
        elif tag in ("td", "th") and self.block.pieces:
            self.block.pieces[-1][0] = self.block.pieces[-1][0].rstrip() + ","
            self.new_piece = True
        elif tag in _BOUNDARIES:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self.skip is not None:
            name, depth, reason, first = self.skip
            if tag != name:
                return
            if depth > 1:
                self.skip = (name, depth - 1, reason, first)
                return
            self.skip = None
            text = " ".join(" ".join(self.skip_text).split())
            if reason and text:
                self.dropped.append(SourceNote(first, shorten(text), reason, self.getpos()[0]))
            return
        if tag == "title" and self.page_title is not None:
            self.title_tag = " ".join(" ".join(self.page_title).split())
            self.page_title = None
        elif tag == "main" and self.main:
            self._flush()
            self.main -= 1
            self.article -= 1
        elif tag == "article" and self.article:
            self.article -= 1
        elif tag == "a" and self.links:
            self.links.pop()
        elif tag == "li":
            self.lists = max(0, self.lists - 1)
            self._flush()
        elif tag in ("tr", "caption"):
            self.block.grouped_next = True  # a table is read as a list of its lines
            self._flush()
        elif tag == "table":
            self._flush()
            if self.blocks and self.blocks[-1].grouped_next:
                self.blocks[-1].grouped_next = False
        elif tag in _HEADINGS or tag in _BOUNDARIES:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self.skip is not None:
            self.skip_text.append(data)
            return
        if self.page_title is not None:
            self.page_title.append(data)
            return
        first = self.getpos()[0]
        for offset, text in enumerate(data.split("\n")):
            if offset or self.new_piece or not self.block.pieces:
                self.block.pieces.append([text, first + offset])
                self.new_piece = False
            else:
                self.block.pieces[-1][0] += text  # "the <b>urethra</b>." joined as written
            if text.strip():
                if self.links and not self.links[-1]:
                    self.block.link_text = True
                else:
                    self.block.plain_text = True


def _title_from_tag(text: str) -> str | None:
    title = re.split(r"\s+[|\-–—]\s+", normalise(text).strip())[0].strip()
    return title or None


def html_blocks(text: str, path: Path, rules: ClutterRules | None = None
                ) -> tuple[str | None, list[SourceBlock], list[SourceNote]]:
    """The page's title (or None), its blocks, and what was left out, each with its lines.

    SourceNotUnderstood if nothing but clutter is left.
    """
    rules = rules or clutter_rules()
    reader = _Reader()
    reader.feed(text)
    reader.close()
    reader._flush()
    has_main = any(block.in_main for block in reader.blocks)
    title = None
    blocks: list[SourceBlock] = []
    dropped = list(reader.dropped)
    outside: list[_Block] = []

    def note_outside() -> None:
        if outside:
            joined = " ".join(" ".join(t for t, _ in b.pieces) for b in outside)
            dropped.append(SourceNote(outside[0].pieces[0][1], shorten(joined), "outside the page's main content (<main>)",
                                      outside[-1].pieces[-1][1]))
            outside.clear()

    for block in reader.blocks:
        pieces = [(t, line) for t, line in block.pieces]
        joined = " ".join(t for t, _ in pieces)
        if has_main and not block.in_main and block.kind != "title" and not page_dates(joined):
            outside.append(block)
            continue
        note_outside()
        rule = rules.match(joined) if not rules.section(joined) else None  # sections: see the importer
        if rule:
            dropped.append(SourceNote(pieces[0][1], shorten(joined), f"web clutter (rule {shorten(rule, 40)!r})"))
        elif block.kind == "title":
            title = title or joined
        elif block.kind == "heading":
            blocks.append(SourceBlock("heading", [(joined, pieces[0][1])], explicit=True, level=block.level))
        elif block.kind == "paragraph" and block.link_text and not block.plain_text:
            blocks.append(SourceBlock("paragraph", pieces, link_only=True))
        else:
            blocks.append(SourceBlock("bullet" if block.kind == "bullet" else "paragraph", pieces,
                                      grouped_next=block.grouped_next))
    note_outside()
    dropped.sort(key=lambda note: note.line)
    if not blocks:
        refuse_all_clutter(path, dropped)
    return title or _title_from_tag(reader.title_tag), blocks, dropped
