"""Call state that travels in the nurse line's URLs, and the menus it offers.

Stateless: the caller's place in the leaflet (``l``, ``s``, ``p``, ``r``), why they were not
put through (``w`` = busy / closed), which menu they are in (``m``) and how many times they
were silent (``n``) are all query parameters, so any worker can answer any request. Tampered
values are dropped, never trusted: an unknown leaflet becomes "no position".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from ivr.content.catalogue import Catalogue
from ivr.speech.manifest import Rate

__all__ = ["MENU_KEYS", "MENU_OPTIONS", "CallState", "Position"]

# What each key does in each menu. As everywhere in the phone tree (prompts/keys.yaml),
# "*" goes back and "#" repeats the choices; 0 is the nurses.
_COMMON = {"*": "back", "#": "repeat"}
MENU_KEYS: dict[str, dict[str, str]] = {
    "options": {"1": "message", "2": "callback", "3": "back", "0": "nurse"} | _COMMON,
    "message_failed": {"1": "save_again", "3": "back", "0": "nurse"} | _COMMON,
    "callback_failed": {"1": "callback", "3": "back", "0": "nurse"} | _COMMON,
    "saved": {"3": "back"} | _COMMON,
}
# The prompts that offer each menu's keys ("back" and "again" depend on the call: see CallState).
MENU_OPTIONS: dict[str, tuple[str, ...]] = {
    "options": ("nurse.options.message", "nurse.options.callback", "back", "again"),
    "message_failed": ("nurse.message.retry", "back", "again"),
    "callback_failed": ("nurse.callback.retry", "back", "again"),
    "saved": ("saved",),
}


def _small_int(text: str | None, low: int, high: int) -> int | None:
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 4:  # "²" is isdigit()
        return None
    value = int(text)
    return value if low <= value <= high else None


@dataclass(frozen=True)
class Position:
    """Where the caller was in a leaflet when they pressed 0 (all optional)."""

    leaflet: str | None = None
    section: int | None = None
    part: int | None = None
    rate: Rate = "normal"

    @classmethod
    def from_args(cls, args: Mapping[str, str], catalogue: Catalogue) -> Position:
        """The position in ``args`` (l, s, p, r), keeping only what names a real leaflet and section."""
        rate: Rate = "slow" if args.get("r") == "slow" else "normal"
        leaflet = catalogue.by_slug(args.get("l") or "")
        if leaflet is None:
            return cls(rate=rate)
        section = _small_int(args.get("s"), 0, 999)
        if section is None or leaflet.section(section) is None:
            return cls(leaflet.slug, rate=rate)
        return cls(leaflet.slug, section, _small_int(args.get("p"), 1, 9999), rate)

    def args(self) -> dict[str, str]:
        out = {"l": self.leaflet, "s": self.section, "p": self.part}
        return {key: str(value) for key, value in out.items() if value is not None} | {"r": self.rate}

    def back_url(self, script_root: str = "") -> str:
        """Where "go back" leads: reading resumes at this part, or the main menu without a section."""
        if self.leaflet is None or self.section is None:
            return f"{script_root}/voice/menu?" + urlencode({"r": self.rate})
        args = {"l": self.leaflet, "s": self.section, "p": self.part or 1, "r": self.rate}
        return f"{script_root}/voice/read?" + urlencode(args)

    @property
    def has_section(self) -> bool:
        return self.section is not None


@dataclass(frozen=True)
class CallState:
    """Everything a nurse-line request needs to know about the call, from its URL."""

    position: Position
    reason: str = "busy"  # why the caller was not put through: "busy" or "closed"
    menu: str = "options"
    silences: int = 0
    recording: tuple[str, str, str] | None = None  # (sid, url, seconds): a message to save again

    @classmethod
    def from_args(cls, args: Mapping[str, str], catalogue: Catalogue) -> CallState:
        recording = None
        if args.get("rs") and args.get("ru"):
            recording = (args["rs"][:64], args["ru"][:500], str(_small_int(args.get("rd"), 0, 86400) or 0))
        menu = args.get("m") or "options"
        return cls(
            Position.from_args(args, catalogue),
            reason="closed" if args.get("w") == "closed" else "busy",
            menu=menu if menu in MENU_KEYS else "options",
            silences=_small_int(args.get("n"), 0, 9) or 0,
            recording=recording,
        )

    def args(self, **changes: object) -> dict[str, str]:
        """Query parameters for the next URL, with ``changes`` (menu=, silences=, recording=) applied."""
        state = replace(self, **changes)  # type: ignore[arg-type]
        out = state.position.args() | {"w": state.reason, "m": state.menu, "n": str(state.silences)}
        if state.recording is not None:
            out |= dict(zip(("rs", "ru", "rd"), state.recording, strict=True))
        return out

    def option_prompts(self) -> list[str]:
        """Prompt ids offering this menu's keys: "back" names the leaflet or the main menu, and
        "try the nurses again" is offered only when they were busy (not when closed)."""
        ids = []
        for item in MENU_OPTIONS[self.menu]:
            if item == "back":
                ids.append("nurse.options.back_leaflet" if self.position.has_section else "nurse.options.back_menu")
            elif item == "again":
                if self.reason == "busy":
                    ids.append("nurse.options.again")
            elif item == "saved":
                ids.append("nurse.after_saved" if self.position.has_section else "nurse.after_saved_menu")
            else:
                ids.append(item)
        return ids
