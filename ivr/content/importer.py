"""``ivr import``: a leaflet copied from a web page -> a leaflet Markdown file ready for review.

The steps, in order:

1. :mod:`ivr.content.source_blocks` (plain text) or :mod:`ivr.content.source_html` (a saved
   page) reads the file, refuses what it cannot understand, normalises odd spaces, dashes and
   quotes, drops the web clutter listed in ``ivr/data/clutter.yaml`` and the page's navigation,
   and finds paragraphs, bullets and headings, noting every line it drops;
2. :mod:`ivr.content.page_structure`: the title is the page's ``<h1>`` (or a first line that
   reads as one, else the file name); the page's own dates (:mod:`ivr.content.page_dates`: "Last reviewed", "Next review
   due", "Updated", "Published", in their many wordings) go to the front matter; the bullet list
   after them, or under a "References" heading, becomes ``references``; sections are the page's
   headings at its top level (``##``, ``<h2>``), deeper ones stay as paragraphs of their section,
   and in a page without marked headings, short lines without a full stop that are followed by
   text (a question is a heading: "What is a nephrectomy?"); a section whose heading is listed as
   clutter ("Related links") goes whole, and so does an empty one; what comes before the first
   heading is the introduction;
3. here: words that look misspelt (:mod:`ivr.content.spelling`) become ``corrections`` with
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
from ivr.content.page_structure import page_structure
from ivr.content.source_blocks import SourceNote, is_html, read_source, text_blocks
from ivr.content.source_html import html_blocks
from ivr.content.spelling import Misspelling, find_misspellings
from ivr.errors import ContentError, LeafletFormatError, SourceNotUnderstood

__all__ = ["ImportedLeaflet", "import_source", "write_leaflet"]

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
    html = is_html(path, text)
    if html:
        page_title, blocks, dropped = html_blocks(text, path)
    else:
        page_title, (blocks, dropped) = None, text_blocks(text, path)
    page = page_structure(blocks, path, text, html=html, title=title, last_reviewed=last_reviewed)
    title = " ".join((title or page_title or page.title or _title_from_file(path)).split())
    slug = slug or re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if not SLUG_RE.match(slug):
        raise SourceNotUnderstood(
            f"gives the slug {slug!r}, which is not lower-case words joined by hyphens.", path=path,
            hint="Give one with --slug, e.g. --slug cryotherapy-for-kidney-cancer.",
        )
    found = list(find_misspellings(page.pieces))
    return ImportedLeaflet(
        title=title,
        slug=slug,
        source=" ".join((source or f"Imported from {path.name}").split()),
        last_reviewed=page.last_reviewed,
        next_review=page.next_review,
        references=page.references,
        corrections=tuple(Correction(m.word, m.fix, m.line, "suggested") for m in found if m.fix),
        intro=page.intro,
        sections=page.sections,
        unknown_words=tuple(m for m in found if not m.fix),
        dropped=tuple(sorted([*dropped, *page.dropped], key=lambda n: n.line)),
        placed=page.placed,
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
