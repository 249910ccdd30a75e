"""Judge an explored call graph: dead ends, unreachable sections, 0 not reaching the nurse,
bad audio, Gathers without a no-input path, faults; and the figures a reviewer wants (states
explored, the fewest keys that reach each section). The audio heard before the first leaflet
sentence is measured by :mod:`ivr.simulator.measure`.

A *goodbye* is recognised by its prompt id: the last thing the caller hears before the line
hangs up has an id whose last part contains ``goodbye`` (``call.goodbye``,
``nurse.connected_goodbye``). Any other hang-up by the line is a dead end.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urljoin, urlsplit

from ivr.content.catalogue import Catalogue
from ivr.findings import Finding
from ivr.simulator.explore import Graph, Run, choice_labels, describe_path
from ivr.simulator.runner import End, Next
from ivr.simulator.transcript import Event

__all__ = ["Report", "expected_sections", "verify"]

APOLOGY_ID = "errors.apology"


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    section_keys: dict[str, int | None] = field(default_factory=dict)

    def add(self, level: Literal["error", "warning"], message: str) -> None:
        if not any(f.message == message for f in self.findings):
            self.findings.append(Finding(level, message))


def expected_sections(catalogue: Catalogue) -> list[tuple[str, str]]:
    """(label, leaflet-part id prefix) of every section with something to hear, intro included."""
    found = []
    for leaflet in catalogue.leaflets:
        for section in (leaflet.intro, *leaflet.sections):
            if section.parts:
                name = "introduction" if section.number == 0 else section.title
                found.append((f"{leaflet.slug} {section.number} ({name})", f"leaflet/{leaflet.slug}/{section.number}/"))
    return found


def _is_goodbye(event_id: str | None) -> bool:
    return bool(event_id) and "goodbye" in re.split(r"[./]", event_id or "")[-1]


class _Paths:
    """Fewest keys from the start to every state, and the way there."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.keys: dict[str, int] = {}
        self.via: dict[str, tuple[str, Run] | None] = {}
        if graph.start is None:
            return
        self.keys[graph.start], self.via[graph.start] = 0, None
        queue = deque([graph.start])
        while queue:  # 0-1 breadth-first: silence and redirects cost no keys
            state = queue.popleft()
            for run in graph.states[state].runs:
                if run.target is None:
                    continue
                cost = self.keys[state] + run.keys_pressed
                if run.target not in self.keys or cost < self.keys[run.target]:
                    self.keys[run.target], self.via[run.target] = cost, (state, run)
                    (queue.appendleft if run.keys_pressed == 0 else queue.append)(run.target)

    def labels(self, state: str | None) -> list[str]:
        labels: list[str] = []
        while state is not None and self.via.get(state) is not None:
            previous, run = self.via[state]  # type: ignore[misc]
            labels[:0] = choice_labels(run)
            state = previous
        return labels

    def where(self, state: str, run: Run | None = None) -> str:
        request = self.graph.states[state].request
        path = self.labels(state) + (choice_labels(run) if run is not None else [])
        return f"{request.describe()} (keys from the start: {describe_path(path)})"


def _keys_before(run: Run, event: Event) -> list[str]:
    """The keys the caller pressed in this run before ``event`` was heard."""
    keys = []
    for seen in run.transcript.events:
        if seen is event:
            break
        if seen.kind == "keys" and seen.leg == "caller":
            keys.append(seen.keys or "")
    return keys


def verify(graph: Graph, sections: Sequence[tuple[str, str]]) -> Report:
    """Findings and figures for the explored ``graph``; ``sections`` from expected_sections."""
    report = Report()
    paths = _Paths(graph)
    start_url = next(iter(graph.states.values())).request.url if graph.states else ""
    nurse_path = urlsplit(urljoin(start_url, "nurse")).path
    for _request, error, origin in graph.failures:
        where = paths.where(origin[0], graph.states[origin[0]].runs[origin[1]]) if origin else "the first request"
        report.add("error", f"{error}; reached by {where}")
    if graph.start is None:
        return report
    best_keys: dict[str, int] = {}
    for key, state in graph.states.items():
        in_nurse = urlsplit(state.request.url).path.startswith(nurse_path)
        for run in state.runs:
            for event in run.transcript.events:
                if event.kind == "error":
                    report.add("error", f"{event.text}; at {paths.where(key, run)}")
                if event.leg != "caller" or event.kind not in ("say", "play") or not event.id:
                    continue
                if event.id == APOLOGY_ID:
                    report.add("error", f"the line apologised for a fault at {paths.where(key, run)}")
                for _label, prefix in sections:
                    if event.id.startswith(prefix) and key in paths.keys:
                        keys = paths.keys[key] + sum(map(len, _keys_before(run, event)))
                        best_keys[prefix] = min(keys, best_keys.get(prefix, keys))
            _check_ending(report, paths, key, run)
            if not in_nurse:
                _check_nurse_key(report, paths, graph, key, run, nurse_path)
    _figures(report, graph, sections, best_keys)
    return report


def _check_ending(report: Report, paths: _Paths, key: str, run: Run) -> None:
    if not isinstance(run.outcome, End) or run.outcome.how not in ("hangup", "end", "rejected"):
        return
    heard = run.transcript.heard()
    if heard and _is_goodbye(heard[-1].id):
        return
    # the run's last choice was at a Gather and no request followed: the Gather fell through
    # (no input, or only its finish key) to the end of the document
    if run.kinds and run.kinds[-1] == "keys":
        report.add("error", f"a <Gather> has no no-input path: saying nothing ends the call without "
                            f"a goodbye at {paths.where(key)}")
    else:
        report.add("error", f"dead end: the line hangs up without a goodbye at {paths.where(key, run)}")


def _check_nurse_key(report: Report, paths: _Paths, graph: Graph, key: str, run: Run, nurse_path: str) -> None:
    if not run.kinds or run.kinds[-1] != "keys" or run.choices[-1] != "0":
        return
    outcome = run.outcome
    for _hop in range(4):  # follow redirects that need no input
        if not isinstance(outcome, Next):
            break
        if urlsplit(outcome.request.url).path.startswith(nurse_path):
            return
        target = graph.states.get(run.target or "") if run.target else None
        if target is None or len(target.runs) != 1 or target.runs[0].choices:
            break
        run = target.runs[0]
        outcome = run.outcome
    report.add("error", f"pressing 0 does not lead to the nurse line ({nurse_path}) at {paths.where(key)}")


def _figures(report: Report, graph: Graph, sections: Sequence[tuple[str, str]], best_keys: dict[str, int]) -> None:
    report.summary.append(f"calls: explored {len(graph.states)} states with {graph.requests} requests")
    if graph.truncated:
        report.add("warning", f"calls: stopped after {len(graph.states)} states; some paths were not checked")
    for label, prefix in sections:
        report.section_keys[label] = best_keys.get(prefix)
        if prefix not in best_keys:
            report.add("error", f"section not reachable by any keys: {label}")
    reached = {label: keys for label, keys in report.section_keys.items() if keys is not None}
    if reached:
        listing = "; ".join(f"{label}: {keys}" for label, keys in reached.items())
        report.summary.append(f"calls: keys to reach each section: {listing}; most {max(reached.values())}")
