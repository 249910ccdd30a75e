"""The keypad map (``ivr/prompts/keys.yaml``): which key does what, and how each key is said.

Reviewed by people who are not programmers; the phone tree reads it instead of holding keys in
code. :func:`load_keymap` raises :class:`ContentError` naming the file and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.errors import ContentError
from ivr.prompts import PROMPTS_DIR

__all__ = ["KEYMAP_PATH", "KEYPAD", "KeyMap", "load_keymap"]

KEYMAP_PATH = PROMPTS_DIR / "keys.yaml"
KEYPAD = "0123456789*#"
MENU_ACTIONS = ("nurse", "back", "repeat", "more", "code")
READING_ACTIONS = ("restart", "rate", "back", "where", "forward", "previous", "next", "pause", "menu", "nurse")


@dataclass(frozen=True)
class KeyMap:
    names: dict[str, str]  # key -> how it is said ("*" -> "star")
    menu: dict[str, str]  # action -> key
    reading: dict[str, str]
    path: Path

    def name(self, key: str) -> str:
        return self.names[key]

    @property
    def all(self) -> str:
        return KEYPAD

    @property
    def reading_keys(self) -> str:
        return "".join(self.reading.values())


def _group(data: dict[str, object], group: str, actions: tuple[str, ...], path: Path) -> dict[str, str]:
    table = data.get(group)
    if not isinstance(table, dict):
        raise ContentError(f"has no '{group}:' table of keys.", path=path)
    out: dict[str, str] = {}
    for action in actions:
        key = str(table.get(action, ""))
        if len(key) != 1 or key not in KEYPAD:
            raise ContentError(
                f"{group}.{action} must be one key of {KEYPAD}, got {key!r}.", path=path,
                hint='Quote the key, e.g. back: "*".',
            )
        if key in out.values():
            raise ContentError(f"{group}: key {key!r} is given to two actions.", path=path)
        out[action] = key
    if out["nurse"] != "0":
        raise ContentError(f"{group}.nurse must be \"0\": callers are told 0 works anywhere.", path=path)
    return out


def load_keymap(path: Path = KEYMAP_PATH) -> KeyMap:
    """Read and validate the key map; ContentError (with the file) when it is malformed."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ContentError(f"cannot be read as YAML ({exc}).", path=path) from exc
    if not isinstance(data, dict):
        raise ContentError("must be a mapping of tables (names, menu, reading).", path=path)
    names = data.get("names")
    if not isinstance(names, dict) or sorted(map(str, names)) != sorted(KEYPAD):
        raise ContentError("names: must say how each of the 12 keys is spoken.", path=path)
    menu = _group(data, "menu", MENU_ACTIONS, path)
    reading = _group(data, "reading", READING_ACTIONS, path)
    if menu["more"] in "1234567" or menu["code"] in "1234567":
        raise ContentError("menu.more and menu.code must not be keys that menu choices use (1 to 7).", path=path)
    return KeyMap({str(k): str(v) for k, v in names.items()}, menu, reading, path)
