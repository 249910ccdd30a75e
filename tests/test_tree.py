"""The phone tree alone (no web, no Twilio): positions, keys, escalation, menus, prompts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from ivr.content.catalogue import load_catalogue
from ivr.errors import ContentError
from ivr.keymap import load_keymap
from ivr.prompts import Prompts, load_prompts
from ivr.tree import (
    PAUSE_CYCLES,
    Enter,
    HangUp,
    Position,
    Silence,
    ToNurse,
    Tree,
    check_tree,
    spoken_utterances,
)
from ivr.tree_explore import PROMPTS_USED, explore, seconds_to_first_sentence

from .conftest import PROJECT

SEED = "cryotherapy-for-kidney-cancer"
MANY = PROJECT / "tests" / "fixtures" / "leaflets-many"


@pytest.fixture(scope="module")
def prompts() -> Prompts:
    return load_prompts("en-GB")


@pytest.fixture(scope="module")
def tree(prompts: Prompts) -> Tree:
    return Tree(load_catalogue(PROJECT / "leaflets"), prompts)


@pytest.fixture(scope="module")
def many(prompts: Prompts) -> Tree:
    return Tree(load_catalogue(MANY), prompts)


def ids(step) -> list[str]:
    return [u.id for u in step.utterances]


def read(section: int, part: int, **kw) -> Position:
    return Position("read", SEED, section, part, **kw)


# --- positions travel in URLs, and junk never breaks them ------------------------------------

def test_position_round_trips_through_url_parameters():
    position = Position("pause", SEED, 3, 2, "slow", whole=True, quiet=4, wrong=1)
    assert Position.from_params(position.params()) == position
    assert read(1, 1).params() == {"k": "read", "l": SEED, "s": "1", "p": "1", "r": "normal"}


@pytest.mark.parametrize(
    ("params", "kind", "section", "part", "rate"),
    [
        ({"k": "read", "l": "no-such-leaflet", "s": "1", "p": "1"}, "sections", 0, 1, "normal"),
        ({"k": "read", "l": SEED, "s": "99", "p": "1"}, "sections", 0, 1, "normal"),
        ({"k": "read", "l": SEED, "s": "2", "p": "-3"}, "read", 2, 1, "normal"),
        ({"k": "read", "l": SEED, "s": "2", "p": "40"}, "end", 2, 3, "normal"),
        ({"k": "read", "l": SEED, "s": "2", "p": "2", "r": "ludicrous"}, "read", 2, 2, "normal"),
        ({"k": "read", "l": SEED, "s": "x", "p": "y"}, "read", 1, 1, "normal"),
        ({"k": "nonsense"}, "sections", 0, 1, "normal"),
        ({"k": "end", "l": SEED, "s": "-1"}, "sections", 0, 1, "normal"),
        ({"k": "leaflets", "pg": "7"}, "sections", 0, 1, "normal"),
        ({"k": "sections", "l": SEED, "pg": "12", "q": "999999", "x": "-5"}, "sections", 0, 1, "normal"),
    ],
)
def test_tampered_positions_settle_on_the_nearest_sensible_place(tree, params, kind, section, part, rate):
    step = tree.enter(Position.from_params(params))
    assert (step.position.kind, step.position.section, step.position.part, step.position.rate) == (
        kind, section, part, rate)
    assert step.utterances


# --- the greeting and the menus ----------------------------------------------------------------

def test_greeting_says_name_safety_and_nurse_then_first_choice(tree):
    step = tree.answer()
    assert ids(step)[:4] == ["call.greeting_one", "call.emergency", "call.nurse", "menu.section_option"]
    texts = " ".join(u.text for u in step.utterances)
    assert "nine nine nine" in texts and "NHS one one one" in texts and "zero" in texts
    assert step.utterances[3].text == "For What it is, press 1."
    assert step.listen is not None and step.listen.finish_on_key == "" and step.listen.num_digits == 1
    assert step.then == Silence(step.position)


def test_first_leaflet_sentence_within_15_seconds_at_155_words_a_minute(tree):
    assert seconds_to_first_sentence(tree) <= 15.0


def test_section_menu_lists_each_section_then_whole_then_about(tree):
    step = tree.enter(Position("sections", SEED))
    texts = [u.text for u in step.utterances]
    assert texts[0] == "Cryotherapy for kidney cancer."
    assert texts[1:5] == [f"For {t}, press {n}." for n, t in
                          enumerate(["What it is", "Who has it", "What happens", "Side effects"], 1)]
    assert ids(step)[5:9] == ["menu.whole", "menu.about", "menu.repeat", "menu.nurse"]
    about = tree.press(step.position, "6")
    assert "17 January 2019" in about.utterances[0].text and about.position.kind == "sections"
    whole = tree.press(step.position, "5")
    assert (whole.position.kind, whole.position.section, whole.position.whole) == ("read", 0, True)


@pytest.mark.parametrize(
    ("key", "kind", "section"),
    [("1", "read", 1), ("2", "read", 2), ("3", "read", 3), ("4", "read", 4), ("5", "read", 0),
     ("6", "sections", 0), ("#", "sections", 0), ("*", "sections", 0)],
)
def test_section_menu_keys(tree, key, kind, section):
    step = tree.press(Position("sections", SEED), key)
    assert (step.position.kind, step.position.section) == (kind, section)


@pytest.mark.parametrize("key", ["7", "8", "9"])
def test_section_menu_wrong_key_says_sorry_then_the_options(tree, key):
    step = tree.press(Position("sections", SEED), key)
    assert ids(step)[:2] == ["errors.wrong_key", "menu.section_option"]
    assert step.position.wrong == 1


def test_third_wrong_key_offers_the_nurse(tree):
    position = Position("sections", SEED)
    for _ in range(3):
        step = tree.press(position, "8")
        position = step.position
    assert ids(step)[:2] == ["errors.wrong_key", "errors.offer_nurse"]


def test_no_input_escalates_reprompt_help_nurse_goodbye(tree):
    step = tree.answer()
    seen = []
    while not isinstance(step.then, HangUp):
        assert isinstance(step.then, Silence)
        step = tree.press(step.then.position, None)
        seen.append(ids(step)[0])
    assert seen == ["errors.no_input", "errors.key_help", "errors.offer_nurse", "call.goodbye"]
    assert step.listen is None


def test_zero_is_the_nurse_everywhere(tree, many):
    for t in (tree, many):
        for position in {s for s in _sample_positions(t)}:
            step = t.press(position, "0")
            assert isinstance(step.then, ToNurse), position


def _sample_positions(t: Tree) -> list[Position]:
    slug = t.catalogue.leaflets[0].slug
    return [t.top(), Position("sections", slug), Position("read", slug, 1, 1), Position("pause", slug, 1, 1),
            Position("end", slug, 1, 2), Position("leaflets"), Position("code")]


# --- reading: the talking-book keys ------------------------------------------------------------

@pytest.mark.parametrize(
    ("key", "kind", "section", "part", "rate", "first_id"),
    [
        ("1", "read", 2, 1, "normal", "reading.section_start"),
        ("2", "read", 2, 2, "slow", "reading.slower"),
        ("4", "read", 2, 1, "normal", "reading.section_start"),
        ("6", "read", 2, 3, "normal", f"leaflet/{SEED}/2/3"),
        ("7", "read", 1, 1, "normal", "reading.section_start"),
        ("9", "read", 3, 1, "normal", "reading.section_start"),
        ("5", "read", 2, 2, "normal", "reading.where"),
        ("#", "pause", 2, 2, "normal", "reading.paused"),
        ("*", "sections", 0, 1, "normal", "menu.sections"),
        ("3", "read", 2, 2, "normal", "errors.wrong_key"),
        ("8", "read", 2, 2, "normal", "errors.wrong_key"),
    ],
)
def test_reading_keys(tree, key, kind, section, part, rate, first_id):
    step = tree.press(read(2, 2), key)
    assert (step.position.kind, step.position.section, step.position.part, step.position.rate) == (
        kind, section, part, rate)
    assert ids(step)[0] == first_id


def test_parts_play_in_a_gather_and_then_move_on(tree):
    step = tree.enter(read(2, 1))
    assert ids(step) == ["reading.section_start", f"leaflet/{SEED}/2/1"]
    assert step.listen is not None and step.listen.timeout <= 5
    assert step.then == Enter(read(2, 2))
    assert tree.enter(read(2, 3)).then == Enter(Position("end", SEED, 2, 3))


def test_where_am_i_says_leaflet_section_part_and_key_help(tree):
    texts = [u.text for u in tree.press(read(2, 2), "5").utterances]
    assert texts[0] == "You are listening to Cryotherapy for kidney cancer: Who has it."
    assert texts[1] == "Part 2 of 3."
    assert texts[2].startswith("Press 1 to start this section again")


@pytest.mark.parametrize("part", [2, 3])
def test_back_then_forward_returns_to_the_same_part(tree, part):
    back = tree.press(read(2, part), "4")
    forward = tree.press(back.position, "6")
    assert forward.position == read(2, part)


def test_back_at_the_first_part_says_so_and_stays(tree):
    step = tree.press(read(2, 1), "4")
    assert ids(step)[0] == "reading.start_of_section" and step.position == read(2, 1)


def test_previous_at_the_first_section_and_next_at_the_last(tree):
    first = tree.press(read(0, 1), "7")
    assert ids(first)[0] == "reading.first_section" and first.position == read(0, 1)
    last = tree.press(read(4, 1), "9")
    assert ids(last)[:2] == ["reading.last_section", "reading.end_of_leaflet"]
    assert last.position.kind == "end"


def test_slow_then_normal(tree):
    slow = tree.press(read(1, 1), "2")
    normal = tree.press(slow.position, "2")
    assert slow.position.rate == "slow" and normal.position.rate == "normal"
    assert ids(normal)[0] == "reading.normal"


def test_whole_leaflet_carries_on_to_the_next_section(tree):
    leaflet = tree.catalogue.by_slug(SEED)
    last_intro = len(leaflet.intro.parts)
    step = tree.enter(read(0, last_intro, whole=True))
    assert step.then == Enter(read(1, 1, whole=True))
    last = len(leaflet.sections[-1].parts)
    assert tree.enter(read(4, last, whole=True)).then == Enter(Position("end", SEED, 4, last, whole=True))


def test_pause_any_key_carries_on_and_silence_reminds_then_ends(tree):
    pause = tree.press(read(2, 2), "#")
    for key in "123456789*#":
        assert tree.press(pause.position, key).position == read(2, 2)
    step = pause
    reminders = 0
    while not isinstance(step.then, HangUp):
        step = tree.press(step.then.position, None)
        reminders += ids(step)[0] == "reading.still_paused"
    assert reminders == PAUSE_CYCLES


# --- end of a section --------------------------------------------------------------------------

def test_end_of_section_says_what_comes_next_and_offers_choices(tree):
    step = tree.enter(Position("end", SEED, 1, 2))
    texts = [u.text for u in step.utterances]
    assert texts[:4] == ["That is the end of What it is.", "To go on to Who has it, press 9.",
                         "To hear this section again, press 1.", "For the menu, press star."]


@pytest.mark.parametrize(
    ("key", "kind", "section", "part"),
    [("9", "read", 2, 1), ("1", "read", 1, 1), ("4", "read", 1, 2), ("7", "read", 0, 1), ("*", "sections", 0, 1),
     ("#", "end", 1, 2), ("2", "end", 1, 2), ("5", "end", 1, 2), ("6", "end", 1, 2), ("3", "end", 1, 2)],
)
def test_end_of_section_keys(tree, key, kind, section, part):
    step = tree.press(Position("end", SEED, 1, 2), key)
    assert (step.position.kind, step.position.section, step.position.part) == (kind, section, part)


# --- several leaflets: pages of five, "more", codes --------------------------------------------

def test_leaflet_menu_offers_five_then_more_and_code(many):
    step = many.answer()
    assert ids(step)[:3] == ["call.greeting_many", "call.emergency", "call.nurse"]
    options = [u.text for u in step.utterances if u.id == "menu.leaflet_option"]
    assert options == [f"For {t} care, press {n}." for n, t in
                       enumerate(["Alpha", "Bravo", "Charlie", "Delta", "Echo"], 1)]
    assert "menu.code" in ids(step) and "menu.more_leaflets" in ids(step)
    page2 = many.press(step.position, "9")
    assert [u.text for u in page2.utterances if u.id == "menu.leaflet_option"] == [
        "For Foxtrot care, press 1.", "For Golf care, press 2."]
    assert many.press(page2.position, "1").position == Position("sections", "f-foxtrot-care")
    assert many.press(page2.position, "*").position == Position("leaflets")
    assert ids(many.press(page2.position, "9"))[0] == "errors.wrong_key"


@pytest.mark.parametrize(
    ("digits", "kind", "slug", "first_id"),
    [("303", "sections", "c-charlie-care", "menu.sections"), ("101#", "sections", "a-alpha-care", "menu.sections"),
     ("999", "code", "", "menu.no_code"), ("12*", "leaflets", "", "menu.leaflets"), ("", "code", "", "errors.no_input")],
)
def test_code_entry(many, digits, kind, slug, first_id):
    code = many.press(Position("leaflets"), "8")
    assert ids(code) == ["menu.code_entry"] and code.listen.finish_on_key == "#" and code.listen.num_digits is None
    step = many.press(code.position, digits)
    assert (step.position.kind, step.position.slug, ids(step)[0]) == (kind, slug, first_id)


def test_section_menu_of_a_long_leaflet_pages_and_star_goes_back_to_the_leaflets(many):
    step = many.enter(Position("sections", "c-charlie-care"))
    assert [u.text for u in step.utterances if u.id == "menu.section_option"][-1] == "For Fifth topic, press 5."
    more = many.press(step.position, "9")
    assert [u.text for u in more.utterances if u.id == "menu.section_option"] == ["For Sixth topic, press 1."]
    assert many.press(more.position, "1").position == Position("read", "c-charlie-care", 6, 1)
    assert many.press(step.position, "*").position == Position("leaflets")


# --- everything said can be rendered; the checker finds broken prompts --------------------------

def test_spoken_utterances_are_finite_filled_and_composed(tree, prompts):
    utterances = spoken_utterances(tree.catalogue, prompts)
    texts = {u.text for u in utterances}
    assert "For What it is, press 1." in texts and "Part 2 of 3." in texts
    assert not any("{" in t for t in texts) and not any(u.id.startswith("leaflet/") for u in utterances)
    assert len(texts) == len(utterances) < 200


def test_prompt_table_matches_what_the_tree_says(tree, many):
    used = explore(tree).prompt_ids | explore(many).prompt_ids
    assert used == set(PROMPTS_USED) - {"errors.apology"}


def test_check_tree_is_clean_for_the_real_content(tree, prompts):
    assert [f for f in check_tree(tree.catalogue, prompts) if f.level == "error"] == []


def _without(prompts: Prompts, prompt_id: str, replacement: str | None = None) -> Prompts:
    templates = dict(prompts.templates)
    if replacement is None:
        del templates[prompt_id]
    else:
        templates[prompt_id] = replacement
    return replace(prompts, templates=templates)


@pytest.mark.parametrize(
    ("prompt_id", "replacement", "message", "file"),
    [
        ("reading.part", None, "needs prompt 'reading.part', which is missing", "reading.yaml"),
        ("menu.section_option", "For {sektion}, press {key}.", "must take ['key', 'section']", "menu.yaml"),
        ("call.greeting_one", "Hello.", "must take ['title']", "call.yaml"),
    ],
)
def test_check_tree_reports_broken_prompts_with_the_file(tree, prompts, prompt_id, replacement, message, file):
    findings = check_tree(tree.catalogue, _without(prompts, prompt_id, replacement))
    assert [f.level for f in findings] == ["error"]
    assert message in findings[0].message and findings[0].path.name == file


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("menu: [", "cannot be read as YAML"),
        ("names: {}\n", "how each of the 12 keys is spoken"),
        ("{names: &n {'0': zero, '1': '1', '2': '2', '3': '3', '4': '4', '5': '5', '6': '6', '7': '7', '8': '8', '9': '9', '*': star, '#': hash}, "
         "menu: {nurse: '0', back: '*', repeat: '#', more: '9'}}", "menu.code must be one key"),
        ("{names: {'0': zero, '1': '1', '2': '2', '3': '3', '4': '4', '5': '5', '6': '6', '7': '7', '8': '8', '9': '9', '*': star, '#': hash}, "
         "menu: {nurse: '0', back: '*', repeat: '*', more: '9', code: '8'}}", "key '*' is given to two actions"),
        ("{names: {'0': zero, '1': '1', '2': '2', '3': '3', '4': '4', '5': '5', '6': '6', '7': '7', '8': '8', '9': '9', '*': star, '#': hash}, "
         "menu: {nurse: '9', back: '*', repeat: '#', more: '8', code: '7'}}", "nurse must be \"0\""),
    ],
)
def test_broken_key_map_is_a_content_error_naming_the_file(tmp_path: Path, text, message):
    path = tmp_path / "keys.yaml"
    path.write_text(text)
    with pytest.raises(ContentError) as caught:
        load_keymap(path)
    assert message in str(caught.value) and str(path) in str(caught.value)
