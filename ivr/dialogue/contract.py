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
from dataclasses import dataclass

from ivr.dialogue.engine import WELCOME_TIMEOUT, CallEngine
from ivr.dialogue.explore import Exploration, State, Transition
from ivr.dialogue.leaflets import PART_TIMEOUT, PAUSE_SECONDS
from ivr.dialogue.speaking import SAFETY_IDS
from ivr.dialogue.steps import NURSE_KINDS, Continue, HangUp, Record, Silence, Step, Transfer
from ivr.findings import Finding
from ivr.keymap import NUMBERED

__all__ = ["RULES", "Rule", "check_contract"]

MIN_PAUSE_SECONDS = 180
MAX_SILENT_HOPS = 400


@dataclass(frozen=True)
class Rule:
    number: int
    name: str
    check: Callable[[CallEngine, Exploration], Iterator[str]]


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

def emergency(engine: CallEngine, found: Exploration) -> Iterator[str]:
    for transition in (*found.answers.values(), *found.welcomes.values()):
        if not _safe(transition.step.before):
            yield f"the greeting does not say the emergency sentence before its first choice ({found.situations[transition.situation].name})"
    for t in found.transitions:
        if not _caller(t):
            continue
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


def silence(engine: CallEngine, found: Exploration) -> Iterator[str]:
    """From every caller state, saying nothing at every question (and a transfer that is not
    answered, a recording that hears nothing) must reach a nurse or a message recording before
    the line hangs up, and must not go round for ever without one."""
    after: dict[State, Step] = {walked: results[0].step for walked, results in found.silence.items()}
    reported = 0
    for start in found.silence:
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
            step = after.get(state)
            if step is None:
                break  # not walked (another situation's copy): judged there
            if _reached_someone(step):
                break
            if isinstance(step.then, HangUp):
                reported += 1
                yield f"a silent caller is hung up on without reaching anyone, from {_where(found, start)}"
                break
            target = step.then.position if isinstance(step.then, Continue | Silence) else step.position
            state = found.state_of(target, state[1])


# --- 3, 4 --------------------------------------------------------------------------------------

def promises(engine: CallEngine, found: Exploration) -> Iterator[str]:
    for t in found.transitions:
        if t.saved:
            ids = [u.id for u in t.step.before]
            if not any(i.startswith("nurse.promise.") and not i.endswith(".from") for i in ids):
                yield f"a saved request is confirmed without saying when to expect the call, at {_where(found, t.state)}"


def _digits(step: Step) -> str:
    """The digits read back, in order (by the prompt id: "0" is said "oh")."""
    return "".join(u.id.rsplit(".", 1)[1] for u in step.spoken if u.id.startswith("nurse.digits."))


def read_back(engine: CallEngine, found: Exploration) -> Iterator[str]:
    for t in found.transitions:
        position = t.step.position
        expected = ""
        if position.kind == "nurse-number" and t.step.listen is not None and not position.held.startswith("?"):
            expected = position.held
        elif position.kind == "nurse-callback" and t.step.listen is not None and not position.held.startswith("?"):
            expected = found.situations[t.situation].context.caller_number or ""
        if not expected:
            continue
        national = "0" + expected[3:] if expected.startswith("+44") else expected
        if national not in _digits(t.step):
            yield f"a call-back number is not read back in full before it is kept, at {_where(found, t.state)}"


# --- 5 -----------------------------------------------------------------------------------------

def way_out(engine: CallEngine, found: Exploration) -> Iterator[str]:
    back, nurse = engine.keys.everywhere["back"], engine.keys.everywhere["nurse"]
    wrong_ids = {"errors.wrong_key", "nurse.callback.invalid", "menu.no_code"}
    for t in found.transitions:
        state = t.state
        if state is None or state[0].kind in ("whisper",) or t.input == "arrive":
            continue
        digits = found.states.get(state)
        entering_digits = digits is not None and digits.listen is not None and digits.listen.digits is not None
        back_input = f"keys:{back}" if entering_digits else f"key:{back}"
        if t.input == back_input and any(u.id in wrong_ids for u in t.step.before):
            yield f"star does not go back at {_where(found, state)}"
        if t.input == f"key:{nurse}" and not entering_digits and state[0].kind != "pause" and \
                t.step.position.kind not in NURSE_KINDS and not isinstance(t.step.then, Transfer | Record):
            yield f"zero does not reach the nurse line at {_where(found, state)}"
    back_name = engine.keys.name(back)
    for state, step in found.states.items():
        if step.listen is not None and step.listen.digits is not None and not any(back_name in u.text for u in step.spoken):
            yield f"while a number is keyed in, the line does not say how to go back ({back_name}) at {_where(found, state)}"


