"""Everything the line can say, gathered for rendering: leaflet parts, and every utterance the call
engine produces in any state (found by walking them all: :mod:`ivr.dialogue.explore`)."""

from __future__ import annotations

from ivr.config import Settings
from ivr.content.catalogue import Catalogue
from ivr.dialogue.steps import leaflet_part_id
from ivr.prompts import Prompts, Utterance

__all__ = ["leaflet_utterances", "speech_items"]


def leaflet_utterances(catalogue: Catalogue) -> list[Utterance]:
    items = []
    for leaflet in catalogue.leaflets:
        for section in (leaflet.intro, *leaflet.sections):
            for number, text in enumerate(section.parts, start=1):
                items.append(Utterance(leaflet_part_id(leaflet.slug, section.number, number), text))
    return items


def speech_items(catalogue: Catalogue, prompts: Prompts, settings: Settings) -> list[Utterance]:
    """Leaflet parts, then every utterance the line can produce (each distinct text once).
    Raises PromptError (a prompt missing or taking other placeholders), ConfigError or ContentError
    when the engine cannot be built."""
    from ivr.dialogue.engine import build_engine
    from ivr.dialogue.explore import utterances, wording

    engine = build_engine(settings, catalogue, prompts)
    seen: set[str] = set()
    items = []
    spoken = (u for u in utterances(engine) if not u.id.startswith(("leaflet/", "pause")))
    for item in (*leaflet_utterances(catalogue), *spoken, *wording(engine)):
        if item.text not in seen:
            seen.add(item.text)
            items.append(item)
    return items
