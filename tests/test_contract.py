"""The caller-safety contract (``ivr check --calls``): the real engine keeps every promise in every
state, and each rule catches an engine built to break it."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from ivr.dialogue.contract import RULES, check_contract
from ivr.dialogue.engine import CallEngine
from ivr.dialogue.menus import Menu
from ivr.dialogue.speaking import Voice
from ivr.dialogue.steps import Choice, Listen, Step

from .test_dialogue import MANY, make_engine


@pytest.mark.parametrize("hours", ["Mon-Fri 09:00-17:00", "always", "never"])
@pytest.mark.parametrize("speech", [False, True])
def test_the_real_engine_keeps_every_promise(hours, speech):
    engine = make_engine(hours=hours, speech=speech)
    assert check_contract(engine)[1] == []


def test_many_leaflets_keep_every_promise():
    engine = make_engine(MANY, speech=True)
    assert check_contract(engine)[1] == []


# --- each rule, against an engine built to break it ---------------------------------------------

def _no_emergency_in_greeting(engine: CallEngine) -> None:
    answer = engine.answer

    def broken(context, resume=None):
        step = answer(context, resume)
        return dataclasses.replace(step, before=tuple(u for u in step.before if u.id != "safety.emergency"))

    engine.answer = broken  # type: ignore[method-assign]


def _no_emergency_before_the_offer_to_carry_on(engine: CallEngine) -> None:
    answer = engine.answer

    def broken(context, resume=None):
        step = answer(context, resume)
        if step.position.kind != "welcome":
            return step
        return dataclasses.replace(step, before=tuple(u for u in step.before if u.id != "safety.emergency"))

    engine.answer = broken  # type: ignore[method-assign]


def _offer_to_carry_on_waits_a_second(engine: CallEngine) -> None:
    welcome = engine._welcome_step

    def broken(position, before) -> Step:
        step = welcome(position, before)
        assert step.listen is not None
        return dataclasses.replace(step, listen=dataclasses.replace(step.listen, timeout=1))

    engine._welcome_step = broken  # type: ignore[method-assign]


def _silence_at_the_offer_gives_a_hurried_menu(engine: CallEngine) -> None:
    greeting_menu = engine._greeting_menu

    def broken(context) -> Step:
        step = greeting_menu(context)
        assert step.listen is not None
        return dataclasses.replace(step, listen=dataclasses.replace(step.listen, timeout=2))

    engine._greeting_menu = broken  # type: ignore[method-assign]


def _carries_on_without_the_stale_caveat(engine: CallEngine) -> None:
    welcome_key = engine._welcome_key

    def broken(position, digits, context):
        step = welcome_key(position, digits, context)
        if not isinstance(step, Step):  # e.g. a text asked for: the main menu's keys work at the offer
            return step
        return dataclasses.replace(step, before=tuple(u for u in step.before if u.id != "reading.stale"))

    engine._welcome_key = broken  # type: ignore[method-assign]


def _hangs_up_on_silence(engine: CallEngine) -> None:
    engine._rescue = lambda position, context, said: engine.nurse.goodbye(position)  # type: ignore[method-assign]


def _hangs_up_without_emergency(engine: CallEngine) -> None:
    goodbye = engine.nurse.goodbye

    def broken(position, *, first=()):
        step = goodbye(position, first=first)
        return dataclasses.replace(step, before=tuple(u for u in step.before if u.id != "safety.before_goodbye"))

    engine.nurse.goodbye = broken  # type: ignore[method-assign]


def _promise_without_time(engine: CallEngine) -> None:
    after_save = engine.nurse.after_save

    def broken(save, saved, context):
        go = after_save(save, saved, context)
        return dataclasses.replace(go, prefix=tuple(u for u in go.prefix if not u.id.startswith("nurse.promise.")))

    engine.nurse.after_save = broken  # type: ignore[method-assign]


def _last_three_digits(engine: CallEngine) -> None:
    voice = engine.voice
    engine.voice.number = lambda number: Voice.number(voice, number[-3:])  # type: ignore[method-assign]


def _star_is_a_wrong_key(engine: CallEngine) -> None:
    menu_key = engine._menu_key

    def broken(position, key, context):
        return engine.wrong(position, context) if key == "*" else menu_key(position, key, context)

    engine._menu_key = broken  # type: ignore[method-assign]


def _endless_transfers(engine: CallEngine) -> None:
    engine.nurse.can_transfer = lambda position, context: context.moment.open  # type: ignore[method-assign]


def _message_before_call_back(engine: CallEngine) -> None:
    menu = engine.nurse.menu

    def broken(position, context) -> Menu:
        found = menu(position, context)
        if position.kind != "nurse-options":
            return found
        first, second = found.options
        swap = (dataclasses.replace(second, choice=dataclasses.replace(second.choice, key="1")),
                dataclasses.replace(first, choice=dataclasses.replace(first.choice, key="2")))
        return dataclasses.replace(found, options=swap)

    engine.nurse.menu = broken  # type: ignore[method-assign]


def _six_choices(engine: CallEngine) -> None:
    engine.leaflets._section_pages = lambda leaflet: [leaflet.sections * 2]  # type: ignore[method-assign]


def _hash_goes_back(engine: CallEngine) -> None:
    everywhere = engine._everywhere

    def broken(*, digits: bool = False):
        return tuple(Choice("#", c.action) if c.action == "back" else c for c in everywhere(digits=digits))

    engine._everywhere = broken  # type: ignore[method-assign]


def _five_seconds_to_key_in(engine: CallEngine) -> None:
    keyin = engine.nurse.keyin_step

    def broken(position, before, choices) -> Step:
        step = keyin(position, before, choices)
        assert step.listen is not None
        return dataclasses.replace(step, listen=Listen(step.listen.choices, 5, step.listen.digits))

    engine.nurse.keyin_step = broken  # type: ignore[method-assign]


def _pause_ends_at_once(engine: CallEngine) -> None:
    from ivr.dialogue.menus import Go

    engine.leaflets.pause_silence = lambda position: Go(position.but(kind="read", quiet=0))  # type: ignore[method-assign]


def _offers_a_nurse_when_closed(engine: CallEngine) -> None:
    engine._nurse_hint = lambda context: engine.voice.press("menu.nurse_open", "0")  # type: ignore[method-assign]


def _no_stale_caveat(engine: CallEngine) -> None:
    engine.leaflets.stale = lambda leaflet, today: ()  # type: ignore[method-assign]


def _no_help_after_the_leaflet(engine: CallEngine) -> None:
    engine.leaflets.end_before = lambda position: ()  # type: ignore[method-assign]


def _offers_a_text_to_everyone(engine: CallEngine) -> None:
    menu = engine.leaflets.menu
    engine.leaflets.menu = lambda position, today, can_text=False: menu(position, today, can_text=True)  # type: ignore[method-assign]


def _text_answered_by_the_menu_alone(engine: CallEngine) -> None:
    engine.after_text = lambda send, outcome, context: engine.enter(send.position, context)  # type: ignore[method-assign]


BREAKERS: dict[str, tuple[int, Callable[[CallEngine], None]]] = {
    "no emergency sentence in the greeting": (1, _no_emergency_in_greeting),
    "no emergency sentence before the offer to carry on": (1, _no_emergency_before_the_offer_to_carry_on),
    "hangs up without the emergency sentence": (1, _hangs_up_without_emergency),
    "hangs up on a silent caller": (2, _hangs_up_on_silence),
    "a promise without a time": (3, _promise_without_time),
    "reads back the last three digits": (4, _last_three_digits),
    "star is a wrong key": (5, _star_is_a_wrong_key),
    "puts through again and again": (6, _endless_transfers),
    "a message before a call-back": (6, _message_before_call_back),
    "six numbered choices": (7, _six_choices),
    "hash goes back": (7, _hash_goes_back),
    "five seconds to key in a number": (8, _five_seconds_to_key_in),
    "a pause that ends at once": (8, _pause_ends_at_once),
    "the offer to carry on waits a second": (8, _offer_to_carry_on_waits_a_second),
    "silence at the offer gives a hurried menu": (8, _silence_at_the_offer_gives_a_hurried_menu),
    "offers a nurse when they are closed": (9, _offers_a_nurse_when_closed),
    "no stale caveat": (10, _no_stale_caveat),
    "carries on without the stale caveat": (10, _carries_on_without_the_stale_caveat),
    "no help after the leaflet": (11, _no_help_after_the_leaflet),
    "offers a text to a withheld number": (12, _offers_a_text_to_everyone),
    "a text asked for, and nothing said about it": (12, _text_answered_by_the_menu_alone),
}


@pytest.mark.parametrize("name", list(BREAKERS))
def test_each_rule_catches_an_engine_built_to_break_it(name):
    number, breaker = BREAKERS[name]
    engine = make_engine()
    breaker(engine)
    engine._steps.clear()
    rule = next(r for r in RULES if r.number == number)
    _, findings = check_contract(engine, (rule,))
    assert findings, f"rule {number} did not notice: {name}"
    assert all(f.level == "error" and f.message.startswith(f"caller safety {number} ") for f in findings)


def test_every_rule_is_in_the_readme_contract():
    from .conftest import PROJECT

    readme = (PROJECT / "README.md").read_text()
    for rule in RULES:
        assert f"{rule.number}. **" in readme, f"the README does not list caller-safety rule {rule.number}"


def test_findings_name_the_state_and_how_to_reach_it():
    engine = make_engine()
    _star_is_a_wrong_key(engine)
    _, findings = check_contract(engine, (RULES[4],))
    # (star at the offer to carry on is star at the main menu: that state is named too)
    assert any("k=sections" in f.message and "key(s) from the greeting" in f.message for f in findings)

