"""Every state of the whole call, walked as data: what the line can say (for rendering) and the
graph the caller-safety contract is checked over (:mod:`ivr.dialogue.contract`).

A *state* is a position under one :class:`Situation` (the nurses open; closed with a next opening;
closed with none known; each with and without a caller number we can ring back). From the
greeting, every state is entered and given every input a caller or Twilio can send there: each
key of the keypad, silence, numbers keyed in, words (each choice's own words, said clearly and
mumbled, and words that match nothing), a transfer's every outcome, a recording or none, and a
save that works or fails. Counters are clamped, so the walk ends.

Identical sub-trees are walked once. The nurse line treats the caller's place in the leaflets
as data it only carries: to go back to, to tell the nurse, to file the request under
(``tests/test_explore.py`` checks this). So a nurse-line state is walked from one place of each
kind (the main menu, a leaflet's menu, reading, the end of a section) and not again from every
paragraph; the leaflet states are walked with the caller's number known, since only the nurse
line uses it. The time of day changes only the wording (when the nurses open again, when a
call-back is due), so that wording, and what the nurse is told from every place, is gathered
separately (:func:`wording`), not by walking the whole call again.

Nothing walked is kept but each state's key count: what a state says and leads to is handed to
the :class:`Watcher` objects as it is found (the caller-safety contract checks it there,
:func:`utterances` gathers what to render), so the walk's memory grows with the states, not
with the far more numerous transitions and steps (a hundred leaflets walk in a few hundred MB).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol

from ivr.dialogue.engine import CallEngine
from ivr.dialogue.steps import (
    NURSE_KINDS,
    TEXT_OUTCOMES,
    CallContext,
    Continue,
    DialEnded,
    Event,
    Heard,
    Keys,
    Moment,
    NoInput,
    Position,
    Record,
    Recorded,
    Resume,
    Save,
    SaveCallback,
    SaveMessage,
    SendText,
    Silence,
    Step,
    Transfer,
)
from ivr.dialogue.understanding import phrases_of
from ivr.keymap import KEYPAD
from ivr.nurse.hours import LONDON, Opening
from ivr.prompts import Utterance

__all__ = [
    "SAMPLE_CALLER", "Exploration", "Situation", "State", "Transition", "Watcher", "explore", "sample_resume",
    "situations", "utterances", "wording",
]

SAMPLE_CALLER = "+447900123456"  # a UK mobile: the caller's own number (never rung: the walk is data)
SAMPLE_KEYED = "07900123457"  # a number keyed in for a call-back (Ofcom's drama ranges are refused as numbers to ring)
SAMPLE_RECORDING = "RE" + "0" * 32
JUNK_WORDS = "purple elephant"  # words that mean nothing offered
MAX_STATES = 400_000  # far beyond any real line (the seed walks about 6,000): an engine that never ends is stopped


@dataclass(frozen=True)
class Situation:
    """A context the call is walked in: a name for reports, and what the engine is told."""

    name: str
    context: CallContext

    @property
    def open(self) -> bool:
        return self.context.moment.open


State = tuple[Position, int]  # a position, and the index of its situation


class Transition(NamedTuple):
    """One input at one state and the step it led to (``save``: the request stored first, and
    ``saved`` whether that worked). A tuple: the walk makes millions."""

    state: State | None  # None: the call being answered
    input: str  # "answer", "arrive", "key:1", "keys:07700900456#", "silence", "say:side effects@0.9",
    #             "dial:busy", "recorded:30", "recorded:0", "key:7 text:queued" (a text asked for, and what became of it)
    step: Step
    save: Save | None = None
    saved: bool | None = None

    @property
    def situation(self) -> int:
        return self.state[1] if self.state is not None else -1


@dataclass
class Exploration:
    """What the walk keeps: the situations, the greetings, and each state walked with the fewest
    keys pressed (or answers spoken) from the greeting to reach it."""

    situations: list[Situation]
    answers: dict[int, Transition] = field(default_factory=dict)  # situation -> the greeting
    welcomes: dict[int, Transition] = field(default_factory=dict)  # situation -> a returning caller's greeting
    keys_to: dict[State, int] = field(default_factory=dict)  # every state walked -> fewest keys from the greeting
    transitions: int = 0  # how many were followed
    unfinished: bool = False  # stopped at MAX_STATES: the engine's states do not end (a counter not clamped?)
    canonical: Callable[[Position], Position] = field(default=lambda position: position, repr=False)

    def state_of(self, position: Position, situation: int) -> State:
        """The state the walk keeps for ``position`` in ``situation`` (see the module doc)."""
        if position.kind in NURSE_KINDS:
            return (self.canonical(position), situation)
        return (position, situation - situation % 2)


class Watcher(Protocol):
    """What is told about the walk as it goes (nothing else of it is kept). A state's ``arrived``
    comes before the transitions from it, and its key count is in ``found.keys_to`` by then."""

    def arrived(self, found: Exploration, state: State, step: Step) -> None: ...

    def followed(self, found: Exploration, transition: Transition) -> None: ...


def _moment(now: dt.datetime, is_open: bool, opening: Opening | None) -> Moment:
    return Moment(now, is_open, opening, now.astimezone(LONDON).date())


def situations(engine: CallEngine, today: dt.date | None = None) -> list[Situation]:
    """The situations every state is walked in: the nurses open, closed until a known opening, and
    closed with none known; each with a caller number (a UK mobile) and without (withheld). Taken
    from the configured hours where they have one, made up where they don't, so that every
    behaviour of the engine is walked whatever the hours."""
    hours = engine.rules.hours
    start = dt.datetime.combine(today or dt.date(2026, 12, 7), dt.time(), LONDON)  # a Monday by default
    open_at = closed_at = None
    for minutes in range(0, 14 * 24 * 60, 30):
        instant = start + dt.timedelta(minutes=minutes)
        if hours.is_open(instant):
            open_at = open_at or instant
        elif hours.next_opening(instant) is not None:
            closed_at = closed_at or instant
        if open_at and closed_at:
            break
    open_at = open_at or start + dt.timedelta(hours=10)
    closed_at = closed_at or start + dt.timedelta(hours=20)
    opening = hours.next_opening(closed_at) or Opening(closed_at + dt.timedelta(hours=13), False)
    moments = [
        ("open", _moment(open_at, True, None)),
        ("closed", _moment(closed_at, False, opening)),
        ("closed, no opening known", _moment(closed_at, False, None)),
    ]
    # A caller whose number is known (a UK mobile) can be sent a text: the leaflet states are walked
    # with the offer made, and what a text request can come to (every TextOutcome) followed.
    return [Situation(f"{name}{caller_name}", CallContext(moment, caller, can_text=caller is not None))
            for name, moment in moments
            for caller_name, caller in ((", caller's number known", SAMPLE_CALLER), (", number withheld", None))]


def _inputs(engine: CallEngine, step: Step) -> Iterator[tuple[str, Event]]:
    """What a caller can send while ``step`` listens (and silence).

    While a spoken choice is being confirmed ("Did you mean ...? 1 yes, 2 no"), every key but the
    answers does what it does in the menu itself (walked there), so only the answers are tried."""
    yield "silence", NoInput()
    listen = step.listen
    if listen is None:
        return
    if step.position.held.startswith("?"):
        answer = engine.keys.answer
        for key in (answer["yes"], answer["no"]):
            yield f"key:{key}", Keys(key)
        for said in (*engine.words.phrases["yes"][:1], *engine.words.phrases["no"][:1], JUNK_WORDS):
            yield f"say:{said}@0.9", Heard(said, 0.9)
        return
    if listen.digits is not None:
        codes = [leaflet.code for leaflet in engine.catalogue.leaflets if leaflet.code]
        for keyed in (*[f"{code}#" for code in codes], f"{SAMPLE_KEYED}#", "123#", "999999#", "*", "0#", "#"):
            yield f"keys:{keyed}", Keys(keyed)
    else:
        for key in KEYPAD:
            yield f"key:{key}", Keys(key)
    if listen.speech:
        for choice in listen.choices:
            words = phrases_of(choice, engine.words)
            if words:
                yield f"say:{words[0]}@0.9", Heard(words[0], 0.9)
                yield f"say:{words[0]}@0.3", Heard(words[0], 0.3)
        yield f"say:{JUNK_WORDS}@0.9", Heard(JUNK_WORDS, 0.9)


def _outcomes(step: Step) -> Iterator[tuple[str, Position, Event]]:
    """What Twilio can report after a step that does not listen: a transfer's end, a recording."""
    then = step.then
    if isinstance(then, Transfer):
        yield "dial:answered", then.position, DialEnded(True)
        for status in ("busy", "no-answer", "not-bridged", "failed"):
            yield f"dial:{status}", then.position, DialEnded(False, status)
    elif isinstance(then, Record):
        yield "recorded:30", then.position, Recorded(30, SAMPLE_RECORDING)
        yield "recorded:0", then.position, Recorded(0)


