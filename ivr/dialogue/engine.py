"""The call engine: one pure function from (where the call is, what happened, the time) to the
next :class:`~ivr.dialogue.steps.Step`, for the whole call.

It joins the two flows (:mod:`ivr.dialogue.leaflets`, :mod:`ivr.dialogue.nurse`) and keeps the
rules every state shares:

- the keys that work everywhere (``keys.yaml``): 0 a nurse, * back, # again, 8 slower, 9 help;
- a caller who says nothing hears a reprompt, then help, then is put through to a nurse (or, when
  the nurses are closed or busy, the line takes a message): silence never ends a call unheard;
- a wrong key (or words not understood) gets a short answer, then help, then the same way out;
- the line only hangs up after the emergency sentence.

:meth:`CallEngine.respond` may answer with a save request instead of a step; the web layer stores
it and calls :meth:`CallEngine.after_save` with the result. A text message asked for
(:class:`~ivr.dialogue.steps.SendText`) goes the same way, through :meth:`CallEngine.after_text`.
"""

from __future__ import annotations

import contextlib

from ivr.config import Settings
from ivr.content.catalogue import Catalogue
from ivr.dialogue.leaflets import LeafletFlow
from ivr.dialogue.menus import Go, Menu, Option
from ivr.dialogue.nurse import NurseFlow
from ivr.dialogue.speaking import LineRules, Voice
from ivr.dialogue.steps import (
    LEAFLET_KINDS,
    MAX_COUNT,
    NURSE_KINDS,
    ORIGINS,
    CallContext,
    Choice,
    DialEnded,
    Event,
    Heard,
    Keys,
    Kind,
    Listen,
    NoInput,
    Position,
    Recorded,
    Reply,
    Resume,
    Save,
    SendText,
    Silence,
    Step,
    TextOutcome,
)
from ivr.dialogue.understanding import interpret, label_of, load_words, understand
from ivr.keymap import NUMBERED, KeyMap, load_keymap
from ivr.nurse.numbers import uk_callback_number
from ivr.prompts import Prompts, Utterance

__all__ = ["MENU_KINDS", "WELCOME_TIMEOUT", "CallEngine", "build_engine"]

# The offer to a returning caller waits less than a menu (IVR_KEY_TIMEOUT): a caller too slow for
# it loses nothing (silence gives the greeting's menu, which waits the full time), while each
# second of it delays the menu for a caller who wants something else (perhaps another person on a
# shared phone). Four seconds: the offer's own length again, time to reach for the keypad.
WELCOME_TIMEOUT = 4

# Positions whose step is a menu (a choice is waited for).
MENU_KINDS: tuple[Kind, ...] = (
    "leaflets", "sections", "end", "nurse-options", "nurse-callback", "nurse-number", "nurse-saved", "nurse-failed",
)
_ORIGIN_OF: dict[str, Kind] = {"read": "read", "pause": "read", "end": "end", "sections": "sections"}


