"""One text -> one WAV file, with pyttsx3 driving eSpeak NG (its ``espeak`` driver on Linux).

pyttsx3 2.99's eSpeak driver synthesises on eSpeak's own thread, and ``runAndWait()`` can
return before the file is written (it ends its loop as soon as the queue is drained). So
:class:`Synthesiser` waits for the engine's ``finished-utterance`` notification, with a
timeout, and checks that the file exists. The engine also swallows errors raised by its
queued commands (an unknown voice is silently ignored): voices are therefore checked against
the engine's own list, and ``error`` notifications are turned into exceptions.

eSpeak is initialised once per process and cannot be re-initialised, and long loops have
been seen to hang or leak: :mod:`ivr.speech.render` runs a Synthesiser in worker processes
and replaces them regularly; nothing else in the line imports pyttsx3.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import importlib.metadata
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivr.speech.manifest import Rate

__all__ = [
    "PROMPT_RATE_SETTINGS",
    "RATE_SETTINGS",
    "SynthesisError",
    "Synthesiser",
    "engine_version",
    "rate_setting",
]

# pyttsx3 ``rate`` property (eSpeak's nominal words a minute) for each speaking rate.
# Calibrated on the seed leaflet (cryotherapy-for-kidney-cancer: 14 parts, 374 words) with
# voice gmw/en-gb-x-rp, eSpeak NG 1.51, pyttsx3 2.99, by timing the finished telephone files
# (8 kHz, trimmed) against the words of their text. Measured words a minute by setting:
#   105 -> 107.9   110 -> 113.2   115 -> 118.0   120 -> 123.2          (slow: 110-125)
#   145 -> 148.8   150 -> 153.8   155 -> 159.0   160 -> 164.3          (normal: 150-165)
# The settings below sit mid-range. tests/test_speech_render.py re-measures on every run.
RATE_SETTINGS: dict[Rate, int] = {"normal": 155, "slow": 115}
# The line's own prompts are short sentences of short words ("For side effects, press 4."), which
# eSpeak says faster for the same setting: at 155 they measured 177 words a minute against the
# leaflet's 161. Callers must never hear the line hurry (caller-safety contract, item 8), so
# prompts are rendered with a lower setting, measured to come out no faster than the leaflet:
#   normal 140 -> 158 words a minute (median over the prompts), slow 104 -> 117.
PROMPT_RATE_SETTINGS: dict[Rate, int] = {"normal": 140, "slow": 104}


# A rendered text whose words a minute fall outside these multiples of the rate setting was not
# spoken at that rate: seen once in CI, a slow part came out at eSpeak's default rate. Parts
# differ from the setting by up to about 1.45x (short sentences of short words); a text of
# fewer words is too short to judge. A slow part at the default rate measured 1.75x.
RATE_TOLERANCE = (0.5, 1.6)
SUSPECT_RATE = 1.3  # faster than this multiple of the setting: said once more (see Synthesiser.render)
RATE_CHECK_MIN_WORDS = 12
SYLLABLES_PER_WORD = 1.5  # in ordinary English prose; what eSpeak's words-a-minute assume
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


class SynthesisError(Exception):
    """eSpeak could not render a text (unknown voice, engine error, no file within the timeout)."""


def rate_setting(rate: Rate, *, prompt: bool = False) -> int:
    """The pyttsx3 rate property for a speaking rate (``prompt``: for the line's own prompts);
    KeyError for an unknown rate name."""
    return (PROMPT_RATE_SETTINGS if prompt else RATE_SETTINGS)[rate]


@functools.cache
def engine_version() -> str:
    """``pyttsx3 <version>; eSpeak NG <version>``, read from the library pyttsx3 loads.

    Part of every cache key, so upgrading either re-renders everything. Raises RuntimeError
    (from pyttsx3) when the eSpeak NG library cannot be loaded: it is not installed.
    """
    from pyttsx3.drivers import _espeak  # loads libespeak-ng without initialising it

    raw = _espeak.Info(None)
    espeak = raw.decode("utf-8", "replace").strip() if raw else "unknown"
    return f"pyttsx3 {importlib.metadata.version('pyttsx3')}; eSpeak NG {espeak}"


@dataclass
class _Wait:
    done: threading.Event
    error: BaseException | None = None


class Synthesiser:
    """A pyttsx3 engine in this process, rendering one text at a time to 16-bit WAV files.

    Not thread-safe; make one per process (eSpeak can only be initialised once per process).
    """

    def __init__(self) -> None:
        import pyttsx3

        self._engine: Any = pyttsx3.init("espeak")
        self._voices = {voice.id for voice in self._engine.getProperty("voices")}
        self._wait: _Wait | None = None
        self._engine.connect("finished-utterance", self._on_finished)
        self._engine.connect("error", self._on_error)

    def voices(self) -> set[str]:
        """Voice ids this engine offers (e.g. ``gmw/en-gb-x-rp``)."""
        return set(self._voices)

    def _on_finished(self, name: object = None, completed: bool = True) -> None:
        if self._wait is not None:
            if not completed:
                self._wait.error = SynthesisError("eSpeak stopped before the end of the text")
            self._wait.done.set()

    def _on_error(self, name: object = None, exception: BaseException | None = None) -> None:
        if self._wait is not None:
            self._wait.error = exception or SynthesisError("eSpeak reported an error")
            self._wait.done.set()

    @staticmethod
    def _until_idle(deadline: float) -> None:
        from pyttsx3.drivers import _espeak

        while _espeak.IsPlaying():
            if time.monotonic() > deadline:
                raise SynthesisError("eSpeak stayed busy with an earlier text")
            time.sleep(0.001)  # polling the engine's own state; it offers no idle notification

    def render(self, text: str, path: Path, *, voice: str, rate: int, timeout: float = 60.0) -> None:
        """Render ``text`` to the WAV file ``path`` (eSpeak's 22050 Hz, 16-bit, mono).

        Raises SynthesisError for an empty text, a voice eSpeak does not have (naming the
        close ones), an engine error, or no finished file within ``timeout`` seconds.
        """
        if not text.strip():
            raise SynthesisError("nothing to say: the text is empty")
        if voice not in self._voices:
            near = difflib.get_close_matches(voice, sorted(self._voices), n=5, cutoff=0.6)
            raise SynthesisError(
                f"eSpeak NG has no voice {voice!r}"
                + (f"; close ones: {', '.join(near)}" if near else "; see `espeak-ng --voices`")
            )
        self._render_once(text, path, voice=voice, rate=rate, timeout=timeout)
        spoken = _spoken_rate(text, path)
        if spoken is not None and spoken > SUSPECT_RATE * rate:
            # Faster than even short words explain: perhaps said at an earlier setting (seen in CI:
            # a slow part at 200, pyttsx3's starting rate). Said again, the slower one is kept.
            again = path.with_name(f"{path.stem}.again{path.suffix}")
            self._render_once(text, again, voice=voice, rate=rate, timeout=timeout)
            if (_spoken_rate(text, again) or spoken) < spoken / 1.1:
                os.replace(again, path)
            else:
                again.unlink()
        _check_rate(text, path, rate)

    def _render_once(self, text: str, path: Path, *, voice: str, rate: int, timeout: float) -> None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        deadline = time.monotonic() + timeout
        self._wait = _Wait(threading.Event())
        try:
            self._engine.setProperty("voice", voice)
            self._engine.setProperty("rate", rate)
            self._engine.save_to_file(text, os.fspath(path))
            # eSpeak queues parameter changes on its own thread and reports itself "playing"
            # until they are applied; runAndWait would then cancel the text it is about to say.
            self._until_idle(deadline)
            # The driver prints "Audio saved to ..." from eSpeak's thread: keep stdout clean.
            with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
                self._engine.runAndWait()
                finished = self._wait.done.wait(max(0.0, deadline - time.monotonic()))
            if not finished:
                raise SynthesisError(f"eSpeak did not finish within {timeout:g} s")
            if self._wait.error is not None:
                raise SynthesisError(f"eSpeak failed: {self._wait.error}") from self._wait.error
        finally:
            self._wait = None
        if not path.exists() or path.stat().st_size <= 44:
            raise SynthesisError("eSpeak finished but wrote no audio")


def _spoken_rate(text: str, path: Path) -> float | None:
    """The file's words a minute, counted in average-length words; None for a text too short to judge."""
    import soundfile

    words = text.split()
    if len(words) < RATE_CHECK_MIN_WORDS:
        return None
    return sum(_syllables(word) for word in words) / SYLLABLES_PER_WORD / soundfile.info(os.fspath(path)).duration * 60


def _check_rate(text: str, path: Path, rate: int) -> None:
    """SynthesisError when the file's speaking rate shows the rate setting was not applied."""
    spoken = _spoken_rate(text, path)
    if spoken is None:
        return
    # eSpeak's rate is in words of average length: a sentence of short words ("You can press a
    # key as soon as you hear the choice you want") is spoken at more words a minute than the
    # setting. Count in average words (syllables / SYLLABLES_PER_WORD) so length is not mistaken
    # for a rate left unapplied.
    low, high = RATE_TOLERANCE
    if not low * rate <= spoken <= high * rate:
        raise SynthesisError(f"spoke at {spoken:.0f} words a minute, not about {rate}: the rate setting was not applied")


def _syllables(word: str) -> int:
    """Roughly how many syllables ``word`` has: its vowel groups, less a silent final e (at least 1;
    digits count one a character, as eSpeak says each)."""
    word = word.lower()
    digits = sum(c.isdigit() for c in word)
    letters = "".join(c for c in word if c.isalpha())
    groups = len(_VOWEL_GROUPS.findall(letters))
    if letters.endswith("e") and not letters.endswith(("le", "ee")) and groups > 1:
        groups -= 1
    return max(1, groups + digits)