# --- 6 -----------------------------------------------------------------------------------------

def busy(engine: CallEngine, found: Exploration) -> Iterator[str]:
    for t in found.transitions:
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

def menus(engine: CallEngine, found: Exploration) -> Iterator[str]:
    everywhere = engine.keys.everywhere
    reading = {f"reading:{action}": key for action, key in engine.keys.reading.items()}
    for state, step in found.states.items():
        listen = step.listen
        if listen is None or state[0].kind == "whisper":
            continue
        numbered = [c.key for c in listen.choices if c.numbered and c.key in NUMBERED]
        if len(numbered) > len(NUMBERED) or len([c for c in listen.choices if c.numbered]) > len(NUMBERED):
            yield f"more than {len(NUMBERED)} numbered choices at {_where(found, state)}"
        if numbered != [str(n) for n in range(1, len(numbered) + 1)]:
            yield f"menu choices are not numbered 1, 2, 3 ... in order at {_where(found, state)}: {numbered}"
        for choice in listen.choices:
            expected = everywhere.get(choice.action) or reading.get(choice.action)
            if expected is not None and choice.key != expected:
                yield f"{choice.action} is key {choice.key!r} at {_where(found, state)}, not {expected!r} as everywhere else"


# --- 8 -----------------------------------------------------------------------------------------

def slow_responders(engine: CallEngine, found: Exploration) -> Iterator[str]:
    for state, step in found.states.items():
        listen = step.listen
        if listen is None or state[0].kind == "whisper":
            continue
        # The offer to carry on may be shorter than a question: silence there loses nothing (the
        # main menu follows, with the full wait: checked below), and any key works as in the main menu.
        floors = {"read": PART_TIMEOUT, "pause": PAUSE_SECONDS, "welcome": min(WELCOME_TIMEOUT, engine.rules.key_timeout)}
        floor = floors.get(state[0].kind, engine.rules.key_timeout)
        if listen.timeout < floor:
            yield f"the line waits only {listen.timeout} s for an answer at {_where(found, state)}"
        if state[0].kind == "welcome" and state in found.silence:
            after = found.silence[state][0].step
            if after.listen is None or after.listen.timeout < engine.rules.key_timeout:
                yield f"silence at the offer to carry on does not lead to a menu with the full wait, at {_where(found, state)}"
    for state in found.silence:
        if state[0].kind != "pause" or state[0].quiet:
            continue
        seconds, current, warned = 0, state, False
        for _hop in range(100):
            paused = found.states.get(current)
            if paused is None or current[0].kind != "pause":
                break
            seconds += paused.listen.timeout if paused.listen else 0
            warned = any(u.id == "reading.pause_ending" for u in paused.spoken)
            following = found.silence[current][0].step
            current = (following.position, current[1])
        if seconds < MIN_PAUSE_SECONDS or not warned:
            yield f"a pause ends after {seconds} s{'' if warned else ' without a warning'} at {_where(found, state)}"


# --- 9 -----------------------------------------------------------------------------------------

OPEN_ONLY = frozenset({"menu.nurse_open", "menu.stay_open", "nurse.connecting", "errors.put_through"})
CLOSED_ONLY = frozenset({"menu.nurse_closed", "menu.nurse_closed_no_hours", "menu.stay_closed"})


