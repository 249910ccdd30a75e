"""Speech text: the rules, the parts a caller skips by, and faithfulness to the leaflet."""

from __future__ import annotations

import datetime as dt
import re
import subprocess

import pytest

from ivr.content.leaflet import load_leaflet, parse_leaflet
from ivr.content.rules import clutter_rules, lexicon
from ivr.content.speech_text import MONTHS, leaflet_speech, spoken_date, to_speech
from ivr.errors import ContentError

from .conftest import PROJECT

SEED = PROJECT / "leaflets" / "cryotherapy-for-kidney-cancer.md"


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        # measurements
        ("less than 4cm across", "less than 4 centimetres across"),
        ("a 1cm cut", "a 1 centimetre cut"),
        ("a 4 cm lump", "a 4 centimetres lump"),
        ("stones of 2-3mm", "stones of 2 to 3 millimetres"),
        ("stones of 2 to 3mm", "stones of 2 to 3 millimetres"),
        ("drink 1.5 ml", "drink 1.5 millilitres"),
        ("take 500mg twice", "take 500 milligrams twice"),
        ("weighs 70kg", "weighs 70 kilograms"),
        ("50% of people", "50 per cent of people"),
        ("a fever over 38°C", "a fever over 38 degrees Celsius"),
        ("4-6 weeks", "4 to 6 weeks"),
        ("4cmx", "4cmx"),  # not a unit: left alone
        # dates
        ("Last reviewed 17 Jan 2019", "Last reviewed 17 January 2019"),
        ("on 17/01/2019", "on 17 January 2019"),
        ("on 2019-01-17", "on 17 January 2019"),
        ("from Sept 2020", "from September 2020"),
        ("on 3rd Sept. 2021", "on 3 September 2021"),
        ("31/02/2020 is no date", "31/02/2020 is no date"),
        ("You may need it in May", "You may need it in May"),
        # abbreviations and acronyms (lexicon)
        ("The MDT meets", "The multidisciplinary team meets"),
        ("the NHS and your GP", "the N H S and your G P"),
        ("an x-ray or two X-rays", "an X ray or two X rays"),
        ("E.g. water", "For example water"),
        ("drink water, i.e. a lot", "drink water, that is a lot"),
        ("an mdt", "an mdt"),  # an acronym matches only in capitals
        # asides, dashes
        ("a cut in the skin (incision).", "a cut in the skin, incision."),
        ("a tube (a catheter) drains it", "a tube, a cathiter, drains it"),
        ("(Rarely) it hurts", "Rarely, it hurts"),
        ("pain - rarely - lasts", "pain, rarely, lasts"),
        ("pain – rarely – lasts", "pain, rarely, lasts"),
        # pronunciations
        ("the ureter", "the you reeter"),
        ("Cryosurgery is", "Cryo-surgery is"),
        ("a laparoscope", "a lapra-scope"),
        # whitespace
        ("odd\u00a0spaces  and\ttabs", "odd spaces and tabs"),
    ],
)
def test_speech_rules(written, spoken):
    assert to_speech(written) == spoken


def test_spoken_date_is_not_locale_dependent():
    assert spoken_date(dt.date(2019, 1, 17)) == "17 January 2019"
    assert spoken_date(dt.date(2024, 9, 1)) == "1 September 2024"


LEAFLET = """---
title: Test leaflet
slug: test-leaflet
last_reviewed: 2024-01-01
source: A test
references:
  - "Never read aloud. A Journal 2020"
---

Introduction.

## Side effects

You may have:

- bleeding
- pain (soreness)

- a list with no lead-in

A last paragraph without a full stop
"""


def test_parts_bullets_are_sentences_joined_to_their_lead_in():
    speech = leaflet_speech(parse_leaflet(LEAFLET))
    assert speech.intro.number == 0 and speech.intro.parts == ("Introduction.",)
    assert speech.sections[0].parts == (
        "You may have: Bleeding. Pain, soreness.",
        "A list with no lead-in.",
        "A last paragraph without a full stop.",
    )
    assert speech.last_reviewed_spoken == "1 January 2024"
    assert "Journal" not in " ".join(p for s in (speech.intro, *speech.sections) for p in s.parts)


def _seed_parts() -> list[str]:
    speech = leaflet_speech(load_leaflet(SEED))
    return [speech.title] + [t for s in (speech.intro, *speech.sections) for t in (s.title, *s.parts)]


