"""Figures about the explored call for ``ivr check``: how long before a caller hears the leaflet,
how many keys reach each section, and what was walked.
"""

from __future__ import annotations

from collections.abc import Callable

from ivr.dialogue.engine import CallEngine
from ivr.dialogue.explore import Exploration
from ivr.dialogue.steps import Keys, Step
from ivr.findings import Finding
from ivr.prompts import PROMPTS_DIR, Utterance
from ivr.speech.manifest import Manifest

__all__ = ["FIRST_CONTENT_SECONDS", "WORDS_PER_MINUTE", "figures", "seconds_to_first_content", "utterance_seconds"]

FIRST_CONTENT_SECONDS = 15.0  # leaflet content within 15 s of answering, pressing the first key offered
WORDS_PER_MINUTE = 159  # the normal rate's measured pace (ivr.speech.synth), for text not yet rendered


def utterance_seconds(manifest: Manifest) -> Callable[[Utterance], float]:
    """An utterance's length: its rendered audio at the normal rate, else its words at WORDS_PER_MINUTE."""

    def seconds(utterance: Utterance) -> float:
        if utterance.id == "pause":
            return 1.0
        entry = manifest.find(utterance.text, "normal")
        return entry.duration if entry is not None else len(utterance.text.split()) * 60 / WORDS_PER_MINUTE

    return seconds


def seconds_to_first_content(engine: CallEngine, exploration: Exploration,
                             seconds: Callable[[Utterance], float]) -> tuple[float, list[str]]:
    """Audio heard from answering to the first leaflet sentence (or section heading), pressing the
    first numbered choice as soon as it is offered, in the first situation walked (nurses open)."""
    context = exploration.situations[0].context
    step: Step = engine.answer(context)
    total, keys = 0.0, list[str]()
    for _ in range(6):
        for utterance in step.before:
            if utterance.id.startswith("leaflet/") or utterance.id == "reading.section_start":
                return total, keys
            total += seconds(utterance)
        choice = next((c for c in step.listen.choices if c.numbered), None) if step.listen else None
        for utterance in step.utterances:
            if utterance.id.startswith("leaflet/") or utterance.id == "reading.section_start":
                return total, keys
            total += seconds(utterance)
            if choice is not None and f"press {engine.keys.name(choice.key)}." in utterance.text:
                break  # the caller presses the key as soon as it is offered
        if choice is None:
            break
        keys.append(choice.key)
        reply = engine.respond(step.position, Keys(choice.key), context)
        if not isinstance(reply, Step):
            break
        step = reply
    return total, keys


def figures(engine: CallEngine, exploration: Exploration, manifest: Manifest) -> tuple[list[str], list[Finding]]:
    """The summary lines and the findings: a warning when the first leaflet sentence comes after
    15 s, an error for a section no key reaches."""
    lines: list[str] = []
    findings: list[Finding] = []
    lines.append(f"calls: walked {len(exploration.keys_to)} states in {len(exploration.situations)} situations, "
                 f"{exploration.transitions} transitions")
    seconds, keys = seconds_to_first_content(engine, exploration, utterance_seconds(manifest))
    lines.append(f"calls: first leaflet sentence after {seconds:.1f} s of audio, pressing the first key offered "
                 f"(keys: {', '.join(keys) or 'none'})")
    if seconds > FIRST_CONTENT_SECONDS:
        findings.append(Finding("warning", f"callers hear {seconds:.1f} s of prompts before the first leaflet sentence "
                                           f"(target {FIRST_CONTENT_SECONDS:g} s); shorten the greeting.",
                                PROMPTS_DIR / engine.voice.prompts.locale / "call.yaml"))
    reach: dict[tuple[str, int], int] = {}
    for (position, _situation), cost in exploration.keys_to.items():
        if position.kind == "read" and position.part == 1:
            key = (position.slug, position.section)
            reach[key] = min(cost, reach.get(key, cost))
    listing = []
    counted: dict[int, int] = {}
    for leaflet in engine.catalogue.leaflets:
        for section in (leaflet.intro, *leaflet.sections):
            if not section.parts:
                continue
            keys_needed = reach.get((leaflet.slug, section.number))
            name = "introduction" if section.number == 0 else section.title
            if keys_needed is None:
                findings.append(Finding("error", f"calls: no keys reach {leaflet.slug} section {section.number} ({name})"))
            else:
                listing.append(f"{name}: {keys_needed}")
                counted[keys_needed] = counted.get(keys_needed, 0) + 1
    if len(engine.catalogue.leaflets) > 1:  # a hundred leaflets' sections by name say nothing: how many need how many
        listing = [f"{keys} keys: {sections} section(s)" for keys, sections in sorted(counted.items())]
    if listing:
        lines.append(f"calls: keys to reach each section: {'; '.join(listing)}")
    return lines, findings
