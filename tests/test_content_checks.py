"""``ivr check`` on leaflets: errors and warnings, each naming the file and line."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.config import load_settings
from ivr.content.checks import check_content, check_leaflet

from .conftest import PROJECT

TODAY = dt.date(2025, 6, 1)


def leaflet(*, front: str = "", body: str = "Some text.", reviewed: str = "2024-01-01") -> str:
    return (
        f"---\ntitle: Test leaflet\nslug: test-leaflet\nlast_reviewed: {reviewed}\nsource: A test\n{front}---\n"
        f"\nIntroduction.\n\n## What it is\n\n{body}\n"
    )


CONFIRMED = "corrections:\n  - original: laproscope\n    fix: laparoscope\n    source_line: 3\n    status: {}\n"


@pytest.mark.parametrize(
    ("text", "level", "message", "line"),
    [
        (leaflet().replace("title: Test leaflet\n", ""), "error", "front matter has no title", 1),
        (leaflet(reviewed="17 Jan 2019"), "error", "date like 2019-01-17", 4),
        (leaflet(reviewed="2099-01-01"), "error", "is in the future", 4),
        (leaflet(body="").replace("## What it is\n", "## What it is\n\n## Next\n\nText."), "error",
         "section 'What it is' is empty", 10),
        (leaflet(body="Decorative image"), "error", "is web clutter", 12),
        (leaflet(body="See **this** now."), "error", "would read out '*'", 12),
        (leaflet(body="Visit http://example.org today."), "error", "would read out 'http:'", 12),
        (leaflet(body="- a bullet\n- <b>bold</b> bullet"), "error", "would read out '<'", 13),
        (leaflet(body="Text with [a link]."), "error", "would read out '['", 12),
        (leaflet(front=CONFIRMED.format("approved"), body="A laparoscope."), "error", "has status 'approved'", 7),
        (leaflet(reviewed="2019-01-17"), "warning", "more than 3 years ago", 4),
        (leaflet(front="next_review: 2025-01-01\n"), "warning", "next_review 2025-01-01 has passed", 6),
        (leaflet(front="last_reveiwed: 2020-01-01\n"), "warning", "'last_reveiwed' is not one the line knows", 6),
        (leaflet(body="A zorbleflux appears."), "warning", "unknown word 'zorbleflux'", 12),
        (leaflet(front=CONFIRMED.format("suggested"), body="A laproscope."), "warning", "is only suggested", 7),
        (leaflet(front=CONFIRMED.format("confirmed"), body="A laproscope."), "warning",
         "confirmed, but the text still has 'laproscope'", 7),
        (leaflet(body="Odd\u00a0space."), "warning", "odd space character U+00A0", 12),
    ],
)
def test_leaflet_findings_name_file_and_line(tmp_path, text, level, message, line):
    path = tmp_path / "test-leaflet.md"
    path.write_text(text, encoding="utf-8")
    findings = check_leaflet(path, today=TODAY)
    matching = [f for f in findings if message in f.message]
    assert matching, [str(f) for f in findings]
    assert (matching[0].level, matching[0].path, matching[0].line) == (level, path, line)
    assert str(matching[0]).startswith(f"{level}: {path}:{line}: ")


def test_a_clean_leaflet_has_no_findings(tmp_path):
    path = tmp_path / "test-leaflet.md"
    rejected = CONFIRMED.format("rejected")
    path.write_text(leaflet(front=rejected, body="A laproscope (kept as written) of 4cm."), encoding="utf-8")
    assert check_leaflet(path, today=TODAY) == []


def test_real_content_has_only_the_staleness_warning(tmp_path):
    settings = load_settings({"IVR_INSTANCE_DIR": str(tmp_path)})
    findings = check_content(settings)
    assert [(f.level, f.path.name, f.line) for f in findings] == [
        ("warning", "cryotherapy-for-kidney-cancer.md", 4),
    ]
    assert "last reviewed 2019-01-17, more than 3 years ago" in findings[0].message


def _env(tmp_path, leaflets) -> dict[str, str]:
    return {
        "IVR_LEAFLETS_DIR": str(leaflets),
        "IVR_INSTANCE_DIR": str(tmp_path / "instance"),
        "TWILIO_AUTH_TOKEN": "test-auth-token",
        "IVR_NURSE_NUMBER": "+441632960001",
        "IVR_NURSE_HOURS": "Mon-Fri 09:00-17:00",
    }


def test_ivr_check_fails_with_file_and_line(tmp_path):
    leaflets = tmp_path / "leaflets"
    leaflets.mkdir()
    bad = leaflets / "bad.md"
    bad.write_text(leaflet(body="Decorative image\n\nSee **this**."), encoding="utf-8")
    result = CliRunner().invoke(main, ["check"], env=_env(tmp_path, leaflets))
    assert result.exit_code == 1, result.output
    assert f"error: {bad}:12: 'Decorative image' is web clutter" in result.output
    assert f"error: {bad}:14: the speech text would read out '*'" in result.output


def test_ivr_check_names_the_line_of_a_broken_leaflet(tmp_path):
    leaflets = tmp_path / "leaflets"
    leaflets.mkdir()
    broken = leaflets / "broken.md"
    broken.write_text(leaflet(reviewed="someday"), encoding="utf-8")
    result = CliRunner().invoke(main, ["check"], env=_env(tmp_path, leaflets))
    assert result.exit_code == 1
    assert f"error: {broken}:4: Expected a date like 2019-01-17 in last_reviewed, got 'someday'." in result.output


def test_ivr_check_on_the_real_content_passes_with_the_staleness_warning(tmp_path):
    result = CliRunner().invoke(main, ["check"], env=_env(tmp_path, PROJECT / "leaflets"))
    assert result.exit_code == 0, result.output
    assert "cryotherapy-for-kidney-cancer.md:4: last reviewed 2019-01-17, more than 3 years ago" in result.output
