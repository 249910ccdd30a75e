"""A leaflet section as one file a web browser can play: its rendered parts joined, 16-bit PCM WAV.

Why not the telephone files themselves: a section is several parts (one file each), and the web
copy offers one player a section; and the parts are G.711 mu-law, which browsers do not promise
to play. Chromium does decode mu-law WAV (it played our files in a test) but advertises only
``audio/wav; codecs=1`` (PCM) in ``canPlayType`` (``codecs=7`` gives ""), and
PCM is the one WAV encoding every browser plays. At 8 kHz, 16-bit PCM is 16 kB a second:
a three-minute section is under 3 MB. Parts are kept at their rendered rate and loudness
(the same -18 LUFS), with :data:`PART_GAP_S` of silence between them, like a paragraph break.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ivr.speech.audio import SAMPLE_RATE, AudioError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["JOIN_VERSION", "PART_GAP_S", "join_parts", "joined_name", "joined_seconds"]

PART_GAP_S = 0.6  # added to the 0.25 s of silence the parts already end and start with
JOIN_VERSION = f"1:pcm16:{SAMPLE_RATE}:{PART_GAP_S}"  # part of every joined file's name


def joined_name(part_files: Sequence[str]) -> str:
    """The joined file's name (32 hex digits + ``.wav``), from its parts' names: the parts are
    named by their content, so this name never changes meaning and can be cached for ever."""
    recipe = "\n".join((JOIN_VERSION, *part_files))
    return hashlib.sha256(recipe.encode("utf-8")).hexdigest()[:32] + ".wav"


def joined_seconds(part_seconds: Sequence[float]) -> float:
    """How long the joined file of parts this long plays."""
    return sum(part_seconds) + PART_GAP_S * max(0, len(part_seconds) - 1)


def join_parts(parts: Sequence[Path], target: Path) -> float:
    """Write the ``parts`` (rendered telephone WAVs) as one 16-bit PCM WAV at ``target``,
    atomically (a temporary name in the same folder, then renamed); returns its length in seconds.

    Raises AudioError when a part is missing, unreadable or not 8 kHz mono; OSError when
    ``target`` cannot be written.
    """
    import numpy as np  # with soundfile: loaded by the first joining, not by every web worker
    import soundfile

    gap = np.zeros(round(PART_GAP_S * SAMPLE_RATE), dtype=np.int16)
    pieces: list[np.ndarray] = []
    for number, path in enumerate(parts):
        try:
            samples, rate = soundfile.read(path, dtype="int16", always_2d=True)
        except (soundfile.LibsndfileError, RuntimeError, OSError) as exc:
            raise AudioError(f"cannot read the rendered part {path.name}: {exc}") from exc
        if rate != SAMPLE_RATE or samples.shape[1] != 1:
            raise AudioError(f"the rendered part {path.name} is not {SAMPLE_RATE} Hz mono")
        if number:
            pieces.append(gap)
        pieces.append(samples[:, 0])
    if not pieces:
        raise AudioError("a section with no parts has nothing to join")
    joined = np.concatenate(pieces)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        soundfile.write(partial, joined, SAMPLE_RATE, subtype="PCM_16", format="WAV")
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
    return len(joined) / SAMPLE_RATE
