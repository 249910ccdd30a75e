"""The caller-safety contract: promises the line keeps to every caller, checked over every state
the explorer walks (``ivr check --calls``). Each rule returns findings naming the state and how a
caller reaches it; a new leaflet, prompt or key that breaks a promise fails the check.

1. Emergency signposting no key can skip: at the start of every call, when the nurses are busy or
   do not answer, after a message or call-back is saved, and before the line hangs up.
2. Silence never ends in a hang-up with nobody reached: a caller who says nothing is put through
   to a nurse or reaches a message recording before the line ever ends the call.
3. Every promise has a time and a safety net.
4. Every number is read back in full before a call-back is kept.
5. Always a way out: star goes back and zero reaches the nurse line from every state (where zero
   is a digit of a number, the line says how to get out, and star does it).
6. Busy and no answer: what happens next is said, a call-back is offered first, and a caller is
   never put through more often than the rules allow.
7. Menus a tired listener can hold: at most five numbered choices, numbered from 1 without gaps,
   and the keys that work everywhere mean the same everywhere.
8. Time for slow responders: the configured key timeout at every question (the offer to carry on
   may wait less, as long as silence there leads to a menu with the full wait), and a pause that
   lasts minutes, with a warning before it ends.
9. Hours-aware wording: nothing offers a nurse while they are closed, nor a message as the only
   way while they are open.
10. Stale content is said (after a section's heading, before its text) when a leaflet past its
    review date is read.
11. After the last section of a leaflet, when to get help.
12. A text message with a link is offered only where it can be sent (the caller's own UK mobile,
    the settings there), and asking for one is always answered with what became of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ivr.dialogue.engine import WELCOME_TIMEOUT, CallEngine
from ivr.dialogue.explore import Exploration, State, Transition, explore
from ivr.dialogue.leaflets import PART_TIMEOUT, PAUSE_SECONDS
from ivr.dialogue.speaking import SAFETY_IDS
from ivr.dialogue.steps import NURSE_KINDS, Continue, HangUp, Position, Record, Silence, Step, Transfer
from ivr.findings import Finding
from ivr.keymap import NUMBERED

__all__ = ["RULES", "Rule", "check_contract"]

MIN_PAUSE_SECONDS = 180
MAX_SILENT_HOPS = 400


@dataclass(frozen=True)
class SilentHop:
    """Where saying nothing at a state leads: all that the silence and pause rules need of it."""

    reaches_someone: bool  # put through to a nurse, or a message recording starts
    hangs_up: bool
    lands: Position  # the step it leads to
    to: Position  # where the call goes on after that step
    waits: int | None  # how long that step waits for an answer (None: it does not listen)


@dataclass
class Walked:
    """What the rules judged at the end need of the walk, gathered as it went."""

    after_silence: dict[State, SilentHop] = field(default_factory=dict)
    pauses: dict[State, tuple[int, bool]] = field(default_factory=dict)  # a pause: its wait, and whether it warns


# A rule judges each transition as it is followed, each state as it is entered, and/or the walk
# at its end (only what :class:`Walked` keeps: a hundred leaflets' transitions are too many to keep).
@dataclass(frozen=True)
class Rule:
    number: int
    name: str
    transition: Callable[[CallEngine, Exploration, Transition], Iterator[str]] | None = None
    state: Callable[[CallEngine, Exploration, State, Step], Iterator[str]] | None = None
    end: Callable[[CallEngine, Exploration, Walked], Iterator[str]] | None = None


def _where(exploration: Exploration, state: State | None) -> str:
    if state is None:
        return "the greeting"
    position, situation = state
    params = "&".join(f"{k}={v}" for k, v in position.params().items())
    keys = exploration.keys_to.get(state)
    pressed = f", {keys} key(s) from the greeting" if keys is not None else ""
    return f"{position.kind} ({params}) when {exploration.situations[situation].name}{pressed}"


def _safe(utterances: tuple[object, ...]) -> bool:
    return any(getattr(u, "id", "") in SAFETY_IDS for u in utterances)


def _caller(transition: Transition) -> bool:
    return transition.step.position.kind != "whisper" and (
        transition.state is None or transition.state[0].kind != "whisper")


# --- 1 -----------------------------------------------------------------------------------------

def emergency(engine: CallEngine, found: Exploration, t: Transition) -> Iterator[str]:
    if t.state is None and not _safe(t.step.before):
        yield f"the greeting does not say the emergency sentence before its first choice ({found.situations[t.situation].name})"
    if not _caller(t):
        return
    step = t.step
    if isinstance(step.then, HangUp) and not _safe(step.before):
        yield f"the line hangs up without the emergency sentence after {t.input} at {_where(found, t.state)}"
    if t.input.startswith("dial:") and t.input != "dial:answered" and not _safe(step.before):
        yield f"nurses {t.input[5:]}: the emergency sentence is not said at {_where(found, t.state)}"
    if t.saved and not _safe(step.before):
        yield f"a saved request is confirmed without the emergency sentence at {_where(found, t.state)}"


# --- 2 -----------------------------------------------------------------------------------------

def _reached_someone(step: Step) -> bool:
    return isinstance(step.then, Transfer | Record)


def silence(engine: CallEngine, found: Exploration, walked: Walked) -> Iterator[str]:
    """From every caller state, saying nothing at every question (and a transfer that is not
    answered, a recording that hears nothing) must reach a nurse or a message recording before
    the line hangs up, and must not go round for ever without one."""
    after = walked.after_silence
    reported = 0
    for start in after:
        if start[0].kind in ("whisper", "nurse-saved", "nurse-failed") or reported > 20:
            continue  # the nurse's leg; after a request was saved (or could not be) the caller was heard
        state: State | None = start
        seen: set[State] = set()
        for _hop in range(MAX_SILENT_HOPS):
            if state is None or state in seen:
                reported += 1
                yield f"a silent caller goes round without reaching a nurse or a message, from {_where(found, start)}"
                break
            seen.add(state)
            hop = after.get(state)
            if hop is None:
                break  # not walked (another situation's copy): judged there
            if hop.reaches_someone:
                break
            if hop.hangs_up:
                reported += 1
                yield f"a silent caller is hung up on without reaching anyone, from {_where(found, start)}"
                break
            state = found.state_of(hop.to, state[1])


# --- 3, 4 --------------------------------------------------------------------------------------

def promises(engine: CallEngine, found: Exploration, t: Transition) -> Iterator[str]:
    if t.saved:
        ids = [u.id for u in t.step.before]
        if not any(i.startswith("nurse.promise.") and not i.endswith(".from") for i in ids):
            yield f"a saved request is confirmed without saying when to expect the call, at {_where(found, t.state)}"


def _digits(step: Step) -> str:
    """The digits read back, in order (by the prompt id: "0" is said "oh")."""
    return "".join(u.id.rsplit(".", 1)[1] for u in step.spoken if u.id.startswith("nurse.digits."))


def read_back(engine: CallEngine, found: Exploration, t: Transition) -> Iterator[str]:
    position = t.step.position
    if position.kind not in ("nurse-number", "nurse-callback") or t.step.listen is None or position.held.startswith("?"):
        return
    if position.kind == "nurse-number":
        expected = position.held
    else:
        expected = found.situations[t.situation].context.caller_number or ""
    if not expected:
        return
    national = "0" + expected[3:] if expected.startswith("+44") else expected
    if national not in _digits(t.step):
        yield f"a call-back number is not read back in full before it is kept, at {_where(found, t.state)}"


# --- 5 -----------------------------------------------------------------------------------------

WRONG_IDS = frozenset({"errors.wrong_key", "nurse.callback.invalid", "menu.no_code"})


def way_out(engine: CallEngine, found: Exploration, t: Transition) -> Iterator[str]:
    state = t.state
    if state is None or state[0].kind == "whisper" or t.input == "arrive" or not t.input.startswith("key"):
        return
    back, nurse = engine.keys.everywhere["back"], engine.keys.everywhere["nurse"]
    entering_digits = t.input.startswith("keys:")  # only a state that takes a number is sent several keys
    back_input = f"keys:{back}" if entering_digits else f"key:{back}"
    if t.input == back_input and any(u.id in WRONG_IDS for u in t.step.before):
        yield f"star does not go back at {_where(found, state)}"
    if t.input == f"key:{nurse}" and not entering_digits and state[0].kind != "pause" and \
            t.step.position.kind not in NURSE_KINDS and not isinstance(t.step.then, Transfer | Record):
        yield f"zero does not reach the nurse line at {_where(found, state)}"


def way_out_said(engine: CallEngine, found: Exploration, state: State, step: Step) -> Iterator[str]:
    back_name = engine.keys.name(engine.keys.everywhere["back"])
    if step.listen is not None and step.listen.digits is not None and not any(back_name in u.text for u in step.spoken):
        yield f"while a number is keyed in, the line does not say how to go back ({back_name}) at {_where(found, state)}"


# --- 6 -----------------------------------------------------------------------------------------

def busy(engine: CallEngine, found: Exploration, t: Transition) -> Iterator[str]:
    if isinstance(t.step.then, Transfer) and t.step.then.position.tries > engine.rules.max_transfers:
        yield f"a caller is put through more than {engine.rules.max_transfers} times, at {_where(found, t.state)}"
    if t.input.startswith("dial:") and t.input != "dial:answered":
        listen = t.step.listen
        numbered = [c for c in listen.choices if c.numbered] if listen else []
        if not numbered or numbered[0].action != "callback":
            yield f"after nurses {t.input[5:]}, a call-back is not the first choice offered, at {_where(found, t.state)}"
        if not any(u.id == "nurse.next_steps" for u in t.step.before):
            yield f"after nurses {t.input[5:]}, what happens next is not said, at {_where(found, t.state)}"


# --- 7 -----------------------------------------------------------------------------------------

def menus(engine: CallEngine, found: Exploration, state: State, step: Step) -> Iterator[str]:
    listen = step.listen
    if listen is None or state[0].kind == "whisper":
        return
    numbered = [c.key for c in listen.choices if c.numbered and c.key in NUMBERED]
    if len(numbered) > len(NUMBERED) or len([c for c in listen.choices if c.numbered]) > len(NUMBERED):
        yield f"more than {len(NUMBERED)} numbered choices at {_where(found, state)}"
    if numbered != [str(n) for n in range(1, len(numbered) + 1)]:
        yield f"menu choices are not numbered 1, 2, 3 ... in order at {_where(found, state)}: {numbered}"
    everywhere = engine.keys.everywhere
    for choice in listen.choices:
        expected = everywhere.get(choice.action)
        if expected is None and choice.action.startswith("reading:"):
            expected = engine.keys.reading.get(choice.action[len("reading:"):])
        if expected is not None and choice.key != expected:
            yield f"{choice.action} is key {choice.key!r} at {_where(found, state)}, not {expected!r} as everywhere else"


# --- 8 -----------------------------------------------------------------------------------------

def waits(engine: CallEngine, found: Exploration, state: State, step: Step) -> Iterator[str]:
    listen = step.listen
    if listen is None or state[0].kind == "whisper":
        return
    # The offer to carry on may be shorter than a question: silence there loses nothing (the
    # main menu follows, with the full wait: checked below), and any key works as in the main menu.
    floors = {"read": PART_TIMEOUT, "pause": PAUSE_SECONDS, "welcome": min(WELCOME_TIMEOUT, engine.rules.key_timeout)}
    floor = floors.get(state[0].kind, engine.rules.key_timeout)
    if listen.timeout < floor:
        yield f"the line waits only {listen.timeout} s for an answer at {_where(found, state)}"


def slow_responders(engine: CallEngine, found: Exploration, walked: Walked) -> Iterator[str]:
    for state, hop in walked.after_silence.items():
        if state[0].kind == "welcome" and (hop.waits is None or hop.waits < engine.rules.key_timeout):
            yield f"silence at the offer to carry on does not lead to a menu with the full wait, at {_where(found, state)}"
    for state in walked.pauses:
        if state[0].quiet:
            continue
        seconds, current, warned = 0, state, False
        for _hop in range(100):
            paused = walked.pauses.get(current)
            if paused is None:
                break
            wait, warned = paused
            seconds += wait
            current = (walked.after_silence[current].lands, current[1])
        if seconds < MIN_PAUSE_SECONDS or not warned:
            yield f"a pause ends after {seconds} s{'' if warned else ' without a warning'} at {_where(found, state)}"


# --- 9 -----------------------------------------------------------------------------------------

OPEN_ONLY = frozenset({"menu.nurse_open", "menu.stay_open", "nurse.connecting", "errors.put_through"})
CLOSED_ONLY = frozenset({"menu.nurse_closed", "menu.nurse_closed_no_hours", "menu.stay_closed"})


def hours_aware(engine: CallEngine, found: Exploration, t: Transition) -> Iterator[str]:
    if t.situation < 0 or not _caller(t):
        return
    is_open = found.situations[t.situation].open
    wrong = CLOSED_ONLY if is_open else OPEN_ONLY
    for utterance in t.step.spoken:
        if utterance.id in wrong:
            yield f"{utterance.id} is said while the nurses are {'open' if is_open else 'closed'}, at {_where(found, t.state)}"
            return


# --- 10, 11 ------------------------------------------------------------------------------------

def stale(engine: CallEngine, found: Exploration, t: Transition) -> Iterator[str]:
    if t.state is None or t.state[0].kind not in ("sections", "welcome") or t.step.position.kind != "read":
        return
    leaflet = engine.leaflets.leaflet(t.step.position)
    today = found.situations[t.situation].context.moment.today
    if leaflet is not None and leaflet.review_overdue(today) and not any(u.id == "reading.stale" for u in t.step.before):
        yield f"{leaflet.slug} is past its review date but is read without the caveat, at {_where(found, t.state)}"


def end_of_leaflet(engine: CallEngine, found: Exploration, t: Transition) -> Iterator[str]:
    position = t.step.position
    if position.kind != "end" or t.state is None or t.state[0].kind != "read" or t.input not in ("silence", "key:6"):
        return
    leaflet = engine.leaflets.leaflet(position)
    if leaflet is not None and leaflet.section(position.section + 1) is None and not any(
            u.id == "safety.when_to_get_help" for u in t.step.before):
        yield f"the end of {leaflet.slug} does not say when to get help, at {_where(found, t.state)}"


# --- 12 ----------------------------------------------------------------------------------------

TEXT_OFFERS = frozenset({"menu.text", "menu.text_say"})


def texts(engine: CallEngine, found: Exploration, t: Transition) -> Iterator[str]:
    """A text message is offered only to a caller it can be sent to, and asking for one is always
    answered with what became of it (sent now, already sent, over the limit, not possible),
    then the menu again: never silence, never a hang-up."""
    if t.situation >= 0 and not found.situations[t.situation].context.can_text and any(
            u.id in TEXT_OFFERS for u in t.step.spoken):
        yield f"a text message is offered to a caller it cannot be sent to, at {_where(found, t.state)}"
    if " text:" in t.input:
        if not any(u.id.startswith("texts.") for u in t.step.before):
            yield f"a text asked for ({t.input}) is not answered with what became of it, at {_where(found, t.state)}"
        if t.step.listen is None:
            yield f"after a text asked for ({t.input}), the line does not go back to a menu, at {_where(found, t.state)}"


RULES: tuple[Rule, ...] = (
    Rule(1, "emergency signposting no key can skip", transition=emergency),
    Rule(2, "silence never ends unheard", end=silence),
    Rule(3, "every promise has a time and a safety net", transition=promises),
    Rule(4, "every number is read back in full", transition=read_back),
    Rule(5, "always a way out", transition=way_out, state=way_out_said),
    Rule(6, "busy and no answer", transition=busy),
    Rule(7, "menus a tired listener can hold", state=menus),
    Rule(8, "time for slow responders", state=waits, end=slow_responders),
    Rule(9, "hours-aware wording", transition=hours_aware),
    Rule(10, "stale content is said", transition=stale),
    Rule(11, "when to get help after a leaflet", transition=end_of_leaflet),
    Rule(12, "a text message only where it can be sent, and always answered", transition=texts),
)
MAX_PER_RULE = 10  # a broken rule usually breaks everywhere: the first few findings say enough


class _ContractCheck:
    """Watches the walk (:class:`ivr.dialogue.explore.Watcher`): each rule judges what it is
    shown, until it has said enough; :class:`Walked` gathers what the rules judged at the end need."""

    def __init__(self, engine: CallEngine, rules: tuple[Rule, ...]) -> None:
        self.engine = engine
        self.rules = rules
        self.walked = Walked()
        self.broken: dict[int, list[str]] = {rule.number: [] for rule in rules}
        self._on_transition = [(rule, rule.transition) for rule in rules if rule.transition is not None]
        self._on_state = [(rule, rule.state) for rule in rules if rule.state is not None]

    def _note(self, rule: Rule, message: str) -> bool:
        """Keep ``message``; False once ``rule`` has said enough (it is not asked again)."""
        broken = self.broken[rule.number]
        if message not in broken:
            broken.append(message)
        if len(broken) < MAX_PER_RULE:
            return True
        self._on_state = [(r, judge) for r, judge in self._on_state if r is not rule]
        self._on_transition = [(r, judge) for r, judge in self._on_transition if r is not rule]
        return False

    def arrived(self, found: Exploration, state: State, step: Step) -> None:
        for rule, judge in self._on_state:
            for message in judge(self.engine, found, state, step):
                if not self._note(rule, message):
                    break
        if state[0].kind == "pause":
            warned = any(u.id == "reading.pause_ending" for u in step.spoken)
            self.walked.pauses[state] = (step.listen.timeout if step.listen is not None else 0, warned)

    def followed(self, found: Exploration, transition: Transition) -> None:
        for rule, judge_transition in self._on_transition:
            for message in judge_transition(self.engine, found, transition):
                if not self._note(rule, message):
                    break
        state = transition.state
        if transition.input == "silence" and state is not None and state not in self.walked.after_silence:
            step = transition.step  # the first of several (a save that works, then one that fails): as before
            then = step.then
            to = then.position if isinstance(then, Continue | Silence) else step.position
            self.walked.after_silence[state] = SilentHop(
                _reached_someone(step), isinstance(then, HangUp), step.position, to,
                step.listen.timeout if step.listen is not None else None)

    def findings(self, found: Exploration) -> list[Finding]:
        for rule in self.rules:
            for message in rule.end(self.engine, found, self.walked) if rule.end is not None else ():
                if not self._note(rule, message):
                    break
        return [Finding("error", f"caller safety {rule.number} ({rule.name}): {message}")
                for rule in self.rules for message in self.broken[rule.number]]


def check_contract(engine: CallEngine, rules: tuple[Rule, ...] = RULES) -> tuple[Exploration, list[Finding]]:
    """Walk every state of the call and check ``rules`` over it: the walk, and one error per
    broken promise (the first few places of each). Raises PromptError like the engine."""
    check = _ContractCheck(engine, rules)
    found = explore(engine, (check,))
    findings = check.findings(found)
    if found.unfinished:
        findings.insert(0, Finding("error", f"calls: the walk stopped after {len(found.keys_to)} states: the "
                                            "call's states never end (a counter that is not clamped?)"))
    return found, findings
