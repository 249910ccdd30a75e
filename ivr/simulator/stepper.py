"""A call one key press at a time, with no state kept between steps (the browser phone).

``start`` rings the line and runs its TwiML, as :func:`~ivr.simulator.simulate_call` does, until
a <Gather> has played its nested speech and waits for keys, or the call ends. The step returns
the events heard and, when the line is listening, a :class:`Pending`: the rest of that TwiML
document (the bare Gather and the verbs after it) with the call's parameters. ``resume(pending,
keys)`` runs that rest with the keys pressed (or none: silence) to the next Gather. The caller of
this module keeps ``Pending`` (the browser phone signs it and hands it to the page).

TwiML execution is the simulator's own :class:`~ivr.simulator.runner.Runner`; only the stopping
at a Gather is new here.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from ivr.simulator.caller import fetch_document
from ivr.simulator.keys import GatherInfo, Listener, PressAfterAll
from ivr.simulator.runner import End, Next, Outcome, Runner
from ivr.simulator.speech_index import SpeechIndex
from ivr.simulator.transcript import EndedBy, Event, Transcript
from ivr.simulator.wire import Request, Wire

__all__ = ["MAX_REQUESTS", "Pending", "Step", "resume", "start"]

MAX_REQUESTS = 20  # webhook requests in one step before the simulator gives up (a redirect loop)


@dataclass(frozen=True)
class Pending:
    """A Gather waiting for keys: what Twilio would still run, and for which call."""

    url: str  # the document's URL (relative URLs in it resolve against this)
    twiml: str  # <Response><Gather .../> and the verbs after it</Response>
    call: dict[str, str]  # the call's webhook parameters (CallSid, From, To, ...)
    num_digits: int | None
    finish_on_key: str
    timeout: float
    speech: bool = False  # words are listened for too


@dataclass(frozen=True)
class Step:
    """What one step heard. Events from ``barge_from`` on were nested in the waiting Gather: a
    key pressed while they play interrupts them (barge-in)."""

    events: list[Event]
    pending: Pending | None
    barge_from: int
    ended_by: EndedBy | None


class _WaitForKeys(Exception):
    """Raised from a Gather once its nested speech is heard: the step stops here."""

    def __init__(self, info: GatherInfo) -> None:
        super().__init__("waiting for keys")
        self.info = info


class _Stop:
    def __init__(self, info: GatherInfo) -> None:
        self.info = info

    def after(self, heard: object) -> str | None:
        return None  # keys during playback come from the next step, not this one

    def wait(self) -> str | None:
        raise _WaitForKeys(self.info)


class _Keys:
    """The first Gather gets ``keys`` (None: silence) when ``give``; any other stops the step."""

    def __init__(self, keys: str | None, *, give: bool) -> None:
        self.keys = keys
        self.give = give

    def listen(self, gather: GatherInfo) -> Listener:
        if not self.give:
            return _Stop(gather)
        self.give = False
        return PressAfterAll(self.keys)  # the keys, once the Gather's speech has played


def _bare_rest(verbs: list[ET.Element], index: int) -> ET.Element:
    """A document holding the Gather at ``index`` without its nested speech, and what follows."""
    root = ET.Element("Response")
    ET.SubElement(root, "Gather", dict(verbs[index].attrib))
    root.extend(copy.deepcopy(verb) for verb in verbs[index + 1:])
    return root


def _run_document(runner: Runner, root: ET.Element, url: str) -> Outcome | tuple[Pending, int]:
    """Runner.run, verb by verb, stopping at a Gather that waits for keys: then the rest of the
    document and the index of the first event heard inside that Gather."""
    verbs = list(root)
    for index, verb in enumerate(verbs):
        mark = len(runner.transcript.events)
        try:
            outcome = runner.verb(verb, url)
        except _WaitForKeys as waiting:
            info = waiting.info
            pending = Pending(
                url=url, twiml=ET.tostring(_bare_rest(verbs, index), encoding="unicode"),
                call=dict(runner.wire.call_params), num_digits=info.num_digits,
                finish_on_key=info.finish_on_key, timeout=info.timeout, speech=info.speech,
            )
            return pending, mark
        if outcome is not None:
            return outcome
    return End("end")


def _advance(runner: Runner, first: Next | tuple[ET.Element, str]) -> Step:
    transcript, wire = runner.transcript, runner.wire
    step: Next | tuple[ET.Element, str] = first
    for _ in range(MAX_REQUESTS):
        if isinstance(step, Next):
            fetched = fetch_document(wire, step, transcript)
            if fetched is None:
                break
            root, url = fetched, step.request.url
        else:
            root, url = step
        outcome = _run_document(runner, root, url)
        if isinstance(outcome, tuple):
            pending, barge_from = outcome
            return Step(list(transcript.events), pending, barge_from, None)
        if isinstance(outcome, End):
            transcript.end(outcome.how, outcome.detail if outcome.how != "error" else "")
            break
        step = outcome
    else:
        transcript.end("max-steps", f"{MAX_REQUESTS} requests in one step")
    return Step(list(transcript.events), None, len(transcript.events), transcript.ended_by)


def _runner(wire: Wire, index: SpeechIndex, keys: _Keys, nurse: Callable[[str], str]) -> Runner:
    return Runner(wire=wire, index=index, transcript=Transcript(), keys=keys, nurse=nurse)


def start(
    url: str, *, token: str, call: dict[str, str], client: httpx.Client, index: SpeechIndex,
    nurse: str = "answer",
) -> Step:
    """Ring ``url`` (the line's /voice) with the webhook parameters ``call``; run to the first
    Gather or the end. Never raises for what the line does: failures are error events."""
    wire = Wire(token, dict(call), client=client)
    runner = _runner(wire, index, _Keys(None, give=False), lambda number: nurse)
    return _advance(runner, Next(Request(url)))


def resume(
    pending: Pending, keys: str | None, *, token: str, client: httpx.Client, index: SpeechIndex,
    nurse: str = "answer",
) -> Step:
    """Give ``keys`` ("1", "12#", "say:side effects" for words; None: silence until the timeout) to the waiting Gather and
    run to the next one. Raises ET.ParseError when ``pending.twiml`` is not XML (callers
    should only pass back what :func:`start` or :func:`resume` made)."""
    wire = Wire(token, dict(pending.call), client=client)
    runner = _runner(wire, index, _Keys(keys, give=True), lambda number: nurse)
    return _advance(runner, (ET.fromstring(pending.twiml), pending.url))
