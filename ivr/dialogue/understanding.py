"""Words a caller said (Twilio's ``SpeechResult`` and ``Confidence``), understood as one of the
choices offered at that moment, or not at all. Never lets a misheard word do harm: when the
match is weak, close to another, or Twilio was unsure, the line asks "Did you mean ...?" first.

What can be said comes from the locale's words file (``ivr/prompts/<locale>/words.yaml``: the
actions, e.g. "nurse", "everything") and from the leaflets (titles, spoken labels, ``say:``
words). Matching is fuzzy (rapidfuzz's WRatio over normalised text), so recognition slips such as
"side affects" or "said effects" still find "side effects".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rapidfuzz import fuzz, process, utils

from ivr.dialogue.steps import CallContext, Choice, Heard, Keys, NoInput, Position, Reply, Step
from ivr.prompts.words import Words, load_words

if TYPE_CHECKING:
    from ivr.dialogue.engine import CallEngine

__all__ = [
    "MATCH_SCORE", "SURE_CONFIDENCE", "SURE_SCORE", "Interpretation", "Words", "hints_for", "interpret",
    "interpreted", "load_words", "understand",
]

MATCH_SCORE = 80.0  # below this the words are not taken for any choice ("Sorry, I did not catch that")
SURE_SCORE = 88.0  # at or above (and clear of the next choice by MARGIN), acted on without asking
MARGIN = 6.0
SURE_CONFIDENCE = 0.5  # Twilio's Confidence below this: ask first, whatever the match
MAX_HINT_LENGTH = 100  # Twilio's limit for one hint phrase


@dataclass(frozen=True)
class Interpretation:
    """What the words were taken to mean: ``choice`` (None: nothing offered matched), the match
    ``score`` (0 to 100) and whether it is ``sure`` enough to act on without asking."""

    choice: Choice | None
    score: float
    sure: bool


def phrases_of(choice: Choice, words: Words) -> tuple[str, ...]:
    """Everything a caller may say for ``choice``: its own phrases (titles, labels, the leaflet's
    say: words) and the words file's for its action ("section:3" has none there)."""
    return choice.phrases + words.phrases.get(choice.action, ())


def label_of(choice: Choice, words: Words) -> str:
    """How a choice is named when asking "Did you mean ...?"."""
    return choice.label or words.labels.get(choice.action, "")


def interpret(engine: CallEngine, position: Position, heard: Heard, context: CallContext) -> Interpretation | None:
    """The choice offered at ``position`` that ``heard`` means; None when words are not listened
    for there. Pure: the same position, words and confidence always give the same answer."""
    listen = engine.enter(position, context).listen
    if listen is None or not listen.speech:
        return None
    text = utils.default_process(heard.text)
    if not text:
        return Interpretation(None, 0.0, False)
    scored = _scores(engine, listen.choices, text)
    if not scored or scored[0][0] < MATCH_SCORE:
        return Interpretation(None, scored[0][0] if scored else 0.0, False)
    score, choice = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    sure = score >= SURE_SCORE and score - runner_up >= MARGIN and heard.confidence >= SURE_CONFIDENCE
    return Interpretation(choice, score, sure)


_SCORES_KEPT = 10_000


def _scores(engine: CallEngine, choices: tuple[Choice, ...], text: str) -> list[tuple[float, Choice]]:
    """Each offered choice with its best match against ``text``, best first (kept: a menu's
    choices and the same words come again and again)."""
    kept: dict[tuple[object, ...], list[tuple[float, Choice]]] = engine.__dict__.setdefault("_speech_scores", {})
    key = (choices, text)
    found = kept.get(key)
    if found is None:
        found = []
        for choice in choices:
            options = [utils.default_process(phrase) for phrase in phrases_of(choice, engine.words)]
            if options:
                best = process.extractOne(text, options, scorer=fuzz.WRatio)
                found.append((float(best[1]) if best else 0.0, choice))
        found.sort(key=lambda item: item[0], reverse=True)
        if len(kept) < _SCORES_KEPT:
            kept[key] = found
    return found


def understand(engine: CallEngine, position: Position, heard: Heard, context: CallContext) -> Reply:
    """Act on words as on the key of the choice they mean; ask first when unsure; "Sorry, I did
    not catch that" (counted like a wrong key) when they match nothing offered."""
    found = interpret(engine, position, heard, context)
    if found is None:  # not listening for words here (Twilio would not send them): as if nothing came
        return engine.respond(position, NoInput(), context)
    if found.choice is None:
        return engine.wrong(position, context, (engine.voice.say("speech.not_understood"),))
    if found.sure:
        return engine.respond(position, Keys(found.choice.key), context)
    if found.choice.action in ("yes", "no") or position.held:
        return engine.wrong(position, context, (engine.voice.say("speech.not_understood"),))
    return engine.enter(position.but(held="?" + found.choice.key, quiet=0, wrong=0), context)


def interpreted(engine: CallEngine, position: Position, event: Heard, context: CallContext) -> str:
    """For the call log: the action spoken words were taken for ("" when none), never the words."""
    found = interpret(engine, engine.settle(position), event, context)
    return found.choice.action if found is not None and found.choice is not None else ""


def hints_for(engine: CallEngine, step: Step) -> tuple[str, ...]:
    """The phrases speech recognition should expect at ``step`` (Twilio's ``hints``)."""
    if step.listen is None or not step.listen.speech:
        return ()
    seen: dict[str, str] = {}
    for choice in step.listen.choices:
        for phrase in phrases_of(choice, engine.words):
            phrase = " ".join(phrase.replace(",", " ").split())
            if phrase and len(phrase) <= MAX_HINT_LENGTH:
                seen.setdefault(phrase.casefold(), phrase)
    return tuple(seen.values())

