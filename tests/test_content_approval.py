"""Recorded sign-off: the hash is of what callers hear, not of the file; ``ivr approve`` and
``ivr diff`` for leaflets and prompts, through the real command line, in temporary folders."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ivr.cli import main
from ivr.content.approval import document_sha256
from ivr.content.leaflet import load_leaflet, parse_leaflet
from ivr.content.leaflet_approval import approve_leaflet, leaflet_signoff, spoken_document
from ivr.content.rules import DATA_DIR, lexicon
from ivr.errors import ApprovalError
from ivr.prompts import PROMPTS_DIR, load_prompts

TODAY = dt.date(2025, 6, 1)
BY, ROLE = "Dr Jane Smith", "Consultant urologist"
LEAFLET = """---
title: Kidney stones
slug: kidney-stones
last_reviewed: 2024-01-01
source: A test
# reviewed by the stone clinic
sections:
  Treatment:
    label: how stones are treated
    say: [treatment, getting rid of stones]
---

Kidney stones are hard lumps. They can block the ureter.

## Treatment

Drink plenty of water. Most small stones pass on their own within 4 weeks.

- pain relief
- medicine to relax the ureter
"""


def _hash(text: str, words=None) -> str:
    return document_sha256(spoken_document(parse_leaflet(text), words))


FORMATTING_ONLY = {
    "paragraph wrapped differently": LEAFLET.replace("pass on their own within", "pass on their own\nwithin"),
    "star bullets": LEAFLET.replace("- pain", "* pain").replace("- medicine", "* medicine"),
    "more blank lines": LEAFLET.replace("\n\n## Treatment\n\n", "\n\n\n\n## Treatment\n\n\n"),
    "front matter reordered and quoted": LEAFLET.replace(
        "title: Kidney stones\nslug: kidney-stones\n", 'slug: kidney-stones\ntitle: "Kidney stones"\n'),
    "references and comments": LEAFLET.replace("source: A test\n", "source: A test\n# a note\nreferences: [A, B]\n"),
    "recognition words": LEAFLET.replace("getting rid of stones", "stone treatment, removal"),
    "spaces inside a line": LEAFLET.replace("Drink plenty of water.", "Drink  plenty of   water."),
}
CHANGED = {
    "a word": LEAFLET.replace("Drink plenty of water", "Drink lots of water"),
    "a number": LEAFLET.replace("within 4 weeks", "within 6 weeks"),
    "a menu label": LEAFLET.replace("how stones are treated", "treating stones"),
    "a heading": LEAFLET.replace("## Treatment", "## Treatments").replace("  Treatment:", "  Treatments:"),
    "the review date": LEAFLET.replace("last_reviewed: 2024-01-01", "last_reviewed: 2024-02-01"),
    "a bullet": LEAFLET.replace("- pain relief\n", ""),
}


@pytest.mark.parametrize("edit", FORMATTING_ONLY, ids=list(FORMATTING_ONLY))
def test_the_hash_is_stable_under_formatting_only_edits(edit):
    assert FORMATTING_ONLY[edit] != LEAFLET
    assert _hash(FORMATTING_ONLY[edit]) == _hash(LEAFLET)


@pytest.mark.parametrize("edit", CHANGED, ids=list(CHANGED))
def test_the_hash_changes_with_what_callers_hear(edit):
    assert _hash(CHANGED[edit]) != _hash(LEAFLET)


def test_the_hash_changes_with_a_pronunciation_respelling(tmp_path):
    """The hash is of the speech text: a new respelling in pronunciations.yaml is a change to approve."""
    respelt = tmp_path / "pronunciations.yaml"
    respelt.write_text((DATA_DIR / "pronunciations.yaml").read_text().replace("ureter: you reeter", "ureter: yoo reeta"))
    assert "introduction: Kidney stones are hard lumps. They can block the you reeter." in \
        spoken_document(parse_leaflet(LEAFLET))
    assert _hash(LEAFLET, lexicon(DATA_DIR / "lexicon.yaml", respelt)) != _hash(LEAFLET)
    assert _hash(LEAFLET, lexicon(DATA_DIR / "lexicon.yaml", DATA_DIR / "pronunciations.yaml")) == _hash(LEAFLET)


@pytest.fixture
def leaflets(tmp_path) -> Path:
    folder = tmp_path / "leaflets"
    folder.mkdir()
    (folder / "kidney-stones.md").write_text(LEAFLET, encoding="utf-8")
    return folder


def test_approve_records_who_when_and_what_in_the_leaflet_and_keeps_the_text(leaflets):
    path = leaflets / "kidney-stones.md"
    approval, kept = approve_leaflet(path, by=BY, role=ROLE, today=TODAY)
    text = path.read_text(encoding="utf-8")
    assert text == LEAFLET.replace("---\n\nKidney", "approval:\n  by: Dr Jane Smith\n  role: Consultant urologist\n"
                                   f"  date: 2025-06-01\n  spoken_sha256: {approval.spoken_sha256}\n---\n\nKidney")
    assert approval.spoken_sha256 == _hash(LEAFLET)
    assert load_leaflet(path).approval == approval and leaflet_signoff(load_leaflet(path)).state.status == "approved"
    assert kept == leaflets / "approved" / "kidney-stones.txt"
    assert "part: Drink plenty of water. Most small stones pass on their own within 4 weeks." in kept.read_text()
    assert "say (Treatment): treatment; getting rid of stones" in kept.read_text()
    # A second approval replaces the first: one record, the latest.
    path.write_text(path.read_text().replace("plenty of", "lots of"))
    assert leaflet_signoff(load_leaflet(path)).state.status == "changed"
    second, _ = approve_leaflet(path, by="Sam Patel", role="Lead cancer nurse", today=TODAY + dt.timedelta(days=1))
    assert path.read_text().count("approval:") == 1 and load_leaflet(path).approval == second


def test_the_change_since_approval_is_spoken_text(leaflets):
    path = leaflets / "kidney-stones.md"
    approve_leaflet(path, by=BY, role=ROLE, today=TODAY)
    path.write_text(path.read_text().replace("plenty of", "lots of").replace("getting rid of stones", "removal"))
    signoff = leaflet_signoff(load_leaflet(path))
    assert signoff.state.status == "changed" and signoff.problem is None
    assert [(c.where, c.before, c.after) for c in signoff.changes] == [
        ("'Treatment', part 1", "Drink plenty of water. Most small stones pass on their own within 4 weeks.",
         "Drink lots of water. Most small stones pass on their own within 4 weeks."),
        ("Recognition words (Treatment)", "treatment; getting rid of stones", "treatment; removal"),
    ]
    (leaflets / "approved" / "kidney-stones.txt").write_text("title: something else\n")
    assert "is not the text that was approved" in leaflet_signoff(load_leaflet(path)).problem


@pytest.mark.parametrize(
    ("by", "role", "message"),
    [
        ("", ROLE, "full name"), ("Jane", ROLE, "full name"), ("admin", ROLE, "full name"),
        ("Test User", ROLE, "full name"), ("Dr Smith", ROLE, "full name"),
        (BY, "", "role"), (BY, "x", "role"), (BY, "none", "role"),
    ],
)
def test_approvals_need_a_real_name_and_role(leaflets, by, role, message):
    with pytest.raises(ApprovalError, match=message):
        approve_leaflet(leaflets / "kidney-stones.md", by=by, role=role, today=TODAY)
    assert "approval:" not in (leaflets / "kidney-stones.md").read_text()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("source: A test\n", "source: A test\ncorrections:\n  - {original: lumps, fix: lumpss, status: suggested}\n",
         "has spelling corrections still only suggested (lumps)"),
        ("the ureter.\n\n## Treatment", "the ureter.\n\nDecorative image\n\n## Treatment",
         "has 1 error(s); the first: error: "),
    ],
    ids=["suggested correction", "error in ivr check"],
)
def test_approve_refuses_a_leaflet_not_ready(leaflets, old, new, message):
    path = leaflets / "kidney-stones.md"
    path.write_text(LEAFLET.replace(old, new))
    with pytest.raises(ApprovalError) as caught:
        approve_leaflet(path, by=BY, role=ROLE, today=TODAY)
    assert caught.value.message.startswith(message)
    assert "approval:" not in path.read_text()


def _env(tmp_path: Path, leaflets: Path, **more: str) -> dict[str, str]:
    return {"IVR_LEAFLETS_DIR": str(leaflets), "IVR_INSTANCE_DIR": str(tmp_path / "instance"),
            "TWILIO_AUTH_TOKEN": "", **more}


def test_cli_approve_and_diff_a_leaflet(tmp_path, leaflets):
    run = CliRunner()
    env = _env(tmp_path, leaflets)
    never = run.invoke(main, ["diff", "kidney-stones"], env=env)
    assert never.exit_code == 0 and "never approved. Everything callers would hear:" in never.output
    assert "Title, added:\n  now: Kidney stones" in never.output
    assert "What menus call 'Treatment', added:\n  now: how stones are treated" in never.output

    approved = run.invoke(main, ["approve", "kidney-stones", "--by", BY, "--role", ROLE], env=env)
    assert approved.exit_code == 0, approved.output
    assert f"by {BY} ({ROLE}) on " in approved.output and "approved/kidney-stones.txt. Commit both." in approved.output

    path = leaflets / "kidney-stones.md"
    path.write_text(path.read_text().replace("plenty of water", "lots of water").replace(
        "getting rid of stones", "removal"))
    changed = run.invoke(main, ["diff", "kidney-stones"], env=env)
    assert f"approved by {BY} ({ROLE}) on " in changed.output and "changed since:" in changed.output
    assert "'Treatment', part 1, changed:\n  was: Drink plenty of water." in changed.output
    assert "  words: 'plenty' became 'lots'" in changed.output
    assert "Recognition words (what callers may say; not spoken, not part of the approval):\n" \
           "Recognition words (Treatment), changed:" in changed.output


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["approve", "--by", BY, "--role", ROLE], 2, "Give a leaflet's SLUG, or --prompts"),
        (["approve", "kidney-stones", "--prompts", "--by", BY, "--role", ROLE], 2, "not both"),
        (["approve", "kidney-stones", "--role", ROLE], 2, "Missing option '--by'"),
        (["approve", "kidney-stone", "--by", BY, "--role", ROLE], 1,
         "has no leaflet with the slug 'kidney-stone'. Hint: Leaflets there: kidney-stones."),
        (["approve", "kidney-stones", "--by", "jane", "--role", ROLE], 1,
         "Error: Expected the approver's full name (first and last name), got 'jane' in --by."),
        (["diff", "nothing"], 1, "has no leaflet with the slug 'nothing'"),
    ],
)
def test_cli_errors_are_clear(tmp_path, leaflets, args, code, message):
    result = CliRunner().invoke(main, args, env=_env(tmp_path, leaflets))
    assert result.exit_code == code, result.output
    assert message in result.output and "Traceback" not in result.output


def test_cli_approve_and_diff_the_prompts(tmp_path, leaflets):
    locale = tmp_path / "en-GB"
    shutil.copytree(PROMPTS_DIR / "en-GB", locale, ignore=shutil.ignore_patterns("approval.yaml"))
    env = _env(tmp_path, leaflets, IVR_LOCALE=str(locale))
    run = CliRunner()
    assert "never approved" in run.invoke(main, ["diff", "--prompts"], env=env).output

    approved = run.invoke(main, ["approve", "--prompts", "--by", BY, "--role", "Head of patient information"], env=env)
    assert approved.exit_code == 0, approved.output
    record = yaml.safe_load((locale / "approval.yaml").read_text())
    assert (record["by"], record["role"]) == (BY, "Head of patient information")
    assert record["prompts"] == load_prompts(str(locale)).templates  # the sentences approved, for `ivr diff`
    assert not any(pid.startswith("approval.") for pid in load_prompts(str(locale)).templates)  # not a prompt file
    assert "has not changed since" in run.invoke(main, ["diff", "--prompts"], env=env).output

    prompt_file = sorted(p for p in locale.glob("*.yaml") if p.name != "approval.yaml")[0]
    prompt_file.write_text("# A reviewer's comment: formatting only.\n" + prompt_file.read_text())
    assert "has not changed since" in run.invoke(main, ["diff", "--prompts"], env=env).output

    template = load_prompts(str(locale)).templates[first := sorted(load_prompts(str(locale)).templates)[0]]
    word = template.split()[0]
    prompt_file.write_text(prompt_file.read_text().replace(word, word + " really", 1))
    changed = run.invoke(main, ["diff", "--prompts"], env=env)
    assert "changed since:" in changed.output and f"{first}, changed:" in changed.output
    check = run.invoke(main, ["check", "--service"], env={**env, "IVR_NURSE_NUMBER": "+441632960001"})
    assert f"error: {locale / 'approval.yaml'}: prompts changed since approved by {BY}" in check.output
