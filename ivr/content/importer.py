"""``ivr import``: a leaflet copied from a web page -> a leaflet Markdown file ready for review.

The steps, in order:

1. :mod:`ivr.content.source_blocks` (plain text) or :mod:`ivr.content.source_html` (a saved
   page) reads the file, refuses what it cannot understand, normalises odd spaces, dashes and
   quotes, drops the web clutter listed in ``ivr/data/clutter.yaml`` and the page's navigation,
   and finds paragraphs, bullets and headings, noting every line it drops;
2. here: the title is the page's ``<h1>`` (or a first line that reads as one, else the file
   name); the page's own dates (:mod:`ivr.content.page_dates`: "Last reviewed", "Next review
   due", "Updated", "Published", in their many wordings) go to the front matter; the bullet list
   after them, or under a "References" heading, becomes ``references``; sections are the page's
   headings at its top level (``##``, ``<h2>``), deeper ones stay as paragraphs of their section,
   and in a page without marked headings, short lines without a full stop that are followed by
   text (a question is a heading: "What is a nephrectomy?"); a section whose heading is listed as
   clutter ("Related links") goes whole, and so does an empty one; what comes before the first
   heading is the introduction;
3. words that look misspelt (:mod:`ivr.content.spelling`) become ``corrections`` with
   ``status: suggested``. The leaflet text keeps the word as written: clinical wording is never
   changed without a person confirming it.

Every part of the page left out is listed (``dropped``) with its lines, and so is every part kept
somewhere a reviewer should check (``placed``): ``ivr import`` prints both. The last review date
is the page's "reviewed" date, else ``--last-reviewed``, else its "updated", else its "published"
date (said in ``placed``). The source is kept beside the leaflet (``sources/<slug>.txt``, or
``.html``) and named in its ``source_file``, so that a clone has everything to import it again.

How a reviewer confirms corrections
-----------------------------------
``ivr import`` prints each suggestion with its source line. Then either

- all suggestions are right: import again with ``--apply-corrections --force``: each suggested
  fix is made in the text and its status becomes ``confirmed``; or
- some are wrong: edit the leaflet file by hand. For a right one, change the word in the text
  and set ``status: confirmed``; for a wrong one set ``status: rejected`` (the text keeps it).

``ivr check`` warns about every correction still ``suggested``, and about a ``confirmed`` one
whose original word is still in the text. Importing again with ``--force`` keeps what people added
to the leaflet file: its code, section labels, recognition words and approval (which then holds
only if what callers hear is unchanged).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from ivr.content.approval import Approval
from ivr.content.leaflet import (
    SLUG_RE,
    Block,
    BulletList,
    Correction,
    Paragraph,
    Section,
    load_leaflet,
    parse_leaflet,
    yaml_value,
)
from ivr.content.page_dates import PageDate, page_dates, parse_date
from ivr.content.rules import clutter_rules
from ivr.content.source_blocks import SourceBlock, SourceNote, is_html, read_source, shorten, text_blocks
from ivr.content.source_html import html_blocks
from ivr.content.spelling import Misspelling, find_misspellings
from ivr.errors import ContentError, LeafletFormatError, SourceNotUnderstood

__all__ = ["ImportedLeaflet", "import_source", "write_leaflet"]

REFERENCES_RE = re.compile(r"^(?:references|sources|sources of information|bibliography|evidence)$", re.IGNORECASE)
HEADING_MAX_CHARS = 70
HEADING_MAX_WORDS = 10
SOURCES_DIR = "sources"  # beside the leaflets: sources/<slug>.txt


@dataclass(frozen=True)
class ImportedLeaflet:
    title: str
    slug: str
    source: str
    last_reviewed: dt.date
    next_review: dt.date | None
    references: tuple[str, ...]
    corrections: tuple[Correction, ...]
    intro: tuple[Block, ...]
    sections: tuple[Section, ...]
    unknown_words: tuple[Misspelling, ...]  # look misspelt, but nothing close to suggest
    dropped: tuple[SourceNote, ...] = ()  # left out of the leaflet, with their source lines
    placed: tuple[SourceNote, ...] = ()  # kept, but a reviewer should check where or how
    source_file: str | None = None  # the source kept beside the leaflet (set by write_leaflet)
    code: str | None = None  # what people added to a leaflet imported again: kept
    phrases: tuple[str, ...] = ()
    approval: Approval | None = None
    kept: tuple[str, ...] = field(default=())  # what was carried over from the file replaced

    def report(self, source: str) -> list[str]:
        """What was left out and what to check, one line each, naming ``source`` and the lines."""
        lines = []
        for heading, notes in (("Left out of the leaflet:", self.dropped), ("Kept, but check:", self.placed)):
            lines += [heading] if notes else []
            lines += [f"  {source}:{note.where()}: {note.text!r}: {note.reason}" for note in notes]
        return lines

    def with_corrections_applied(self) -> ImportedLeaflet:
        """Every suggested fix made in the text (whole words, as written) and marked confirmed."""
        suggested = [c for c in self.corrections if c.status == "suggested"]

        def fix(text: str) -> str:
            for c in suggested:
                text = re.sub(rf"(?<![\w'-]){re.escape(c.original)}(?![\w'-])", c.fix, text)
            return text

        def blocks(items: tuple[Block, ...]) -> tuple[Block, ...]:
            return tuple(
                Paragraph(fix(b.text), b.line) if isinstance(b, Paragraph)
                else BulletList(tuple(fix(i) for i in b.items), b.line)
                for b in items
            )

        return replace(
            self,
            intro=blocks(self.intro),
            sections=tuple(replace(s, title=fix(s.title), blocks=blocks(s.blocks)) for s in self.sections),
            corrections=tuple(
                replace(c, status="confirmed") if c.status == "suggested" else c for c in self.corrections
            ),
        )

    def markdown(self) -> str:
        """The leaflet file's text (see :mod:`ivr.content.leaflet` for the format)."""
        lines = ["---", f"title: {yaml_value(self.title)}", f"slug: {self.slug}"]
        if self.code:
            lines.append(f"code: {yaml_value(self.code)}")
        lines.append(f"last_reviewed: {self.last_reviewed.isoformat()}")
        if self.next_review:
            lines.append(f"next_review: {self.next_review.isoformat()}")
        lines.append(f"source: {yaml_value(self.source)}")
        if self.source_file:
            lines.append(f"source_file: {yaml_value(self.source_file)}")
        lines.append("references:" if self.references else "references: []")
        lines += [f"  - {json.dumps(r, ensure_ascii=False)}" for r in self.references]
        lines.append("corrections:" if self.corrections else "corrections: []")
        for c in self.corrections:
            lines += [f"  - original: {yaml_value(c.original)}", f"    fix: {yaml_value(c.fix)}",
                      f"    source_line: {c.source_line}", f"    status: {c.status}"]
        if self.phrases:
            lines.append(f"say: {_flow(self.phrases)}")
        labelled = [s for s in self.sections if s.label or s.phrases]
        if labelled:
            lines.append("sections:")
            for s in labelled:
                lines.append(f"  {_key(s.title)}:")
                lines += [f"    label: {yaml_value(s.label)}"] if s.label else []
                lines += [f"    say: {_flow(s.phrases)}"] if s.phrases else []
        if self.approval:
            a = self.approval
            lines += ["approval:", f"  by: {yaml_value(a.by)}", f"  role: {yaml_value(a.role)}",
                      f"  date: {a.date.isoformat()}", f"  spoken_sha256: {a.spoken_sha256}"]
        lines += ["---", ""]
        lines += _body_lines(self.intro)
        for section in self.sections:
            lines += [f"## {section.title}", "", *_body_lines(section.blocks)]
        return "\n".join(lines).rstrip("\n") + "\n"