def test_seed_speech_text_reads_the_rules():
    text = " ".join(_seed_parts())
    assert "less than 4 centimetres across" in text
    assert "a camera, lapra-scope, to see inside the body." in text
    assert "Other problems after surgery can include: Bleeding around the kidney, requiring a blood " \
           "transfusion. Urine leakage. Temporary weakness" in text
    assert "an X ray or ultrasound scan" in text


def test_seed_speech_text_never_reads_references_or_markup():
    text = " ".join(_seed_parts())
    for reference_word in ("Zargar", "Escudier", "European Urology", "ESMO", "Supplement"):
        assert reference_word not in text
    assert not re.search(r"[#*\[\]<>_|`]|http", text)
    assert "\u00a0" not in text


def test_seed_speech_text_adds_no_word_beyond_the_reviewed_files():
    leaflet = load_leaflet(SEED)
    written = SEED.read_text(encoding="utf-8").split("\n---\n", 1)[1]
    words = re.compile(r"\d+|[^\W\d_][\w'-]*")
    allowed = set(words.findall((written + " " + leaflet.title).casefold()))
    allowed |= lexicon().spoken_words | {m.casefold() for m in MONTHS} | {"to"}
    spoken = set(words.findall(" ".join(_seed_parts()).casefold()))
    assert spoken - allowed == set()
    assert spoken & lexicon().spoken_words  # the check above is not vacuous: expansions were used


def _phonemes(text: str) -> str:
    result = subprocess.run(
        ["espeak-ng", "-v", "en-gb-x-rp", "-q", "-x", text], capture_output=True, text=True, check=True,
    )
    return result.stdout.strip()


def test_each_pronunciation_changes_what_espeak_says():
    for entry in lexicon().pronunciations:
        assert _phonemes(entry.written) != _phonemes(entry.spoken), entry.written


def test_rule_files_load_once_and_clutter_rules_match_whole_lines():
    assert lexicon() is lexicon() and clutter_rules() is clutter_rules()
    rules = clutter_rules()
    assert rules.match("  Decorative   image ") == "Decorative image"
    assert rules.match("Share on Facebook")
    assert rules.match("A decorative image helps") is None


def test_malformed_rule_files_name_file_and_line(tmp_path):
    bad_units = tmp_path / "lexicon.yaml"
    bad_units.write_text("abbreviations:\n  NHS: N H S\nunits:\n  cm: centimetres\n", encoding="utf-8")
    pronunciations = tmp_path / "pronunciations.yaml"
    pronunciations.write_text("ureter: you reeter\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        lexicon(bad_units, pronunciations)
    assert caught.value.path == bad_units and caught.value.line == 4
    assert "needs [one, many]" in caught.value.message

    bad_clutter = tmp_path / "clutter.yaml"
    bad_clutter.write_text("lines: []\npatterns:\n  - '(unclosed'\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        clutter_rules(bad_clutter)
    assert caught.value.line == 3 and "not a valid regular expression" in caught.value.message


LABELLED = """---
title: Test leaflet
slug: test-leaflet
last_reviewed: 2024-01-01
next_review: 2026-06-30
source: A test
say: [the test leaflet, testing]
sections:
  Side effects:
    label: side effects (the 4cm kind)
    say: [risks, problems after the treatment]
---

Introduction.

## What it is

Some text.

## Side effects

More text.
"""


def test_sections_have_labels_and_phrases_from_the_front_matter():
    speech = leaflet_speech(parse_leaflet(LABELLED))
    what, side = speech.sections
    assert (what.label, what.phrases) == ("What it is", ())  # no label: menus say the heading
    assert side.label == "side effects, the 4 centimetres kind"  # speech text, by the same rules
    assert side.phrases == ("risks", "problems after the treatment")  # as written: never spoken
    assert speech.phrases == ("the test leaflet", "testing")
    assert speech.next_review == dt.date(2026, 6, 30)  # given: the period does not apply
    assert not speech.review_overdue(dt.date(2026, 6, 30)) and speech.review_overdue(dt.date(2026, 7, 1))


def test_the_seed_names_its_sections_for_menus_in_its_own_words():
    speech = leaflet_speech(load_leaflet(SEED))
    assert [s.label for s in speech.sections] == [
        "what cryotherapy is", "who can have it", "what happens during the treatment", "side effects",
    ]
    assert "complications" in speech.sections[3].phrases and "who is it for" in speech.sections[1].phrases
    assert speech.next_review == dt.date(2022, 1, 17)  # no next_review: 36 months after 17 January 2019
