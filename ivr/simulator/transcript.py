"""What a simulated call heard and did: typed events on a running clock, and a readable text.

The clock counts the seconds a caller spends on the line as Twilio would play it: audio heard,
pauses, Gather timeouts waited out, ringing, talk with the nurse, messages left. Each event is
stamped with the clock when it *ends* (``start`` gives when it began).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["EndedBy", "Event", "EventKind", "Leg", "Transcript", "format_clock"]

EventKind = Literal[
    "say",  # <Say>: synthetic speech (text known, duration estimated)
    "play",  # <Play>: an audio file (text from the manifest, duration read from the file)
    "pause",  # <Pause>
    "keys",  # keys pressed
    "said",  # words the caller said (Twilio's speech recognition hears them)
    "silence",  # waited for a key and none came (Gather timeout)
    "request",  # an HTTP request Twilio made (shown with text(urls=True))
    "dial",  # ringing a number, and what happened
    "talk",  # connected to the nurse: the conversation
    "message",  # <Record>: the caller left a message
    "hangup",  # the call ended (by the line or the caller)
    "error",  # anything Twilio would log as an error (the call may or may not go on)
    "note",  # anything else worth knowing (an ignored attribute, the script ran out)
]
Leg = Literal["caller", "nurse"]
EndedBy = Literal["hangup", "end", "rejected", "caller", "error", "max-steps"]

_ENDINGS: dict[str, str] = {
    "hangup": "the line hangs up",
    "end": "the line hangs up (end of its instructions)",
    "rejected": "the line rejects the call",
    "caller": "you hang up",
    "error": "the call fails (Twilio would say 'an application error has occurred')",
    "max-steps": "the simulator stops the call (too many steps)",
}


def format_clock(seconds: float) -> str:
    """``  0:04.2`` style: minutes and seconds to a tenth."""
    minutes, rest = divmod(max(seconds, 0.0), 60.0)
    if round(rest, 1) >= 60.0:
        minutes, rest = minutes + 1, 0.0
    return f"{int(minutes):3d}:{rest:04.1f}"


@dataclass(frozen=True)
class Event:
    kind: EventKind
    text: str = ""
    id: str | None = None  # prompt id (``call.greeting``) or leaflet part (``leaflet/slug/1/2``)
    url: str | None = None
    duration: float = 0.0  # seconds this event took on the line
    clock: float = 0.0  # call clock when the event ended
    keys: str | None = None
    leg: Leg = "caller"

    @property
    def start(self) -> float:
        return self.clock - self.duration

    def line(self) -> str:
        """One readable line, as ``ivr call`` prints it."""
        who = "line" if self.leg == "caller" else "nurse hears"
        body: str
        if self.kind in ("say", "play"):
            how = "audio" if self.kind == "play" else "Say, about"
            ident = f", {self.id}" if self.id else ""
            body = f'{who}: "{self.text}"  ({how} {self.duration:.1f} s{ident})'
        elif self.kind == "pause":
            body = f"{'line' if self.leg == 'caller' else 'nurse leg'}: pause {self.duration:g} s"
        elif self.kind == "keys":
            body = f"{'you press' if self.leg == 'caller' else 'nurse presses'} {self.keys}"
        elif self.kind == "said":
            body = f'you say "{self.text}"'
            if self.keys:
                body += f" ({self.keys})"
        elif self.kind == "silence":
            body = f"{'you say nothing' if self.leg == 'caller' else 'nurse presses nothing'} ({self.text})"
        elif self.kind == "request":
            body = f"-> {self.text}"
        elif self.kind == "error":
            body = f"ERROR: {self.text}"
        else:
            body = self.text
        return f"[{format_clock(self.clock)}] {body}"


@dataclass
class Transcript:
    """Events of one call, in order, with the running clock; see :meth:`text`."""

    events: list[Event] = field(default_factory=list)
    ended_by: EndedBy | None = None
    clock: float = 0.0
    on_event: Callable[[Event], None] | None = field(default=None, repr=False)

    def add(self, kind: EventKind, text: str = "", *, duration: float = 0.0, **fields: object) -> Event:
        """Append an event lasting ``duration`` seconds from now; the clock moves on by it."""
        self.clock += duration
        event = Event(kind, text, duration=duration, clock=self.clock, **fields)  # type: ignore[arg-type]
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)
        return event

    def end(self, how: EndedBy, detail: str = "") -> None:
        self.ended_by = how
        self.add("hangup", _ENDINGS[how] + (f": {detail}" if detail else ""))

    @property
    def errors(self) -> list[Event]:
        return [e for e in self.events if e.kind == "error"]

    @property
    def failed(self) -> bool:
        """True when anything went wrong: an HTTP error, invalid TwiML, a bad audio file, ..."""
        return self.ended_by == "error" or bool(self.errors)

    def heard(self, leg: Leg = "caller") -> list[Event]:
        """Everything spoken (Say and Play) on that leg."""
        return [e for e in self.events if e.kind in ("say", "play") and e.leg == leg]

    def ids(self, leg: Leg = "caller") -> list[str | None]:
        """The prompt / leaflet-part ids heard, in order (None where the text was not recognised)."""
        return [e.id for e in self.heard(leg)]

    def requests(self) -> list[Event]:
        return [e for e in self.events if e.kind == "request"]

    def text(self, *, urls: bool = False) -> str:
        """The call as a caller hears it, one line an event; ``urls`` adds Twilio's requests."""
        return "\n".join(e.line() for e in self.events if urls or e.kind != "request")
