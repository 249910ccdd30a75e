"""Walking the whole phone tree: every prompt instance it can say, and ``ivr check`` of the tree.

The tree is finite (counters are clamped), so every position reachable from the greeting is
visited with every key and with silence. What it says there is what must be rendered.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ivr.content.catalogue import Catalogue
from ivr.errors import ContentError, PromptError
from ivr.findings import Finding
from ivr.keymap import KEYPAD, load_keymap
from ivr.prompts import PROMPTS_DIR, Prompts, Utterance
from ivr.tree import Enter, Position, Silence, Step, Tree

__all__ = ["PROMPTS_USED", "Exploration", "check", "explore", "seconds_to_first_sentence"]

WORDS_PER_MINUTE = 155  # estimate of speech time when the audio is not rendered
TARGET_SECONDS = 15.0  # the issue: leaflet content within 15 s of answering

# Every prompt the tree says, with the placeholders it fills in.
PROMPTS_USED: dict[str, set[str]] = {
    "call.greeting_one": {"title"}, "call.greeting_many": set(), "call.emergency": set(),
    "call.nurse": {"key"}, "call.goodbye": set(),
    "menu.leaflets": set(), "menu.leaflet_option": {"title", "key"}, "menu.more_leaflets": {"key"},
    "menu.code": {"key"}, "menu.code_entry": {"key"}, "menu.no_code": set(),
    "menu.sections": {"title"}, "menu.section_option": {"section", "key"}, "menu.whole": {"key"},
    "menu.about": {"key"}, "menu.about_text": {"date", "source"}, "menu.more_sections": {"key"},
    "menu.repeat": {"key"}, "menu.back": {"key"}, "menu.nurse": {"key"},
    "reading.section_start": {"section"}, "reading.start_of_section": set(), "reading.first_section": set(),
    "reading.last_section": set(), "reading.slower": set(), "reading.normal": set(),
    "reading.where": {"leaflet", "section"}, "reading.part": {"part", "parts"},
    "reading.key_help": {"restart", "rate", "back", "forward", "previous", "next", "pause", "menu", "nurse"},
    "reading.paused": set(), "reading.still_paused": set(), "reading.end_of_section": {"section"},
    "reading.end_of_leaflet": set(), "reading.next": {"section", "key"}, "reading.again": {"key"},
    "reading.menu": {"key"},
    "errors.wrong_key": set(), "errors.no_input": set(), "errors.key_help": set(),
    "errors.offer_nurse": {"key"}, "errors.apology": set(),
}


@dataclass(frozen=True)
class Exploration:
    prompt_utterances: list[Utterance]  # each distinct text once, in the order first met
    prompt_ids: set[str]
    positions: int


def _inputs(tree: Tree, position: Position) -> list[str | None]:
    if position.kind == "code":
        codes = [leaflet.code for leaflet in tree.catalogue.leaflets if leaflet.code]
        return [*codes, "999999999", "*", "0", None]
    return [*KEYPAD, None]


def explore(tree: Tree) -> Exploration:
    """Visit every reachable position with every key and with silence (raises PromptError)."""
    texts: dict[str, Utterance] = {}
    ids: set[str] = set()
    seen: set[Position] = set()
    queue: deque[Position] = deque()

    def visit(step: Step) -> None:
        for utterance in step.utterances:
            if not utterance.id.startswith("leaflet/"):
                texts.setdefault(utterance.text, utterance)
                ids.add(utterance.id)
        targets = [step.position]
        if isinstance(step.then, Enter | Silence):
            targets.append(step.then.position)
        for position in targets:
            if position not in seen:
                seen.add(position)
                queue.append(position)

    visit(tree.answer())
    while queue:
        position = queue.popleft()
        visit(tree.enter(position))
        for digits in _inputs(tree, position):
            visit(tree.press(position, digits))
    return Exploration(list(texts.values()), ids, len(seen))


def _words_seconds(utterance: Utterance) -> float:
    return len(utterance.text.split()) * 60 / WORDS_PER_MINUTE


def seconds_to_first_sentence(tree: Tree, seconds: Callable[[Utterance], float] = _words_seconds) -> float:
    """Speech heard from answering to the first leaflet sentence, pressing the first key offered
    each time (``seconds`` gives an utterance's length: rendered duration, or a word estimate)."""
    step = tree.answer()
    total = 0.0
    for _ in range(5):
        for utterance in step.utterances:
            if utterance.id.startswith("leaflet/") or utterance.id == "reading.section_start":
                return total  # the section's heading is the leaflet's own text
            total += seconds(utterance)
            if utterance.id.endswith("_option"):
                break  # the caller presses this choice's key as soon as it is said
        step = tree.press(step.position, "1")
    return total


def _prompt_findings(prompts: Prompts) -> list[Finding]:
    findings = []
    for prompt_id, wanted in PROMPTS_USED.items():
        file_name = prompt_id.split(".")[0] + ".yaml"
        if prompt_id not in prompts.templates:
            findings.append(Finding(
                "error", f"the phone tree needs prompt {prompt_id!r}, which is missing.",
                PROMPTS_DIR / prompts.locale / file_name,
            ))
        elif prompts.placeholders(prompt_id) != wanted:
            findings.append(Finding(
                "error",
                f"prompt {prompt_id!r} must take {sorted(wanted)}, has {sorted(prompts.placeholders(prompt_id))}.",
                prompts.files[prompt_id],
            ))
    return findings


def check(catalogue: Catalogue, prompts: Prompts) -> list[Finding]:
    """Findings for ``ivr check``; see :func:`ivr.tree.check_tree`."""
    try:
        keys = load_keymap()
    except ContentError as exc:
        return [Finding("error", exc.message, exc.path, exc.line)]
    findings = _prompt_findings(prompts)
    if findings:
        return findings
    tree = Tree(catalogue, prompts, keys)
    try:
        explore(tree)
        seconds = seconds_to_first_sentence(tree)
    except PromptError as exc:
        return [Finding("error", exc.message, exc.path, exc.line)]
    if seconds > TARGET_SECONDS:
        findings.append(Finding(
            "warning",
            f"callers hear about {seconds:.0f} s of prompts before the first leaflet sentence "
            f"(target {TARGET_SECONDS:.0f} s); shorten the greeting.",
            PROMPTS_DIR / prompts.locale / "call.yaml",
        ))
    for source in catalogue.sources:
        if source.code == keys.menu["nurse"]:
            findings.append(Finding("warning", f"leaflet code {source.code!r} is the nurse key: callers cannot key it in.",
                                    source.path))
    return findings
