"""``ivr import``: a leaflet copied from a web page -> a leaflet Markdown file ready for review.

The steps, in order:

1. :mod:`ivr.content.source_blocks` reads the file (plain text, or simple HTML), refuses what it
   cannot understand, normalises odd spaces, dashes and quotes, drops the web clutter listed in
   ``ivr/data/clutter.yaml`` and finds paragraphs and bullets;
2. here: section headings are short lines without a full stop that are followed by text; what
   comes before the first heading is the introduction; "Last reviewed: 17 Jan 2019" (the date may
   be on the next line) becomes ``last_reviewed: 2019-01-17``; the bullet list after it, or under a
   "References" heading, becomes ``references`` (each item's lines joined with ". ");
3. words that look misspelt (:mod:`ivr.content.spelling`) become ``corrections`` with
   ``status: suggested``. The leaflet text keeps the word as written: clinical wording is never
   changed without a person confirming it.

How a reviewer confirms corrections
-----------------------------------
``ivr import`` prints each suggestion with its source line. Then either

- all suggestions are right: import again with ``--apply-corrections --force``: each suggested
  fix is made in the text and its status becomes ``confirmed``; or
- some are wrong: edit the leaflet file by hand. For a right one, change the word in the text
  and set ``status: confirmed``; for a wrong one set ``status: rejected`` (the text keeps it).

``ivr check`` warns about every correction still ``suggested``, and about a ``confirmed`` one
whose original word is still in the text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from ivr.content.leaflet import SLUG_RE, Block, BulletList, Correction, Paragraph, Section, parse_leaflet
from ivr.content.source_blocks import SourceBlock, html_blocks, is_html, read_source, text_blocks
from ivr.content.spelling import Misspelling, find_misspellings
from ivr.errors import LeafletFormatError, SourceNotUnderstood

__all__ = ["ImportedLeaflet", "import_source", "write_leaflet"]

REVIEWED_RE = re.compile(r"^(?:page\s+)?last\s+(?:reviewed|updated)\s*:?\s*(.*)$", re.IGNORECASE)
NEXT_REVIEW_RE = re.compile(r"^next\s+review(?:\s+due)?\s*:?\s*(.*)$", re.IGNORECASE)
REFERENCES_RE = re.compile(r"^(?:references|sources|bibliography)$", re.IGNORECASE)
DATE_FORMATS = ("%d %b %Y", "%d %B %Y", "%d/%m/%Y", "%Y-%m-%d")
HEADING_MAX_CHARS = 70
HEADING_MAX_WORDS = 10


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
            sections=tuple(Section(fix(s.title), blocks(s.blocks), s.line) for s in self.sections),
            corrections=tuple(
                replace(c, status="confirmed") if c.status == "suggested" else c for c in self.corrections
            ),
        )

    def markdown(self) -> str:
        """The leaflet file's text (see :mod:`ivr.content.leaflet` for the format)."""
        lines = ["---", f"title: {_scalar(self.title)}", f"slug: {self.slug}",
                 f"last_reviewed: {self.last_reviewed.isoformat()}"]
        if self.next_review:
            lines.append(f"next_review: {self.next_review.isoformat()}")
        lines.append(f"source: {_scalar(self.source)}")
        lines.append("references:" if self.references else "references: []")
        lines += [f"  - {json.dumps(r, ensure_ascii=False)}" for r in self.references]
        lines.append("corrections:" if self.corrections else "corrections: []")
        for c in self.corrections:
            lines += [f"  - original: {_scalar(c.original)}", f"    fix: {_scalar(c.fix)}",
                      f"    source_line: {c.source_line}", f"    status: {c.status}"]
        lines += ["---", ""]
        lines += _body_lines(self.intro)
        for section in self.sections:
            lines += [f"## {section.title}", "", *_body_lines(section.blocks)]
        return "\n".join(lines).rstrip("\n") + "\n"


