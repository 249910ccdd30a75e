"""The leaflet half of a call: choosing a leaflet and a section, and reading it like a talking book.

Menus are described as :class:`~ivr.dialogue.menus.Menu` data (the engine adds the keys that work
everywhere and answers silence and wrong keys); reading is a step per part (paragraph), with the
talking-book keys of ``keys.yaml`` working while it speaks.
"""

from __future__ import annotations

import datetime as dt

from ivr.content.catalogue import Catalogue
from ivr.content.speech_text import SpeechLeaflet, SpeechSection
from ivr.dialogue.menus import Go, Menu, Option
from ivr.dialogue.speaking import Voice
from ivr.dialogue.steps import (
    Choice,
    Continue,
    DigitEntry,
    Listen,
    Position,
    Resume,
    SendText,
    Silence,
    Step,
    leaflet_part_id,
)
from ivr.keymap import NUMBERED
from ivr.prompts import Utterance

__all__ = ["PART_TIMEOUT", "PAUSE_REMINDERS", "PAUSE_SECONDS", "LeafletFlow"]

PART_TIMEOUT = 1  # seconds between parts while reading: a paragraph pause that still takes keys
PAUSE_SECONDS = 45  # between "still paused" reminders
PAUSE_REMINDERS = 6  # reminders (about five minutes in all), then a warning, then reading carries on


