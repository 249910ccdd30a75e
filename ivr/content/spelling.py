"""Words that look misspelt, and a suggested fix, against a medical-aware word list.

The English dictionary is ``pyspellchecker``'s (word frequencies from public text); our own
reviewed ``ivr/data/medical-words.txt`` adds medical words it lacks. A fix is taken first from the
medical list (the closest word by edit distance, so "Precutaneous" -> "Percutaneous"), then from
the dictionary's own best candidate. Nothing here changes a leaflet: callers decide what to do.

Skipped: acronyms in capitals (MDT), words with digits, single letters, the lexicon's keys, and
e-mail and web addresses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from ivr.content.rules import lexicon, medical_words

if TYPE_CHECKING:
    from spellchecker import SpellChecker

__all__ = ["WORD_RE", "Misspelling", "find_misspellings", "is_known", "suggest", "words_of"]

WORD_RE = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)*")
ADDRESS_RE = re.compile(r"\S+@\S+\.\w+|\b(?:https?://|www\.)\S+", re.IGNORECASE)  # e-mail and web addresses


def words_of(text: str) -> list[str]:
    """The words of ``text`` to check, leaving out e-mail and web addresses (not words)."""
    return WORD_RE.findall(ADDRESS_RE.sub(" ", text))


@dataclass(frozen=True)
class Misspelling:
    word: str  # as written
    fix: str | None  # suggested fix with the same capitalisation, None if nothing is close
    line: int


@cache
def _dictionary() -> SpellChecker:
    from spellchecker import SpellChecker  # imported late: loading the dictionary takes a moment

    checker = SpellChecker(language="en", distance=2)
    checker.word_frequency.load_words(medical_words())
    return checker


@cache
def _lexicon_words() -> frozenset[str]:
    words = lexicon()
    return frozenset(
        part.casefold()
        for entry in (*words.abbreviations, *words.pronunciations)
        for part in WORD_RE.findall(entry.written)
    )


def _skip(word: str) -> bool:
    return len(word) < 2 or word.isupper() or word.casefold() in _lexicon_words()


def is_known(word: str) -> bool:
    """True if the word is in the dictionary or the medical list (or is skipped, as an acronym)."""
    if _skip(word):
        return True
    lower = word.casefold()
    if lower in medical_words():
        return True
    if lower.endswith("'s"):
        lower = lower[:-2]  # a possessive: check the word itself
    return lower in medical_words() or bool(_dictionary().known([lower]))


def _distance(a: str, b: str) -> int:
    """Edit distance counting a swap of two neighbouring letters as one edit."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def _same_case(model: str, word: str) -> str:
    if model.isupper() and len(model) > 1:
        return word.upper()
    return word[:1].upper() + word[1:] if model[:1].isupper() else word


def suggest(word: str) -> str | None:
    """The likeliest fix: the closest medical word (1 edit, or 2 for long words), else the dictionary's."""
    lower = word.casefold()
    limit = 2 if len(lower) >= 8 else 1
    scored = sorted((_distance(lower, medical), medical) for medical in medical_words())
    if scored and scored[0][0] <= limit:
        return _same_case(word, scored[0][1])
    best = _dictionary().correction(lower)
    return _same_case(word, best) if best and best != lower else None


def find_misspellings(pieces: Iterable[tuple[str, int]]) -> Iterator[Misspelling]:
    """Each word that looks misspelt in (text, line) pieces, once per word and line, in order."""
    seen: set[tuple[str, int]] = set()
    for text, line in pieces:
        for word in words_of(text):
            if (word, line) in seen or is_known(word):
                continue
            seen.add((word, line))
            yield Misspelling(word, suggest(word), line)
