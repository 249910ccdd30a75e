"""Sign-off of the prompt files of a locale: ``ivr approve --prompts`` and ``ivr diff --prompts``.

The spoken text of the prompts is one ``id: sentence`` line for each prompt, sorted by id, the
sentences as loaded (so comments, quoting and line wrapping in the YAML do not count, and a
changed word does). ``ivr approve --prompts`` writes ``approval.yaml`` beside the prompt files:
who approved, their role, the date, the SHA-256 of that text, and the sentences themselves so
that ``ivr diff --prompts`` can show what changed since. ``load_prompts`` skips that file.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.content.approval import (
    Approval,
    ApprovalState,
    Change,
    check_approver,
    document_sha256,
    parse_approval,
    spoken_changes,
)
from ivr.errors import PromptError
from ivr.findings import Finding
from ivr.prompts import APPROVAL_FILE, PROMPTS_DIR, WORDS_FILE, Prompts, load_prompts
from ivr.prompts.words import load_words

__all__ = ["PromptsSignOff", "approve_prompts", "prompts_approval_finding", "prompts_document", "prompts_signoff"]


def prompts_document(prompts: Prompts, folder: Path = PROMPTS_DIR) -> list[str]:
    """Every prompt as ``id: sentence``, and the words file's labels (spoken when the line asks "Did
    you mean ...?") as ``words.<action>: label``, sorted: what the approval's hash is of."""
    lines = {prompt_id: template for prompt_id, template in prompts.templates.items()}
    if (folder / prompts.locale / WORDS_FILE).exists():
        lines |= {f"words.{action}": label for action, label in load_words(prompts.locale, folder).labels.items()}
    return [f"{key}: {lines[key]}" for key in sorted(lines)]


def _locale_dir(prompts: Prompts, folder: Path) -> Path:
    return folder / prompts.locale


@dataclass(frozen=True)
class PromptsSignOff:
    state: ApprovalState
    changes: tuple[Change, ...]  # since the approval (never approved: every prompt, added)
    path: Path  # the approval file


def _read(path: Path) -> tuple[Approval, list[str]] | None:
    """The approval and the approved lines, None when there is no file; PromptError if it is malformed."""
    if not path.exists():
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise PromptError(f"cannot be read ({exc}).", path=path,
                          hint="It is written by `ivr approve --prompts`; delete it and approve again.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("prompts"), dict):
        raise PromptError("must have the approval's fields and a 'prompts:' mapping.", path=path, line=1,
                          hint="It is written by `ivr approve --prompts`; delete it and approve again.")
    approved = data.pop("prompts")
    approval = parse_approval(data, path=path, line=1, error=PromptError)
    return approval, [f"{key}: {approved[key]}" for key in sorted(approved)]


def prompts_signoff(prompts: Prompts, folder: Path = PROMPTS_DIR) -> PromptsSignOff:
    """Where the sign-off of these prompts stands; PromptError if the approval file is malformed."""
    path = _locale_dir(prompts, folder) / APPROVAL_FILE
    current = prompts_document(prompts, folder)
    read = _read(path)
    approval, approved = read if read is not None else (None, [])
    return PromptsSignOff(ApprovalState(approval, document_sha256(current)),
                          tuple(spoken_changes(approved, current)), path)


def prompts_approval_finding(prompts: Prompts, level: str, folder: Path = PROMPTS_DIR) -> Finding | None:
    """A finding when the prompts' wording is not approved as it is ("error" for service), else None."""
    try:
        signoff = prompts_signoff(prompts, folder)
    except PromptError as exc:
        return Finding("error", exc.message, exc.path, exc.line)
    if signoff.state.approved:
        return None
    command = "ivr approve --prompts --by 'FULL NAME' --role 'ROLE'"
    approval = signoff.state.approval
    if approval is None:
        message = f"the wording of the {Path(prompts.locale).name} prompts is not approved: record a sign-off with {command}."
    else:
        changed = ", ".join(c.where for c in signoff.changes[:5]) + (" and more" if len(signoff.changes) > 5 else "")
        message = (f"prompts changed since approved by {approval.by} ({approval.role}) on {approval.date}: {changed}. "
                   f"See `ivr diff --prompts`; approve again with {command}.")
    if level != "error":
        message += " (In service, `ivr serve` refuses to start until it is approved.)"
    return Finding(level, message, signoff.path, None)  # type: ignore[arg-type]


def approve_prompts(locale: str, *, by: str, role: str, today: dt.date, folder: Path = PROMPTS_DIR) -> tuple[Approval, Path]:
    """Record ``by`` (``role``) approving the locale's prompts as they are today; return it and the file.

    ApprovalError when the name or role is not a real one; PromptError when the prompts do not load.
    """
    name, what = check_approver(by, role)
    prompts = load_prompts(locale, folder)
    document = prompts_document(prompts, folder)
    approval = Approval(name, what, today, document_sha256(document))
    path = _locale_dir(prompts, folder) / APPROVAL_FILE
    header = ("# Who approved the wording of the prompt files in this folder, and the sentences approved.\n"
              "# Written by `ivr approve --prompts`; `ivr diff --prompts` compares the prompts with it. Do not edit.\n")
    body = yaml.safe_dump(
        {"by": name, "role": what, "date": today, "spoken_sha256": approval.spoken_sha256,
         "prompts": dict(sorted(prompts.templates.items()))},
        sort_keys=False, allow_unicode=True, width=100,
    )
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(header + body, encoding="utf-8")
    os.replace(temporary, path)
    if prompts_signoff(prompts, folder).state.status != "approved":  # never leave a record that reads back wrong
        path.unlink()
        raise PromptError("could not record the approval of the prompts.", path=path)
    return approval, path
