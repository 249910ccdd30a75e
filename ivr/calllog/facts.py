"""What one webhook tells about its call, read from the step the engine chose. Pure.

:func:`step_facts` is worked out with the step (and kept with its TwiML in the answers cache):
where the caller now is, the leaflet part they were sent to hear, a key pressed or a spoken choice
(its action and confidence, never the words), the nurse line reached, a transfer's outcome, a
message or call-back saved. :func:`webhook_facts` adds the request's call, caller and time.

A key pressed while keying in a call-back number is never recorded: those digits are a number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from ivr.dialogue.steps import (
    NURSE_KINDS,
    DialEnded,
    Event,
    HangUp,
    Keys,
    Position,
    Record,
    Save,
    SaveMessage,
    Step,
    Transfer,
)

__all__ = ["LOGGED_ENDPOINTS", "Facts", "Key", "Read", "Said", "StepFacts", "step_facts", "webhook_facts"]

# The webhooks of the caller's own leg. The whisper is the nurse's leg (another CallSid), and the
# recording status callback may come after the call has ended: neither moves the call on.
LOGGED_ENDPOINTS = frozenset({
    "voice.answer", "voice.menu", "voice.read", "voice.at", "voice.key", "voice.dial", "voice.record",
    "voice_legacy.nurse",
})


@dataclass(frozen=True)
class Read:
    """A leaflet part the caller was sent to hear."""

    leaflet: str
    section: int
    part: int
    rate: str


@dataclass(frozen=True)
class Key:
    menu: str  # the position kind (leaflets, sections, read, nurse-options, ...)
    digits: str


@dataclass(frozen=True)
class Said:
    """A spoken choice: where, what it was taken to mean, and how sure recognition was."""

    menu: str
    action: str  # the choice's action ("section:4", "nurse", ...), or "" when not understood
    confidence: float


@dataclass(frozen=True)
class StepFacts:
    stage: str  # where the caller is now
    leaflet: str | None = None
    section: int | None = None
    part: int | None = None
    read: Read | None = None
    key: Key | None = None
    said: Said | None = None
    nurse_requested: bool = False
    nurse_closed: bool = False
    transfer_status: str | None = None
    message_left: bool = False
    callback_left: bool = False


@dataclass(frozen=True)
class Facts:
    call_sid: str
    caller: str  # the full number: hashed before it is stored, never logged
    at: dt.datetime
    endpoint: str
    stage: str
    leaflet: str | None = None
    section: int | None = None
    part: int | None = None
    started: bool = False
    key: Key | None = None
    said: Said | None = None
    read: Read | None = None
    nurse_requested: bool = False
    nurse_closed: bool = False
    transfer_status: str | None = None
    message_left: bool = False
    callback_left: bool = False
    past_first_menu: bool = False  # the caller is somewhere other than the main menu


def _stage(step: Step) -> str:
    if isinstance(step.then, Transfer):
        return "nurse-ringing"
    if isinstance(step.then, Record):
        return "nurse-message"
    if isinstance(step.then, HangUp):
        return "goodbye"
    return step.position.kind


def step_facts(
    step: Step, *, came_from: Position | None, event: Event | None, open_now: bool,
    save: Save | None = None, saved: bool | None = None, said: Said | None = None,
) -> StepFacts:
    """The facts of answering ``event`` at ``came_from`` (None: arriving) with ``step``."""
    position = step.position
    place = position.place
    section = place.section if place.kind in ("read", "pause", "end") else None
    part = place.part if section is not None else None
    read = Read(position.slug, position.section, position.part, position.rate) if position.kind == "read" else None
    key = None
    if isinstance(event, Keys) and came_from is not None and came_from.kind != "nurse-keyin":
        key = Key(came_from.kind, event.digits[:8])
    entered = position.kind in NURSE_KINDS and (came_from is None or came_from.kind not in NURSE_KINDS)
    offered = position.kind == "welcome"  # the place it offers is not a leaflet the caller chose
    return StepFacts(
        stage=_stage(step), leaflet=None if offered else place.slug or None, section=section, part=part, read=read, key=key, said=said,
        nurse_requested=entered, nurse_closed=entered and not open_now,
        transfer_status=("answered" if event.answered else event.status or "unknown")
        if isinstance(event, DialEnded) else None,
        message_left=bool(saved) and isinstance(save, SaveMessage),
        callback_left=bool(saved) and save is not None and not isinstance(save, SaveMessage),
    )


def webhook_facts(endpoint: str, form: Mapping[str, str], facts: StepFacts, at: dt.datetime, *,
                  first_menu: tuple[str, str | None] = ("leaflets", None)) -> Facts | None:
    """The facts of one answered webhook, or None for one that is not logged (not the caller's
    leg, no CallSid). ``first_menu`` is the main menu's (stage, leaflet): the leaflet menu, or the
    section menu of the only leaflet. Never raises."""
    call_sid = form.get("CallSid", "")[:64]
    if endpoint not in LOGGED_ENDPOINTS or not call_sid or facts.stage == "whisper":
        return None  # the whisper is the nurse's leg (another CallSid), not a call to the line
    return Facts(
        call_sid=call_sid, caller=form.get("From", ""), at=at, endpoint=endpoint, stage=facts.stage[:24],
        leaflet=facts.leaflet, section=facts.section, part=facts.part, started=endpoint == "voice.answer",
        key=facts.key, said=facts.said, read=facts.read, nurse_requested=facts.nurse_requested,
        nurse_closed=facts.nurse_closed, transfer_status=facts.transfer_status, message_left=facts.message_left,
        callback_left=facts.callback_left,
        # the offer to carry on comes before the main menu: a call that ends there never got past it
        past_first_menu=facts.stage != "welcome" and (facts.stage, facts.leaflet) != first_menu,
    )
