"""The leaflet file format: YAML front matter, an introduction, then ``##`` sections.

A leaflet is reviewed by people who are not programmers, so the format is plain Markdown::

    ---
    title: Cryotherapy for kidney cancer
    slug: cryotherapy-for-kidney-cancer
    code: 101                 # optional; printed on paper leaflets, keyed in by callers
    last_reviewed: 2019-01-17
    next_review: 2022-01-17   # optional; default last_reviewed + IVR_REVIEW_PERIOD_MONTHS
    source: where it came from
    source_file: sources/cryotherapy-for-kidney-cancer.txt   # the page as copied, beside the leaflet
    references: [...]
    corrections: [{original: laproscope, fix: laparoscope, source_line: 24, status: confirmed}]
    say: [cryotherapy, freezing treatment]   # optional: other names callers may use for the leaflet
    sections:                 # optional, keyed by a section's heading
      What it is:
        label: what cryotherapy is        # spoken in menus instead of the heading
        say: [what is cryotherapy]        # other words callers may use for the section
    approval:                 # written by `ivr approve`, never by hand
      by: Dr Jane Smith
      role: Consultant urologist
      date: 2025-06-01
      spoken_sha256: 3f2a...  # of the spoken text approved (ivr.content.leaflet_approval)
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
import json
import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from ivr.content.approval import Approval, parse_approval
from ivr.errors import LeafletFormatError

__all__ = [
    "Block",
    "BulletList",
    "Correction",
    "Leaflet",
    "Paragraph",
    "Section",
    "front_matter_end",
    "load_leaflet",
    "parse_leaflet",
    "yaml_value",
]

REQUIRED_FIELDS = ("title", "slug", "last_reviewed", "source")
SECTION_FIELDS = ("label", "say")
PHRASE_MAX_CHARS = 80
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
    label: str | None = None  # what menus say instead of the title (front matter ``sections:``)
    phrases: tuple[str, ...] = ()  # other words callers may use for it (``say:``); never spoken


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
    source_file: str | None = None  # the copied page, relative to the leaflet's folder
    phrases: tuple[str, ...] = ()  # other names callers may use for the leaflet (``say:``)
    approval: Approval | None = None  # the last sign-off recorded by ``ivr approve``


def yaml_value(value: str) -> str:
    """``value`` written for a front matter line: plain when YAML reads it back unchanged, else quoted."""
    try:
        plain = yaml.safe_load(f"k: {value}") == {"k": value}
    except yaml.YAMLError:
        plain = False
    return value if plain and value == value.strip() else json.dumps(value, ensure_ascii=False)


def front_matter_end(lines: list[str]) -> int | None:
    """The index of the line closing the front matter ('---'), None if there is none."""
    if not lines or lines[0].strip() != "---":
        return None
    return next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)


def load_leaflet(path: Path) -> Leaflet:
    """Read and parse one leaflet file; LeafletFormatError (with file and line) if malformed."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LeafletFormatError("is not UTF-8 text.", path=path, hint=str(exc)) from exc
    return parse_leaflet(text, path=path)


# libyaml's loader where PyYAML has it: the pure-Python one takes 10 ms a leaflet, most of loading
# a hundred (the line's start-up, `ivr check`, `ivr render`). Same safe types either way.
FRONT_MATTER_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _split_front_matter(text: str, path: Path | None) -> tuple[dict[str, object], list[str], int]:
    """The front matter's fields, the body's lines, and the file line of the first body line."""
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
        meta = yaml.load("\n".join(lines[1:end]), Loader=FRONT_MATTER_LOADER) or {}
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


def _key_lines(lines: list[str], end: int) -> dict[tuple[str, ...], int]:
    """The file line of every mapping key in the front matter, by its path: ("sections", "What it is")."""
    found: dict[tuple[str, ...], int] = {}

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    found[(*path, str(key.value))] = key.start_mark.line + 2
                    walk(value, (*path, str(key.value)))

    try:
        root = yaml.compose("\n".join(lines[1:end]), Loader=FRONT_MATTER_LOADER)
    except yaml.YAMLError:
        return found
    if root is not None:
        walk(root, ())
    return found