def explore(engine: CallEngine, watchers: Iterable[Watcher] = (), *, today: dt.date | None = None) -> Exploration:
    """Walk every state of the call in every situation, telling ``watchers`` what each state says
    and leads to (raises PromptError like the engine)."""
    watching = tuple(watchers)
    canonical = _Canonical(engine)
    found = Exploration(situations(engine, today), canonical=canonical)
    best: dict[State, int] = {}
    queue: deque[tuple[State, int]] = deque()  # 0-1 breadth first: no key pressed, no cost
    current = 0

    def reach(state: State, cost: int) -> None:
        position, situation = state
        if position.kind in NURSE_KINDS:
            position = canonical(position)
            if situation % 2 == 0:  # from the leaflets: the nurse line with the number withheld too
                reach_one((position, situation + 1), cost)
        else:
            situation -= situation % 2  # the leaflets do not use the caller's number
        reach_one((position, situation), cost)

    def reach_one(state: State, cost: int) -> None:
        if cost < best.get(state, 1 << 30):
            best[state] = cost
            (queue.appendleft if cost <= current else queue.append)((state, cost))

    def follow(source: State | None, label: str, step: Step, situation: int, cost: int,
               save: Save | None = None, saved: bool | None = None) -> Transition:
        transition = Transition(source, label, step, save, saved)
        found.transitions += 1
        for watcher in watching:
            watcher.followed(found, transition)
        if step.listen is not None and step.position.kind != "whisper":
            reach((step.position, situation), cost)
        then = step.then
        if isinstance(then, Continue | Silence):
            reach((then.position, situation), cost)
        for outcome, position, event in _outcomes(step):
            if outcome == "dial:busy":
                reach((position.but(kind="whisper"), situation), cost)  # the nurse's leg
            respond(source=(position, situation), label=outcome, event=event, cost=cost, situation=situation)
        return transition

    def respond(source: State, label: str, event: Event, cost: int, situation: int) -> None:
        context = found.situations[situation].context
        reply = engine.respond(source[0], event, context)
        if isinstance(reply, Step):
            follow(source, label, reply, situation, cost)
        elif isinstance(reply, SendText):
            for outcome in TEXT_OUTCOMES:
                follow(source, f"{label} text:{outcome}", engine.after_text(reply, outcome, context), situation, cost)
        else:
            for saved in (True, False):
                follow(source, label, engine.after_save(reply, saved, context), situation, cost, reply, saved)

    resume = sample_resume(engine)
    for index, known in enumerate(found.situations):
        step = engine.answer(known.context)
        found.answers[index] = follow(None, "answer", step, index, 0)
        if resume is not None:  # a caller who left a leaflet unfinished: the welcome states
            found.welcomes[index] = follow(None, "answer:returning", engine.answer(known.context, resume), index, 0)
    expanded = found.keys_to
    while queue:
        state, cost = queue.popleft()
        if state in expanded or cost > best.get(state, cost):
            continue
        current = cost
        if len(expanded) >= MAX_STATES:
            found.unfinished = True
            break
        expanded[state] = cost
        position, situation = state
        context = found.situations[situation].context
        step = engine.enter(position, context)
        for watcher in watching:
            watcher.arrived(found, state, step)
        follow(state, "arrive", step, situation, cost)
        if position.kind == "whisper":
            whisper_inputs: tuple[tuple[str, Event], ...] = (("key:1", Keys("1")), ("key:2", Keys("2")),
                                                             ("silence", NoInput()))
            for label, answer in whisper_inputs:
                respond(state, label, answer, cost, situation)
            continue
        for label, event in _inputs(engine, step):
            pressed = len(event.digits) if isinstance(event, Keys) else 1 if isinstance(event, Heard) else 0
            respond(state, label, event, cost + pressed, situation)
    return found


