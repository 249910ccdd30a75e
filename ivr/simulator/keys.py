"""Where a simulated caller's key presses come from: a script, or the terminal.

Each <Gather> asks the key source for a :class:`Listener`. The caller runner tells the listener
after each nested <Say>/<Play> has been heard (``after``: keys pressed then act at once, so the
rest is not heard: barge-in), and when all of it has been heard (``wait``: keys pressed before the
Gather's timeout, or None for silence).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol, TextIO

__all__ = [
    "AlwaysKeys",
    "CallerHangsUp",
    "GatherInfo",
    "KeySource",
    "Listener",
    "PressAfterAll",
    "ScriptedKeys",
    "TerminalKeys",
    "parse_keys",
    "spoken",
]

VALID_KEYS = frozenset("0123456789*#")
SAY = "say:"  # an entry that is words, not keys: "say:side effects", or with Twilio's confidence "say:side effects@0.4"
DEFAULT_CONFIDENCE = 0.9


def spoken(entry: str | None) -> tuple[str, float] | None:
    """(words, confidence) of a spoken entry ("say:side effects@0.4"), or None for keys."""
    if not entry or not entry.startswith(SAY):
        return None
    words, at, confidence = entry[len(SAY):].rpartition("@")
    if not at:
        return entry[len(SAY):].strip(), DEFAULT_CONFIDENCE
    try:
        return words.strip(), min(max(float(confidence), 0.0), 1.0)
    except ValueError:
        return entry[len(SAY):].strip(), DEFAULT_CONFIDENCE


class CallerHangsUp(Exception):
    """The caller puts the phone down (``q``, or a script that has run out)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class GatherInfo:
    num_digits: int | None
    finish_on_key: str
    timeout: float
    leg: str = "caller"
    speech: bool = False  # words are listened for too


class Listener(Protocol):
    def after(self, heard: object) -> str | None: ...
    def wait(self) -> str | None: ...


class KeySource(Protocol):
    def listen(self, gather: GatherInfo) -> Listener:
        """A listener for this Gather; raises CallerHangsUp when the caller hangs up instead."""
        ...


def parse_keys(text: str) -> list[str | None]:
    """``"1,,6,12#,say:side effects"`` -> ["1", None, "6", "12#", "say:side effects"]; an empty entry
    is silence, ``say:words`` is words said instead of keys (``say:words@0.4``: heard with that
    confidence).

    Raises ValueError naming the first entry holding anything but 0-9, * and #, or empty words.
    """
    entries: list[str | None] = []
    for raw in text.split(","):
        entry = raw.strip()
        words = spoken(entry)
        if words is not None:
            if not words[0]:
                raise ValueError(f"{entry!r} says nothing: write the words after say:, e.g. say:side effects")
            entries.append(entry)
            continue
        if any(ch not in VALID_KEYS for ch in entry):
            raise ValueError(f"{entry!r} is not keypad keys (use 0-9, * and #, or say:words; an empty entry is "
                             "silence)")
        entries.append(entry or None)
    return entries


class _Scripted:
    def __init__(self, keys: str | None) -> None:
        self.keys = keys
        self.given = False

    def after(self, heard: object) -> str | None:
        if self.keys and not self.given:
            self.given = True
            return self.keys
        return None

    def wait(self) -> str | None:
        return None if self.given else self.keys


class ScriptedKeys:
    """Keys from a list: each Gather takes the next entry; None or "" is silence.

    Keys are pressed once the first nested verb has been heard (barge-in), or after all of
    it when the Gather has nothing nested. When the list runs out the caller hangs up.
    """

    def __init__(self, keys: Iterable[str | None]) -> None:
        self.remaining: list[str | None] = list(keys)

    def listen(self, gather: GatherInfo) -> Listener:
        if not self.remaining:
            raise CallerHangsUp("no more scripted keys")
        return _Scripted(self.remaining.pop(0) or None)


class AlwaysKeys:
    """The same keys at every Gather (the simulated nurse: "1" to accept, None for voicemail)."""

    def __init__(self, keys: str | None) -> None:
        self.keys = keys

    def listen(self, gather: GatherInfo) -> Listener:
        return PressAfterAll(self.keys)


class PressAfterAll:
    """Press only after hearing everything (a nurse listens to the whole whisper)."""

    def __init__(self, keys: str | None) -> None:
        self.keys = keys

    def after(self, heard: object) -> str | None:
        return None

    def wait(self) -> str | None:
        return self.keys


KEYPAD_HINT = "keypad: 1 2 3 / 4 5 6 / 7 8 9 / * 0 #   (Enter: say nothing, q: hang up)"


class TerminalKeys:
    """Keys typed at the terminal, one key press at a time (or a line at a time when stdin is
    not a terminal). Enter alone is silence; ``q`` hangs up."""

    def __init__(self, stdin: TextIO | None = None, stdout: TextIO | None = None) -> None:
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout

    def listen(self, gather: GatherInfo) -> Listener:
        return _Terminal(self, gather)

    def read_key(self) -> str:
        """One key press, without waiting for Enter on a real terminal."""
        if not self.stdin.isatty():
            return self.stdin.read(1) or "q"  # end of input hangs up
        import termios
        import tty

        fd = self.stdin.fileno()
        saved = termios.tcgetattr(fd)
        try:
            tty.setcbreak(fd)
            return self.stdin.read(1)
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)


class _Terminal:
    def __init__(self, source: TerminalKeys, gather: GatherInfo) -> None:
        self.source = source
        self.gather = gather

    def after(self, heard: object) -> str | None:
        return None  # without audio playing there is nothing to interrupt

    def wait(self) -> str | None:
        out = self.source.stdout
        limit = self.gather.num_digits
        wanted = "a key" if limit == 1 else f"{limit} keys" if limit else "keys"
        speech = " (or s, then type what you say)" if self.gather.speech else ""
        out.write(f"           {KEYPAD_HINT}\n           press {wanted}{speech} > ")
        out.flush()
        pressed: list[str] = []
        while True:
            key = self.source.read_key()
            if key in ("q", "Q"):
                out.write("q\n")
                raise CallerHangsUp("you hung up")
            if key in ("\n", "\r", " "):
                break
            if key in ("s", "S") and self.gather.speech and not pressed:
                out.write("\n           say > ")
                out.flush()
                words = self.source.stdin.readline().strip()
                return SAY + words if words else None
            if key not in VALID_KEYS:
                continue
            out.write(key)
            out.flush()
            pressed.append(key)
            if key in self.gather.finish_on_key or (limit is not None and len(pressed) >= limit):
                break
        out.write("\n")
        return "".join(pressed) or None
