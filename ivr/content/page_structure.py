"""The structure of a page read into blocks: its title line, dates, references, sections.

Second step of ``ivr import`` (see :mod:`ivr.content.importer` for the rules): from the blocks of
:mod:`ivr.content.source_blocks` or :mod:`ivr.content.source_html` to the introduction, sections,
references and review dates of a leaflet, noting every part left out (``dropped``) and every
part kept where a reviewer should check it (``placed``), each with its lines.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from ivr.content.leaflet import Block, BulletList, Paragraph, Section
from ivr.content.page_dates import PageDate, page_dates, parse_date
from ivr.content.rules import clutter_rules
from ivr.content.source_blocks import SourceBlock, SourceNote, shorten
from ivr.errors import SourceNotUnderstood

__all__ = ["PageStructure", "page_structure"]

REFERENCES_RE = re.compile(r"^(?:references|sources|sources of information|bibliography|evidence)$", re.IGNORECASE)
HEADING_MAX_CHARS = 70
HEADING_MAX_WORDS = 10


def _is_short_line(block: SourceBlock) -> bool:
    """A short line without closing punctuation (a question mark is allowed): it may be a heading."""
    text = block.text
    return (
        block.kind == "paragraph" and len(block.pieces) == 1 and len(text) <= HEADING_MAX_CHARS
        and len(text.split()) <= HEADING_MAX_WORDS and not text.endswith((".", ",", ";", ":", "!"))
        and (text[:1].isupper() or text[:1].isdigit()) and page_dates(text) is None
    )


def _guess_headings(blocks: list[SourceBlock]) -> list[SourceBlock]:
    """A short line followed by text is a heading; so is one followed by a group of short lines
    with no blank line between them (a contact block, a list of links), if it stands apart, and a
    heading listed as clutter ("On this page") followed by anything. Never two in a row."""
    rules = clutter_rules()
    marked: list[SourceBlock] = []
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        in_group = index > 0 and blocks[index - 1].grouped_next  # a line of an address, not a heading
        after_heading = bool(marked) and marked[-1].kind == "heading"
        if _is_short_line(block) and not in_group and not after_heading and following is not None \
                and following.kind != "heading" and page_dates(following.text) is None and (
                    not _is_short_line(following) or (following.grouped_next and not block.grouped_next)
                    or rules.section(block.text)):
            block = replace(block, kind="heading", level=2)
        marked.append(block)
    return marked


_WRAPPED_AFTER = re.compile(r"\b(?:and|of|the|for|in|on|with|to|a|an|by|from)$|,$", re.IGNORECASE)


def _reference(block: SourceBlock) -> str:
    """One reference: its lines (title, authors, journal) joined as sentences, except where a line
    was only wrapped (it starts in lower case, or the line before ends with "and", "of", ...)."""
    text = ""
    for piece, _ in block.pieces:
        piece = piece.strip()
        if text:
            wrapped = piece[:1].islower() or _WRAPPED_AFTER.search(text)
            text += " " if wrapped or text.endswith((".", ":", ";", "?", "!")) else ". "
        text += piece
    return text.rstrip(",;")


@dataclass
class _Parts:
    body: list[SourceBlock]
    references: list[str]
    dates: dict[str, tuple[PageDate, int]] = field(default_factory=dict)  # kind -> (date, its line)
    dropped: list[SourceNote] = field(default_factory=list)


def _no_date_after(label: PageDate, path: Path, line: int) -> SourceNotUnderstood:
    return SourceNotUnderstood(
        f"has the date label {label.written!r} but no date after it.", path=path, line=line,
        hint="Put the date on the same line or the next, like 'Last reviewed: 17 Jan 2019'.",
    )


def _split(blocks: list[SourceBlock], path: Path) -> _Parts:
    """Separate the body from the page's dates and the references.

    References are the bullets right after the dates (a common layout), or every block under a
    "References" heading up to the next heading. SourceNotUnderstood for a date label whose date
    is missing or cannot be read.
    """
    parts = _Parts([], [])
    mode: str | None = None  # "after-date" or "heading" while reading references
    pending: tuple[PageDate, int] | None = None  # a date label whose date is on the next line

    def keep(found: PageDate, line: int) -> None:
        if found.kind in parts.dates:
            parts.dropped.append(SourceNote(line, found.written, f"another {found.kind.replace('_', ' ')} date "
                                            "(the first one on the page is used)"))
        else:
            parts.dates[found.kind] = (found, line)

    for block in blocks:
        text = block.text
        if pending is not None:
            label, label_line = pending
            parsed = parse_date(text)
            if parsed is None or text.lstrip()[parsed[1]:].strip(" .,;|"):
                raise _no_date_after(label, path, label_line)
            keep(replace(label, date=parsed[0], written=f"{label.written} {text}"), label_line)
            pending = None
            continue
        found = page_dates(text) if block.kind != "bullet" else None
        if found:
            for item in found:
                if item.date is not None:
                    keep(item, block.line)
                elif item.date_follows:
                    pending = (item, block.last_line)
                else:
                    raise SourceNotUnderstood(
                        f"cannot read the date in {item.written!r}.", path=path, line=block.line,
                        hint="Write it like 'Last reviewed: 17 Jan 2019', or give it with --last-reviewed 2019-01-17.",
                    )
            mode = "after-date"
            continue
        if block.kind == "heading":
            mode = "heading" if REFERENCES_RE.match(text) else None
            if mode:
                continue
        elif mode == "heading" or (mode == "after-date" and block.kind == "bullet"):
            parts.references.append(_reference(block))
            continue
        else:
            if mode == "after-date":
                block = replace(block, after_dates=True)
            mode = None
        parts.body.append(block)
    if pending is not None:
        raise _no_date_after(*pending[:1], path, pending[1])
    return parts


def _drop_clutter_sections(body: list[SourceBlock]) -> tuple[list[SourceBlock], list[SourceNote]]:
    """Leave out each section whose heading is listed as clutter (``sections:`` in clutter.yaml)."""
    rules = clutter_rules()
    kept: list[SourceBlock] = []
    dropped: list[SourceNote] = []
    cut: list[SourceBlock] = []  # the clutter heading and what is under it, while cutting

    def end_cut() -> None:
        if cut:
            rule = rules.section(cut[0].text)
            dropped.append(SourceNote(cut[0].line, cut[0].text, f"a section of web clutter (rule {rule!r}): "
                                      "the heading and what is under it", cut[-1].last_line))
            cut.clear()

    for block in body:
        # A guessed heading's section of clutter (a list of links) ends at the first paragraph of text.
        text_again = bool(cut) and not cut[0].explicit and not cut[-1].grouped_next and not _is_short_line(block)
        if text_again or block.after_dates or (block.kind == "heading" and (not cut or block.level <= cut[0].level)):
            end_cut()
            if block.kind == "heading" and rules.section(block.text):
                cut.append(block)
                continue
        if cut:
            cut.append(block)
        elif rules.section(block.text):  # a clutter section's heading, alone
            dropped.append(SourceNote(block.line, block.text, f"web clutter (rule {rules.section(block.text)!r})"))
        else:
            kept.append(block)
    end_cut()
    return kept, dropped


def _drop_links(blocks: list[SourceBlock]) -> tuple[list[SourceBlock], list[SourceNote]]:
    """Leave out paragraphs that are nothing but a link to another page: no use on the phone."""
    notes = [SourceNote(b.line, shorten(b.text), "a link to another page, on its own") for b in blocks if b.link_only]
    return [b for b in blocks if not b.link_only], notes


def _headings(body: list[SourceBlock]) -> list[SourceBlock]:
    """Mark the section headings: the page's own at its top level, else guessed ones."""
    explicit = [b.level for b in body if b.kind == "heading" and b.explicit and b.level >= 2]
    if not explicit:
        return _guess_headings([b if b.kind != "heading" else replace(b, kind="paragraph") for b in body])
    return body