def _flow(items: tuple[str, ...]) -> str:
    """A YAML flow list, each item plain when YAML reads it back unchanged, else quoted."""
    def item(text: str) -> str:
        try:
            plain = yaml.safe_load(f"[{text}]") == [text]
        except yaml.YAMLError:
            plain = False
        return text if plain else json.dumps(text, ensure_ascii=False)

    return "[" + ", ".join(item(text) for text in items) + "]"


def _key(text: str) -> str:
    try:
        plain = yaml.safe_load(f"{text}: x") == {text: "x"}
    except yaml.YAMLError:
        plain = False
    return text if plain else json.dumps(text, ensure_ascii=False)


def _body_lines(blocks: tuple[Block, ...]) -> list[str]:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            lines += [block.text, ""]
        else:
            lines += [f"- {item}" for item in block.items] + [""]
    return lines


def _title_from_file(path: Path) -> str:
    words = " ".join(re.split(r"[-_\s]+", path.stem)).strip()
    return words[:1].upper() + words[1:]


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


def import_source(
    path: Path,
    *,
    title: str | None = None,
    slug: str | None = None,
    source: str | None = None,
    last_reviewed: dt.date | None = None,
) -> ImportedLeaflet:
    """Import one web page copy; SourceNotUnderstood, naming the line, when it cannot be understood.

    The title comes from ``title``, else the page's <h1> or first line (see the module
    docstring), else the file name. A last review date in the page wins over ``last_reviewed``.
    """
    text = read_source(path)
    page_title = None
    if is_html(path, text):
        page_title, blocks, dropped = html_blocks(text, path)
    else:
        blocks, dropped = text_blocks(text, path)
        page_title, blocks, title_note = _page_title(blocks, title)
        dropped += title_note
    blocks, links = _drop_links(blocks)
    parts = _split(_headings(blocks), path)
    body, cut = _drop_clutter_sections(parts.body)
    body, grouped = _line_groups(body)
    intro, sections, empty, placed = _sections(body, path)
    placed += grouped
    title = " ".join((title or page_title or _title_from_file(path)).split())
    slug = slug or re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if not SLUG_RE.match(slug):
        raise SourceNotUnderstood(
            f"gives the slug {slug!r}, which is not lower-case words joined by hyphens.", path=path,
            hint="Give one with --slug, e.g. --slug cryotherapy-for-kidney-cancer.",
        )
    reviewed, date_notes, check = _last_reviewed(parts, last_reviewed, path, text)
    next_review = parts.dates["next_review"][0].date if "next_review" in parts.dates else None
    pieces = [piece for block in body for piece in block.pieces]
    found = list(find_misspellings(pieces))
    return ImportedLeaflet(
        title=title,
        slug=slug,
        source=" ".join((source or f"Imported from {path.name}").split()),
        last_reviewed=reviewed,
        next_review=next_review,
        references=tuple(parts.references),
        corrections=tuple(Correction(m.word, m.fix, m.line, "suggested") for m in found if m.fix),
        intro=tuple(intro),
        sections=tuple(sections),
        unknown_words=tuple(m for m in found if not m.fix),
        dropped=tuple(sorted([*dropped, *links, *parts.dropped, *cut, *empty, *date_notes], key=lambda n: n.line)),
        placed=tuple(sorted([*placed, *check], key=lambda n: n.line)),
    )