def hours_aware(engine: CallEngine, found: Exploration) -> Iterator[str]:
    for t in found.transitions:
        if t.situation < 0 or not _caller(t):
            continue
        is_open = found.situations[t.situation].open
        wrong = CLOSED_ONLY if is_open else OPEN_ONLY
        for utterance in t.step.spoken:
            if utterance.id in wrong:
                yield f"{utterance.id} is said while the nurses are {'open' if is_open else 'closed'}, at {_where(found, t.state)}"
                break


# --- 10, 11 ------------------------------------------------------------------------------------

def stale(engine: CallEngine, found: Exploration) -> Iterator[str]:
    for t in found.transitions:
        if t.state is None or t.state[0].kind not in ("sections", "welcome") or t.step.position.kind != "read":
            continue
        leaflet = engine.leaflets.leaflet(t.step.position)
        today = found.situations[t.situation].context.moment.today
        if leaflet is not None and leaflet.review_overdue(today) and not any(
                u.id == "reading.stale" for u in t.step.before):
            yield f"{leaflet.slug} is past its review date but is read without the caveat, at {_where(found, t.state)}"


def end_of_leaflet(engine: CallEngine, found: Exploration) -> Iterator[str]:
    for t in found.transitions:
        position = t.step.position
        if position.kind != "end" or t.state is None or t.state[0].kind != "read" or t.input not in ("silence", "key:6"):
            continue
        leaflet = engine.leaflets.leaflet(position)
        if leaflet is not None and leaflet.section(position.section + 1) is None and not any(
                u.id == "safety.when_to_get_help" for u in t.step.before):
            yield f"the end of {leaflet.slug} does not say when to get help, at {_where(found, t.state)}"


# --- 12 ----------------------------------------------------------------------------------------

TEXT_OFFERS = frozenset({"menu.text", "menu.text_say"})


def texts(engine: CallEngine, found: Exploration) -> Iterator[str]:
    """A text message is offered only to a caller it can be sent to, and asking for one is always
    answered with what became of it (sent now, already sent, over the limit, not possible),
    then the menu again: never silence, never a hang-up."""
    for t in found.transitions:
        if t.situation >= 0 and not found.situations[t.situation].context.can_text and any(
                u.id in TEXT_OFFERS for u in t.step.spoken):
            yield f"a text message is offered to a caller it cannot be sent to, at {_where(found, t.state)}"
        if " text:" in t.input:
            if not any(u.id.startswith("texts.") for u in t.step.before):
                yield f"a text asked for ({t.input}) is not answered with what became of it, at {_where(found, t.state)}"
            if t.step.listen is None:
                yield f"after a text asked for ({t.input}), the line does not go back to a menu, at {_where(found, t.state)}"


RULES: tuple[Rule, ...] = (
    Rule(1, "emergency signposting no key can skip", emergency),
    Rule(2, "silence never ends unheard", silence),
    Rule(3, "every promise has a time and a safety net", promises),
    Rule(4, "every number is read back in full", read_back),
    Rule(5, "always a way out", way_out),
    Rule(6, "busy and no answer", busy),
    Rule(7, "menus a tired listener can hold", menus),
    Rule(8, "time for slow responders", slow_responders),
    Rule(9, "hours-aware wording", hours_aware),
    Rule(10, "stale content is said", stale),
    Rule(11, "when to get help after a leaflet", end_of_leaflet),
    Rule(12, "a text message only where it can be sent, and always answered", texts),
)
MAX_PER_RULE = 10  # a broken rule usually breaks everywhere: the first few findings say enough


def check_contract(engine: CallEngine, found: Exploration, rules: tuple[Rule, ...] = RULES) -> list[Finding]:
    """One error per broken promise (the first few places of each)."""
    findings: list[Finding] = []
    if found.unfinished:
        findings.append(Finding("error", f"calls: the walk stopped after {len(found.states)} states: the call's "
                                         "states never end (a counter that is not clamped?)"))
    for rule in rules:
        seen: set[str] = set()
        for message in rule.check(engine, found):
            if message not in seen:
                seen.add(message)
                findings.append(Finding("error", f"caller safety {rule.number} ({rule.name}): {message}"))
            if len(seen) >= MAX_PER_RULE:
                break
    return findings