def _line_groups(body: list[SourceBlock]) -> tuple[list[SourceBlock], list[SourceNote]]:
    """Runs of short lines with no blank line between them (an address, a contact block, opening
    times) become one list, read as one part with a pause after each line."""
    out: list[SourceBlock] = []
    notes: list[SourceNote] = []
    run: list[SourceBlock] = []

    def end_run() -> None:
        if len(run) >= 2:
            out.extend(replace(b, kind="bullet", indent=0, new_list=i == 0) for i, b in enumerate(run))
            notes.append(SourceNote(run[0].line, shorten(" / ".join(b.text for b in run)),
                                    "lines of an address or contact block, kept together as a list", run[-1].line))
        else:
            out.extend(run)
        run.clear()

    for block in body:
        line = block.kind == "paragraph" and len(block.text) <= HEADING_MAX_CHARS and not block.text.endswith((".", ":"))
        if line and (not run or run[-1].grouped_next):
            run.append(block)
            continue
        end_run()
        (run if line else out).append(block)
    end_run()
    return out, notes


def _sections(body: list[SourceBlock], path: Path) -> tuple[list[Block], list[Section], list[SourceNote], list[SourceNote]]:
    """The introduction and the sections; notes of empty headings dropped and sub-headings kept as text."""
    levels = [b.level for b in body if b.kind == "heading"]
    top = min(levels, default=2)
    intro: list[Block] = []
    sections: list[tuple[str, int, list[Block]]] = []
    dropped: list[SourceNote] = []
    placed: list[SourceNote] = []
    for block in body:
        if block.kind == "heading" and block.level <= top:
            sections.append((block.text, block.line, []))
            continue
        blocks = sections[-1][2] if sections else intro
        if block.kind == "heading":  # a sub-heading: the leaflet has one level of sections
            where = f"section {sections[-1][0]!r}" if sections else "the introduction"
            placed.append(SourceNote(block.line, block.text, f"a sub-heading, kept as a paragraph of {where}"))
            blocks.append(Paragraph(block.text, block.line))
        elif block.kind == "bullet":
            if blocks and isinstance(blocks[-1], BulletList) and not block.new_list:
                blocks[-1] = BulletList((*blocks[-1].items, block.text), blocks[-1].line)
            else:
                blocks.append(BulletList((block.text,), block.line))
        else:
            blocks.append(Paragraph(block.text, block.line))
    for title, line, blocks in sections:
        if not blocks:
            dropped.append(SourceNote(line, title, "a heading with no text under it"))
    sections = [s for s in sections if s[2]]
    if not sections:
        raise SourceNotUnderstood(
            "has no section headings.", path=path, line=body[0].line if body else 1,
            hint="A heading is a short line without a full stop, followed by a paragraph "
                 "(or a line starting with '## ').",
        )
    return intro, [Section(title, tuple(blocks), line) for title, line, blocks in sections], dropped, placed


