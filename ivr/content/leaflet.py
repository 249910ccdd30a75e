"""The leaflet file format: YAML front matter, an introduction, then ``##`` sections.

A leaflet is reviewed by people who are not programmers, so the format is plain Markdown::

    ---
    title: Cryotherapy for kidney cancer
    slug: cryotherapy-for-kidney-cancer
    code: 101                 # optional; printed on paper leaflets, keyed in by callers
    last_reviewed: 2019-01-17
    next_review: 2022-01-17   # optional
    source: where it came from
    references: [...]
    corrections: [{original: laproscope, fix: laparoscope, source_line: 24, status: confirmed}]
    ---

    Introduction paragraph.

    ## Section heading

    A paragraph.

    - a bullet
    - another bullet

:func:`parse_leaflet` raises :class:`LeafletFormatError` with the file and line of the problem.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.errors import LeafletFormatError

__all__ = [
    "Block",
    "BulletList",
    "Correction",
    "Leaflet",
    "Paragraph",
    "Section",
    "load_leaflet",
    "parse_leaflet",
]

REQUIRED_FIELDS = ("title", "slug", "last_reviewed", "source")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE_RE = re.compile(r"^[0-9]{1,6}$")


@dataclass(frozen=True)
class Paragraph:
    text: str
    line: int


@dataclass(frozen=True)
class BulletList:
    items: tuple[str, ...]
    line: int


Block = Paragraph | BulletList


@dataclass(frozen=True)
class Section:
    title: str
    blocks: tuple[Block, ...]
    line: int


@dataclass(frozen=True)
class Correction:
    original: str
    fix: str
    source_line: int | None
    status: str  # "suggested" (by the importer), "confirmed" or "rejected" (by a reviewer)


@dataclass(frozen=True)
class Leaflet:
    title: str
    slug: str
    code: str | None
    last_reviewed: dt.date
    next_review: dt.date | None
    source: str
    references: tuple[str, ...]
    corrections: tuple[Correction, ...]
    intro: tuple[Block, ...]
    sections: tuple[Section, ...]
    path: Path | None = None
    body_line: int = 1  # line number of the first body line in the file


def load_leaflet(path: Path) -> Leaflet:
    """Read and parse one leaflet file; LeafletFormatError (with file and line) if malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LeafletFormatError("is not UTF-8 text.", path=path, hint=str(exc)) from exc
    return parse_leaflet(text, path=path)


def _split_front_matter(text: str, path: Path | None) -> tuple[dict[str, object], list[str], int]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise LeafletFormatError(
            "has no front matter.", path=path, line=1,
            hint="Start the file with a line '---', the fields (title, slug, ...), then '---'.",
        )
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise LeafletFormatError(
            "front matter is not closed.", path=path, line=1,
            hint="Add a line '---' after the last field.",
        ) from None
    try:
        meta = yaml.safe_load("\n".join(lines[1:end])) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 2
        raise LeafletFormatError(
            f"front matter is not valid YAML ({getattr(exc, 'problem', exc)}).", path=path,
            line=line, hint="Check quotes and indentation; quote a value that contains ': '.",
        ) from exc
    if not isinstance(meta, dict):
        raise LeafletFormatError("front matter must be 'field: value' lines.", path=path, line=2)
    return meta, lines[end + 1 :], end + 2


def _date(meta: dict[str, object], name: str, path: Path | None, line: int) -> dt.date | None:
    value = meta.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise LeafletFormatError(
            f"Expected a date like 2019-01-17 in {name}, got {value!r}.", path=path, line=line,
        ) from None


