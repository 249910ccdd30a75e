"""Everything the line can say, gathered for rendering: leaflet parts and every prompt instance."""

from __future__ import annotations

from ivr.config import Settings
from ivr.content.catalogue import Catalogue
from ivr.prompts import Prompts, Utterance

__all__ = ["leaflet_utterances", "speech_items"]


def leaflet_utterances(catalogue: Catalogue) -> list[Utterance]:
    items = []
    for leaflet in catalogue.leaflets:
        for section in (leaflet.intro, *leaflet.sections):
            for number, text in enumerate(section.parts, start=1):
                items.append(Utterance(f"leaflet/{leaflet.slug}/{section.number}/{number}", text))
    return items


def speech_items(catalogue: Catalogue, prompts: Prompts, settings: Settings) -> list[Utterance]:
    """Leaflet parts, then every utterance the phone tree and nurse line can produce, deduplicated."""
    from ivr import nurse, tree  # imported late: they import this package's manifest

    seen: set[str] = set()
    items = []
    for item in (
        *leaflet_utterances(catalogue),
        *tree.spoken_utterances(catalogue, prompts),
        *nurse.spoken_utterances(catalogue, prompts, settings),
    ):
        if item.text not in seen:
            seen.add(item.text)
            items.append(item)
    return items