class LeafletFlow:
    """Menus and reading for one catalogue. Every method may raise PromptError when a prompt it
    needs is missing (``ivr check`` finds these before callers do); nothing else raises."""

    def __init__(self, catalogue: Catalogue, voice: Voice, key_timeout: int) -> None:
        self.catalogue = catalogue
        self.voice = voice
        self.keys = voice.keys
        self.key_timeout = key_timeout
        # by slug, the first leaflet with it (as Catalogue.by_slug): looked up at every step
        self._by_slug = {leaflet.slug: leaflet for leaflet in reversed(catalogue.leaflets)}
        self._pages = self._leaflet_pages()  # made once: settling a main-menu position asks for them
        self._has_codes = any(leaflet.code for leaflet in catalogue.leaflets)

    # --- where ---------------------------------------------------------------------------------

    def top(self, rate: str = "normal") -> Position:
        """The main menu: the leaflet menu, or the section menu of the only leaflet."""
        leaflets = self.catalogue.leaflets
        if len(leaflets) == 1:
            return Position("sections", slug=leaflets[0].slug, rate=rate)  # type: ignore[arg-type]
        return Position("leaflets", rate=rate)  # type: ignore[arg-type]

    def leaflet(self, position: Position) -> SpeechLeaflet | None:
        return self._by_slug.get(position.slug) if position.slug else None

    def settle(self, position: Position) -> Position:
        """The nearest sensible position to a tampered or stale one (unknown leaflet: main menu;
        missing section: that leaflet's menu; part out of range: the section's start or end)."""
        if position.kind in ("leaflets", "code"):
            if len(self.catalogue.leaflets) == 1 and position.kind == "leaflets":
                return self.top(position.rate).but(quiet=position.quiet, wrong=position.wrong)
            pages = len(self._pages)
            return position.but(slug="", page=min(position.page, pages - 1))
        leaflet = self.leaflet(position)
        if leaflet is None:
            return self.top(position.rate)
        if position.kind == "welcome":  # a place to resume that no longer exists: the main menu
            section = leaflet.section(position.section)
            if section is None or not 1 <= position.part <= len(section.parts):
                return self.top(position.rate)
            return Position("welcome", leaflet.slug, section.number, position.part, position.rate)
        if position.kind == "sections":
            pages = len(self._section_pages(leaflet))
            return position.but(page=min(position.page, pages - 1))
        section = leaflet.section(position.section)
        if section is None:
            return Position("sections", slug=leaflet.slug, rate=position.rate)
        if position.part < 1:
            return position.but(part=1)
        if position.part > len(section.parts):
            if position.kind == "end":
                return position.but(part=len(section.parts))
            return Position("end", leaflet.slug, section.number, len(section.parts), position.rate, position.whole)
        return position

    def resume_point(self, resume: Resume) -> Position | None:
        """Where a returning caller would carry on: the part they last reached, or (that section
        heard to its end) the start of the next; None when the leaflet or section no longer
        exists, or they heard the leaflet's last section to its end (nothing left to offer)."""
        leaflet = self._by_slug.get(resume.slug)
        section = leaflet.section(resume.section) if leaflet is not None else None
        if leaflet is None or section is None or not section.parts:
            return None
        if resume.ended:
            following = leaflet.section(section.number + 1)
            return Position("read", leaflet.slug, following.number, 1) if following is not None else None
        return Position("read", leaflet.slug, section.number, min(max(resume.part, 1), len(section.parts)))

    # --- menus ---------------------------------------------------------------------------------

    def _leaflet_pages(self) -> list[tuple[SpeechLeaflet, ...]]:
        """The leaflet menu's pages: at most five numbered choices each, counting "code" and "more"."""
        leaflets = self.catalogue.leaflets
        room = len(NUMBERED) - (1 if any(leaflet.code for leaflet in leaflets) else 0)
        if len(leaflets) <= room:
            return [leaflets]
        size = room - 1  # one choice is "more leaflets"
        return [leaflets[start:start + size] for start in range(0, len(leaflets), size)]

    def _section_pages(self, leaflet: SpeechLeaflet) -> list[tuple[SpeechSection, ...]]:
        """The section menu's pages: the sections, "the whole leaflet" and, when needed, "more"."""
        sections = leaflet.sections
        room = len(NUMBERED) - 1  # "the whole leaflet"
        if len(sections) <= room:
            return [sections]
        size = room - 1
        return [sections[start:start + size] for start in range(0, len(sections), size)]

    def menu(self, position: Position, today: dt.date, *, can_text: bool = False) -> Menu:
        """The menu at a ``leaflets``, ``sections`` or ``end`` position (settled); ``can_text``:
        a leaflet's menu and the end of a leaflet offer a link to it by text message."""
        if position.kind == "leaflets":
            return self._leaflets_menu(position)
        leaflet = self.leaflet(position)
        assert leaflet is not None  # settled
        if position.kind == "end":
            menu = self._end_menu(position, leaflet)
            last = leaflet.section(position.section + 1) is None
            return self._with_text(menu, position, leaflet) if can_text and last else menu
        menu = self._sections_menu(position, leaflet, today)
        return self._with_text(menu, position, leaflet) if can_text else menu

    def _with_text(self, menu: Menu, position: Position, leaflet: SpeechLeaflet) -> Menu:
        """``menu`` with the text message offered after its choices (a key of its own, not numbered)."""
        key = self.keys.menu["text"]
        here = position.but(quiet=0, wrong=0, held="")
        option = Option(Choice(key, "text"), self.voice.offer("menu.text", key), SendText(here, leaflet.slug))
        return Menu(menu.header, (*menu.options, option), menu.back, menu.trailer, menu.help)

    def _leaflets_menu(self, position: Position) -> Menu:
        voice, keys = self.voice, self.keys.menu
        pages = self._pages
        options = []
        for number, leaflet in enumerate(pages[position.page], start=1):
            key = str(number)
            choice = Choice(key, f"leaflet:{leaflet.slug}", leaflet.title, (leaflet.title, *leaflet.phrases), True)
            options.append(Option(choice, voice.offer("menu.leaflet_option", key, title=leaflet.title),
                                  Go(Position("sections", leaflet.slug, rate=position.rate))))
        if self._has_codes:
            options.append(Option(Choice(keys["code"], "code", numbered=True), voice.press("menu.code", keys["code"]),
                                  Go(Position("code", rate=position.rate))))
        here = position.but(quiet=0, wrong=0, held="")
        if position.page + 1 < len(pages):
            more = str(len(pages[position.page]) + 1)  # the next number after the leaflets of this page
            options.append(Option(Choice(more, "more", numbered=True),
                                  voice.press("menu.more_leaflets", more), Go(here.but(page=position.page + 1))))
        back = Go(here.but(page=position.page - 1)) if position.page else None
        return Menu((voice.say("menu.leaflets"),), tuple(options), back)

    def _sections_menu(self, position: Position, leaflet: SpeechLeaflet, today: dt.date) -> Menu:
        voice = self.voice
        pages = self._section_pages(leaflet)
        stale = self.stale(leaflet, today)
        options = []
        for number, section in enumerate(pages[position.page], start=1):
            key = str(number)
            phrases = (section.label, section.title, *section.phrases)
            options.append(Option(
                Choice(key, f"section:{section.number}", section.label, phrases, True),
                voice.offer("menu.section_option", key, section=section.label),
                Go(Position("read", leaflet.slug, section.number, 1, position.rate), stale),
            ))
        key = str(len(options) + 1)
        options.append(Option(Choice(key, "whole", numbered=True), voice.offer("menu.whole", key),
                              Go(Position("read", leaflet.slug, 0, 1, position.rate, whole=True), stale)))
        here = position.but(quiet=0, wrong=0, held="")
        if position.page + 1 < len(pages):
            more = str(len(options) + 1)
            options.append(Option(Choice(more, "more", numbered=True), voice.press("menu.more_sections", more),
                                  Go(here.but(page=position.page + 1))))
        if position.page:
            back: Go | None = Go(here.but(page=position.page - 1))
        elif len(self.catalogue.leaflets) > 1:
            back = Go(Position("leaflets", rate=position.rate))
        else:
            back = None
        about = voice.say("menu.about_text", date=leaflet.last_reviewed_spoken, source=leaflet.source)
        return Menu((voice.say("menu.sections", title=leaflet.title),), tuple(options), back, help=(about,))

    def _end_menu(self, position: Position, leaflet: SpeechLeaflet) -> Menu:
        voice, keys = self.voice, self.keys.reading
        section = leaflet.section(position.section)
        assert section is not None
        following = leaflet.section(position.section + 1)
        header: tuple[Utterance, ...]
        if following is None:
            about = voice.say("menu.about_text", date=leaflet.last_reviewed_spoken, source=leaflet.source)
            header = (voice.say("reading.end_of_leaflet"), about)
        else:
            header = (voice.say("reading.end_of_section", section=section.title),)
        options = []
        if following is not None:
            target = Position("read", leaflet.slug, following.number, 1, position.rate, position.whole)
            options.append(Option(Choice(keys["next"], "next", following.label, (following.label, following.title)),
                                  voice.offer("reading.next", keys["next"], section=following.label), Go(target)))
        again = Position("read", leaflet.slug, section.number, 1, position.rate, position.whole)
        options.append(Option(Choice(keys["restart"], "restart"), voice.press("reading.again", keys["restart"]),
                              Go(again)))
        if position.section > 0:  # not announced: the reading keys keep their meaning here
            previous = Position("read", leaflet.slug, position.section - 1, 1, position.rate, position.whole)
            options.append(Option(Choice(keys["previous"], "previous"), None, Go(previous)))
        last = Position("read", leaflet.slug, section.number, len(section.parts), position.rate, position.whole)
        options.append(Option(Choice(keys["back"], "back-part"), None, Go(last)))
        menu = Go(Position("sections", leaflet.slug, rate=position.rate))
        trailer = (voice.press("reading.menu", self.keys.everywhere["back"]),)
        return Menu(header, tuple(options), menu, trailer)

    def end_before(self, position: Position) -> tuple[Utterance, ...]:
        """Said where no key can skip it on reaching the end of a leaflet: when to get help."""
        leaflet = self.leaflet(position)
        if leaflet is not None and leaflet.section(position.section + 1) is None:
            return (self.voice.say("safety.when_to_get_help"),)
        return ()

    def stale(self, leaflet: SpeechLeaflet, today: dt.date) -> tuple[Utterance, ...]:
        """The caveat said before the content of a leaflet past its review date, or nothing."""
        if not leaflet.review_overdue(today):
            return ()
        reviewed = leaflet.last_reviewed
        month = self.voice.say(f"nurse.months.{reviewed.month}").text
        return (self.voice.say("reading.stale", month=month, year=reviewed.year),)

    # --- reading -------------------------------------------------------------------------------

    def reading_choices(self, position: Position) -> tuple[Choice, ...]:
        keys = self.keys.reading
        return tuple(Choice(key, f"reading:{action}") for action, key in keys.items())

    def read(self, position: Position, before: tuple[Utterance, ...], choices: tuple[Choice, ...]) -> Step:
        """A part read aloud; the talking-book keys (``choices``) work while it speaks, and the
        next part follows after a paragraph pause."""
        leaflet = self.leaflet(position)
        assert leaflet is not None  # settled
        section = leaflet.section(position.section)
        assert section is not None
        speech = []
        if position.part == 1:
            heading = self.voice.say("reading.section_start", section=section.title)
            stale = tuple(u for u in before if u.id == "reading.stale")
            if stale:  # the leaflet's own heading first, then the caveat no key skips, then its text
                before = (*(u for u in before if u.id != "reading.stale"), heading, *stale)
            else:
                speech.append(heading)
        number = position.part
        speech.append(Utterance(leaflet_part_id(leaflet.slug, section.number, number), section.parts[number - 1]))
        return Step(position, before, tuple(speech), Listen(choices, PART_TIMEOUT), Continue(self.after_part(position)))

    def after_part(self, position: Position) -> Position:
        leaflet = self.leaflet(position)
        assert leaflet is not None
        section = leaflet.section(position.section)
        assert section is not None
        if position.part < len(section.parts):
            return position.but(part=position.part + 1, quiet=0, wrong=0)
        if position.whole and position.section < len(leaflet.sections):
            return position.but(section=position.section + 1, part=1, quiet=0, wrong=0)
        return position.but(kind="end", quiet=0, wrong=0)

    def reading_key(self, position: Position, key: str) -> Go | None:
        """Talking-book keys while reading (and paused); None: not one of them."""
        keys = self.keys.reading
        leaflet = self.leaflet(position)
        assert leaflet is not None
        section = leaflet.section(position.section)
        assert section is not None
        here = position.but(kind="read", quiet=0, wrong=0)
        if key == keys["restart"]:
            return Go(here.but(part=1))
        if key == keys["back"]:
            if position.part == 1:
                return Go(here, (self.voice.say("reading.start_of_section"),))
            return Go(here.but(part=position.part - 1))
        if key == keys["forward"]:
            return Go(self.after_part(here))
        if key == keys["previous"]:
            if position.section <= 0:
                return Go(here.but(part=1), (self.voice.say("reading.first_section"),))
            return Go(here.but(section=position.section - 1, part=1))
        if key == keys["next"]:
            if leaflet.section(position.section + 1) is None:
                end = position.but(kind="end", part=len(section.parts), quiet=0, wrong=0)
                return Go(end, (self.voice.say("reading.last_section"),))
            return Go(here.but(section=position.section + 1, part=1))
        if key == keys["pause"]:
            return Go(position.but(kind="pause", quiet=0, wrong=0))
        return None

    def where(self, position: Position) -> tuple[Utterance, ...]:
        leaflet = self.leaflet(position)
        assert leaflet is not None
        section = leaflet.section(position.section)
        assert section is not None
        return (self.voice.say("reading.where", leaflet=leaflet.title, section=section.title,
                               part=position.part, parts=len(section.parts)),)

    def reading_help(self) -> tuple[Utterance, ...]:
        voice, keys, everywhere = self.voice, self.keys.reading, self.keys.everywhere
        return (
            voice.press("reading.help_back", keys["back"]),
            voice.press("reading.help_forward", keys["forward"]),
            voice.press("reading.help_pause", keys["pause"]),
            voice.press("reading.help_next", keys["next"]),
            voice.press("reading.help_previous", keys["previous"]),
            voice.press("reading.help_restart", keys["restart"]),
            voice.press("reading.help_repeat", everywhere["repeat"]),
            voice.press("reading.help_menu", everywhere["back"]),
        )

    # --- paused --------------------------------------------------------------------------------

    def pause(self, position: Position, choices: tuple[Choice, ...]) -> Step:
        """Paused: a reminder every PAUSE_SECONDS; any key carries on."""
        if position.quiet == 0:
            prompt = "reading.paused"
        elif position.quiet < PAUSE_REMINDERS:
            prompt = "reading.still_paused"
        else:
            prompt = "reading.pause_ending"
        return Step(position, (), (self.voice.say(prompt),), Listen(choices, PAUSE_SECONDS), Silence(position))

    def pause_silence(self, position: Position) -> Go:
        if position.quiet < PAUSE_REMINDERS:
            return Go(position.but(quiet=position.quiet + 1))
        return Go(position.but(kind="read", quiet=0), (self.voice.say("reading.carry_on"),))

    # --- a leaflet's code ----------------------------------------------------------------------

    def code_step(self, position: Position, before: tuple[Utterance, ...], choices: tuple[Choice, ...]) -> Step:
        speech = self.voice.keyed("menu.code_entry", finish="#", back=self.keys.everywhere["back"])
        listen = Listen(choices, self.key_timeout, DigitEntry("#"))
        return Step(position, before, (speech,), listen, Silence(position))

    def code(self, position: Position, digits: str) -> Go | None:
        """A code keyed in: that leaflet's menu, or None when no leaflet has it."""
        leaflet = self.catalogue.by_code(digits) if digits.isdigit() else None
        if leaflet is None:
            return None
        return Go(Position("sections", leaflet.slug, rate=position.rate))

    # --- for the nurse -------------------------------------------------------------------------

    def listening_to(self, position: Position) -> tuple[SpeechLeaflet | None, SpeechSection | None]:
        """The leaflet and section a caller was hearing (for the whisper and the queue)."""
        leaflet = self.leaflet(position)
        if leaflet is None:
            return None, None
        if position.origin in ("read", "end") or position.kind in ("read", "pause", "end"):
            return leaflet, leaflet.section(position.section)
        return leaflet, None
