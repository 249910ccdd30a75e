"""Recorded sign-off: who approved the words the line speaks, and what changed since.

An approval is of *spoken text*: a document of one ``kind: text`` line for each thing a caller
can hear (the title, each heading, menu label and part, the review dates read in "about this
leaflet"), made from the speech text, so respellings count and Markdown layout does not. Its
SHA-256 is recorded with the person's name, role and the date; the document itself is kept too,
so that the change since approval can be shown as text a clinician can read. Leaflets:
:mod:`ivr.content.leaflet_approval`; prompt files: :mod:`ivr.prompts.approval`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ivr.errors import ApprovalError, ContentError

__all__ = [
    "Approval",
    "ApprovalState",
    "Change",
    "check_approver",
    "document_sha256",
    "parse_approval",
    "spoken_changes",
    "word_changes",
]

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_FIELDS = ("by", "role", "date", "spoken_sha256")
# Names that are not a person: an approval must say who took clinical responsibility.
_NOT_A_PERSON = frozenset({"admin", "administrator", "test", "tester", "user", "me", "unknown", "nobody",
                           "somebody", "someone", "staff", "team", "clinician", "doctor", "nurse", "n/a", "na"})
_TITLES = frozenset({"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "professor", "sister", "sr"})


@dataclass(frozen=True)
class Approval:
    by: str  # the person's full name, as they sign
    role: str  # their clinical or editorial role
    date: dt.date
    spoken_sha256: str  # SHA-256 of the spoken-text document they approved


@dataclass(frozen=True)
class ApprovalState:
    """Where some content stands: never approved, approved as it is, or changed since."""

    approval: Approval | None
    current_sha256: str

    @property
    def status(self) -> Literal["approved", "changed", "never"]:
        if self.approval is None:
            return "never"
        return "approved" if self.approval.spoken_sha256 == self.current_sha256 else "changed"

    @property
    def approved(self) -> bool:
        return self.status == "approved"


@dataclass(frozen=True)
class Change:
    """One spoken line added, removed or changed: ``where`` names it for a reader."""

    where: str  # "Who has it, part 1", "Title", "Menu label of 'What it is'"
    before: str | None  # None: added
    after: str | None  # None: removed


def document_sha256(lines: list[str]) -> str:
    """SHA-256 (hex) of a spoken-text document, one line each."""
    return hashlib.sha256(("\n".join(lines) + "\n").encode("utf-8")).hexdigest()


def check_approver(by: str, role: str) -> tuple[str, str]:
    """The name and role, tidied; ApprovalError when either is not a real person's or role.

    A name needs at least two words (first and last name, "Dr Jane Smith") and letters; a role
    at least one word of three letters. Placeholders ("admin", "test", "me") are refused.
    """
    name = " ".join((by or "").split())
    what = " ".join((role or "").split())
    words = [w for w in re.findall(r"[^\W\d_][\w'.-]*", name) if w.casefold().rstrip(".") not in _TITLES]
    if len(words) < 2 or all(w.casefold() in _NOT_A_PERSON for w in words):
        raise ApprovalError(
            f"Expected the approver's full name (first and last name), got {by!r} in --by.",
            hint="Approvals carry a real person's name: --by 'Dr Jane Smith'.",
        )
    if not re.search(r"[^\W\d_]{3,}", what) or what.casefold() in _NOT_A_PERSON | {"none", "x"}:
        raise ApprovalError(
            f"Expected the approver's role, got {role!r} in --role.",
            hint="Say in what capacity they approve: --role 'Consultant urologist' or --role 'Lead cancer nurse'.",
        )
    if len(name) > 120 or len(what) > 120:
        raise ApprovalError("Expected a name and a role of at most 120 characters each.")
    return name, what


def parse_approval(value: object, *, path: Path | None, line: int | None,
                   error: type[ContentError] = ContentError) -> Approval:
    """An approval record from YAML; ``error`` (naming path and line) when a field is missing or wrong."""
    hint = "It is written by `ivr approve`; do not edit it. Delete it to withdraw the approval."
    if not isinstance(value, dict) or set(value) != set(_FIELDS):
        raise error(f"approval must have exactly the fields {', '.join(_FIELDS)}, got {value!r}.",
                    path=path, line=line, hint=hint)
    by, role, date, digest = (value[name] for name in _FIELDS)
    if not isinstance(date, dt.date):
        try:
            date = dt.date.fromisoformat(str(date))
        except ValueError:
            raise error(f"Expected a date like 2025-06-01 in approval date, got {date!r}.", path=path,
                        line=line, hint=hint) from None
    if not isinstance(by, str) or not by.strip() or not isinstance(role, str) or not role.strip():
        raise error("approval needs the approver's name (by) and role.", path=path, line=line, hint=hint)
    if not isinstance(digest, str) or not SHA256_RE.match(digest):
        raise error(f"Expected 64 hexadecimal digits in approval spoken_sha256, got {digest!r}.", path=path,
                    line=line, hint=hint)
    return Approval(by.strip(), role.strip(), date, digest)


def _places(lines: list[str]) -> list[str]:
    """A reader's name for each document line: "Title", "'Who has it', part 2", "call.greeting"."""
    names: list[str] = []
    heading, part = "", 0
    for line in lines:
        kind, _, text = line.partition(": ")
        if kind == "heading":
            heading, part = text, 0
            names.append(f"Heading of section '{text}'")
        elif kind == "label":
            names.append(f"What menus call '{heading}'")
        elif kind in ("part", "introduction"):
            part += 1
            names.append(f"{'Introduction' if kind == 'introduction' else repr(heading)}, part {part}")
        elif kind.startswith("say"):
            names.append("Recognition words" + kind[3:])
        elif kind in ("title", "code", "source", "last reviewed", "next review"):
            names.append(kind[:1].upper() + kind[1:])
        else:
            names.append(kind)  # a prompt id
    return names


def spoken_changes(before: list[str], after: list[str]) -> list[Change]:
    """What changed from one spoken-text document to another, line by line, in reading order."""
    old_places, new_places = _places(before), _places(after)

    def text(line: str) -> str:
        return line.partition(": ")[2]

    changes: list[Change] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        paired = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for k in range(paired):
            old, new = before[i1 + k], after[j1 + k]
            if old.partition(": ")[0] == new.partition(": ")[0]:
                changes.append(Change(new_places[j1 + k], text(old), text(new)))
            else:
                changes += [Change(old_places[i1 + k], text(old), None), Change(new_places[j1 + k], None, text(new))]
        changes += [Change(old_places[i], text(before[i]), None) for i in range(i1 + paired, i2)]
        changes += [Change(new_places[j], None, text(after[j])) for j in range(j1 + paired, j2)]
    return changes


def word_changes(before: str, after: str) -> list[tuple[Literal["same", "removed", "added"], str]]:
    """``before`` -> ``after`` as runs of words kept, removed and added (for highlighting)."""
    old, new = before.split(), after.split()
    runs: list[tuple[Literal["same", "removed", "added"], str]] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            runs.append(("same", " ".join(old[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("removed", " ".join(old[i1:i2])))
        if j2 > j1:
            runs.append(("added", " ".join(new[j1:j2])))
    return runs
