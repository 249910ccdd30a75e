"""The phone tree as pure data (no Flask, no Twilio). Placeholder until the phone-tree issue."""

from __future__ import annotations

from collections.abc import Iterable

from ivr.content.catalogue import Catalogue
from ivr.prompts import Prompts, Utterance


def spoken_utterances(catalogue: Catalogue, prompts: Prompts) -> Iterable[Utterance]:
    """Every prompt instance the tree can speak for this catalogue (for rendering)."""
    return []


def check_tree(catalogue: Catalogue, prompts: Prompts) -> list:  # list[Finding]
    """Prompt ids the tree uses that are missing, and other tree problems."""
    return []
