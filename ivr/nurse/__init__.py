"""The nurse line: opening hours, transfers, messages and call-backs. Placeholder."""

from __future__ import annotations

from collections.abc import Iterable

from ivr.config import Settings
from ivr.content.catalogue import Catalogue
from ivr.prompts import Prompts, Utterance


def spoken_utterances(catalogue: Catalogue, prompts: Prompts, settings: Settings) -> Iterable[Utterance]:
    """Every prompt instance the nurse line can speak (for rendering)."""
    return []


def check_settings(settings: Settings) -> list:  # list[Finding]
    """Nurse-line settings problems (number, hours)."""
    return []