class _Said:
    """Watches the walk for everything said, each distinct text once, in the order first said."""

    def __init__(self) -> None:
        self.said: dict[str, Utterance] = {}

    def arrived(self, found: Exploration, state: State, step: Step) -> None:
        pass  # a state's arrival is a transition too ("arrive")

    def followed(self, found: Exploration, transition: Transition) -> None:
        for utterance in transition.step.spoken:
            if utterance.text not in self.said:
                self.said[utterance.text] = utterance


def utterances(engine: CallEngine) -> list[Utterance]:
    """Everything the line can say in any state of the call (prompts and leaflet parts), each
    distinct text once (raises PromptError like the engine)."""
    said = _Said()
    explore(engine, (said,))
    return list(said.said.values())


def sample_resume(engine: CallEngine) -> Resume | None:
    """A returning caller's place: the second paragraph of the first section that has one (else
    the first), so that carrying on is not the same as starting the section."""
    leaflet = engine.catalogue.leaflets[0]
    sections = [section for section in (leaflet.intro, *leaflet.sections) if section.parts]
    if not sections:
        return None
    section = next((s for s in sections if len(s.parts) > 1), sections[0])
    return Resume(leaflet.slug, section.number, min(2, len(section.parts)))


class _Canonical:
    """The one place of each kind that nurse-line states are walked from (see the module doc)."""

    def __init__(self, engine: CallEngine) -> None:
        self.top = engine.leaflets.top()
        first = engine.catalogue.leaflets[0]
        section = first.sections[0] if first.sections else first.intro
        self.places = {
            "leaflets": Position("leaflets"),
            "sections": Position("sections", first.slug),
            "read": Position("read", first.slug, section.number, 1),
            "end": Position("end", first.slug, section.number, max(1, len(section.parts))),
        }

    def __call__(self, position: Position) -> Position:
        place = position.place
        if place.kind == "sections" and place.but(rate="normal", page=0) == self.top:
            return position.but(page=0)
        if place.kind == "leaflets" and self.top.kind == "leaflets":
            return position.but(slug="", section=0, part=1, whole=False, page=0)
        rep = self.places.get(place.kind, self.places["leaflets"])
        if rep.kind == "sections" and rep == self.top:  # one leaflet: its menu is the main menu
            rep = self.places["read"].but(kind="sections", section=0, part=1)
        return position.but(slug=rep.slug, section=rep.section, part=rep.part, whole=False, page=0)


