"""Sign-off of a leaflet's spoken words: ``ivr approve SLUG`` and ``ivr diff SLUG``.

The *spoken text* of a leaflet is one ``kind: text`` line for each thing a caller can hear, in
reading order, all as speech text (so a respelling in ``pronunciations.yaml`` changes it and a
re-wrapped paragraph or a ``*`` bullet instead of ``-`` does not)::

    title: Cryotherapy for kidney cancer
    source: Copied from a cancer charity's patient information web page
    last reviewed: 17 January 2019
    introduction: Cryotherapy kills cancer cells by freezing them. ...
    heading: What it is
    label: what cryotherapy is
    part: Your doctor puts small needles through your skin into the cancer area. ...

(``code`` and ``next review`` lines when the front matter has them.) ``ivr approve`` records its
SHA-256 with the approver's name, role and the date in the leaflet's front matter (``approval:``),
so the sign-off travels with the file, and keeps the text itself in ``approved/<slug>.txt`` beside
the leaflet, with the recognition words (``say:``), which are listed for review but are not
spoken and so not part of the approval. ``ivr diff`` compares the leaflet with that text.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from ivr.content.approval import (
    Approval,
    ApprovalState,
    Change,
    check_approver,
    document_sha256,
    spoken_changes,
)
from ivr.content.leaflet import Leaflet, front_matter_end, load_leaflet, parse_leaflet, yaml_value
from ivr.content.rules import Lexicon
from ivr.content.speech_text import leaflet_speech, spoken_date
from ivr.errors import ApprovalError
from ivr.findings import Finding

__all__ = [
    "APPROVED_DIR",
    "LeafletSignOff",
    "approval_finding",
    "approve_leaflet",
    "leaflet_signoff",
    "recognition_lines",
    "spoken_document",
]

APPROVED_DIR = "approved"  # beside the leaflets: approved/<slug>.txt
RECOGNITION = "say"  # the kind of a recognition-words line: listed, never hashed


def spoken_document(leaflet: Leaflet, words: Lexicon | None = None) -> list[str]:
    """Every line a caller can hear from this leaflet, as speech text (module docstring).

    ``words``: the rule files (default: ``ivr/data``'s). Raises ContentError only if a rule file
    in ``ivr/data`` is malformed.
    """
    speech = leaflet_speech(leaflet, words=words)
    lines = [f"title: {speech.title}"]
    if speech.code:
        lines.append(f"code: {speech.code}")
    lines += [f"source: {speech.source}", f"last reviewed: {speech.last_reviewed_spoken}"]
    if leaflet.next_review is not None:
        lines.append(f"next review: {spoken_date(leaflet.next_review)}")
    lines += [f"introduction: {part}" for part in speech.intro.parts]
    for section in speech.sections:
        lines.append(f"heading: {section.title}")
        if section.label != section.title:
            lines.append(f"label: {section.label}")
        lines += [f"part: {part}" for part in section.parts]
    return lines


def recognition_lines(leaflet: Leaflet) -> list[str]:
    """The words callers may say for the leaflet and each section: reviewed, not spoken."""
    lines = [f"{RECOGNITION}: {'; '.join(leaflet.phrases)}"] if leaflet.phrases else []
    lines += [f"{RECOGNITION} ({s.title}): {'; '.join(s.phrases)}" for s in leaflet.sections if s.phrases]
    return lines


def _approved_path(leaflet: Leaflet) -> Path:
    folder = leaflet.path.parent if leaflet.path is not None else Path(".")
    return folder / APPROVED_DIR / f"{leaflet.slug}.txt"


@dataclass(frozen=True)
class LeafletSignOff:
    leaflet: Leaflet
    state: ApprovalState
    changes: tuple[Change, ...]  # since the approval (for a leaflet never approved: every line, added)
    approved_text: Path  # approved/<slug>.txt
    problem: str | None  # why the change since approval cannot be shown exactly, or None


def leaflet_signoff(leaflet: Leaflet) -> LeafletSignOff:
    """Where the leaflet's sign-off stands and what changed since (spoken lines and recognition words)."""
    current = spoken_document(leaflet)
    state = ApprovalState(leaflet.approval, document_sha256(current))
    path = _approved_path(leaflet)
    now = current + recognition_lines(leaflet)
    if leaflet.approval is None:
        return LeafletSignOff(leaflet, state, tuple(spoken_changes([], now)), path, None)
    try:
        kept = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    except (OSError, UnicodeDecodeError):
        kept = None
    spoken = [line for line in kept or [] if not line.startswith(RECOGNITION)]
    problem = None
    if kept is None:
        problem = f"the approved text is not in {path}, so only the fact of a change is known"
    elif document_sha256(spoken) != leaflet.approval.spoken_sha256:
        problem = f"{path} is not the text that was approved (edited by hand?); the changes shown may be wrong"
    changes = spoken_changes(kept, now) if kept is not None else []
    if state.approved:  # only recognition words can differ
        changes = [c for c in changes if c.where.startswith("Recognition words")]
    return LeafletSignOff(leaflet, state, tuple(changes), path, problem)


def _summary(changes: tuple[Change, ...], limit: int = 3) -> str:
    spoken = [c for c in changes if not c.where.startswith("Recognition words")]
    said = [f"{c.where} {'added' if c.before is None else 'removed' if c.after is None else 'changed'}"
            for c in spoken[:limit]]
    more = f" and {len(spoken) - limit} more" if len(spoken) > limit else ""
    return "; ".join(said) + more


def approval_finding(leaflet: Leaflet, level: str, lines: list[str] | None = None) -> Finding | None:
    """A finding when the leaflet's spoken words are not approved as they are, else None.

    ``level`` is "error" for service, "warning" for development; ``lines`` (the file's lines)
    give the line of the ``approval:`` field.
    """
    signoff = leaflet_signoff(leaflet)
    if signoff.state.approved:
        return None
    line = next((n for n, text in enumerate(lines or [], start=1) if text.startswith("approval:")), 1)
    command = f"ivr approve {leaflet.slug} --by 'FULL NAME' --role 'ROLE'"
    approval = leaflet.approval
    if approval is None:
        message = (f"not approved: nobody has signed off what callers hear. When a clinician has read it "
                   f"(`ivr diff {leaflet.slug}` shows the spoken text), record it: {command}.")
    else:
        changed = signoff.problem or _summary(signoff.changes)
        message = (f"changed since approved by {approval.by} ({approval.role}) on {approval.date}: {changed}. "
                   f"See `ivr diff {leaflet.slug}`; when a clinician has read it, approve it again: {command}.")
    if level != "error":
        message += " (In service, `ivr serve` refuses to start until it is approved.)"
    return Finding(level, message, leaflet.path, line)  # type: ignore[arg-type]


def _without_approval(lines: list[str], end: int) -> tuple[list[str], int]:
    """The file's lines with the front matter's ``approval:`` block removed, and the new end."""
    kept, skipping = [], False
    for index, line in enumerate(lines):
        if index < end and line.startswith("approval:"):
            skipping = True
            continue
        if skipping and index < end and (line.startswith((" ", "\t")) or not line.strip()):
            continue
        skipping = False
        kept.append(line)
    return kept, end - (len(lines) - len(kept))


def approve_leaflet(path: Path, *, by: str, role: str, today: dt.date) -> tuple[Approval, Path]:
    """Record ``by`` (``role``) approving the leaflet's spoken text today; return it and the kept text.

    ApprovalError when the name or role is not a real one, or the leaflet has errors (``ivr check``)
    or spelling corrections still only suggested; LeafletFormatError when it does not load.
    """
    from ivr.content.checks import check_leaflet  # checks use this module

    name, what = check_approver(by, role)
    leaflet = load_leaflet(path)
    pending = [c.original for c in leaflet.corrections if c.status == "suggested"]
    if pending:
        raise ApprovalError(
            f"has spelling corrections still only suggested ({', '.join(pending)}).", path=path,
            hint="Confirm or reject each one (see `ivr import --help`), then approve.",
        )
    errors = [f for f in check_leaflet(path, today=today) if f.level == "error"]
    if errors:
        raise ApprovalError(
            f"has {len(errors)} error(s); the first: {errors[0]}", path=path,
            hint="Fix what `ivr check` reports, then approve.",
        )
    document = spoken_document(leaflet)
    approval = Approval(name, what, today, document_sha256(document))
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    end = front_matter_end(lines)
    assert end is not None  # the leaflet loaded
    lines, end = _without_approval(lines, end)
    block = ["approval:", f"  by: {yaml_value(name)}", f"  role: {yaml_value(what)}",
             f"  date: {today.isoformat()}", f"  spoken_sha256: {approval.spoken_sha256}"]
    new_text = "\n".join(lines[:end] + block + lines[end:]) + "\n"
    if parse_leaflet(new_text, path=path).approval != approval:  # never write a record that reads back wrong
        raise ApprovalError("could not record the approval in the front matter.", path=path)
    kept = _approved_path(leaflet)
    kept.parent.mkdir(parents=True, exist_ok=True)
    header = [f"# The spoken text of {path.name} as approved by {name} ({what}) on {today.isoformat()}.",
              f"# Written by `ivr approve`; `ivr diff {leaflet.slug}` compares the leaflet with it. Do not edit.",
              "# Lines starting 'say' are recognition words: listed for review, not spoken, not approved."]
    _write(kept, "\n".join(header + document + recognition_lines(leaflet)) + "\n")
    _write(path, new_text)
    return approval, kept


def _write(path: Path, text: str) -> None:
    """Write ``text`` whole or not at all (a reader never sees half a file)."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
