"""``audio/manifest.json``: which rendered file says which text, at which rate.

The phone tree looks audio up by the exact text and rate it wants to speak, so an edited
sentence whose audio is not rendered yet is never played stale: it is spoken with <Say>.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = ["RATES", "AudioEntry", "Manifest", "Rate", "load_manifest"]

Rate = Literal["normal", "slow"]
RATES: tuple[Rate, ...] = ("normal", "slow")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioEntry:
    id: str  # utterance id: "call.greeting" or "leaflet/<slug>/<section>/<part>"
    rate: Rate
    text: str  # exactly what was spoken
    file: str  # file name inside the audio folder
    duration: float  # seconds


@dataclass(frozen=True)
class Manifest:
    entries: tuple[AudioEntry, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_text", {(e.text, e.rate): e for e in self.entries})

    def find(self, text: str, rate: Rate) -> AudioEntry | None:
        """The rendered file for this exact text and rate, or None (the caller then hears <Say>)."""
        return self._by_text.get((text, rate))  # type: ignore[attr-defined]


def load_manifest(audio_dir: Path) -> Manifest:
    """Read the manifest; an absent or unreadable one is an empty manifest (logged)."""
    path = audio_dir / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = tuple(
            AudioEntry(e["id"], e["rate"], e["text"], e["file"], float(e["duration"]))
            for e in data["entries"]
        )
    except FileNotFoundError:
        log.warning("no audio manifest at %s: callers will hear <Say> until `ivr render` runs", path)
        return Manifest(())
    except (ValueError, KeyError, TypeError) as exc:
        log.error("audio manifest %s is unreadable (%s): callers will hear <Say>", path, exc)
        return Manifest(())
    return Manifest(entries)