def _field_line(text: str, name: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(f"{name}:"):
            return number
    return 1


def _parse_body(lines: list[str], first_line: int, path: Path | None) -> list[tuple[str | None, list[Block], int]]:
    """Split the body into (heading or None for the intro, blocks, line)."""
    chunks: list[tuple[str | None, list[Block], int]] = [(None, [], first_line)]
    paragraph: list[str] = []
    bullets: list[str] = []
    start = 0

    def flush() -> None:
        nonlocal paragraph, bullets
        if paragraph:
            chunks[-1][1].append(Paragraph(" ".join(s.strip() for s in paragraph), start))
        if bullets:
            chunks[-1][1].append(BulletList(tuple(bullets), start))
        paragraph, bullets = [], []

    for offset, raw in enumerate(lines):
        number = first_line + offset
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        if stripped.startswith("#"):
            flush()
            if not stripped.startswith("## ") or stripped.startswith("###"):
                raise LeafletFormatError(
                    f"unexpected heading {stripped!r}.", path=path, line=number,
                    hint="Sections start with '## ' (two hashes and a space); the title is in the front matter.",
                )
            chunks.append((stripped[3:].strip(), [], number))
            continue
        if stripped.startswith(("- ", "* ")):
            if paragraph:
                flush()
            if not bullets:
                start = number
            bullets.append(stripped[2:].strip())
            continue
        if bullets and raw.startswith((" ", "\t")):
            bullets[-1] += " " + stripped  # a wrapped bullet continues the item above
            continue
        if bullets:
            flush()
        if not paragraph:
            start = number
        paragraph.append(stripped)
    flush()
    return chunks


def parse_leaflet(text: str, *, path: Path | None = None) -> Leaflet:
    """Parse leaflet Markdown; LeafletFormatError names the line and how to fix it."""
    meta, body, body_line = _split_front_matter(text, path)
    for name in REQUIRED_FIELDS:
        if meta.get(name) in (None, ""):
            raise LeafletFormatError(
                f"front matter has no {name}.", path=path, line=1,
                hint=f"Add a line '{name}: ...' between the '---' lines.",
            )
    slug = str(meta["slug"])
    if not SLUG_RE.match(slug):
        raise LeafletFormatError(
            f"Expected a slug of lower-case words joined by hyphens, got {slug!r}.",
            path=path, line=_field_line(text, "slug"), hint="e.g. slug: cryotherapy-for-kidney-cancer",
        )
    code = meta.get("code")
    if code is not None and not CODE_RE.match(str(code)):
        raise LeafletFormatError(
            f"Expected a code of 1 to 6 digits, got {code!r}.", path=path,
            line=_field_line(text, "code"), hint="Callers key it in on the phone; use digits only.",
        )
    last_reviewed = _date(meta, "last_reviewed", path, _field_line(text, "last_reviewed"))
    assert last_reviewed is not None  # required above
    references = meta.get("references") or []
    corrections = meta.get("corrections") or []
    if not isinstance(references, list) or not isinstance(corrections, list):
        raise LeafletFormatError(
            "references and corrections must be lists ('- ' items).", path=path,
            line=_field_line(text, "references"),
        )
    parsed_corrections = []
    for item in corrections:
        if not isinstance(item, dict) or "original" not in item or "fix" not in item:
            raise LeafletFormatError(
                f"each correction needs 'original' and 'fix', got {item!r}.", path=path,
                line=_field_line(text, "corrections"),
            )
        line = item.get("source_line")
        parsed_corrections.append(
            Correction(
                original=str(item["original"]), fix=str(item["fix"]),
                source_line=int(line) if line is not None else None,
                status=str(item.get("status", "suggested")),
            )
        )
    chunks = _parse_body(body, body_line, path)
    intro = tuple(chunks[0][1])
    sections = tuple(Section(title, tuple(blocks), line) for title, blocks, line in chunks[1:])
    if not sections:
        raise LeafletFormatError(
            "has no sections.", path=path, line=body_line,
            hint="Start each section with a line '## Heading'.",
        )
    for section in sections:
        if not section.blocks:
            raise LeafletFormatError(
                f"section {section.title!r} is empty.", path=path, line=section.line,
                hint="Add its text, or delete the heading.",
            )
    return Leaflet(
        title=str(meta["title"]).strip(),
        slug=slug,
        code=str(code) if code is not None else None,
        last_reviewed=last_reviewed,
        next_review=_date(meta, "next_review", path, _field_line(text, "next_review")),
        source=str(meta["source"]).strip(),
        references=tuple(str(r) for r in references),
        corrections=tuple(parsed_corrections),
        intro=intro,
        sections=sections,
        path=path,
        body_line=body_line,
    )
