"""Leaflet -> the exact text the speech synthesiser reads, in sections and parts.

A *part* is the unit a caller skips by (keys 4 and 6): a paragraph, or a bullet list together
with the paragraph that leads into it. Section 0 is the leaflet's introduction.

(First cut: the expansion rules -- measurements, dates, lexicon, pronunciations -- are filled in
by the content-pipeline issue; the interface below is what the rest of the line relies on.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ivr.content.leaflet import Block, BulletList, Leaflet, Paragraph

__all__ = ["SpeechLeaflet", "SpeechSection", "leaflet_speech", "spoken_date", "to_speech"]


@dataclass(frozen=True)
class SpeechSection:
    number: int  # 1-based position among the leaflet's sections; 0 is the introduction
    title: str  # the heading as speech text ("What it is")
    parts: tuple[str, ...]


@dataclass(frozen=True)
class SpeechLeaflet:
    slug: str
    title: str  # speech text of the title
    code: str | None
    last_reviewed: dt.date
    last_reviewed_spoken: str  # "17 January 2019"
    source: str  # speech text of the source
    intro: SpeechSection  # number 0
    sections: tuple[SpeechSection, ...]

    def section(self, number: int) -> SpeechSection | None:
        """The section with this 1-based number, the introduction for 0, None if there is none."""
        if number == 0:
            return self.intro
        if 1 <= number <= len(self.sections):
            return self.sections[number - 1]
        return None


def to_speech(text: str) -> str:
    """One piece of leaflet text as the synthesiser should read it."""
    return " ".join(text.split())


def spoken_date(date: dt.date) -> str:
    return f"{date.day} {date:%B %Y}"


def _parts(blocks: tuple[Block, ...]) -> tuple[str, ...]:
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            parts.append(to_speech(block.text))
        elif isinstance(block, BulletList):
            items = ". ".join(to_speech(item).rstrip(".") for item in block.items) + "."
            if parts and parts[-1].endswith(":"):
                parts[-1] = f"{parts[-1]} {items}"  # a list joins the sentence that leads into it
            else:
                parts.append(items)
    return tuple(parts)


def leaflet_speech(leaflet: Leaflet) -> SpeechLeaflet:
    """The speech text of a whole leaflet; references are never read."""
    return SpeechLeaflet(
        slug=leaflet.slug,
        title=to_speech(leaflet.title),
        code=leaflet.code,
        last_reviewed=leaflet.last_reviewed,
        last_reviewed_spoken=spoken_date(leaflet.last_reviewed),
        source=to_speech(leaflet.source),
        intro=SpeechSection(0, to_speech(leaflet.title), _parts(leaflet.intro)),
        sections=tuple(
            SpeechSection(number, to_speech(section.title), _parts(section.blocks))
            for number, section in enumerate(leaflet.sections, start=1)
        ),
    )
