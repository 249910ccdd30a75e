"""``ivr check`` on leaflets: errors and warnings, each naming the file and line."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.config import load_settings
from ivr.content.checks import check_content, check_leaflet
from ivr.content.leaflet import load_leaflet
from ivr.content.leaflet_approval import approve_leaflet
from ivr.content.speech_text import leaflet_speech
from ivr.errors import ConfigError

from .conftest import TEST_LEAFLETS

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
        (leaflet(reviewed="2019-01-17"), "warning", "review overdue: due 2022-01-17 (36 months after", 4),
        (leaflet(front="next_review: 2025-01-01\n"), "warning", "review overdue: due 2025-01-01 (next_review), 151 days ago", 6),
        (leaflet(front="next_review: 2023-01-01\n"), "error", "next_review 2023-01-01 is before last_reviewed", 6),
        (leaflet(front="source_file: sources/gone.txt\n"), "warning", "source_file sources/gone.txt is not there", 6),
        (leaflet(), "warning", "not approved: nobody has signed off what callers hear", 1),
        (leaflet(front="sections:\n  What it was:\n    label: what it is\n"), "error",
         "sections: 'What it was' is not a heading of this leaflet", 7),
        (leaflet(front="sections:\n  What it is:\n    label: [a, b]\n"), "error",
         "Expected a short label of words in sections: 'What it is'", 8),
        (leaflet(front="sections:\n  What it is:\n    lable: what it is\n"), "error",
         "sections: 'What it is' must have 'label:' and/or 'say:'", 7),
        (leaflet(front="sections:\n  What it is:\n    say: what it is\n"), "error",
         "Expected a list of words callers may say in sections: 'What it is'", 8),
        (leaflet(front="say: [ok, 3]\n"), "error", "Expected a list of words callers may say in say", 6),
        (leaflet(front="sections: [What it is]\n"), "error", "Expected 'sections:' to map section headings", 6),
        (leaflet(front="approval:\n  by: Jane Smith\n"), "error", "approval must have exactly the fields", 6),
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


def test_a_clean_approved_leaflet_has_no_findings(tmp_path):
    path = tmp_path / "test-leaflet.md"
    rejected = CONFIRMED.format("rejected")
    labels = "sections:\n  What it is:\n    label: what the test is\n    say: [the test, about it]\n"
    path.write_text(leaflet(front=rejected + labels, body="A laproscope (kept as written) of 4cm."), encoding="utf-8")
    approve_leaflet(path, by="Dr Jane Smith", role="Consultant urologist", today=TODAY)
    assert check_leaflet(path, today=TODAY, service=True) == []


@pytest.mark.parametrize(
    ("front", "today", "overdue"),
    [
        ("", dt.date(2027, 1, 1), False),  # no next_review: last review + 36 months = 2027-01-01, due today
        ("", dt.date(2027, 1, 2), True),  # ...and overdue the day after
        ("next_review: 2025-06-01\n", dt.date(2025, 6, 1), False),  # given: due today is not overdue
        ("next_review: 2025-06-01\n", dt.date(2025, 6, 2), True),  # past it
    ],
)
def test_review_dates_bite_the_day_after_they_fall_due(tmp_path, front, today, overdue):
    path = tmp_path / "test-leaflet.md"
    path.write_text(leaflet(front=front), encoding="utf-8")
    speech = leaflet_speech(load_leaflet(path))
    assert speech.review_overdue(today) is overdue
    found = [f for f in check_leaflet(path, today=today, service=True) if "review overdue" in f.message]
    assert [f.level for f in found] == (["error"] if overdue else [])


def test_the_review_period_is_a_setting(tmp_path):
    path = tmp_path / "test-leaflet.md"
    path.write_text(leaflet(), encoding="utf-8")  # last reviewed 2024-01-01
    assert leaflet_speech(load_leaflet(path)).next_review == dt.date(2027, 1, 1)
    assert leaflet_speech(load_leaflet(path), review_period_months=24).next_review == dt.date(2026, 1, 1)
    findings = check_leaflet(path, today=dt.date(2026, 1, 2), review_period_months=24)
    assert any("review overdue: due 2026-01-01 (24 months after" in f.message for f in findings)
    with pytest.raises(ConfigError, match="IVR_REVIEW_PERIOD_MONTHS, got '0'"):
        load_settings({"IVR_REVIEW_PERIOD_MONTHS": "0"})
    settings = load_settings({"IVR_REVIEW_PERIOD_MONTHS": "24", "IVR_LEAFLETS_DIR": str(tmp_path),
                              "IVR_INSTANCE_DIR": str(tmp_path / "instance")})
    assert settings.review_period_months == 24


def test_the_seed_has_the_overdue_and_approval_warnings_in_development(tmp_path):
    settings = load_settings({"IVR_INSTANCE_DIR": str(tmp_path), "TWILIO_AUTH_TOKEN": "",
                              "IVR_LEAFLETS_DIR": str(TEST_LEAFLETS)})
    findings = check_content(settings)
    assert [(f.level, f.path.name, f.line) for f in findings] == [
        ("warning", "cryotherapy-for-kidney-cancer.md", 1),
        ("warning", "cryotherapy-for-kidney-cancer.md", 4),
    ]
    assert findings[0].message.startswith("not approved: nobody has signed off what callers hear.")
    assert "review overdue: due 2022-01-17" in findings[1].message and "An error for service." in findings[1].message


def _env(tmp_path, leaflets, *, token: str = "test-auth-token") -> dict[str, str]:
    return {
        "IVR_LEAFLETS_DIR": str(leaflets),
        "IVR_INSTANCE_DIR": str(tmp_path / "instance"),
        "TWILIO_AUTH_TOKEN": token,
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


def test_ivr_check_on_the_real_content_passes_in_development_with_warnings(tmp_path):
    result = CliRunner().invoke(main, ["check"], env=_env(tmp_path, TEST_LEAFLETS, token=""))
    assert result.exit_code == 0, result.output
    assert "warning: " in result.output and "cryotherapy-for-kidney-cancer.md:4: review overdue: due 2022-01-17" \
        in result.output
    assert "en-GB/approval.yaml: the wording of the en-GB prompts is not approved" in result.output


@pytest.mark.parametrize(("token", "args"), [("test-auth-token", []), ("", ["--service"])])
def test_ivr_check_for_service_makes_overdue_and_unapproved_errors(tmp_path, token, args):
    result = CliRunner().invoke(main, ["check", *args], env=_env(tmp_path, TEST_LEAFLETS, token=token))
    assert result.exit_code == 1, result.output
    assert "error: " + str(TEST_LEAFLETS / "cryotherapy-for-kidney-cancer.md") + ":4: review overdue" \
        in result.output
    assert "cryotherapy-for-kidney-cancer.md:1: not approved" in result.output
    assert "the wording of the en-GB prompts is not approved" in result.output
    assert "ivr check: 3 error(s)" in result.output