def _scalar(value: str) -> str:
    """A YAML value: plain when YAML reads it back unchanged, else double-quoted."""
    try:
        plain = yaml.safe_load(f"k: {value}") == {"k": value}
    except yaml.YAMLError:
        plain = False
    return value if plain and value == value.strip() else json.dumps(value, ensure_ascii=False)


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


def _parse_date(text: str, path: Path, line: int) -> dt.date:
    cleaned = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", text.strip().rstrip(".,;"))
    cleaned = re.sub(r"\bSept\b", "Sep", cleaned, flags=re.IGNORECASE)
    for pattern in DATE_FORMATS:
        try:
            return dt.datetime.strptime(cleaned, pattern).date()
        except ValueError:
            continue
    raise SourceNotUnderstood(
        f"cannot read the date {text!r}.", path=path, line=line,
        hint="Write it like '17 Jan 2019', or give it with --last-reviewed 2019-01-17.",
    )


def _is_heading_candidate(block: SourceBlock) -> bool:
    text = block.text
    return (
        block.kind == "paragraph" and len(block.pieces) == 1 and len(text) <= HEADING_MAX_CHARS
        and len(text.split()) <= HEADING_MAX_WORDS and not text.endswith((".", ",", ";", ":", "!", "?"))
        and (text[:1].isupper() or text[:1].isdigit())
        and not REVIEWED_RE.match(text) and not NEXT_REVIEW_RE.match(text)
    )


def _mark_headings(blocks: list[SourceBlock]) -> list[SourceBlock]:
    """Turn each short line without a full stop that is followed by text into a heading."""
    marked = []
    for index, block in enumerate(blocks):
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        if (
            _is_heading_candidate(block) and following is not None and following.kind != "heading"
            and not _is_heading_candidate(following) and not REVIEWED_RE.match(following.text)
        ):
            block = SourceBlock("heading", block.pieces)
        marked.append(block)
    return marked


def _reference(block: SourceBlock) -> str:
    """One reference: its lines (title, authors, journal) joined as sentences."""
    text = ""
    for piece, _ in block.pieces:
        piece = piece.rstrip(",;").strip()
        if text:
            text += " " if text.endswith((".", ":", ";", "?", "!")) else ". "
        text += piece
    return text


@dataclass
class _Parts:
    body: list[SourceBlock]
    references: list[str]
    last_reviewed: dt.date | None = None
    next_review: dt.date | None = None


def _split(blocks: list[SourceBlock], path: Path) -> _Parts:
    """Separate the body from the review dates and the references.

    References are the bullets right after the review date (the seed's layout), or every block
    under a "References" heading up to the next heading.
    """
    parts = _Parts([], [])
    mode: str | None = None  # "after-date" or "heading" while reading references
    pending: tuple[str, int] | None = None  # a date label whose date is on the next line
    for block in blocks:
        text = block.text
        if pending is not None:
            setattr(parts, pending[0], _parse_date(text, path, block.line))
            pending = None
            continue
        label = next(
            ((name, m) for name, pattern in (("last_reviewed", REVIEWED_RE), ("next_review", NEXT_REVIEW_RE))
             if block.kind == "paragraph" and (m := pattern.match(text))),
            None,
        )
        if label is not None:
            name, match = label
            if match[1]:
                setattr(parts, name, _parse_date(match[1], path, block.pieces[-1][1]))
            else:
                pending = (name, block.line)
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
            mode = None
        parts.body.append(block)
    if pending is not None:
        raise SourceNotUnderstood(
            "has a review date label but no date after it.", path=path, line=pending[1],
            hint="Put the date on the same line or the next, like 'Last reviewed: 17 Jan 2019'.",
        )
    return parts