def _phrases(value: object, where: str, path: Path | None, line: int) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else None
    if items is None or not all(isinstance(item, str) and item.strip() for item in items):
        raise LeafletFormatError(
            f"Expected a list of words callers may say in {where}, got {value!r}.", path=path, line=line,
            hint="Write it as say: [what is cryotherapy, the treatment].",
        )
    phrases = tuple(" ".join(item.split()) for item in items)
    too_long = next((p for p in phrases if len(p) > PHRASE_MAX_CHARS), None)
    if too_long:
        raise LeafletFormatError(
            f"{where} has a phrase of more than {PHRASE_MAX_CHARS} characters: {too_long!r}.", path=path,
            line=line, hint="List the few words a caller would say, not sentences.",
        )
    return phrases


def _section_speech(meta: dict[str, object], sections: tuple[Section, ...], key_lines: dict[tuple[str, ...], int],
                    path: Path | None) -> tuple[Section, ...]:
    """Sections with their menu labels and phrases from the front matter's ``sections:`` mapping."""
    value = meta.get("sections")
    if value is None:
        return sections
    line = key_lines.get(("sections",), 1)
    if not isinstance(value, dict):
        raise LeafletFormatError(
            f"Expected 'sections:' to map section headings to a label and say, got {value!r}.", path=path,
            line=line, hint="e.g. sections:\n  What it is:\n    label: what cryotherapy is",
        )
    titles = [section.title for section in sections]
    extra: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    for heading, fields in value.items():
        where = key_lines.get(("sections", str(heading)), line)
        if str(heading) not in titles:
            raise LeafletFormatError(
                f"sections: {str(heading)!r} is not a heading of this leaflet.", path=path, line=where,
                hint=f"Use a heading exactly as written after '## ': {', '.join(repr(t) for t in titles)}.",
            )
        if not isinstance(fields, dict) or not fields or set(map(str, fields)) - set(SECTION_FIELDS):
            raise LeafletFormatError(
                f"sections: {str(heading)!r} must have 'label:' and/or 'say:', got {fields!r}.", path=path,
                line=where, hint="label: the words menus say for it; say: [other words callers may use].",
            )
        label = fields.get("label")
        label_line = key_lines.get(("sections", str(heading), "label"), where)
        if label is not None and (not isinstance(label, str) or not label.strip() or len(label) > PHRASE_MAX_CHARS):
            raise LeafletFormatError(
                f"Expected a short label of words in sections: {str(heading)!r}, got {label!r}.", path=path,
                line=label_line, hint="e.g. label: what cryotherapy is (menus say 'For what cryotherapy is, press 1').",
            )
        phrases = _phrases(fields.get("say"), f"sections: {str(heading)!r}", path,
                           key_lines.get(("sections", str(heading), "say"), where))
        extra[str(heading)] = (" ".join(label.split()) if isinstance(label, str) else None, phrases)
    return tuple(
        replace(section, label=extra[section.title][0], phrases=extra[section.title][1])
        if section.title in extra else section
        for section in sections
    )


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
    sections = tuple(Section(title or "", tuple(blocks), line) for title, blocks, line in chunks[1:])
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
    key_lines = _key_lines(text.splitlines(), body_line - 2)
    sections = _section_speech(meta, sections, key_lines, path)
    source_file = meta.get("source_file")
    if source_file is not None and (not isinstance(source_file, str) or not source_file.strip()
                                    or Path(source_file).is_absolute() or ".." in Path(source_file).parts):
        raise LeafletFormatError(
            f"Expected a path inside the leaflets folder in source_file, got {source_file!r}.", path=path,
            line=key_lines.get(("source_file",), 1), hint="e.g. source_file: sources/cryotherapy-for-kidney-cancer.txt",
        )
    approval = meta.get("approval")
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
        source_file=source_file.strip() if isinstance(source_file, str) else None,
        phrases=_phrases(meta.get("say"), "say", path, key_lines.get(("say",), 1)),
        approval=None if approval is None else parse_approval(
            approval, path=path, line=key_lines.get(("approval",), 1), error=LeafletFormatError),
    )
