"""The keypad map (``ivr/prompts/keys.yaml``): which key does what, and how each key is said.

Reviewed by people who are not programmers; the call engine reads it instead of holding keys in
code. :data:`ACTIONS` is the one list of what each table must give a key to. :func:`load_keymap`
raises :class:`ContentError` naming the file and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.errors import ContentError
from ivr.prompts import PROMPTS_DIR

__all__ = ["ACTIONS", "KEYMAP_PATH", "KEYPAD", "NUMBERED", "KeyMap", "load_keymap"]

KEYMAP_PATH = PROMPTS_DIR / "keys.yaml"
KEYPAD = "0123456789*#"
NUMBERED = "12345"  # the keys of a menu's numbered choices: never more than five
ACTIONS: dict[str, tuple[str, ...]] = {
    "everywhere": ("nurse", "back", "repeat", "slower", "help"),
    "menu": ("code", "text"),
    "reading": ("previous", "restart", "next", "back", "pause", "forward"),
    "answer": ("yes", "no"),
}


@dataclass(frozen=True)
class KeyMap:
    names: dict[str, str]  # key -> how it is said ("*" -> "star")
    everywhere: dict[str, str]  # action -> key
    menu: dict[str, str]
    reading: dict[str, str]
    answer: dict[str, str]
    path: Path

    def name(self, key: str) -> str:
        return self.names[key]

    @property
    def reading_keys(self) -> str:
        return "".join(self.reading.values())


def _table(data: dict[str, object], group: str, path: Path) -> dict[str, str]:
    table = data.get(group)
    if not isinstance(table, dict):
        raise ContentError(f"has no '{group}:' table of keys.", path=path)
    out: dict[str, str] = {}
    for action in ACTIONS[group]:
        key = str(table.get(action, ""))
        if len(key) != 1 or key not in KEYPAD:
            raise ContentError(
                f"{group}.{action} must be one key of {KEYPAD}, got {key!r}.", path=path,
                hint='Quote the key, e.g. back: "*".',
            )
        if key in out.values():
            raise ContentError(f"{group}: key {key!r} is given to two actions.", path=path)
        out[action] = key
    return out


def load_keymap(path: Path = KEYMAP_PATH) -> KeyMap:
    """Read and validate the key map; ContentError (with the file) when it is malformed: a key
    given to two actions that can be offered together, a numbered-choice key (1 to 5) taken by a
    key that works everywhere, or the nurse not on zero (callers are told 0 works anywhere)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"cannot be read as YAML ({exc}).", path=path) from exc
    if not isinstance(data, dict):
        raise ContentError("must be a mapping of tables (names, everywhere, menu, reading, answer).", path=path)
    names = data.get("names")
    if not isinstance(names, dict) or sorted(map(str, names)) != sorted(KEYPAD):
        raise ContentError("names: must say how each of the 12 keys is spoken.", path=path)
    everywhere, menu, reading, answer = (_table(data, group, path) for group in ACTIONS if group != "names")
    if everywhere["nurse"] != "0":
        raise ContentError('everywhere.nurse must be "0": callers are told 0 works anywhere.', path=path)
    for group, table in (("menu", menu), ("reading", reading)):
        for action, key in table.items():
            if key in everywhere.values():
                raise ContentError(f"{group}.{action} takes key {key!r}, which works everywhere.", path=path)
    for action in ("code", "text"):
        if menu[action] in NUMBERED:
            raise ContentError(f"menu.{action} must not be a key of the numbered choices (1 to 5).", path=path)
    for action, key in everywhere.items():
        if key in NUMBERED:
            raise ContentError(f"everywhere.{action} must not be a key of the numbered choices (1 to 5).", path=path)
    return KeyMap({str(k): str(v) for k, v in names.items()}, everywhere, menu, reading, answer, path)