class CallEngine:
    """The whole call for one catalogue, one set of prompts and keys, and the service's rules.

    Every method may raise PromptError when a prompt it needs is missing or takes other
    placeholders (``ivr check`` walks every state and finds these before callers do); nothing
    else raises. Positions from URLs are settled first: junk or stale ones never fail.
    """

    def __init__(self, catalogue: Catalogue, prompts: Prompts, rules: LineRules, keys: KeyMap | None = None) -> None:
        self.catalogue = catalogue
        self.rules = rules
        self.voice = Voice(prompts, keys or load_keymap(), speech=rules.speech_input)
        self.keys = self.voice.keys
        self.words = load_words(prompts.locale)
        self.leaflets = LeafletFlow(catalogue, self.voice, rules.key_timeout)
        self.nurse = NurseFlow(self.voice, self.leaflets, rules)
        everywhere = self.keys.everywhere
        # The choices every state of a kind offers, made once (a walk of every state enters millions).
        self._everywhere_choices = tuple(Choice(key, action) for action, key in everywhere.items())
        self._digits_choices = (Choice(everywhere["back"], "back"),)
        self._reading_choices = tuple(Choice(key, f"reading:{action}") for action, key in self.keys.reading.items()) \
            + self._everywhere_choices
        carry_on = tuple(Choice(key, "carry-on") for key in "0123456789*#" if key not in (everywhere["nurse"],
                                                                                         everywhere["back"]))
        self._pause_choices = (Choice(everywhere["nurse"], "nurse"), Choice(everywhere["back"], "back"), *carry_on)
        self._steps: dict[tuple[object, ...], Step] = {}  # the engine is pure: a step entered is kept

    STEPS_KEPT = 50_000  # steps kept for positions entered again, the oldest dropped (a few tens of MB)

    # --- the ways in ---------------------------------------------------------------------------

    def answer(self, context: CallContext, resume: Resume | None = None) -> Step:
        """A call starts: who we are and the emergency sentence (no key skips them), then the
        main menu's choices, with what 0 does now and that staying on the line reaches someone.

        ``resume``: where this caller last listened (the web layer looks it up). When that leaflet
        still exists and they did not finish it, the emergency sentence is followed by the offer
        to carry on where they left off instead (a "welcome" state); its key, or its words, resume
        there, any other key works as in the main menu, and silence gives the main menu. The offer
        never names the leaflet: phones are shared."""
        top = self.leaflets.top()
        if top.kind == "sections":
            greeting = self.voice.say("call.greeting_one", title=self.catalogue.leaflets[0].title)
        else:
            greeting = self.voice.say("call.greeting_many")
        before = (greeting, self.voice.say("safety.emergency"))
        place = self.leaflets.resume_point(resume) if resume is not None else None
        if place is not None:
            return self.enter(place.but(kind="welcome"), context, before)
        return self.enter(top, context, before, brief=True, greeting=True)

    def enter(
        self, position: Position, context: CallContext, before: tuple[Utterance, ...] = (), *,
        brief: bool = False, greeting: bool = False,
    ) -> Step:
        """The step for arriving at ``position`` (settled first), saying ``before`` first;
        ``brief`` leaves out a menu's heading (a reprompt, or the greeting)."""
        key = (position, context, before, brief, greeting)
        step = self._steps.get(key)
        if step is None:
            step = self._enter(position, context, before, brief=brief, greeting=greeting)
            if len(self._steps) >= self.STEPS_KEPT:  # the oldest goes: a walk of every state moves on
                with contextlib.suppress(KeyError, RuntimeError):  # another thread changed them first: no matter
                    del self._steps[next(iter(self._steps))]
            self._steps[key] = step
        return step

    def _enter(
        self, position: Position, context: CallContext, before: tuple[Utterance, ...], *, brief: bool, greeting: bool,
    ) -> Step:
        position = self.settle(position)
        kind = position.kind
        if kind == "read":
            return self.leaflets.read(position, before, self._reading_choices)
        if kind == "pause":
            step = self.leaflets.pause(position, self._pause_choices)
            return Step(step.position, before, step.utterances, step.listen, step.then)
        if kind == "code":
            return self.leaflets.code_step(position, before, self._everywhere(digits=True))
        if kind == "welcome":
            return self._welcome_step(position, before)
        if kind == "nurse-keyin":
            return self.nurse.keyin_step(position, before, self._everywhere(digits=True))
        if kind == "nurse-message":
            return self.nurse.record(position, before)
        if kind == "whisper":
            return self.nurse.whisper(position)
        if kind == "nurse":
            return self._then(self.nurse.start(position, context), context, before)
        if kind == "nurse-callback" and (go := self.nurse.callback_start(position, context)) is not None:
            return self._go(go, context, before)
        if position.held.startswith("?"):
            return self._confirm_step(position, context, before)
        return self._menu_step(position, context, before, brief=brief, greeting=greeting)

    def respond(self, position: Position, event: Event, context: CallContext) -> Reply:
        """What happens after ``event`` at ``position``: a step, or a request to save first."""
        position = self.settle(position)
        if isinstance(event, NoInput) or (isinstance(event, Keys) and not event.digits):
            return self._silence(position, context)
        if isinstance(event, DialEnded):
            if position.kind != "nurse":
                return self.enter(position, context)
            return self._resolve(self.nurse.dial_ended(position, event), context)
        if isinstance(event, Recorded):
            if position.kind != "nurse-message":
                return self.enter(position, context)
            return self._resolve(self.nurse.recorded(position, event, context), context)
        if isinstance(event, Heard):
            return self._heard(position, event, context)
        return self._keys(position, event.digits, context)

    def after_save(self, save: Save, saved: bool, context: CallContext) -> Step:
        """What the caller hears once the web layer has stored ``save`` (``saved``) or failed to."""
        return self._go(self.nurse.after_save(save, saved, context), context)

    def after_text(self, send: SendText, outcome: TextOutcome, context: CallContext) -> Step:
        """What the caller hears once the web layer has queued ``send`` (or could not): what
        became of it, then the menu they asked from again, without its heading."""
        said = self.voice.say("texts." + outcome.replace("-", "_"))
        return self.enter(send.position.but(quiet=0, wrong=0, held=""), context, (said,), brief=True)

    # --- where ---------------------------------------------------------------------------------

    def settle(self, position: Position) -> Position:
        """The nearest sensible position to a tampered or stale one."""
        if position.kind in LEAFLET_KINDS:
            return self.leaflets.settle(position.but(origin="", reason="", tries=0))
        place = self.leaflets.settle(position.place)
        origin: Kind = place.kind if place.kind in ORIGINS else "leaflets"
        settled = position.but(slug=place.slug, section=place.section, part=place.part, whole=place.whole,
                               page=place.page, origin=origin)
        if settled.kind == "nurse-number" and uk_callback_number(settled.held) != settled.held:
            return settled.but(kind="nurse-keyin", held="")
        if settled.held and settled.kind not in ("nurse-number", "nurse-failed") and not (
                settled.held.startswith("?") and settled.kind in MENU_KINDS):
            return settled.but(held="")
        return settled

    def nurse_entry(self, position: Position) -> Position:
        """Where the nurse line starts for a caller at ``position`` (remembering their place)."""
        if position.kind in NURSE_KINDS:
            return position.but(kind="nurse", quiet=0, wrong=0, held="")
        origin = _ORIGIN_OF.get(position.kind, "leaflets")
        return Position("nurse", position.slug, position.section, position.part, position.rate, position.whole,
                        position.page if origin == "sections" else 0, origin=origin)

    # --- steps ---------------------------------------------------------------------------------

    def _go(self, go: Go, context: CallContext, before: tuple[Utterance, ...] = ()) -> Step:
        return self.enter(go.position, context, before + go.prefix, brief=go.brief)

    def _resolve(self, reply: Reply | Go, context: CallContext, before: tuple[Utterance, ...] = ()) -> Reply:
        if isinstance(reply, Go | Step):
            return self._then(reply, context, before)
        return reply

    def _then(self, reply: Step | Go, context: CallContext, before: tuple[Utterance, ...] = ()) -> Step:
        """The step ``reply`` leads to, saying ``before`` first."""
        if isinstance(reply, Go):
            return self._go(reply, context, before)
        if before:
            return Step(reply.position, before + reply.before, reply.utterances, reply.listen, reply.then)
        return reply

    def menu(self, position: Position, context: CallContext) -> Menu:
        """The menu at a settled menu position."""
        if position.kind in ("leaflets", "sections", "end"):
            return self.leaflets.menu(position, context.moment.today, can_text=context.can_text)
        return self.nurse.menu(position, context)

    def _menu_step(
        self, position: Position, context: CallContext, before: tuple[Utterance, ...], *, brief: bool, greeting: bool,
    ) -> Step:
        menu = self.menu(position, context)
        brief = brief and position.kind not in ("nurse-callback", "nurse-number")  # the question is the number
        speech: list[Utterance] = [] if brief else list(menu.header)
        speech += [option.said for option in menu.options if option.said is not None]
        speech += menu.trailer
        if position.kind in ("leaflets", "sections"):
            speech += self._leaflet_trailer(position, context, back=menu.back is not None, greeting=greeting)
        if position.kind == "end" and not brief:
            before = before + self.leaflets.end_before(position)
        choices = tuple(option.choice for option in menu.options) + self._everywhere()
        listen = Listen(choices, self.rules.key_timeout, speech=self.rules.speech_input)
        return Step(position, before, tuple(speech), listen, Silence(position))

    def _leaflet_trailer(self, position: Position, context: CallContext, *, back: bool, greeting: bool) -> list[Utterance]:
        voice, keys = self.voice, self.keys.everywhere
        said = [voice.press("menu.back", keys["back"])] if back and not greeting else []
        said.append(self._nurse_hint(context))
        said.append(voice.press("menu.faster" if position.rate == "slow" else "menu.slower", keys["slower"]))
        said.append(voice.press("menu.repeat", keys["repeat"]))
        if greeting:
            said.append(voice.say("menu.stay_open" if context.moment.open else "menu.stay_closed"))
        return said

    def _nurse_hint(self, context: CallContext) -> Utterance:
        """What 0 does now: a nurse, or (closed) a message or call-back, with the next opening."""
        from ivr.nurse.phrases import when_phrase

        key = self.keys.everywhere["nurse"]
        moment = context.moment
        if moment.open:
            return self.voice.offer("menu.nurse_open", key)
        if moment.next_opening is None:
            return self.voice.offer("menu.nurse_closed_no_hours", key)
        return self.voice.offer("menu.nurse_closed", key, when=when_phrase(moment.next_opening, moment.now,
                                                                            self.voice.prompts))

    def _offered(self, position: Position, context: CallContext, key: str) -> Choice | None:
        """The choice of ``key`` in the menu at ``position`` (its own choices or the keys that work everywhere)."""
        step = self._menu_step(position.but(held=""), context, (), brief=True, greeting=False)
        return step.listen.choice(key) if step.listen is not None else None

    def _confirm_step(self, position: Position, context: CallContext, before: tuple[Utterance, ...]) -> Step:
        """A spoken choice heard with too little confidence: "Did you mean ...? 1 yes, 2 no"."""
        choice = self._offered(position, context, position.held[1:])
        if choice is None or not label_of(choice, self.words):
            return self._menu_step(position.but(held=""), context, before, brief=True, greeting=False)
        answer = self.keys.answer
        said = self.voice.keyed("speech.confirm", yes=answer["yes"], no=answer["no"])
        question = self.voice.say("speech.did_you_mean", choice=label_of(choice, self.words))
        choices = (Choice(answer["yes"], "yes"), Choice(answer["no"], "no"), *self._everywhere())
        listen = Listen(choices, self.rules.key_timeout, speech=self.rules.speech_input)
        return Step(position, before, (question, said), listen, Silence(position.but(held="")))

    # --- what can be pressed -------------------------------------------------------------------

    def _everywhere(self, *, digits: bool = False) -> tuple[Choice, ...]:
        """The keys that work everywhere; while a number is keyed in only * (back) is a key of its own."""
        return self._digits_choices if digits else self._everywhere_choices

    # --- keys ----------------------------------------------------------------------------------

    def _keys(self, position: Position, digits: str, context: CallContext) -> Reply:
        kind = position.kind
        keys = self.keys.everywhere
        if kind == "whisper":
            return self.nurse.whisper_answer(position, digits[:1])
        if kind == "code":
            return self._code(position, digits.rstrip("#"), context)
        if kind == "nurse-keyin":
            go = self.nurse.keyed(position, digits)
            if go is None:
                return self.wrong(position, context, (self.voice.say("nurse.callback.invalid"),))
            return self._go(go, context)
        if kind in ("nurse", "nurse-message"):  # no keys are asked for here: junk, answered as arriving
            return self.enter(position, context)
        if kind == "nurse-callback" and not context.caller_number:
            return self.enter(position.but(kind="nurse-keyin"), context)
        if kind == "welcome":
            return self._welcome_key(position, digits, context)
        key = digits[0]
        if key == keys["nurse"]:
            return self.enter(self.nurse_entry(position), context)
        if kind == "pause":
            if key == keys["back"]:
                return self.enter(Position("sections", position.slug, rate=position.rate), context)
            return self.enter(position.but(kind="read", quiet=0), context)
        if kind == "read":
            return self._reading_key(position, key, context)
        if position.held.startswith("?"):
            return self._confirm_key(position, key, context)
        return self._menu_key(position, key, context)

    def _reading_key(self, position: Position, key: str, context: CallContext) -> Step:
        keys = self.keys.everywhere
        go = self.leaflets.reading_key(position, key)
        if go is not None:
            return self._go(go, context)
        here = position.but(quiet=0, wrong=0)
        if key == keys["back"]:
            return self.enter(Position("sections", position.slug, rate=position.rate), context)
        if key == keys["repeat"]:
            return self.enter(here, context)
        if key == keys["slower"]:
            return self._toggle_rate(here, context)
        if key == keys["help"]:
            return self.enter(here, context, self._help(position, context))
        return self.wrong(position, context)

    def _menu_key(self, position: Position, key: str, context: CallContext) -> Reply:
        keys = self.keys.everywhere
        menu = self.menu(position, context)
        option = menu.option(key)
        if option is not None:
            return self._take(option, context)
        here = position.but(quiet=0, wrong=0)
        if key == keys["back"]:
            return self._go(menu.back, context) if menu.back is not None else self.enter(here, context)
        if key == keys["repeat"]:
            return self.enter(here, context)
        if key == keys["slower"]:
            return self._toggle_rate(here, context)
        if key == keys["help"]:
            return self.enter(here, context, self._help(position, context))
        return self.wrong(position, context)

    def _take(self, option: Option, context: CallContext) -> Reply:
        return self._go(option.go, context) if isinstance(option.go, Go) else option.go

    def _confirm_key(self, position: Position, key: str, context: CallContext) -> Reply:
        answer = self.keys.answer
        plain = position.but(held="", quiet=0, wrong=0)
        if key == answer["yes"]:
            return self._keys(plain, position.held[1:], context)
        if key == answer["no"]:
            return self.enter(plain, context, brief=True)
        return self._menu_key(plain, key, context)

    def _toggle_rate(self, position: Position, context: CallContext) -> Step:
        rate = "slow" if position.rate == "normal" else "normal"
        said = self.voice.say("reading.slower" if rate == "slow" else "reading.normal")
        return self.enter(position.but(rate=rate), context, (said,))

    def _code(self, position: Position, digits: str, context: CallContext) -> Reply:
        keys = self.keys.everywhere
        if keys["back"] in digits:
            return self.enter(Position("leaflets", rate=position.rate), context)
        if digits == keys["nurse"]:
            return self.enter(self.nurse_entry(position), context)
        go = self.leaflets.code(position, digits)
        if go is None:
            return self.wrong(position, context, (self.voice.say("menu.no_code"),))
        return self._go(go, context)

    def _help(self, position: Position, context: CallContext) -> tuple[Utterance, ...]:
        """Key 9: what the keys do here, in short sentences, what it does first."""
        voice, keys = self.voice, self.keys.everywhere
        if position.kind == "read":
            slower = voice.press("menu.faster" if position.rate == "slow" else "menu.slower", keys["slower"])
            return (*self.leaflets.where(position), *self.leaflets.reading_help(), slower, self._nurse_hint(context))
        said = [voice.say("errors.key_help")]
        if position.kind in ("leaflets", "sections", "end", "code"):
            said += [voice.press("menu.help_back", keys["back"]), voice.press("menu.help_repeat", keys["repeat"]),
                     voice.press("menu.help_slower", keys["slower"]), self._nurse_hint(context)]
        if position.kind in MENU_KINDS:
            said += self.menu(position, context).help
        return tuple(said)

    # --- words ---------------------------------------------------------------------------------

    def _heard(self, position: Position, event: Heard, context: CallContext) -> Reply:
        """Words are understood in :mod:`ivr.dialogue.understanding` (speech input). At the
        welcome offer, words it is not sure of give the main menu: never a question about an
        offer the caller may not have wanted."""
        if position.kind == "welcome":
            found = interpret(self, position, event, context)
            if found is not None and found.choice is not None and found.sure:
                return self._welcome_key(position, found.choice.key, context)
            return self._greeting_menu(context)
        return understand(self, position, event, context)

    # --- a returning caller --------------------------------------------------------------------

    def _welcome_step(self, position: Position, before: tuple[Utterance, ...]) -> Step:
        """"To carry on where you left off, press 1": the one choice of its own; every other key
        works as in the main menu."""
        key = NUMBERED[0]
        offer = self.voice.offer("call.welcome_back", key)
        listen = Listen((Choice(key, "resume", numbered=True), *self._everywhere()), WELCOME_TIMEOUT,
                        speech=self.rules.speech_input)
        return Step(position, before, (offer,), listen, Silence(position))

    def _welcome_key(self, position: Position, digits: str, context: CallContext) -> Reply:
        """Key 1: the paragraph they had reached, after where they are (and the caveat of a
        leaflet past its review date); any other key: as if pressed in the main menu."""
        if digits[:1] != NUMBERED[0]:
            return self.respond(self.leaflets.top(), Keys(digits), context)
        place = position.but(kind="read", quiet=0, wrong=0, held="")
        leaflet = self.leaflets.leaflet(place)
        assert leaflet is not None  # settled
        return self.enter(place, context, (*self.leaflets.where(place), *self.leaflets.stale(leaflet, context.moment.today)))

    def _greeting_menu(self, context: CallContext) -> Step:
        """The main menu as the greeting gives it (what 0 does now, that staying on reaches someone)."""
        return self.enter(self.leaflets.top(), context, brief=True, greeting=True)

    # --- no answer, or the wrong one -----------------------------------------------------------

    def _silence(self, position: Position, context: CallContext) -> Reply:
        kind = position.kind
        if kind == "read":  # a part's Gather is followed by the next part, not by silence: junk
            return self.enter(self.leaflets.after_part(position), context)
        if kind == "pause":
            return self._go(self.leaflets.pause_silence(position), context)
        if kind == "whisper":
            return self.nurse.whisper_answer(position, None)
        if kind == "nurse-saved":
            return self.nurse.goodbye(position)
        if kind == "nurse":
            return self.enter(position, context)
        if kind == "welcome":  # the offer was not wanted: the main menu, as any other caller hears it
            return self._greeting_menu(context)
        if kind == "nurse-message":  # <Record> heard nothing and Twilio went on to the next verb
            return self._resolve(self.nurse.recorded(position, Recorded(0), context), context)
        quiet = position.quiet + 1
        here = position.but(quiet=quiet, wrong=0, held="")
        if quiet == 1:
            return self.enter(here, context, (self.voice.say("errors.no_input"),), brief=True)
        if quiet == 2:
            return self.enter(here, context, self._help(position, context))
        return self._rescue(position, context, ())

    def wrong(self, position: Position, context: CallContext, said: tuple[Utterance, ...] = ()) -> Step:
        said = said or (self.voice.say("errors.wrong_key"),)
        wrong = min(position.wrong + 1, MAX_COUNT)
        if position.kind == "read":
            extra = self._help(position, context) if wrong >= 2 else ()
            return self.enter(position.but(wrong=wrong), context, said + extra)
        if wrong >= MAX_COUNT:
            return self._rescue(position, context, said)
        extra = self._help(position, context) if wrong == 2 else ()
        return self.enter(position.but(wrong=wrong, quiet=0, held=""), context, said + extra, brief=wrong == 1)

    def _rescue(self, position: Position, context: CallContext, said: tuple[Utterance, ...]) -> Step:
        """A caller who cannot get on (silent, or keys that do nothing, three times): put through to
        a nurse when they are open; otherwise the line takes a message. After a failed save, the
        line says how to get help and ends the call."""
        if position.kind == "nurse-failed":
            return self.nurse.goodbye(position, first=(*said, self.voice.say("nurse.try_later")))
        entry = self.nurse_entry(position)
        # from the leaflets, a person when there is one; from the nurse line's own menus (the nurses
        # were closed, busy or did not answer), straight to a message: never another ring
        if position.kind in LEAFLET_KINDS and self.nurse.can_transfer(entry, context):
            return self._then(self.nurse.start(entry, context), context, (*said, self.voice.say("errors.put_through")))
        reason = "closed" if not context.moment.open else (entry.reason or "busy")
        message = entry.but(kind="nurse-message", reason=reason, quiet=1)
        return self.nurse.record(message, (*said, self.voice.say("errors.take_message")))


def build_engine(settings: Settings, catalogue: Catalogue, prompts: Prompts) -> CallEngine:
    """The engine for these settings and content. ConfigError for malformed opening hours, closed
    dates or holiday region; ContentError for a broken key map; PromptError for a broken words file."""
    from ivr.nurse.hours import load_opening_hours

    hours = load_opening_hours(settings.nurse_hours, settings.holidays_region, settings.closed_dates)
    rules = LineRules(
        hours=hours, callback_within_minutes=settings.callback_within_minutes, callback_from=settings.callback_from,
        key_timeout=settings.key_timeout, speech_input=settings.speech_input, speech_language=settings.say_language,
        message_max_seconds=settings.message_max_seconds, ring_seconds=settings.nurse_ring_seconds,
    )
    return CallEngine(catalogue, prompts, rules)
