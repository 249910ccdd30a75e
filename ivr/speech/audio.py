"""eSpeak's WAV -> telephone audio: 8 kHz mono, trimmed, loudness-normalised, G.711 mu-law WAV.

Format. Twilio's <Play> accepts ``audio/wav`` among its supported MIME types
(https://www.twilio.com/docs/voice/twiml/play, "Supported audio file types"), and audio played
over the telephone network is transcoded to the network's own format
(https://www.twilio.com/docs/api/2008-08-01/twiml/play): 8000 Hz, 8-bit mu-law, mono (G.711
PCMU, the codec Twilio uses on the PSTN: https://www.twilio.com/docs/sip-trunking/codecs).
Delivering exactly that in a WAV container means Twilio has nothing to resample or re-encode,
the files are small (8 kB a second), and what we measure here is what callers hear.

Loudness target: -18 LUFS (ITU-R BS.1770 integrated loudness, measured with pyloudnorm).
Every file sits at the same level so a caller never has to reach for the volume between a
prompt and a leaflet part. -18 is towards the loud end of what is usual for telephone prompts,
because many callers are hard of hearing and listen on a handset, on a line that is not
heard at its best; but eSpeak's speech is peaky (peak-to-loudness ratio 18-20.5 dB measured on
the seed leaflet), so at -18 about 0.05 % of samples would pass mu-law full scale. Those rare
peaks are held down by a short look-ahead limiter (5 ms attack and release, numpy only) and
the level re-measured, instead of clipping. Going louder (-16) would make the limiter work on
every plosive and start to sound squashed; going quieter loses the hard-of-hearing caller.

Short prompts. BS.1770 gates over 400 ms blocks, and pyloudnorm refuses signals shorter than
one block ("Audio must have length greater than the block size"). A clip shorter than that is
measured by repeating it end to end to a few blocks: a periodic repetition has the same mean
square as the clip, so its loudness is the clip's own.

Trimming. Leading and trailing silence are cut to :data:`LEAD_IN_S` / :data:`TAIL_S` (well
under the 250 ms the line allows), measured in 10 ms frames against a floor 45 dB below the
loudest frame, with 5 ms fades so the cut never clicks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# numpy, soundfile, soxr and pyloudnorm are imported by the functions that process audio: the
# constants and AudioError here are needed by the web workers and `ivr render` with nothing to do.

__all__ = [
    "LEAD_IN_S",
    "OUTPUT_FORMAT",
    "PROCESSING_VERSION",
    "SAMPLE_RATE",
    "TAIL_S",
    "TARGET_LUFS",
    "AudioError",
    "ProcessedAudio",
    "loudness",
    "process_file",
    "speech_bounds",
]

SAMPLE_RATE = 8000
OUTPUT_FORMAT = "wav/ulaw/8000/mono"
TARGET_LUFS = -18.0
LEAD_IN_S = 0.10
TAIL_S = 0.15
_FLOOR_DB = -45.0  # relative to the loudest 10 ms frame: below this is silence
_FRAME_S = 0.010
_FADE_S = 0.005
_PEAK_CEILING = 0.95  # under mu-law full scale (32124 / 32768 = 0.980), with room for rounding
_LIMITER_S = 0.005
# Bump when any processing step or constant above changes: it is part of every cache key.
PROCESSING_VERSION = (
    f"3:{OUTPUT_FORMAT}:{TARGET_LUFS}:{LEAD_IN_S}:{TAIL_S}:{_FLOOR_DB}:{_PEAK_CEILING}:{_LIMITER_S}:soxr-hq"
)


class AudioError(Exception):
    """The synthesised audio cannot be turned into a telephone file (unreadable, silent)."""


@dataclass(frozen=True)
class ProcessedAudio:
    duration: float  # seconds
    loudness: float  # LUFS before encoding


def _frame_rms_db(samples: np.ndarray, rate: int) -> np.ndarray:
    import numpy as np

    frame = max(1, round(_FRAME_S * rate))
    count = len(samples) // frame
    frames = samples[: count * frame].reshape(count, frame).astype(np.float64)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def speech_bounds(samples: np.ndarray, rate: int, floor_db: float = _FLOOR_DB) -> tuple[int, int] | None:
    """Sample indices [start, end) from the first to the last 10 ms frame louder than
    ``floor_db`` below the loudest frame; None when there is no sound at all."""
    import numpy as np

    levels = _frame_rms_db(samples, rate)
    if len(levels) == 0 or levels.max() <= -100:
        return None
    loud = np.flatnonzero(levels > levels.max() + floor_db)
    frame = max(1, round(_FRAME_S * rate))
    return int(loud[0] * frame), int((loud[-1] + 1) * frame)


def loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness (LUFS, BS.1770 via pyloudnorm); clips under one 400 ms block are
    measured by repetition (see the module docstring). -inf for digital silence."""
    import numpy as np
    import pyloudnorm  # with scipy.signal, 2 s

    meter = pyloudnorm.Meter(rate)
    block = int(meter.block_size * rate)
    if len(samples) == 0:
        return float("-inf")
    if len(samples) <= 3 * block:
        samples = np.tile(samples, 3 * block // len(samples) + 1)
    return float(meter.integrated_loudness(samples.astype(np.float64)))


def _trim(samples: np.ndarray, rate: int) -> np.ndarray:
    import numpy as np

    bounds = speech_bounds(samples, rate)
    if bounds is None:
        raise AudioError("the synthesised audio is silent")
    start = max(0, bounds[0] - round(LEAD_IN_S * rate))
    end = min(len(samples), bounds[1] + round(TAIL_S * rate))
    trimmed = samples[start:end].copy()
    fade = min(round(_FADE_S * rate), len(trimmed) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=trimmed.dtype)
        trimmed[:fade] *= ramp
        trimmed[-fade:] *= ramp[::-1]
    return trimmed


def _limit(samples: np.ndarray, rate: int, ceiling: float = _PEAK_CEILING) -> np.ndarray:
    """Hold every sample under ``ceiling`` with a smooth gain dip around each hot peak.

    The needed gain is held at its minimum over +-5 ms, then averaged over a window no
    wider, so the gain at each peak is never above what that peak needs.
    """
    import numpy as np

    need = np.minimum(1.0, ceiling / np.maximum(np.abs(samples), 1e-12))
    if need.min() >= 1.0:
        return samples
    half = max(1, round(_LIMITER_S * rate))
    width = 2 * half + 1
    held = np.lib.stride_tricks.sliding_window_view(np.pad(need, half, mode="edge"), width).min(axis=1)
    smooth = np.convolve(np.pad(held, half, mode="edge"), np.full(width, 1.0 / width), mode="valid")
    return (samples * np.minimum(smooth, need)).astype(samples.dtype)


def _normalise(samples: np.ndarray, rate: int) -> tuple[np.ndarray, float]:
    """Gain to the target loudness, limiting rare peaks; returns the audio and its loudness.

    Limiting lowers the loudness a hair, so gain and limiting repeat until within 0.05 LU
    (two rounds in practice). Raises AudioError for silence.
    """
    import numpy as np

    out = samples
    measured = loudness(out, rate)
    for _ in range(4):
        if not np.isfinite(measured):
            raise AudioError("the synthesised audio is silent")
        out = _limit(out * np.float32(10 ** ((TARGET_LUFS - measured) / 20)), rate)
        measured = loudness(out, rate)
        if abs(measured - TARGET_LUFS) < 0.05:
            break
    return out, measured


def process_file(source: Path, target: Path) -> ProcessedAudio:
    """Turn eSpeak's WAV ``source`` into the telephone file ``target``, written atomically
    (a temporary name in the same folder, then renamed).

    Raises AudioError when the source is unreadable or silent; OSError when ``target``
    cannot be written.
    """
    import numpy as np
    import soundfile
    import soxr

    try:
        samples, rate = soundfile.read(source, dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"cannot read the synthesised audio: {exc}") from exc
    mono = samples.mean(axis=1)
    if rate != SAMPLE_RATE:
        mono = soxr.resample(mono, rate, SAMPLE_RATE, quality="HQ").astype(np.float32)
    trimmed = _trim(mono, SAMPLE_RATE)
    out, measured = _normalise(trimmed, SAMPLE_RATE)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        soundfile.write(partial, out, SAMPLE_RATE, subtype="ULAW", format="WAV")
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
    return ProcessedAudio(duration=len(out) / SAMPLE_RATE, loudness=measured)
