"""Walk every path of the line breadth-first: each state's document run with every input.

A *state* is one TwiML document, identified by its text with every URL made absolute (so the
same menu reached two ways is one state). Each state is run once for every sequence of choices
it offers: at each caller <Gather> no input or any of 0-9, * and # (pressed once the first
nested verb is heard, as :func:`simulate_call` does), at each <Dial> every nurse outcome. Each
run ends in the next request (an edge to another state) or the end of the call.

``check_calls`` runs this against the real app in-process and turns it into findings.
"""

from __future__ import annotations

import copy
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urljoin

import click
import httpx

from ivr.findings import Finding
from ivr.simulator.caller import call_params
from ivr.simulator.dial import NURSE_MODES
from ivr.simulator.keys import GatherInfo, Listener, ScriptedKeys
from ivr.simulator.runner import Next, Outcome, Runner
from ivr.simulator.speech_index import SpeechIndex
from ivr.simulator.transcript import Transcript
from ivr.simulator.wire import Request, Wire

__all__ = ["KEY_CHOICES", "Graph", "Run", "State", "check_calls", "explore"]

KEY_CHOICES: tuple[str | None, ...] = (None, *"0123456789*#")  # None (no input) first: it leads on
MAX_RUNS_PER_STATE = 400
_URL_ATTRIBUTES = {
    "Gather": ("action",), "Record": ("action", "recordingStatusCallback"), "Dial": ("action",),
    "Number": ("url", "statusCallback"),
}

Choice = str | None  # a key string, None for no input, or a nurse mode


@dataclass
class Run:
    choices: tuple[Choice, ...]
    kinds: tuple[str, ...]  # "keys" or "nurse" for each choice
    transcript: Transcript
    outcome: Outcome
    target: str | None = None  # the state the next request led to (None: ended, failed or unexplored)

    @property
    def keys_pressed(self) -> int:
        return sum(len(c or "") for c, kind in zip(self.choices, self.kinds, strict=True) if kind == "keys")


@dataclass
class State:
    key: str
    request: Request
    runs: list[Run] = field(default_factory=list)


@dataclass
class Graph:
    start: str | None
    states: dict[str, State]
    failures: list[tuple[Request, str, tuple[str, int] | None]]  # request, error, (state, run) it came from
    requests: int
    truncated: bool


class _Replay:
    """Chooses the given prefix of choices, then the first option at every later choice point."""

    def __init__(self, prefix: tuple[Choice, ...]) -> None:
        self.prefix = prefix
        self.taken: list[Choice] = []
        self.kinds: list[str] = []
        self.options: list[tuple[Choice, ...]] = []

    def _choose(self, options: tuple[Choice, ...], kind: str) -> Choice:
        depth = len(self.taken)
        choice = self.prefix[depth] if depth < len(self.prefix) else options[0]
        self.taken.append(choice)
        self.kinds.append(kind)
        self.options.append(options)
        return choice

    def listen(self, gather: GatherInfo) -> Listener:
        return ScriptedKeys([self._choose(KEY_CHOICES, "keys")]).listen(gather)

    def nurse(self, number: str) -> str:
        return str(self._choose(NURSE_MODES, "nurse"))


def canonical(root: ET.Element, url: str) -> str:
    """The document's text with every URL absolute: equal for the same state reached two ways."""
    tree = copy.deepcopy(root)
    for element in tree.iter():
        for name in _URL_ATTRIBUTES.get(element.tag, ()):
            if element.get(name):
                element.set(name, urljoin(url, element.get(name, "")))
        if element.tag in ("Gather", "Record") and not element.get("action"):
            element.set("action", url)
        if element.tag in ("Redirect", "Play") and element.text:
            element.text = urljoin(url, element.text.strip())
    return ET.tostring(tree, encoding="unicode")


def _runs(root: ET.Element, url: str, wire: Wire, index: SpeechIndex) -> list[Run]:
    """Every way through one document (bounded by MAX_RUNS_PER_STATE)."""
    runs: list[Run] = []
    pending: list[tuple[Choice, ...]] = [()]
    while pending and len(runs) < MAX_RUNS_PER_STATE:
        prefix = pending.pop(0)
        replay = _Replay(prefix)
        transcript = Transcript()
        runner = Runner(wire=wire, index=index, transcript=transcript, keys=replay, nurse=replay.nurse)
        outcome = runner.run(root, url)
        runs.append(Run(tuple(replay.taken), tuple(replay.kinds), transcript, outcome))
        for depth in range(len(prefix), len(replay.options)):
            for alternative in replay.options[depth][1:]:
                pending.append((*replay.taken[:depth], alternative))
    return runs


def _request_key(request: Request) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    return request.method, request.url, request.params


