"""``ivr call --play``: play what the caller hears through a local audio player, if there is one.

In interactive mode a key pressed while a file plays stops it and acts at once (barge-in).
"""

from __future__ import annotations

import select
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TextIO

from ivr.simulator.keys import VALID_KEYS, CallerHangsUp
from ivr.simulator.transcript import Event

__all__ = ["LocalPlayer", "find_player"]

_PLAYERS = (
    ("aplay", ["-q"]),
    ("play", ["-q"]),
    ("ffplay", ["-nodisp", "-autoexit", "-loglevel", "quiet"]),
)


def find_player() -> list[str] | None:
    """The command line of the first audio player installed (aplay, play, ffplay), or None."""
    for name, arguments in _PLAYERS:
        path = shutil.which(name)
        if path:
            return [path, *arguments]
    return None


class LocalPlayer:
    """An ``audio_out`` for simulate_call: plays each <Play> file; <Say> has no audio to play."""

    def __init__(self, command: list[str], *, interactive: bool, stdin: TextIO | None = None,
                 warn: TextIO | None = None) -> None:
        self.command = command
        self.interactive = interactive
        self.stdin = stdin or sys.stdin
        self.warn = warn or sys.stderr
        self.working = True
        self.folder = Path(tempfile.mkdtemp(prefix="ivr-call-"))

    def __call__(self, event: Event, data: bytes | None) -> str | None:
        if not data or not self.working:
            return None
        path = self.folder / "heard.wav"
        path.write_bytes(data)
        process = subprocess.Popen([*self.command, str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        key = self._wait(process)
        if key is None and process.returncode not in (0, None):
            self.working = False  # e.g. no sound device: say so once, then carry on silently
            lines = process.stderr.read().decode(errors="replace").strip().splitlines() if process.stderr else []
            reason = lines[0][:160] if lines else ""
            self.warn.write(f"(cannot play audio with {Path(self.command[0]).name}: {reason or 'it failed'})\n")
        return key

    def _wait(self, process: subprocess.Popen[bytes]) -> str | None:
        """Wait for the player to finish, or for a key press that interrupts it."""
        if not (self.interactive and self.stdin.isatty()):
            process.wait()
            return None
        import termios
        import tty

        fd = self.stdin.fileno()
        saved = termios.tcgetattr(fd)
        try:
            tty.setcbreak(fd)
            while process.poll() is None:
                ready, _, _ = select.select([self.stdin], [], [], 0.1)
                if not ready:
                    continue
                key = self.stdin.read(1)
                if key in ("q", "Q"):
                    process.terminate()
                    raise CallerHangsUp("you hung up")
                if key in VALID_KEYS:
                    process.terminate()
                    process.wait()
                    return key
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        return None
