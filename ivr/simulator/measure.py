"""How long a caller listens before the first leaflet sentence, pressing the first key offered.

The phone-tree issue's promise: "a caller should hear leaflet content within 15 seconds of
answering if they press the first key offered". The measuring caller listens to each menu and
presses a key as soon as a prompt offers it ("..., press 1"), skipping the keys that cannot lead
into a leaflet (0 the nurse, * back, # repeat); it never presses before the key is offered.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from ivr.findings import Finding
from ivr.simulator.caller import simulate_call
from ivr.simulator.keys import GatherInfo, Listener
from ivr.simulator.speech_index import SpeechIndex
from ivr.simulator.transcript import Event, Transcript

__all__ = ["FIRST_LEAFLET_SECONDS", "FirstKeyOffered", "FirstLeaflet", "first_leaflet", "first_leaflet_report"]

FIRST_LEAFLET_SECONDS = 15.0
NOT_INTO_A_LEAFLET = frozenset("0*#")


class _Offered:
    def __init__(self, source: FirstKeyOffered) -> None:
        self.source = source

    def after(self, heard: object) -> str | None:
        if not isinstance(heard, Event):
            return None
        for word in self.source.pattern.findall(heard.text):
            key = self.source.keys.get(word.lower())
            if key is not None and key not in NOT_INTO_A_LEAFLET:
                self.source.pressed.append(key)
                return key
        return None

    def wait(self) -> str | None:
        return None


class FirstKeyOffered:
    """A KeySource: at each Gather, the first key a prompt offers, once that prompt is heard."""

    def __init__(self, names: Mapping[str, str]) -> None:
        """``names``: key -> how prompts say it ("0" -> "zero"), as in ivr/prompts/keys.yaml."""
        self.keys = {name.lower(): key for key, name in names.items()}
        self.pattern = re.compile(r"\bpress (\S+?)[.,;:!?]?(?:\s|$)", re.IGNORECASE)
        self.pressed: list[str] = []

    def listen(self, gather: GatherInfo) -> Listener:
        return _Offered(self)


@dataclass(frozen=True)
class FirstLeaflet:
    seconds: float | None  # None: no leaflet sentence heard this way
    keys: tuple[str, ...]
    transcript: Transcript


def first_leaflet(
    url: str, *, token: str, names: Mapping[str, str], transport: httpx.BaseTransport | None = None,
    index: SpeechIndex | None = None, max_steps: int = 12,
) -> FirstLeaflet:
    """Call ``url`` pressing the first key offered; when the first leaflet sentence starts."""
    source = FirstKeyOffered(names)
    transcript = simulate_call(url, token=token, keys=source, transport=transport, index=index,
                               max_steps=max_steps)
    first = next((e for e in transcript.heard() if e.id and e.id.startswith("leaflet/")), None)
    if first is None:
        return FirstLeaflet(None, tuple(source.pressed), transcript)
    before = transcript.events[: transcript.events.index(first)]
    keys = tuple(e.keys or "" for e in before if e.kind == "keys" and e.leg == "caller")
    return FirstLeaflet(first.start, keys, transcript)


def first_leaflet_report(result: FirstLeaflet) -> tuple[str, list[Finding]]:
    """The summary line, and a warning when it takes longer than FIRST_LEAFLET_SECONDS."""
    keys = ", ".join(result.keys) or "none"
    if result.seconds is None:
        return ("calls: pressing the first key offered never reaches a leaflet sentence",
                [Finding("warning", f"pressing the first key offered (keys: {keys}) never reaches a leaflet sentence")])
    line = (f"calls: first leaflet sentence after {result.seconds:.1f} s of audio, "
            f"pressing the first key offered (keys: {keys})")
    if result.seconds <= FIRST_LEAFLET_SECONDS:
        return line, []
    return line, [Finding(
        "warning", f"callers hear {result.seconds:.1f} s of audio before the first leaflet sentence when "
                   f"they press the first key offered (keys: {keys}); the aim is {FIRST_LEAFLET_SECONDS:g} s at most",
    )]