def _sections(body: list[SourceBlock], path: Path) -> tuple[list[Block], list[Section]]:
    intro: list[Block] = []
    sections: list[tuple[str, int, list[Block]]] = []
    for block in body:
        if block.kind == "heading":
            sections.append((block.text, block.line, []))
            continue
        blocks = sections[-1][2] if sections else intro
        if block.kind == "bullet":
            if blocks and isinstance(blocks[-1], BulletList):
                blocks[-1] = BulletList((*blocks[-1].items, block.text), blocks[-1].line)
            else:
                blocks.append(BulletList((block.text,), block.line))
        else:
            blocks.append(Paragraph(block.text, block.line))
    if not sections:
        raise SourceNotUnderstood(
            "has no section headings.", path=path, line=body[0].line if body else 1,
            hint="A heading is a short line without a full stop, followed by a paragraph "
                 "(or a line starting with '## ').",
        )
    for title, line, blocks in sections:
        if not blocks:
            raise SourceNotUnderstood(
                f"section {title!r} has no text under it.", path=path, line=line,
                hint="Add its text, or delete the heading.",
            )
    return intro, [Section(title, tuple(blocks), line) for title, line, blocks in sections]


def import_source(
    path: Path,
    *,
    title: str | None = None,
    slug: str | None = None,
    source: str | None = None,
    last_reviewed: dt.date | None = None,
) -> ImportedLeaflet:
    """Import one web page copy; SourceNotUnderstood, naming the line, when it cannot be understood.

    The title comes from ``title``, else the page's <h1> (HTML), else the file name. The review
    date found in the page wins over ``last_reviewed``, which is used when the page has none.
    """
    text = read_source(path)
    page_title = None
    if is_html(path, text):
        page_title, blocks = html_blocks(text, path)
    else:
        blocks = text_blocks(text, path)
    parts = _split(_mark_headings(blocks), path)
    intro, sections = _sections(parts.body, path)
    title = " ".join((title or page_title or _title_from_file(path)).split())
    slug = slug or re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    if not SLUG_RE.match(slug):
        raise SourceNotUnderstood(
            f"gives the slug {slug!r}, which is not lower-case words joined by hyphens.", path=path,
            hint="Give one with --slug, e.g. --slug cryotherapy-for-kidney-cancer.",
        )
    reviewed = parts.last_reviewed or last_reviewed
    if reviewed is None:
        raise SourceNotUnderstood(
            "has no 'Last reviewed:' date.", path=path, line=len(text.rstrip().splitlines()),
            hint="Give the date the leaflet was last reviewed with --last-reviewed 2019-01-17.",
        )
    pieces = [piece for block in parts.body for piece in block.pieces]
    found = list(find_misspellings(pieces))
    return ImportedLeaflet(
        title=title,
        slug=slug,
        source=" ".join((source or f"Imported from {path.name}").split()),
        last_reviewed=reviewed,
        next_review=parts.next_review,
        references=tuple(parts.references),
        corrections=tuple(Correction(m.word, m.fix, m.line, "suggested") for m in found if m.fix),
        intro=tuple(intro),
        sections=tuple(sections),
        unknown_words=tuple(m for m in found if not m.fix),
    )


def write_leaflet(imported: ImportedLeaflet, folder: Path, *, force: bool = False) -> Path:
    """Write ``<folder>/<slug>.md``; SourceNotUnderstood if it exists (unless ``force``).

    The text is parsed back before writing, so a written leaflet always loads.
    """
    target = folder / f"{imported.slug}.md"
    if target.exists() and not force:
        raise SourceNotUnderstood(
            "already exists; a reviewed leaflet is not overwritten.", path=target,
            hint="Add --force to replace it, or --slug to write a new one.",
        )
    text = imported.markdown()
    try:
        parse_leaflet(text, path=target)
    except LeafletFormatError as exc:  # a gap in the importer, not in the source: say so plainly
        raise SourceNotUnderstood(
            f"would not be a valid leaflet: {exc.message}", path=target, line=exc.line, hint=exc.hint,
        ) from exc
    folder.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target
