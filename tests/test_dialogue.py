"""The call engine alone (no web, no Twilio, no database): every part of a call as data, asserted
by prompt ids (the wording lives in the prompt files and may change; the ids are the contract)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.content.catalogue import load_catalogue
from ivr.dialogue.engine import CallEngine
from ivr.dialogue.speaking import LineRules
from ivr.dialogue.steps import (
    Bridge,
    CallContext,
    Continue,
    DialEnded,
    HangUp,
    Heard,
    Keys,
    NoInput,
    Position,
    Record,
    Recorded,
    SaveCallback,
    SaveMessage,
    Silence,
    Step,
    Transfer,
)
from ivr.nurse.hours import load_opening_hours
from ivr.prompts import load_prompts

from .conftest import PROJECT

ONE = PROJECT / "tests" / "fixtures" / "leaflets-one"
MANY = PROJECT / "tests" / "fixtures" / "leaflets-many"
SLUG = "cryotherapy-for-kidney-cancer"
CALLER = "+447900123456"
OPEN = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)  # Monday morning
LATE = dt.datetime(2026, 12, 7, 16, 30, tzinfo=dt.UTC)  # Monday, half an hour before closing
CHRISTMAS_EVE = dt.datetime(2026, 12, 24, 18, 0, tzinfo=dt.UTC)


def make_engine(folder: Path = ONE, *, hours: str = "Mon-Fri 09:00-17:00", speech: bool = False, **rules) -> CallEngine:
    line = LineRules(load_opening_hours(hours, "ENG", ""), speech_input=speech, **rules)
    return CallEngine(load_catalogue(folder), load_prompts("en-GB"), line)


@pytest.fixture(scope="module")
def engine() -> CallEngine:
    return make_engine()


@pytest.fixture(scope="module")
def talking() -> CallEngine:
    return make_engine(speech=True)


def at(engine: CallEngine, when: dt.datetime = OPEN, caller: str | None = CALLER) -> CallContext:
    return CallContext(engine.rules.moment(when), caller)


def ids(step: Step) -> list[str]:
    return [u.id for u in step.spoken]


def reply(engine: CallEngine, position: Position, event, when: dt.datetime = OPEN, caller: str | None = CALLER):
    return engine.respond(position, event, at(engine, when, caller))


def press(engine: CallEngine, step: Step, *keys: str, when: dt.datetime = OPEN, caller: str | None = CALLER) -> Step:
    for key in keys:
        found = reply(engine, step.position, Keys(key), when, caller)
        assert isinstance(found, Step), found
        step = found
    return step


def quiet(engine: CallEngine, step: Step, when: dt.datetime = OPEN) -> Step:
    found = reply(engine, step.position, NoInput(), when)
    assert isinstance(found, Step)
    return found


# --- the greeting and the menus ------------------------------------------------------------------

def test_the_greeting_says_who_we_are_and_the_emergency_sentence_before_any_choice(engine):
    step = engine.answer(at(engine))
    assert [u.id for u in step.before] == ["call.greeting_one", "safety.emergency"]
    assert ids(step)[2:] == ["menu.section_option"] * 4 + [
        "menu.whole", "menu.nurse_open", "menu.slower", "menu.repeat", "menu.stay_open"]
    assert [c.key for c in step.listen.choices if c.numbered] == ["1", "2", "3", "4", "5"]
    assert step.listen.timeout == 8 and isinstance(step.then, Silence)


def test_when_closed_the_greeting_says_what_zero_does_now_and_when_they_open(engine):
    step = engine.answer(at(engine, CHRISTMAS_EVE))
    closed = next(u for u in step.utterances if u.id == "menu.nurse_closed")
    assert "Tuesday 29 December at 9 am" in closed.text
    assert "menu.stay_closed" in ids(step) and "menu.nurse_open" not in ids(step)


def test_never_open_says_a_message_can_be_left(engine):
    never = make_engine(hours="never")
    step = never.answer(at(never))
    assert "menu.nurse_closed_no_hours" in ids(step)


def test_sections_are_offered_by_their_spoken_labels(engine):
    step = engine.answer(at(engine))
    offered = [u.text for u in step.utterances if u.id == "menu.section_option"]
    assert offered[0] == "For what cryotherapy is, press 1."


def test_many_leaflets_page_at_five_choices_with_code_and_more(engine):
    many = make_engine(MANY)
    step = many.answer(at(many))
    numbered = [c.action for c in step.listen.choices if c.numbered]
    assert len(numbered) == 5 and numbered[-2:] == ["code", "more"]
    more = press(many, step, "4")
    assert more.position.page == 1 and "menu.back" in ids(more)
    back = press(many, more, "*")
    assert back.position.page == 0


def test_a_leaflet_code_opens_it_and_a_wrong_one_says_so(engine):
    many = make_engine(MANY)
    code = press(many, many.answer(at(many)), "6")
    assert code.listen.digits is not None and "star" in code.utterances[0].text
    assert press(many, code, "303#").position.slug == "c-charlie-care"
    wrong = press(many, code, "404#")
    assert [u.id for u in wrong.before] == ["menu.no_code"] and wrong.position.kind == "code"
    assert press(many, code, "*").position.kind == "leaflets"


# --- reading -----------------------------------------------------------------------------------

def test_a_section_is_read_after_the_stale_caveat_when_overdue(engine):
    step = press(engine, engine.answer(at(engine)), "1")
    assert step.position == Position("read", SLUG, 1, 1)
    assert [u.id for u in step.before] == ["reading.section_start", "reading.stale"]
    assert "January 2019" in step.before[1].text
    assert ids(step)[-1] == f"leaflet/{SLUG}/1/1"
    assert isinstance(step.then, Continue) and step.then.position.part == 2


def test_a_leaflet_reviewed_recently_has_no_caveat(tmp_path):
    text = (ONE / f"{SLUG}.md").read_text().replace("last_reviewed: 2019-01-17", "last_reviewed: 2026-01-17")
    (tmp_path / f"{SLUG}.md").write_text(text)
    fresh = make_engine(tmp_path)
    step = press(fresh, fresh.answer(at(fresh)), "1")
    assert "reading.stale" not in ids(step) and ids(step)[0] == "reading.section_start"


@pytest.mark.parametrize(("key", "expected"), [
    ("4", Position("read", SLUG, 2, 1)),  # back a paragraph
    ("6", Position("read", SLUG, 2, 3)),  # forward
    ("1", Position("read", SLUG, 1, 1)),  # previous section
    ("2", Position("read", SLUG, 2, 1)),  # this section again
    ("3", Position("read", SLUG, 3, 1)),  # next section
    ("5", Position("pause", SLUG, 2, 2)),  # pause
    ("#", Position("read", SLUG, 2, 2)),  # this paragraph again
    ("*", Position("sections", SLUG)),  # back to the list of sections
])
def test_talking_book_keys(engine, key, expected):
    step = engine.enter(Position("read", SLUG, 2, 2), at(engine))
    assert press(engine, step, key).position == expected


def test_slower_speech_and_back(engine):
    step = press(engine, engine.enter(Position("read", SLUG, 2, 2), at(engine)), "8")
    assert step.position.rate == "slow" and ids(step)[0] == "reading.slower"
    assert press(engine, step, "8").position.rate == "normal"


def test_help_while_reading_is_short_sentences_then_the_paragraph_again(engine):
    step = press(engine, engine.enter(Position("read", SLUG, 2, 2), at(engine)), "9")
    before = [u.id for u in step.before]
    assert before[0] == "reading.where" and "reading.help_back" in before and "menu.nurse_open" in before
    assert step.position == Position("read", SLUG, 2, 2)
    assert all(len(u.text.split()) <= 12 for u in step.before[1:])  # short sentences


def test_the_end_of_the_leaflet_says_when_to_get_help(engine):
    leaflet = engine.catalogue.leaflets[0]
    last = leaflet.sections[-1]
    step = engine.enter(Position("read", SLUG, last.number, len(last.parts)), at(engine))
    end = engine.enter(step.then.position, at(engine))
    assert end.position.kind == "end"
    assert [u.id for u in end.before] == ["safety.when_to_get_help"]
    assert ids(end)[1:3] == ["reading.end_of_leaflet", "menu.about_text"]


def test_a_pause_lasts_minutes_then_warns_then_carries_on(engine):
    step = press(engine, engine.enter(Position("read", SLUG, 2, 2), at(engine)), "5")
    said, seconds = [], 0
    while step.position.kind == "pause":
        said.append(ids(step)[-1])
        seconds += step.listen.timeout
        step = quiet(engine, step)
    assert seconds >= 5 * 60
    assert said[0] == "reading.paused" and said[-1] == "reading.pause_ending"
    assert step.position == Position("read", SLUG, 2, 2) and ids(step)[0] == "reading.carry_on"


# --- silence and wrong keys: never a dead end ------------------------------------------------------

def test_a_silent_caller_is_put_through_to_a_nurse_when_open(engine):
    step = engine.answer(at(engine))
    first = quiet(engine, step)
    second = quiet(engine, first)
    third = quiet(engine, second)
    assert [u.id for u in first.before] == ["errors.no_input"]
    assert second.before[0].id == "errors.key_help"
    assert [u.id for u in third.before] == ["errors.put_through", "nurse.connecting"]
    assert isinstance(third.then, Transfer)


def test_a_silent_caller_leaves_a_message_when_closed(engine):
    step = engine.answer(at(engine, CHRISTMAS_EVE))
    for _ in range(3):
        step = quiet(engine, step, CHRISTMAS_EVE)
    assert [u.id for u in step.before] == ["errors.take_message", "nurse.message.instructions"]
    assert isinstance(step.then, Record) and step.then.position.reason == "closed"
    nothing = reply(engine, step.then.position, Recorded(0), CHRISTMAS_EVE)
    assert [u.id for u in nothing.before][-2:] == ["safety.before_goodbye", "call.goodbye"]
    assert isinstance(nothing.then, HangUp)


def test_wrong_keys_say_so_then_help_then_a_person(engine):
    step = engine.answer(at(engine))
    wrong1 = press(engine, step, "6")
    wrong2 = press(engine, wrong1, "6")
    wrong3 = press(engine, wrong2, "6")
    assert [u.id for u in wrong1.before] == ["errors.wrong_key"]
    assert [u.id for u in wrong2.before][:2] == ["errors.wrong_key", "errors.key_help"]
    assert isinstance(wrong3.then, Transfer)


# --- the nurse line ---------------------------------------------------------------------------

def test_zero_puts_through_with_a_whisper_that_says_where_the_caller_was(engine):
    step = press(engine, engine.enter(Position("read", SLUG, 2, 2), at(engine)), "0")
    assert ids(step) == ["nurse.connecting"] and isinstance(step.then, Transfer)
    whisper = engine.enter(step.then.whisper, at(engine))
    assert ids(whisper) == ["nurse.whisper.position", "nurse.whisper.accept"]
    assert "who can have it" not in whisper.utterances[0].text and "Who has it" in whisper.utterances[0].text
    assert isinstance(press(engine, whisper, "1").then, Bridge)
    again = quiet(engine, whisper)
    assert ids(again) == ["nurse.whisper.accept"]
    assert isinstance(quiet(engine, again).then, HangUp)


def test_answered_transfer_ends_with_the_emergency_sentence_and_goodbye(engine):
    transfer = press(engine, engine.answer(at(engine)), "0").then
    done = reply(engine, transfer.position, DialEnded(True))
    assert ids(done) == ["safety.before_goodbye", "call.goodbye"] and isinstance(done.then, HangUp)


@pytest.mark.parametrize(("status", "said"), [("busy", "nurse.busy"), ("no-answer", "nurse.no_answer"),
                                              ("not-bridged", "nurse.busy"), ("failed", "nurse.busy")])
def test_busy_or_no_answer_says_what_happens_next_and_offers_a_call_back_first(engine, status, said):
    transfer = press(engine, engine.answer(at(engine)), "0").then
    step = reply(engine, transfer.position, DialEnded(False, status))
    assert [u.id for u in step.before] == [said, "safety.emergency", "nurse.next_steps"]
    assert [c.action for c in step.listen.choices if c.numbered] == ["callback", "message"]
    assert "nurse.options.again" in ids(step)  # one more try is allowed


def test_the_nurses_are_tried_at_most_twice_in_a_call(engine):
    step = press(engine, engine.answer(at(engine)), "0")
    for _ in range(2):
        step = reply(engine, step.then.position, DialEnded(False, "busy"))
        step = press(engine, step, "0")
    assert not isinstance(step.then, Transfer) and step.position.kind == "nurse-options"
    assert "nurse.options.again" not in ids(step) and ids(step)[0] == "nurse.busy"


def test_closed_says_when_they_open_and_the_emergency_sentence(engine):
    step = press(engine, engine.answer(at(engine, CHRISTMAS_EVE)), "0", when=CHRISTMAS_EVE)
    assert [u.id for u in step.before] == ["nurse.closed.next", "safety.emergency"]
    assert "on Tuesday 29 December at 9 am" in step.before[0].text


def test_call_back_on_the_callers_own_number_is_read_in_full_and_promised_with_a_time(engine):
    options = press(engine, engine.answer(at(engine, CHRISTMAS_EVE)), "0", when=CHRISTMAS_EVE)
    confirm = press(engine, options, "1", when=CHRISTMAS_EVE)
    digits = "".join(u.id[-1] for u in confirm.utterances if u.id.startswith("nurse.digits."))
    assert digits == "07900123456" and ids(confirm)[-1] == "nurse.callback.confirm"
    save = reply(engine, confirm.position, Keys("1"), CHRISTMAS_EVE)
    assert isinstance(save, SaveCallback) and save.number == CALLER and save.source == "caller"
    assert save.due == dt.datetime(2026, 12, 29, 11, 0, tzinfo=dt.UTC).astimezone(save.due.tzinfo)
    saved = engine.after_save(save, True, at(engine, CHRISTMAS_EVE))
    promise = next(u for u in saved.before if u.id.startswith("nurse.promise."))
    assert promise.id == "nurse.promise.callback_later"
    assert promise.text == "We aim to call you after we open on Tuesday 29 December, usually by 11 am."
    assert [u.id for u in saved.before][-1] == "safety.feel_worse"
    assert saved.position.kind == "nurse-saved"
    assert isinstance(quiet(engine, saved).then, HangUp)


def test_a_promise_made_late_in_the_day_carries_over_to_the_next_opening(engine):
    options = press(engine, engine.answer(at(engine, LATE)), "0", when=LATE)
    transfer = options.then
    options = reply(engine, transfer.position, DialEnded(False, "busy"), LATE)
    save = reply(engine, press(engine, options, "1", when=LATE).position, Keys("1"), LATE)
    saved = engine.after_save(save, True, at(engine, LATE))
    promise = next(u for u in saved.before if u.id.startswith("nurse.promise."))
    assert promise.text == "We aim to call you after we open tomorrow, usually by 10:30 am."


def test_the_call_back_number_comes_from_a_setting_when_given():
    engine = make_engine(callback_from="+441632960999")
    save = SaveCallback(Position("nurse-callback", origin="leaflets"), None, CALLER)
    saved = engine.after_save(save, True, at(engine))
    assert "nurse.promise.from" in ids(saved)


def test_a_number_keyed_in_is_read_back_before_it_is_kept(engine):
    options = press(engine, engine.answer(at(engine, CHRISTMAS_EVE, None)), "0", when=CHRISTMAS_EVE, caller=None)
    keyin = press(engine, options, "1", when=CHRISTMAS_EVE, caller=None)
    assert keyin.position.kind == "nurse-keyin" and keyin.listen.digits is not None
    assert "star" in keyin.utterances[0].text  # where 0 is a digit, the way out is said
    confirm = press(engine, keyin, "07900123457#", when=CHRISTMAS_EVE, caller=None)
    digits = "".join(u.id[-1] for u in confirm.utterances if u.id.startswith("nurse.digits."))
    assert digits == "07900123457" and ids(confirm)[0] == "nurse.callback.you_keyed"
    assert press(engine, confirm, "2", when=CHRISTMAS_EVE, caller=None).position.kind == "nurse-keyin"
    save = reply(engine, confirm.position, Keys("1"), CHRISTMAS_EVE, None)
    assert isinstance(save, SaveCallback) and save.number == "+447900123457" and save.source == "keyed"


def test_keying_in_star_goes_back_and_a_bad_number_is_said_to_be_one(engine):
    options = press(engine, engine.answer(at(engine, CHRISTMAS_EVE, None)), "0", when=CHRISTMAS_EVE, caller=None)
    keyin = press(engine, options, "1", when=CHRISTMAS_EVE, caller=None)
    assert press(engine, keyin, "07*", when=CHRISTMAS_EVE, caller=None).position.kind == "nurse-options"
    bad = press(engine, keyin, "123#", when=CHRISTMAS_EVE, caller=None)
    assert [u.id for u in bad.before] == ["nurse.callback.invalid"] and bad.position.kind == "nurse-keyin"


def test_silence_while_keying_in_asks_again_then_offers_a_message(engine):
    options = press(engine, engine.answer(at(engine, CHRISTMAS_EVE, None)), "0", when=CHRISTMAS_EVE, caller=None)
    step = press(engine, options, "1", when=CHRISTMAS_EVE, caller=None)
    for _ in range(3):
        step = quiet(engine, step, CHRISTMAS_EVE)
    assert isinstance(step.then, Record) and ids(step)[0] == "errors.take_message"


def test_a_message_is_saved_then_promised_and_a_failed_save_offers_a_retry(engine):
    options = press(engine, engine.answer(at(engine, CHRISTMAS_EVE)), "0", when=CHRISTMAS_EVE)
    record = press(engine, options, "2", when=CHRISTMAS_EVE)
    assert isinstance(record.then, Record)
    save = reply(engine, record.then.position, Recorded(20, "RE" + "1" * 32), CHRISTMAS_EVE)
    assert isinstance(save, SaveMessage) and save.recording_sid == "RE" + "1" * 32
    saved = engine.after_save(save, True, at(engine, CHRISTMAS_EVE))
    assert "nurse.promise.message_later" in ids(saved) and "safety.feel_worse" in ids(saved)
    failed = engine.after_save(save, False, at(engine, CHRISTMAS_EVE))
    assert ids(failed)[0] == "nurse.message.not_saved" and failed.position.kind == "nurse-failed"
    retry = reply(engine, failed.position, Keys("1"), CHRISTMAS_EVE)
    assert isinstance(retry, SaveMessage) and retry.recording_sid == save.recording_sid
    for _ in range(3):
        failed = quiet(engine, failed, CHRISTMAS_EVE)
    assert isinstance(failed.then, HangUp) and "safety.before_goodbye" in ids(failed)


def test_nothing_recorded_goes_back_to_the_options(engine):
    options = press(engine, engine.answer(at(engine, CHRISTMAS_EVE)), "0", when=CHRISTMAS_EVE)
    record = press(engine, options, "2", when=CHRISTMAS_EVE)
    nothing = reply(engine, record.then.position, Recorded(0), CHRISTMAS_EVE)
    assert ids(nothing)[0] == "nurse.message.nothing_heard" and nothing.position.kind == "nurse-options"


def test_star_goes_back_to_where_the_caller_was(engine):
    start = engine.enter(Position("read", SLUG, 3, 2), at(engine, CHRISTMAS_EVE))
    options = press(engine, start, "0", when=CHRISTMAS_EVE)
    assert "nurse.options.back_leaflet" in ids(options)
    back = press(engine, options, "*", when=CHRISTMAS_EVE)
    assert back.position == Position("read", SLUG, 3, 2)


# --- positions travel in URLs, and junk never breaks them ------------------------------------------

def test_a_position_round_trips_through_url_parameters():
    position = Position("nurse-number", SLUG, 3, 2, "slow", whole=True, quiet=2, wrong=1, origin="read",
                        reason="busy", tries=1, held="+447900123457")
    assert Position.from_params(position.params()) == position


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["k", "l", "s", "p", "r", "w", "pg", "q", "x", "o", "y", "t", "h"]),
                       st.text(max_size=30)),
       st.sampled_from([NoInput(), Keys("1"), Keys("0"), Keys("*"), Keys("07900123457#"), Heard("nurse", 0.9),
                        DialEnded(False, "busy"), Recorded(5, "RE" + "2" * 32)]))
def test_any_parameters_and_any_event_give_a_step_or_a_save(engine, params, event):
    position = Position.from_params(params)
    for when in (OPEN, CHRISTMAS_EVE):
        result = engine.respond(position, event, at(engine, when))
        assert isinstance(result, Step | SaveCallback | SaveMessage)
        if isinstance(result, Step):
            assert result.spoken or isinstance(result.then, Bridge | HangUp | Transfer | Record | Continue)


# --- speech --------------------------------------------------------------------------------------

def test_menus_offer_words_and_keys_when_speech_is_on(talking):
    step = talking.answer(at(talking))
    assert step.listen.speech
    assert step.utterances[0].text == "Say what cryotherapy is, or press 1."
    assert not talking.enter(Position("read", SLUG, 1, 1), at(talking)).listen.speech  # no barge-in by voice


@pytest.mark.parametrize(("said", "section"), [
    ("side effects", 4), ("side affects", 4), ("said effects", 4), ("who can have it", 2), ("who has it", 2),
    ("what is cryotherapy", 1), ("what happens", 3), ("risks", 4),
])
def test_a_section_is_reached_by_its_name_or_a_misheard_one(talking, said, section):
    step = reply(talking, talking.answer(at(talking)).position, Heard(said, 0.9))
    assert isinstance(step, Step)
    if step.position.held:  # unsure: asks first, and yes goes there
        step = press(talking, step, "1")
    assert step.position == Position("read", SLUG, section, 1)


def test_low_confidence_asks_first_and_no_goes_back_to_the_choices(talking):
    menu = talking.answer(at(talking)).position
    asked = reply(talking, menu, Heard("side effects", 0.2))
    assert ids(asked) == ["speech.did_you_mean", "speech.confirm"] and "side effects" in asked.utterances[0].text
    yes = reply(talking, asked.position, Heard("yes", 0.9))
    assert yes.position == Position("read", SLUG, 4, 1)
    no = reply(talking, asked.position, Heard("no", 0.9))
    assert no.position == menu


def test_words_that_match_nothing_count_as_a_wrong_key(talking):
    menu = talking.answer(at(talking)).position
    first = reply(talking, menu, Heard("purple elephant", 0.9))
    assert [u.id for u in first.before] == ["speech.not_understood"] and first.position.wrong == 1
    for said in ("", "x" * 500, "¿¡"):
        assert isinstance(reply(talking, menu, Heard(said, 0.9)), Step)


def test_the_nurse_is_reached_by_saying_so_from_every_menu(talking):
    for position in (Position("sections", SLUG), Position("end", SLUG, 1, 2),
                     Position("nurse-options", SLUG, reason="closed", origin="sections")):
        step = reply(talking, position, Heard("speak to a nurse", 0.9))
        assert isinstance(step.then, Transfer), position


# --- the vocabulary holds together -----------------------------------------------------------------

def test_every_position_walked_survives_its_url(talking):
    from ivr.dialogue.explore import Exploration, State, Transition, explore

    positions: list[Position] = []

    class EveryPosition:
        def arrived(self, found: Exploration, state: State, step: Step) -> None:
            positions.append(state[0])

        def followed(self, found: Exploration, transition: Transition) -> None:
            then = transition.step.then
            positions.extend(p for p in (transition.step.position, getattr(then, "position", None)) if p is not None)

    explore(talking, (EveryPosition(),))
    assert len(positions) > 10_000
    for position in positions:
        assert Position.from_params(position.params()) == position, position.params()


def test_no_two_fixed_prompts_say_the_same_thing(engine):
    """A sentence names one prompt: transcripts, tests and the call log tell them apart by it."""
    seen: dict[str, str] = {}
    for prompt_id, template in engine.voice.prompts.templates.items():
        if "{" not in template and not prompt_id.startswith(("nurse.digits.", "nurse.days.", "nurse.months.")):
            assert template not in seen, f"{prompt_id} and {seen.get(template)} say the same"
            seen[template] = prompt_id


def test_every_word_an_offer_names_is_understood_there(talking):
    """"Say everything, or press 5": "everything" must be in the words of that choice."""
    import re

    offers = {"menu.whole_say": "whole", "menu.nurse_open_say": "nurse", "menu.nurse_closed_say": "nurse",
              "menu.nurse_closed_no_hours_say": "nurse", "nurse.options.callback_say": "callback",
              "nurse.options.message_say": "message", "nurse.callback.confirm_say": "yes",
              "nurse.callback.check_say": "yes", "reading.next_say": "next", "call.welcome_back_say": "resume",
              "menu.text_say": "text"}
    templates = talking.voice.prompts.templates
    for prompt_id, template in templates.items():
        if prompt_id.endswith("_say") and "{section}" not in template and "{title}" not in template:
            assert prompt_id in offers, f"{prompt_id} offers words: say which choice they belong to"
    for prompt_id, action in offers.items():
        said = re.search(r"say ([a-z ]+?)(?:,| or)", templates[prompt_id]).group(1)
        assert said in talking.words.phrases[action], f"{prompt_id} says '{said}', not a word of {action}"
