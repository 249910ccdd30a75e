"""``audio/manifest.json``: which rendered file says which text, at which rate.

The phone tree looks audio up by the exact text and rate it wants to speak, so an edited
sentence whose audio is not rendered yet is never played stale: it is spoken with <Say>.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from ivr.prompts import RATES, Rate

__all__ = [
    "AUDIO_FILE_RE",
    "MANIFEST_NAME",
    "RATES",
    "AudioEntry",
    "Manifest",
    "Rate",
    "load_manifest",
    "write_manifest",
]

MANIFEST_NAME = "manifest.json"
# Every rendered file is named by its content hash; nothing else in the folder is audio.
# The web server checks names against this before touching the disk; --prune deletes only these.
AUDIO_FILE_RE = re.compile(r"[0-9a-f]{32}\.wav")

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

    def durations(self) -> dict[str, float]:
        """File name -> duration in seconds, for every entry."""
        return {entry.file: entry.duration for entry in self.entries}


def load_manifest(audio_dir: Path) -> Manifest:
    """Read the manifest; an absent or unreadable one is an empty manifest (logged)."""
    path = audio_dir / MANIFEST_NAME
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


def write_manifest(audio_dir: Path, entries: Iterable[AudioEntry], meta: Mapping[str, object]) -> Path:
    """Write ``audio_dir/manifest.json`` atomically (a temporary file, then a rename), so a
    server reading it at the same moment sees the old or the new one, never half of either.

    ``meta`` (engine, voice, ...) is stored alongside for people; readers ignore it.
    Raises OSError when the folder cannot be written.
    """
    audio_dir.mkdir(parents=True, exist_ok=True)
    data = {**meta, "entries": [asdict(entry) for entry in entries]}
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    with contextlib.suppress(OSError, ValueError):  # unchanged: left alone, so servers watching it reload nothing
        if (audio_dir / MANIFEST_NAME).read_text(encoding="utf-8") == text:
            return audio_dir / MANIFEST_NAME
    fd, temp = tempfile.mkstemp(prefix=".manifest-", suffix=".json.part", dir=audio_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, 0o644)
        os.replace(temp, audio_dir / MANIFEST_NAME)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)
    return audio_dir / MANIFEST_NAME
