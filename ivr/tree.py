"""The phone tree as pure data: a position and a key give the next :class:`Step`. No Flask, no Twilio.

A :class:`Position` is everything the line needs to know about a call (leaflet, section, part,
speech rate, whole-leaflet mode, menu page, silence and wrong-key counts); it travels in the
action URLs (:meth:`Position.params` / :meth:`Position.from_params`), so any worker can answer
any request. A :class:`Step` says what to speak, whether keys are listened for while speaking
(barge-in) and what happens after it when no key comes (:data:`Outcome`). ``ivr.twiml`` turns a
step into TwiML. Every sentence comes from the prompts files, every key from ``keys.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ivr.content.catalogue import Catalogue
from ivr.content.speech_text import SpeechLeaflet
from ivr.findings import Finding
from ivr.keymap import KeyMap, load_keymap
from ivr.prompts import Prompts, Utterance
from ivr.speech.manifest import Rate

__all__ = [
    "PAUSE_CYCLES",
    "Enter",
    "HangUp",
    "Listen",
    "Outcome",
    "Position",
    "Silence",
    "Step",
    "ToNurse",
    "Tree",
    "check_tree",
    "spoken_utterances",
]

Kind = Literal["leaflets", "sections", "read", "pause", "end", "code"]
KINDS: tuple[Kind, ...] = ("leaflets", "sections", "read", "pause", "end", "code")
PAGE = 5  # at most this many leaflets (or sections) are offered at once
MENU_TIMEOUT = 5  # seconds of silence after a menu before the no-input path (Twilio's default)
PART_TIMEOUT = 1  # seconds between parts while reading: a paragraph pause that still takes keys
PAUSE_CYCLES = 18  # "still paused" reminders (about 2 minutes) before the no-input ending
MAX_COUNT = 3  # counters are clamped: the tree stays finite


@dataclass(frozen=True)
class Position:
    """Where a call is. Defaults are left out of URLs; parsing never fails (see from_params)."""

    kind: Kind = "leaflets"
    slug: str = ""
    section: int = 0
    part: int = 1
    rate: Rate = "normal"
    whole: bool = False  # reading the whole leaflet (carry on after each section)
    page: int = 0
    quiet: int = 0  # no-input timeouts in a row here
    wrong: int = 0  # wrong keys in a row here

    def params(self) -> dict[str, str]:
        """URL query parameters: l, s, p, r as in the URL contract, plus k, w, pg, q, x."""
        out = {"k": self.kind}
        if self.slug:
            out["l"] = self.slug
        if self.kind in ("read", "pause", "end"):
            out.update(s=str(self.section), p=str(self.part), r=self.rate)
            if self.whole:
                out["w"] = "1"
        elif self.rate != "normal":
            out["r"] = self.rate
        for name, value in (("pg", self.page), ("q", self.quiet), ("x", self.wrong)):
            if value:
                out[name] = str(value)
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, str], *, kind: Kind | None = None) -> Position:
        """A position from URL parameters, tolerant of junk: bad values become defaults.

        Never raises; whether the leaflet, section and part exist is settled by :meth:`Tree.settle`.
        """

        def number(name: str, default: int) -> int:
            text = params.get(name, "")
            # ASCII digits only: "²" is isdigit() but not int()-able, "--5" strips to digits.
            digits = text.removeprefix("-")
            return int(text) if digits.isascii() and digits.isdigit() and len(text) < 6 else default

        given = params.get("k", "")
        chosen: Kind = kind or next((k for k in KINDS if k == given), "read" if "l" in params else "leaflets")
        rate: Rate = "slow" if params.get("r") == "slow" else "normal"
        return cls(
            kind=chosen, slug=params.get("l", "")[:100], section=number("s", 1 if chosen == "read" else 0),
            part=number("p", 1), rate=rate, whole=params.get("w") == "1", page=max(0, number("pg", 0)),
            quiet=min(max(0, number("q", 0)), PAUSE_CYCLES + 2), wrong=min(max(0, number("x", 0)), MAX_COUNT),
        )


def replace(position: Position, **changes: Any) -> Position:
    """``dataclasses.replace`` for a Position, without its per-call look at the fields: exploring
    the tree (``ivr render``, ``ivr check``) makes tens of thousands. TypeError for a bad field."""
    return Position(**{**position.__dict__, **changes})


@dataclass(frozen=True)
class Enter:
    """Go on to this position (its step is spoken)."""

    position: Position


@dataclass(frozen=True)
class Silence:
    """The caller pressed nothing at this position."""

    position: Position


@dataclass(frozen=True)
class ToNurse:
    """Transfer to the nurse line; the position (if any) is passed on for the whisper and return."""

    position: Position | None


@dataclass(frozen=True)
class HangUp:
    """End the call (only after the goodbye)."""


Outcome = Enter | Silence | ToNurse | HangUp


@dataclass(frozen=True)
class Listen:
    """Keys are listened for while the step speaks (barge-in) and for ``timeout`` seconds after."""

    keys: str  # the keys that do something here; any other key is answered "not an option"
    timeout: int
    finish_on_key: str = ""  # "" so that # reaches the line; "#" for a code keyed in
    num_digits: int | None = 1  # None: any number of digits, ended by finish_on_key


@dataclass(frozen=True)
class Step:
    position: Position  # keys pressed during this step are answered for this position
    utterances: tuple[Utterance, ...]
    listen: Listen | None
    then: Outcome  # after the speech (and the listening time) when no key came


@dataclass(frozen=True)
class Go:
    """A menu choice: enter ``position``, first saying ``prefix``."""

    position: Position
    prefix: tuple[Utterance, ...] = ()


class Tree:
    """The phone tree for one catalogue and one set of prompts.

    Every method may raise PromptError when a prompt the tree needs is missing or takes other
    placeholders (``check_tree`` finds these before callers do); nothing else raises.
    """

    def __init__(self, catalogue: Catalogue, prompts: Prompts, keys: KeyMap | None = None) -> None:
        self.catalogue = catalogue
        self.prompts = prompts
        self.keys = keys or load_keymap()
        # by slug, the first leaflet with it (as Catalogue.by_slug): looked up at every step
        self._by_slug = {leaflet.slug: leaflet for leaflet in reversed(catalogue.leaflets)}

    # --- helpers -------------------------------------------------------------------------------
    def say(self, prompt_id: str, **params: object) -> Utterance:
        return self.prompts.say(prompt_id, **params)

    def key_says(self, prompt_id: str, key: str, **params: object) -> Utterance:
        return self.say(prompt_id, key=self.keys.name(key), **params)

    def top(self) -> Position:
        """The main menu: the leaflet menu, or the section menu of the only leaflet."""
        leaflets = self.catalogue.leaflets
        return Position("sections", slug=leaflets[0].slug) if len(leaflets) == 1 else Position("leaflets")

    def leaflet(self, position: Position) -> SpeechLeaflet | None:
        return self._by_slug.get(position.slug) if position.slug else None

    def settle(self, position: Position) -> Position:
        """The nearest sensible position to a tampered or stale one (unknown leaflet: main menu;
        missing section: that leaflet's menu; part out of range: the section's start or end)."""
        if position.kind in ("leaflets", "code"):
            if len(self.catalogue.leaflets) == 1:
                return self.top()
            pages = (len(self.catalogue.leaflets) - 1) // PAGE + 1
            return replace(position, slug="", page=min(position.page, pages - 1))
        leaflet = self.leaflet(position)
        if leaflet is None:
            return self.top()
        if position.kind == "sections":
            pages = (len(leaflet.sections) - 1) // PAGE + 1
            return replace(position, page=min(position.page, pages - 1))
        section = leaflet.section(position.section)
        if section is None:
            return Position("sections", slug=leaflet.slug, rate=position.rate)
        if position.part < 1:
            return replace(position, part=1)
        if position.part > len(section.parts):
            if position.kind == "end":
                return replace(position, part=len(section.parts))
            return Position("end", leaflet.slug, section.number, len(section.parts), position.rate, position.whole)
        return position

    # --- entering a position -------------------------------------------------------------------
    def answer(self) -> Step:
        """A call starts: the greeting, then the main menu's choices (keys act at once)."""
        top = self.top()
        if top.kind == "sections":
            greeting = [self.say("call.greeting_one", title=self.catalogue.leaflets[0].title)]
        else:
            greeting = [self.say("call.greeting_many")]
        greeting += [self.say("call.emergency"), self.key_says("call.nurse", self.keys.menu["nurse"])]
        return self.enter(top, prefix=tuple(greeting), brief=True)

    def enter(self, position: Position, prefix: tuple[Utterance, ...] = (), *, brief: bool = False) -> Step:
        """The step for arriving at ``position`` (settled first); ``brief`` leaves out a menu's title."""
        position = self.settle(position)
        if position.kind == "read":
            return self._read(position, prefix)
        if position.kind == "pause":
            prompt = "reading.paused" if position.quiet == 0 else "reading.still_paused"
            return Step(position, (*prefix, self.say(prompt)), Listen(self.keys.all, MENU_TIMEOUT), Silence(position))
        if position.kind == "code":
            speech = (*prefix, self.key_says("menu.code_entry", "#"))
            return Step(position, speech, Listen("0123456789*", MENU_TIMEOUT, "#", None), Silence(position))
        header, choices, back = self._menu(position)
        speech = [*prefix, *(() if brief else header), *(c[1] for c in choices)]
        speech.append(self.key_says("menu.repeat", self.keys.menu["repeat"]))
        if back is not None:
            speech.append(self.key_says("menu.back", self.keys.menu["back"]))
        if not brief or position.quiet or position.wrong:
            speech.append(self.key_says("menu.nurse", self.keys.menu["nurse"]))
        accepted = "".join(c[0] for c in choices) + self.keys.menu["repeat"] + self.keys.menu["back"] + "0"
        if position.kind == "end":
            accepted += self.keys.reading_keys
        return Step(position, tuple(speech), Listen(accepted, MENU_TIMEOUT), Silence(position))

    def _read(self, position: Position, prefix: tuple[Utterance, ...]) -> Step:
        leaflet = self.leaflet(position)
        assert leaflet is not None  # settled
        section = leaflet.section(position.section)
        assert section is not None
        speech = list(prefix)
        if position.part == 1:
            speech.append(self.say("reading.section_start", section=section.title))
        number = position.part
        speech.append(Utterance(f"leaflet/{leaflet.slug}/{section.number}/{number}", section.parts[number - 1]))
        return Step(position, tuple(speech), Listen(self.keys.reading_keys, PART_TIMEOUT), self._after_part(position))

    def _after_part(self, position: Position) -> Outcome:
        leaflet = self.leaflet(position)
        assert leaflet is not None
        section = leaflet.section(position.section)
        assert section is not None
        if position.part < len(section.parts):
            return Enter(replace(position, part=position.part + 1))
        if position.whole and position.section < len(leaflet.sections):
            return Enter(replace(position, section=position.section + 1, part=1))
        return Enter(replace(position, kind="end"))

    def _menu(self, position: Position) -> tuple[list[Utterance], list[tuple[str, Utterance, Go]], Go | None]:
        """A menu's title, its numbered choices (key, what is said, where it goes) and where * goes."""
        keys = self.keys.menu
        rate = position.rate
        if position.kind == "leaflets":
            leaflets = self.catalogue.leaflets
            shown = leaflets[position.page * PAGE : (position.page + 1) * PAGE]
            choices = [
                (str(n), self.key_says("menu.leaflet_option", str(n), title=leaflet.title),
                 Go(Position("sections", leaflet.slug, rate=rate)))
                for n, leaflet in enumerate(shown, start=1)
            ]
            if any(leaflet.code for leaflet in leaflets):
                choices.append((keys["code"], self.key_says("menu.code", keys["code"]), Go(Position("code", rate=rate))))
            if (position.page + 1) * PAGE < len(leaflets):
                choices.append((keys["more"], self.key_says("menu.more_leaflets", keys["more"]),
                                Go(replace(position, page=position.page + 1, quiet=0, wrong=0))))
            back = Go(replace(position, page=position.page - 1, quiet=0, wrong=0)) if position.page else None
            return [self.say("menu.leaflets")], choices, back
        leaflet = self.leaflet(position)
        assert leaflet is not None
        if position.kind == "end":
            return self._end_menu(position, leaflet)
        shown = leaflet.sections[position.page * PAGE : (position.page + 1) * PAGE]
        choices = [
            (str(n), self.key_says("menu.section_option", str(n), section=section.title),
             Go(Position("read", leaflet.slug, section.number, 1, rate)))
            for n, section in enumerate(shown, start=1)
        ]
        whole, about = str(len(shown) + 1), str(len(shown) + 2)
        about_text = self.say("menu.about_text", date=leaflet.last_reviewed_spoken, source=leaflet.source)
        here = replace(position, quiet=0, wrong=0)
        choices += [
            (whole, self.key_says("menu.whole", whole), Go(Position("read", leaflet.slug, 0, 1, rate, whole=True))),
            (about, self.key_says("menu.about", about), Go(here, (about_text,))),
        ]
        if (position.page + 1) * PAGE < len(leaflet.sections):
            choices.append((keys["more"], self.key_says("menu.more_sections", keys["more"]),
                            Go(replace(here, page=position.page + 1))))
        if position.page:
            back: Go | None = Go(replace(here, page=position.page - 1))
        else:
            back = Go(Position("leaflets", rate=rate)) if len(self.catalogue.leaflets) > 1 else None
        return [self.say("menu.sections", title=leaflet.title)], choices, back

    def _end_menu(self, position: Position, leaflet: SpeechLeaflet) -> tuple[
        list[Utterance], list[tuple[str, Utterance, Go]], Go | None
    ]:
        keys = self.keys.reading
        section = leaflet.section(position.section)
        assert section is not None
        following = leaflet.section(position.section + 1)
        if following is None:
            header = [self.say("reading.end_of_leaflet")]
        else:
            header = [self.say("reading.end_of_section", section=section.title)]
        choices = []
        if following is not None:
            target = Position("read", leaflet.slug, following.number, 1, position.rate, position.whole)
            choices.append((keys["next"], self.key_says("reading.next", keys["next"], section=following.title), Go(target)))
        again = Position("read", leaflet.slug, section.number, 1, position.rate, position.whole)
        choices.append((keys["restart"], self.key_says("reading.again", keys["restart"]), Go(again)))
        menu = Go(Position("sections", leaflet.slug, rate=position.rate))
        choices.append((keys["menu"], self.key_says("reading.menu", keys["menu"]), menu))
        return header, choices, None

    # --- a key, or none ------------------------------------------------------------------------
    def press(self, position: Position, digits: str | None) -> Step:
        """The step after ``digits`` were keyed at ``position`` (None or "": no key came)."""
        position = self.settle(position)
        if not digits:
            return self._silence(position)
        if position.kind == "code":
            return self._code(position, digits.rstrip("#"))
        key = digits[0]
        if key == self.keys.menu["nurse"]:
            return Step(position, (), None, ToNurse(position))
        if position.kind == "pause":
            return self.enter(replace(position, kind="read", quiet=0))
        if position.kind in ("read", "end"):
            step = self._reading_key(position, key)
            if step is not None:
                return step
        if position.kind != "read":
            _, choices, back = self._menu(position)
            for choice_key, _, go in choices:
                if key == choice_key:
                    return self.enter(go.position, go.prefix)
            if key == self.keys.menu["repeat"]:
                return self.enter(replace(position, quiet=0, wrong=0))
            if key == self.keys.menu["back"] and back is not None:
                return self.enter(back.position, back.prefix)
            if key == self.keys.menu["back"] and position.kind != "end":
                return self.enter(replace(position, quiet=0, wrong=0))  # the top: nowhere further back
        return self._wrong_key(position)

    def _wrong_key(self, position: Position) -> Step:
        wrong = min(position.wrong + 1, MAX_COUNT)
        prefix = [self.say("errors.wrong_key")]
        if wrong >= MAX_COUNT:
            prefix.append(self.key_says("errors.offer_nurse", self.keys.menu["nurse"]))
        if position.kind == "read":
            prefix.append(self._key_help())
            return self.enter(replace(position, wrong=wrong), tuple(prefix))
        return self.enter(replace(position, wrong=wrong, quiet=0), tuple(prefix), brief=True)

    def _silence(self, position: Position) -> Step:
        quiet = position.quiet + 1
        if position.kind == "read":  # a part's Gather is followed by the next part, not by silence
            return self.enter(position)
        if position.kind == "pause" and quiet <= PAUSE_CYCLES:
            return self.enter(replace(position, quiet=quiet))
        stage = quiet - (PAUSE_CYCLES if position.kind == "pause" else 0)
        here = replace(position, quiet=min(quiet, PAUSE_CYCLES + 2), wrong=0)
        if position.kind == "pause":
            if stage == 1:  # any key still carries on reading; 0 is the nurse
                speech = (self.key_says("errors.offer_nurse", self.keys.menu["nurse"]),)
                return Step(replace(position, quiet=quiet), speech, Listen(self.keys.all, MENU_TIMEOUT),
                            Silence(replace(position, quiet=quiet)))
        elif stage == 1:
            return self.enter(here, (self.say("errors.no_input"),), brief=True)
        elif stage == 2:
            return self.enter(here, (self.say("errors.key_help"),), brief=True)
        elif stage == 3:
            return self.enter(here, (self.key_says("errors.offer_nurse", self.keys.menu["nurse"]),), brief=True)
        return Step(position, (self.say("call.goodbye"),), None, HangUp())

    def _key_help(self) -> Utterance:
        names = {action: self.keys.name(key) for action, key in self.keys.reading.items() if action != "where"}
        return self.say("reading.key_help", **names)

    def _reading_key(self, position: Position, key: str) -> Step | None:
        """Talking-book keys while reading and at the end of a section; None: not one of them."""
        keys = self.keys.reading
        leaflet = self.leaflet(position)
        assert leaflet is not None
        section = leaflet.section(position.section)
        assert section is not None
        here = replace(position, kind="read", quiet=0, wrong=0)
        if key == keys["restart"]:
            return self.enter(replace(here, part=1))
        if key == keys["rate"]:
            rate: Rate = "slow" if position.rate == "normal" else "normal"
            said = self.say("reading.slower" if rate == "slow" else "reading.normal")
            return self.enter(replace(position, rate=rate, quiet=0, wrong=0), (said,))
        if key == keys["back"]:
            if position.kind == "end":
                return self.enter(replace(here, part=len(section.parts)))
            if position.part == 1:
                return self.enter(here, (self.say("reading.start_of_section"),))
            return self.enter(replace(here, part=position.part - 1))
        if key == keys["forward"] and position.kind == "read":
            outcome = self._after_part(position)
            assert isinstance(outcome, Enter)
            return self.enter(outcome.position)
        if key == keys["previous"]:
            if position.section <= 0:
                return self.enter(replace(here, part=1), (self.say("reading.first_section"),))
            return self.enter(replace(here, section=position.section - 1, part=1))
        if key == keys["next"] and position.kind == "read":
            if leaflet.section(position.section + 1) is None:
                end = replace(position, kind="end", part=len(section.parts), quiet=0, wrong=0)
                return self.enter(end, (self.say("reading.last_section"),))
            return self.enter(replace(here, section=position.section + 1, part=1))
        if key == keys["where"]:
            where = (
                self.say("reading.where", leaflet=leaflet.title, section=section.title),
                self.say("reading.part", part=position.part, parts=len(section.parts)),
                self._key_help(),
            )
            return self.enter(replace(position, quiet=0, wrong=0), where, brief=True)
        if key == keys["pause"] and position.kind == "read":
            return self.enter(replace(position, kind="pause", quiet=0, wrong=0))
        if key == keys["menu"] and position.kind == "read":
            return self.enter(Position("sections", leaflet.slug, rate=position.rate))
        return None

    def _code(self, position: Position, digits: str) -> Step:
        if "*" in digits:
            return self.enter(Position("leaflets", rate=position.rate))
        if digits == self.keys.menu["nurse"]:
            return Step(position, (), None, ToNurse(None))
        leaflet = self.catalogue.by_code(digits) if digits.isdigit() else None
        if leaflet is not None:
            return self.enter(Position("sections", leaflet.slug, rate=position.rate))
        wrong = min(position.wrong + 1, MAX_COUNT)
        prefix = [self.say("menu.no_code")]
        if wrong >= MAX_COUNT:
            prefix.append(self.key_says("errors.offer_nurse", self.keys.menu["nurse"]))
        return self.enter(replace(position, wrong=wrong, quiet=0), tuple(prefix))


def spoken_utterances(catalogue: Catalogue, prompts: Prompts) -> list[Utterance]:
    """Every prompt instance the tree can say for this catalogue (leaflet parts excluded), for
    rendering; found by walking every position and key. Raises PromptError like :class:`Tree`."""
    from ivr.tree_explore import explore

    return explore(Tree(catalogue, prompts)).prompt_utterances


def check_tree(catalogue: Catalogue, prompts: Prompts) -> list[Finding]:
    """Problems with the tree for this content: a missing or mismatched prompt (error, with the
    prompts file), a broken key map (error), a long way to the first leaflet sentence (warning)."""
    from ivr.tree_explore import check

    return check(catalogue, prompts)