def _page_title(blocks: list[SourceBlock], title: str | None) -> tuple[str | None, list[SourceBlock], list[SourceNote]]:
    """A plain-text copy's first line when it is the page's title ('# Title', or a short line that
    is not a question, followed by text): taken as the title unless one is given, and left out."""
    if len(blocks) < 2:
        return None, blocks, []
    first = blocks[0]
    same = title is not None and first.text.casefold() == title.casefold()
    is_title = (first.kind == "heading" and first.level == 1) or (
        _is_short_line(first) and not first.text.endswith("?") and blocks[1].kind != "heading"
        and (title is None or same))
    if not is_title:
        return None, blocks, []
    reason = "the page's title" if title is None or same else "the page's title (replaced by --title)"
    return first.text, blocks[1:], [SourceNote(first.line, first.text, reason)]


def _last_reviewed(parts: _Parts, given: dt.date | None, path: Path, text: str
                   ) -> tuple[dt.date, list[SourceNote], list[SourceNote]]:
    """The last review date (module docstring), the other dates left out, and a note to check.

    SourceNotUnderstood when there is none.
    """
    dates = parts.dates
    if "last_reviewed" in dates:
        used, what = dates["last_reviewed"], "its last review date is used"
    elif given is not None:
        used, what = None, "--last-reviewed is used"
    elif "updated" in dates or "published" in dates:
        used = dates.get("updated") or dates["published"]
        what = f"its {used[0].kind} date is used"
    else:
        raise SourceNotUnderstood(
            "has no 'Last reviewed:' date.", path=path, line=len(text.rstrip().splitlines()),
            hint="Give the date the leaflet was last reviewed with --last-reviewed 2019-01-17.",
        )
    dropped = [SourceNote(line, found.written, f"the page's {found.kind} date ({what})")
               for kind, (found, line) in dates.items() if kind in ("updated", "published") and (found, line) != used]
    check = []
    if used is not None and used[0].kind != "last_reviewed":
        check.append(SourceNote(used[1], used[0].written, f"the page gives no review date: its {used[0].kind} date "
                                "is taken as the last review; check it with the clinical team (or give --last-reviewed)"))
    date = used[0].date if used is not None else given
    assert date is not None
    return date, dropped, check


@dataclass(frozen=True)
class PageStructure:
    title: str | None  # a plain-text copy's first line, when it is the page's title
    intro: tuple[Block, ...]
    sections: tuple[Section, ...]
    references: tuple[str, ...]
    last_reviewed: dt.date
    next_review: dt.date | None
    pieces: tuple[tuple[str, int], ...]  # the text kept, with its lines (for the spelling check)
    dropped: tuple[SourceNote, ...]
    placed: tuple[SourceNote, ...]


def page_structure(blocks: list[SourceBlock], path: Path, text: str, *, html: bool, title: str | None,
                   last_reviewed: dt.date | None) -> PageStructure:
    """The leaflet in the page's blocks; SourceNotUnderstood, naming the line, when there is none
    (no section headings, no last review date, a date label without a date)."""
    dropped: list[SourceNote] = []
    page_title = None
    if not html:
        page_title, blocks, dropped = _page_title(blocks, title)
    blocks, links = _drop_links(blocks)
    parts = _split(_headings(blocks), path)
    body, cut = _drop_clutter_sections(parts.body)
    body, grouped = _line_groups(body)
    intro, sections, empty, placed = _sections(body, path)
    reviewed, date_notes, check = _last_reviewed(parts, last_reviewed, path, text)
    return PageStructure(
        title=page_title, intro=tuple(intro), sections=tuple(sections), references=tuple(parts.references),
        last_reviewed=reviewed,
        next_review=parts.dates["next_review"][0].date if "next_review" in parts.dates else None,
        pieces=tuple(piece for block in body for piece in block.pieces),
        dropped=tuple(sorted([*dropped, *links, *parts.dropped, *cut, *empty, *date_notes], key=lambda n: n.line)),
        placed=tuple(sorted([*placed, *grouped, *check], key=lambda n: n.line)),
    )
