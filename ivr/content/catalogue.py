"""Every leaflet in the leaflets folder, as speech text, ready for the phone tree."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ivr.content.leaflet import Leaflet, load_leaflet
from ivr.content.review import DEFAULT_REVIEW_PERIOD_MONTHS
from ivr.content.speech_text import SpeechLeaflet, leaflet_speech
from ivr.errors import LeafletFormatError

__all__ = ["Catalogue", "load_catalogue"]


@dataclass(frozen=True)
class Catalogue:
    leaflets: tuple[SpeechLeaflet, ...]  # in file-name order: the order the menu offers them
    sources: tuple[Leaflet, ...]

    def by_slug(self, slug: str) -> SpeechLeaflet | None:
        return next((leaflet for leaflet in self.leaflets if leaflet.slug == slug), None)

    def by_code(self, code: str) -> SpeechLeaflet | None:
        return next((leaflet for leaflet in self.leaflets if leaflet.code == code), None)


def load_catalogue(folder: Path, *, review_period_months: int = DEFAULT_REVIEW_PERIOD_MONTHS) -> Catalogue:
    """Load every ``*.md`` leaflet; LeafletFormatError on the first bad file or a repeated slug/code.

    ``review_period_months`` (IVR_REVIEW_PERIOD_MONTHS) dates the next review of a leaflet whose
    front matter gives none.
    """
    sources = tuple(load_leaflet(path) for path in sorted(folder.glob("*.md")))
    if not sources:
        raise LeafletFormatError(
            "has no leaflets (*.md).", path=folder,
            hint="Import one with `ivr import SOURCE`, or set IVR_LEAFLETS_DIR.",
        )
    seen: dict[str, Path | None] = {}
    for leaflet in sources:
        for key in (f"slug {leaflet.slug}", f"code {leaflet.code}" if leaflet.code else None):
            if key is None:
                continue
            if key in seen:
                raise LeafletFormatError(
                    f"repeats the {key} of {seen[key]}.", path=leaflet.path, line=1,
                    hint="Each leaflet needs its own slug and code.",
                )
            seen[key] = leaflet.path
    return Catalogue(
        tuple(leaflet_speech(leaflet, review_period_months=review_period_months) for leaflet in sources), sources,
    )