def wording(engine: CallEngine, *, days: int = 366, start: dt.date | None = None) -> list[Utterance]:
    """What the line says that depends on the time: when the nurses open again, what 0 does now,
    and when a call-back or message is promised, for every quarter hour of a week and every
    evening of the coming year (bank holidays and closed dates included), so that all of it can
    be rendered ahead."""
    first = start or dt.date.today()
    base = dt.datetime.combine(first, dt.time(), LONDON)
    instants = [base + dt.timedelta(minutes=15 * n) for n in range(7 * 24 * 4)]
    instants += [base + dt.timedelta(days=day, hours=20) for day in range(days)]
    said: dict[str, Utterance] = {}
    top = engine.leaflets.top()
    for instant in instants:
        context = CallContext(engine.rules.moment(instant), SAMPLE_CALLER)
        steps = [engine.answer(context), engine.enter(engine.nurse_entry(top), context)]
        due = engine.rules.due(instant)
        message = SaveMessage(Position("nurse-message", origin="leaflets"), due, SAMPLE_RECORDING)
        callback = SaveCallback(Position("nurse-callback", origin="leaflets"), due, SAMPLE_CALLER, "caller")
        steps += [engine.after_save(message, True, context), engine.after_save(callback, True, context)]
        for step in steps:
            for utterance in step.spoken:
                if not utterance.id.startswith(("leaflet/", "pause")):
                    said.setdefault(utterance.text, utterance)
    for leaflet in engine.catalogue.leaflets:  # what the nurse is told, from every place
        places = [Position("sections", leaflet.slug)]
        places += [Position("read", leaflet.slug, section.number) for section in (leaflet.intro, *leaflet.sections)]
        for place in places:
            whisper = engine.nurse_entry(place).but(kind="whisper")
            for utterance in engine.nurse.whisper(whisper).spoken:
                said.setdefault(utterance.text, utterance)
    return list(said.values())


def is_caller_leg(transition: Transition) -> bool:
    return transition.step.position.kind != "whisper"


def nurse_kind(position: Position) -> bool:
    return position.kind in NURSE_KINDS