def _carry_over(imported: ImportedLeaflet, target: Path) -> ImportedLeaflet:
    """What people added to the leaflet file being replaced: code, labels, recognition words, approval."""
    try:
        old = load_leaflet(target)
    except ContentError:
        return imported  # a broken file: nothing to keep
    by_title = {s.title: s for s in old.sections}
    sections = tuple(
        replace(s, label=by_title[s.title].label, phrases=by_title[s.title].phrases) if s.title in by_title else s
        for s in imported.sections
    )
    titles = {s.title for s in imported.sections}
    lost = [s.title for s in old.sections if (s.label or s.phrases) and s.title not in titles]
    kept = [name for name, there in (("code", old.code), ("say", old.phrases), ("approval", old.approval)) if there]
    kept += ["labels of " + ", ".join(repr(s.title) for s in sections if s.label or s.phrases)] \
        if any(s.label or s.phrases for s in sections) else []
    kept += [f"(dropped: labels of headings no longer there: {', '.join(map(repr, lost))})"] if lost else []
    return replace(imported, code=old.code, phrases=old.phrases, approval=old.approval, sections=sections,
                   kept=tuple(kept))


def write_leaflet(imported: ImportedLeaflet, folder: Path, *, force: bool = False,
                  source_path: Path | None = None) -> tuple[Path, ImportedLeaflet]:
    """Write ``<folder>/<slug>.md`` (and keep ``source_path`` as ``<folder>/sources/<slug><suffix>``).

    SourceNotUnderstood if the leaflet exists (unless ``force``: then what people added to it is
    kept, see :func:`_carry_over`). The text is parsed back before writing, so a written leaflet
    always loads. Returns the path and the leaflet as written.
    """
    target = folder / f"{imported.slug}.md"
    if target.exists() and not force:
        raise SourceNotUnderstood(
            "already exists; a reviewed leaflet is not overwritten.", path=target,
            hint="Add --force to replace it (its code, labels and approval are kept), or --slug to write a new one.",
        )
    if target.exists():
        imported = _carry_over(imported, target)
    kept_source = None
    if source_path is not None:
        suffix = ".html" if source_path.suffix.lower() in (".html", ".htm") else ".txt"
        kept_source = folder / SOURCES_DIR / f"{imported.slug}{suffix}"
        imported = replace(imported, source_file=f"{SOURCES_DIR}/{kept_source.name}")
    text = imported.markdown()
    try:
        parse_leaflet(text, path=target)
    except LeafletFormatError as exc:  # a gap in the importer, not in the source: say so plainly
        raise SourceNotUnderstood(
            f"would not be a valid leaflet: {exc.message}", path=target, line=exc.line, hint=exc.hint,
        ) from exc
    folder.mkdir(parents=True, exist_ok=True)
    if kept_source is not None and source_path is not None and kept_source.resolve() != source_path.resolve():
        kept_source.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source_path, kept_source)
    target.write_text(text, encoding="utf-8")
    return target, imported