def explore(
    url: str, *, token: str, transport: httpx.BaseTransport | None = None, index: SpeechIndex | None = None,
    max_states: int = 5000,
) -> Graph:
    """Breadth-first over every state reachable from ``url`` (the line's /voice).

    Never raises for what the line does: failed requests are in ``Graph.failures``, problems
    inside a document are error events in the runs' transcripts.
    """
    index = index or SpeechIndex()
    params = call_params("+447700900123", "+441632960000")
    params["CallStatus"] = "in-progress"
    states: dict[str, State] = {}
    failures: list[tuple[Request, str, tuple[str, int] | None]] = []
    seen: dict[tuple[str, str, tuple[tuple[str, str], ...]], str | None] = {}
    pending_runs: list[Run] = []
    callbacks_sent: set[tuple[str, str, tuple[tuple[str, str], ...]]] = set()
    queue: deque[tuple[Request, tuple[str, int] | None]] = deque([(Request(url), None)])
    start: str | None = None
    requests = 0
    with httpx.Client(transport=transport) as client:
        wire = Wire(token, params, client=client)
        while queue and len(states) < max_states:
            request, origin = queue.popleft()
            key = _request_key(request)
            if key in seen:
                continue
            requests += 1
            fetched = wire.fetch_twiml(request)
            if fetched.root is None:
                seen[key] = None
                failures.append((request, fetched.error or "no TwiML", origin))
                continue
            state_key = canonical(fetched.root, request.url)
            seen[key] = state_key
            start = start or state_key
            if state_key in states:
                continue
            state = states[state_key] = State(state_key, request)
            for run in _runs(fetched.root, request.url, wire, index):
                state.runs.append(run)
                pending_runs.append(run)
                if isinstance(run.outcome, Next):
                    queue.append((run.outcome.request, (state_key, len(state.runs) - 1)))
                    _send_callbacks(wire, run, callbacks_sent, failures, (state_key, len(state.runs) - 1))
    for run in pending_runs:
        if isinstance(run.outcome, Next):
            run.target = seen.get(_request_key(run.outcome.request))
    return Graph(start, states, failures, requests, truncated=bool(queue))


def _send_callbacks(
    wire: Wire, run: Run, sent: set[tuple[str, str, tuple[tuple[str, str], ...]]],
    failures: list[tuple[Request, str, tuple[str, int] | None]], origin: tuple[str, int],
) -> None:
    """Status callbacks (e.g. recordingStatusCallback) must be answered 2xx; each sent once."""
    assert isinstance(run.outcome, Next)
    for request, params in run.outcome.after:
        key = _request_key(request)
        if key in sent:
            continue
        sent.add(key)
        response = wire.send(request, only=dict(params))
        if isinstance(response, str):
            failures.append((request, response, origin))
        elif not 200 <= response.status_code < 300:
            failures.append((request, f"status callback {request.describe()} answered HTTP "
                                      f"{response.status_code}", origin))


def check_calls(echo: Callable[[str], None] = click.echo) -> list[Finding]:
    """``ivr check --calls``: explore the real app in-process with this environment's settings.

    Messages and call-backs left while exploring go to a throw-away database, never the real
    one. Prints the figures (states explored, audio before the first leaflet sentence when
    pressing the first key offered, keys to each section) with ``echo`` and returns the
    problems as findings (a warning when that audio is over 15 s). Raises IvrError when the app
    cannot be created (bad settings or content), as ``ivr serve`` would.
    """
    import tempfile

    from ivr import create_app
    from ivr.config import load_settings
    from ivr.keymap import load_keymap
    from ivr.simulator.measure import first_leaflet, first_leaflet_report
    from ivr.simulator.verify import expected_sections, verify
    from ivr.speech.sources import speech_items

    settings = load_settings()
    with tempfile.TemporaryDirectory(prefix="ivr-check-calls-") as scratch:
        app = create_app({"IVR_DATABASE_URL": f"sqlite:///{scratch}/calls.sqlite3", "IVR_LOG_LEVEL": "ERROR"})
        runtime = app.extensions["ivr.runtime"]
        index = SpeechIndex.build(
            speech_items(runtime.catalogue, runtime.prompts, runtime.settings), runtime.manifest, runtime.prompts,
        )
        url = (settings.public_url or "http://localhost") + "/voice"
        transport = httpx.WSGITransport(app=app)
        graph = explore(url, token=runtime.settings.auth_token, transport=transport, index=index)
        first = first_leaflet(url, token=runtime.settings.auth_token, names=load_keymap().names,
                              transport=transport, index=index)
    report = verify(graph, expected_sections(runtime.catalogue))
    first_line, first_findings = first_leaflet_report(first)
    for line in [report.summary[0], first_line, *report.summary[1:]]:
        echo(line)
    return report.findings + first_findings


def choice_labels(run: Run) -> list[str]:
    """How a reviewer reads the choices: keys, "no input", "nurse busy"."""
    labels = []
    for choice, kind in zip(run.choices, run.kinds, strict=True):
        labels.append(f"nurse {choice}" if kind == "nurse" else (choice or "no input"))
    return labels


def describe_path(labels: Sequence[str]) -> str:
    return ", ".join(labels) if labels else "(answering the call)"
