"""The vocabulary of a call: where it is, what happened, and what the line does next.

A :class:`Position` is everything the line needs to know about a call between two webhooks; it
travels in the URLs Twilio calls back (:meth:`Position.params` / :meth:`Position.from_params`),
so any worker of any server can answer any request. The engine turns a position and an event
(:data:`Event`: keys, words heard, silence, a transfer's end, a recording) into a :class:`Step`:
what to say (``before``: no key can skip it; ``utterances``: a key interrupts them), what to listen
for (:class:`Listen`) and what happens when nothing comes (:data:`Outcome`). Where the caller's
words must be kept first, the engine answers with a save request (:data:`Save`) instead; the web
layer stores it and asks the engine what to say next, knowing whether it was saved. A text message
asked for is answered the same way (:class:`SendText`, then :data:`TextOutcome`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from ivr.prompts import Rate, Utterance

if TYPE_CHECKING:
    from ivr.nurse.hours import Opening

__all__ = [
    "KINDS",
    "LEAFLET_KINDS",
    "NURSE_KINDS",
    "TEXT_OUTCOMES",
    "Bridge",
    "CallContext",
    "Choice",
    "Continue",
    "DialEnded",
    "DigitEntry",
    "Event",
    "HangUp",
    "Heard",
    "Keys",
    "Kind",
    "Listen",
    "Moment",
    "NoInput",
    "Outcome",
    "Position",
    "Record",
    "Recorded",
    "Reply",
    "Resume",
    "Save",
    "SaveCallback",
    "SaveMessage",
    "SendText",
    "Silence",
    "Step",
    "TextOutcome",
    "Transfer",
    "leaflet_part_id",
    "small_int",
]

Kind = Literal[
    # the leaflets: choosing one, its sections, reading (and paused), the end of a section, a code;
    # and "welcome": a returning caller offered to carry on where they left off (the place it
    # would resume travels in the position)
    "leaflets", "sections", "read", "pause", "end", "code", "welcome",
    # the nurse line: deciding (put through, or say they are closed), the options when nobody can
    # answer, recording a message, offering / keying in / confirming a call-back number, after a
    # request is saved, after saving failed; and the nurse's own leg (the whisper)
    "nurse", "nurse-options", "nurse-message", "nurse-callback", "nurse-keyin", "nurse-number",
    "nurse-saved", "nurse-failed", "whisper",
]
LEAFLET_KINDS: tuple[Kind, ...] = ("leaflets", "sections", "read", "pause", "end", "code", "welcome")
NURSE_KINDS: tuple[Kind, ...] = (
    "nurse", "nurse-options", "nurse-message", "nurse-callback", "nurse-keyin", "nurse-number",
    "nurse-saved", "nurse-failed", "whisper",
)
KINDS: tuple[Kind, ...] = LEAFLET_KINDS + NURSE_KINDS
ORIGINS: tuple[Kind, ...] = ("leaflets", "sections", "read", "end")  # where a nurse-line state goes back to
Reason = Literal["", "closed", "busy", "no-answer"]
REASONS: tuple[Reason, ...] = ("closed", "busy", "no-answer")
MAX_COUNT = 3  # silence and wrong-key counters are clamped: the state space stays finite
PAUSE_LIMIT = 12  # the pause's reminder count can reach this (see ivr.dialogue.leaflets)
MAX_HELD = 40  # characters of the held value (a number being confirmed, a recording id)
HELD_CHARACTERS = frozenset("0123456789abcdefABCDEF+:*#REm?")  # "?4": a spoken choice to confirm


def small_int(text: str | None, low: int, high: int) -> int | None:
    """``text`` as an int in [low, high], or None: ASCII digits only ("²" is isdigit() but not
    int()-able), at most six characters (junk as long as a request allows is never parsed)."""
    if text is None or not (text.isascii() and text.isdigit()) or len(text) > 6:
        return None
    value = int(text)
    return value if low <= value <= high else None


def leaflet_part_id(slug: str, section: int, part: int) -> str:
    """The utterance id of a leaflet part: ``leaflet/<slug>/<section>/<part>`` (section 0 is the
    introduction, parts count from 1). The one place that writes the form."""
    return f"leaflet/{slug}/{section}/{part}"


@dataclass(frozen=True)
class Position:
    """Where a call is. Defaults are left out of URLs; parsing never fails (see from_params).

    The leaflet fields (``slug``, ``section``, ``part``, ``rate``, ``whole``, ``page``) also tell
    a nurse-line state where the caller was, so that "back" returns there (``origin`` is the kind
    of that place) and the nurse is told what they were listening to.
    """

    kind: Kind = "leaflets"
    slug: str = ""
    section: int = 0
    part: int = 1
    rate: Rate = "normal"
    whole: bool = False  # reading the whole leaflet (carry on after each section)
    page: int = 0
    quiet: int = 0  # no-input timeouts in a row here
    wrong: int = 0  # wrong keys (or words not understood) in a row here
    origin: Kind | Literal[""] = ""  # nurse-line states: the kind of place to go back to
    reason: Reason = ""  # nurse-line states: why nobody answered (closed, busy, no answer)
    tries: int = 0  # transfers to the nurses tried in this call
    held: str = ""  # a number being confirmed, a recording to save again, a spoken choice to confirm

    def params(self) -> dict[str, str]:
        """URL query parameters (k, l, s, p, r, w, pg, q, x, o, y, t, h); defaults left out."""
        out: dict[str, str] = {"k": self.kind}
        if self.slug:
            out["l"] = self.slug
        if self.kind in ("read", "pause", "end", "welcome") or self.origin in ("read", "end"):
            out.update(s=str(self.section), p=str(self.part))
            if self.whole:
                out["w"] = "1"
        if self.rate != "normal":
            out["r"] = self.rate
        for name, value in (("pg", self.page), ("q", self.quiet), ("x", self.wrong), ("t", self.tries)):
            if value:
                out[name] = str(value)
        for name, text in (("o", self.origin), ("y", self.reason), ("h", self.held)):
            if text:
                out[name] = text
        return out

    @classmethod
    def from_params(cls, params: Mapping[str, str], *, kind: Kind | None = None) -> Position:
        """A position from URL parameters, tolerant of junk: a bad value becomes its default.

        Never raises; whether the leaflet, section and part exist is settled by the engine.
        """
        given = params.get("k", "")
        fallback: Kind = "read" if "l" in params else "leaflets"
        chosen: Kind = kind if kind is not None else next((k for k in KINDS if k == given), fallback)
        origin = params.get("o", "")
        reason = params.get("y", "")
        held = params.get("h", "")[:MAX_HELD]
        return cls(
            kind=chosen,
            slug=params.get("l", "")[:100],
            section=small_int(params.get("s"), 0, 9999) or (1 if chosen == "read" and "s" not in params else 0),
            part=small_int(params.get("p"), 1, 9999) or 1,
            rate="slow" if params.get("r") == "slow" else "normal",
            whole=params.get("w") == "1",
            page=small_int(params.get("pg"), 0, 999) or 0,
            quiet=small_int(params.get("q"), 0, PAUSE_LIMIT) or 0,
            wrong=min(small_int(params.get("x"), 0, 99) or 0, MAX_COUNT),
            origin=next((k for k in ORIGINS if k == origin), ""),
            reason=next((r for r in REASONS if r == reason), ""),
            tries=min(small_int(params.get("t"), 0, 99) or 0, MAX_COUNT),
            held=held if all(c in HELD_CHARACTERS for c in held) else "",
        )

    def but(self, **changes: object) -> Position:
        """This position with ``changes``. Neither ``dataclasses.replace`` nor the frozen ``__init__``
        (an ``object.__setattr__`` a field): exploring every state makes millions. TypeError for a
        bad field."""
        if not changes.keys() <= _POSITION_FIELDS:
            raise TypeError(f"Position has no field {', '.join(sorted(changes.keys() - _POSITION_FIELDS))}")
        changed = object.__new__(Position)
        changed.__dict__.update(self.__dict__, **changes)
        return changed

    @property
    def place(self) -> Position:
        """Where the caller was in the leaflets (for a nurse-line state), or this position itself."""
        if self.kind not in NURSE_KINDS:
            return self
        if self.origin in ("read", "end"):
            return Position(self.origin, self.slug, self.section, self.part, self.rate, self.whole)
        if self.origin == "sections" and self.slug:
            return Position("sections", self.slug, rate=self.rate, page=self.page)
        return Position("leaflets", rate=self.rate, page=self.page)


_POSITION_FIELDS = frozenset(Position.__dataclass_fields__)


# --- what the line is told besides the position ----------------------------------------------


@dataclass(frozen=True)
class Moment:
    """The time, as the engine needs it: whether the nurses answer now and when they next do.

    ``key`` is everything a step may depend on except the exact time, which only the promises
    made after a save use (those steps are never reused for another request).
    """

    now: dt.datetime  # aware
    open: bool
    next_opening: Opening | None  # when closed: the next opening (None: they never open)
    today: dt.date  # in London

    @property
    def key(self) -> tuple[bool, Opening | None, dt.date]:
        return (self.open, self.next_opening, self.today)


@dataclass(frozen=True)
class Resume:
    """Where a returning caller last listened (the call log's last part they were sent to hear in
    their latest call within IVR_WELCOME_BACK_DAYS), looked up by the web layer. ``ended``: that
    section was heard to its end. The engine decides whether it is worth offering (the leaflet
    still exists, and it was not finished)."""

    slug: str
    section: int
    part: int
    ended: bool = False


@dataclass(frozen=True)
class CallContext:
    """What the engine knows about this call besides its position: the time, the caller's own
    number when it is a UK number a nurse can ring back (E.164; None when withheld or foreign), and
    whether a text message with a link to a leaflet can be sent to it (only then is it offered)."""

    moment: Moment
    caller_number: str | None = None
    can_text: bool = False  # a link can be sent by text message: the settings are there and the caller's own number is a UK mobile


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """Keys pressed: one key in a menu, or a number keyed in ("07700900123", "*")."""

    digits: str


@dataclass(frozen=True)
class Heard:
    """Words Twilio recognised (``SpeechResult``) and how sure it was (``Confidence``, 0 to 1)."""

    text: str
    confidence: float


@dataclass(frozen=True)
class NoInput:
    """Nothing came: the listening time ran out."""


@dataclass(frozen=True)
class DialEnded:
    """The transfer to the nurses ended: ``answered`` when a nurse accepted and talked to the caller
    (Twilio's DialCallStatus ``completed`` and bridged); otherwise ``status`` says why not."""

    answered: bool
    status: str = ""  # busy, no-answer, failed, canceled, not-bridged


@dataclass(frozen=True)
class Recorded:
    """A message was recorded (``seconds`` long; 0: nothing was heard), kept by Twilio as
    ``recording_sid`` (RE...)."""

    seconds: int
    recording_sid: str = ""


Event = Keys | Heard | NoInput | DialEnded | Recorded


# --- what happens next -------------------------------------------------------------------------


@dataclass(frozen=True)
class Continue:
    """Go on to this position (its step is spoken)."""

    position: Position


@dataclass(frozen=True)
class Silence:
    """Nothing came while listening at this position (its no-input path)."""

    position: Position


@dataclass(frozen=True)
class Transfer:
    """Ring the nurses; the nurse first hears ``whisper`` and presses a key to accept. When the
    transfer ends, :class:`DialEnded` happens at ``position``."""

    position: Position
    whisper: Position  # the nurse's leg (kind "whisper"), which says who is calling


@dataclass(frozen=True)
class Record:
    """Record a message (up to the configured length, # to finish); :class:`Recorded` happens at
    ``position`` (``Recorded(0)`` when Twilio heard nothing)."""

    position: Position


@dataclass(frozen=True)
class Bridge:
    """The nurse accepted the call: end the whisper so that Twilio connects the two."""


@dataclass(frozen=True)
class HangUp:
    """End the call (or, on the nurse's leg, decline it)."""


Outcome = Continue | Silence | Transfer | Record | Bridge | HangUp


@dataclass(frozen=True)
class Choice:
    """Something a caller can do at a listening point: press ``key``, or say one of ``phrases``.

    ``action`` names what it does ("section:2", "whole", "nurse", "back", ...) for checks, the call
    log and speech; ``label`` is how it is named when confirming a spoken choice ("side effects");
    ``numbered`` marks a menu choice counted against the limit of five.
    """

    key: str
    action: str
    label: str = ""
    phrases: tuple[str, ...] = ()
    numbered: bool = False


@dataclass(frozen=True)
class DigitEntry:
    """A number keyed in: any number of keys, ended by ``finish_on_key`` (a code, a phone number)."""

    finish_on_key: str = "#"


@dataclass(frozen=True)
class Listen:
    """What is listened for while the step speaks (barge-in) and for ``timeout`` seconds after."""

    choices: tuple[Choice, ...]
    timeout: int
    digits: DigitEntry | None = None  # None: one key at a time
    speech: bool = False  # words are listened for too (when speech input is on)

    @property
    def keys(self) -> str:
        return "".join(choice.key for choice in self.choices)

    def choice(self, key: str) -> Choice | None:
        return next((choice for choice in self.choices if choice.key == key), None)


@dataclass(frozen=True)
class Step:
    """One answer to Twilio. ``before`` is said first and cannot be skipped; ``utterances`` are
    said while listening (a key interrupts them) or, without listening, after ``before``."""

    position: Position  # keys pressed during this step are answered for this position
    before: tuple[Utterance, ...]
    utterances: tuple[Utterance, ...]
    listen: Listen | None
    then: Outcome

    @property
    def spoken(self) -> tuple[Utterance, ...]:
        return self.before + self.utterances


# --- what must be stored before the caller hears "saved" ---------------------------------------


@dataclass(frozen=True)
class SaveMessage:
    """Keep the message Twilio recorded as ``recording_sid``, to be answered by ``due``; then ask the
    engine what to say (:meth:`ivr.dialogue.engine.CallEngine.after_save`)."""

    position: Position
    due: dt.datetime | None
    recording_sid: str
    seconds: int = 0  # how long it is, when known


@dataclass(frozen=True)
class SaveCallback:
    """Keep a request for a nurse to ring ``number`` (E.164) back by ``due``."""

    position: Position
    due: dt.datetime | None
    number: str
    source: Literal["caller", "keyed"] = "keyed"


Save = SaveMessage | SaveCallback


# --- a text message asked for ------------------------------------------------------------------


@dataclass(frozen=True)
class SendText:
    """Send the caller a link to leaflet ``slug`` by text message; ``position`` is the menu they
    asked from. The web layer queues it (never waiting for the send) and asks the engine what to
    say with the :data:`TextOutcome` (:meth:`ivr.dialogue.engine.CallEngine.after_text`)."""

    position: Position
    slug: str


TextOutcome = Literal["queued", "already", "over-limit", "not-possible"]
"""What became of a text asked for: queued to send now; already sent (or queued) for this leaflet
in this call; over a limit (texts a number may get a day, or the line an hour); not possible (no
UK mobile, no settings, or the database failed)."""
TEXT_OUTCOMES: tuple[TextOutcome, ...] = ("queued", "already", "over-limit", "not-possible")
Reply = Step | SaveMessage | SaveCallback | SendText
