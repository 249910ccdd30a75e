from __future__ import annotations

import datetime as dt

import pytest

from ivr.config import load_settings
from ivr.content.catalogue import load_catalogue
from ivr.content.leaflet import BulletList, parse_leaflet
from ivr.errors import ConfigError, LeafletFormatError, PromptError
from ivr.prompts import load_prompts

from .conftest import TEST_LEAFLETS


def test_seed_leaflet_loads_with_sections_and_review_date():
    catalogue = load_catalogue(TEST_LEAFLETS)
    leaflet = catalogue.by_slug("cryotherapy-for-kidney-cancer")
    assert leaflet is not None
    assert [s.title for s in leaflet.sections] == [
        "What it is", "Who has it", "What happens", "Side effects",
    ]
    assert leaflet.last_reviewed == dt.date(2019, 1, 17)
    assert leaflet.intro.parts and all(s.parts for s in leaflet.sections)


def test_bullets_join_their_lead_in():
    source = load_catalogue(TEST_LEAFLETS).sources[0]
    side_effects = source.sections[3]
    assert any(isinstance(b, BulletList) and len(b.items) == 4 for b in side_effects.blocks)


@pytest.mark.parametrize(
    ("text", "message", "line"),
    [
        ("no front matter", "has no front matter", 1),
        ("---\ntitle: x\n", "front matter is not closed", 1),
        ("---\ntitle: T\nslug: t\nsource: s\n---\n## A\ntext\n", "has no last_reviewed", 1),
        ("---\ntitle: T\nslug: Bad Slug\nlast_reviewed: 2020-01-01\nsource: s\n---\n## A\nx\n", "slug", 3),
        ("---\ntitle: T\nslug: t\nlast_reviewed: 17 Jan\nsource: s\n---\n## A\nx\n", "date like 2019-01-17", 4),
        ("---\ntitle: T\nslug: t\nlast_reviewed: 2020-01-01\nsource: s\n---\nintro only\n", "has no sections", 7),
        ("---\ntitle: T\nslug: t\nlast_reviewed: 2020-01-01\nsource: s\n---\n## A\n\n## B\nx\n", "section 'A' is empty", 7),
        ("---\ntitle: T\nslug: t\nlast_reviewed: 2020-01-01\nsource: s\n---\n# A\nx\n", "unexpected heading", 7),
    ],
)
def test_leaflet_format_errors_name_the_line(text, message, line):
    with pytest.raises(LeafletFormatError) as caught:
        parse_leaflet(text)
    assert message in str(caught.value)
    assert caught.value.line == line


def test_bad_setting_names_variable_and_value(tmp_path):
    with pytest.raises(ConfigError, match=r"IVR_SPEECH, got 'loud'"):
        load_settings({"IVR_SPEECH": "loud", "IVR_INSTANCE_DIR": str(tmp_path)})


def test_development_token_is_made_once_and_kept(tmp_path):
    first = load_settings({"TWILIO_AUTH_TOKEN": "", "IVR_INSTANCE_DIR": str(tmp_path)})
    second = load_settings({"TWILIO_AUTH_TOKEN": "", "IVR_INSTANCE_DIR": str(tmp_path)})
    assert first.auth_token_is_local and first.auth_token == second.auth_token
    assert len(first.auth_token) == 32


def test_prompt_placeholders_must_match():
    prompts = load_prompts("en-GB")
    assert prompts.say("errors.apology").text.startswith("Sorry")
    with pytest.raises(PromptError, match=r"no prompt 'errors\.nonexistent'"):
        prompts.say("errors.nonexistent")
    with pytest.raises(PromptError, match="takes"):
        prompts.say("errors.apology", extra=1)


def test_emergency_numbers_are_written_to_be_read_digit_by_digit():
    """eSpeak reads "999" as "nine hundred and ninety-nine": a caller in an emergency must hear
    "nine nine nine" and "one one one", so prompts spell these numbers out."""
    prompts = load_prompts("en-GB")
    mentions = {pid: text for pid, text in prompts.templates.items() if "NHS" in text or "emergenc" in text.lower()}
    assert mentions, "no prompt signposts emergencies"
    for prompt_id, text in mentions.items():
        assert "999" not in text and "111" not in text, prompt_id
        assert "nine nine nine" in text, prompt_id
