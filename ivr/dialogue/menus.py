"""What a menu offers, as data: its choices, what each does, and where "back" goes.

Both flows (:mod:`ivr.dialogue.leaflets`, :mod:`ivr.dialogue.nurse`) describe their menus with
these; the engine turns a :class:`Menu` into a :class:`~ivr.dialogue.steps.Step` with the keys
that work everywhere, and answers keys, words and silence the same way in every menu.
"""

from __future__ import annotations

from dataclasses import dataclass

from ivr.dialogue.steps import Choice, Position, Save, SendText
from ivr.prompts import Utterance

__all__ = ["Go", "Menu", "Option"]


@dataclass(frozen=True)
class Go:
    """Enter ``position``, first saying ``prefix`` (``brief``: without the menu's heading)."""

    position: Position
    prefix: tuple[Utterance, ...] = ()
    brief: bool = False


@dataclass(frozen=True)
class Option:
    """One offered choice: the key (and words), how it is offered, and what it does (go somewhere,
    or store a request first, or send a text)."""

    choice: Choice
    said: Utterance | None  # None: works but is not announced (e.g. a reading key at a section's end)
    go: Go | Save | SendText


@dataclass(frozen=True)
class Menu:
    """A menu: ``header`` (its title, left out when brief), ``options`` in the order offered,
    ``trailer`` said after them, where ``back`` goes (None: nowhere further back), and ``help``:
    what key 9 adds about this menu."""

    header: tuple[Utterance, ...]
    options: tuple[Option, ...]
    back: Go | None
    trailer: tuple[Utterance, ...] = ()
    help: tuple[Utterance, ...] = ()

    def option(self, key: str) -> Option | None:
        return next((option for option in self.options if option.choice.key == key), None)
