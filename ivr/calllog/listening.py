"""How much of each section a caller heard, from the call log's events. Pure.

A *play* is a call hearing one section: it starts with the first part the caller is sent to
hear in that section, and ends at another section or a menu (keys pressed while reading, such as
back a paragraph, pause or this section again, keep it going). For each part read:

- heard to its end when the call's next event is the next part or the end of the section with
  no key pressed: Twilio moves on by itself only once the part has played out;
- otherwise heard for the time until the next event (a key pressed, the nurse line) or, for
  the last part of a call, until the call really ended (Twilio's status callback; without one,
  the last webhook: nothing of that part is counted), never more than the part's length.

What a play *heard* is the sum over the section's parts of the most heard of each (a part heard
twice counts once; a part skipped with a key counts only as far as it was heard). A play was
heard to half when that is at least half the section's length, and to the end when it is all
of it but the last :data:`END_TOLERANCE` seconds (Twilio's timestamps are whole seconds).
``listened`` counts every hearing: the time callers spent listening. Webhook times are when the
line answered, a little before the caller heard the audio, so partly heard parts are a slight
overestimate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby

__all__ = ["END_TOLERANCE", "EventRow", "Lengths", "Play", "plays"]

END_TOLERANCE = 1.0  # seconds
INSIDE_READING = frozenset({"read", "pause"})  # keys pressed here keep a play going

# The lengths in seconds of every part of (leaflet, section) at a rate, or None when the content
# no longer has that section (then the lengths the events recorded are used).
Lengths = Callable[[str, int, str], Sequence[float] | None]


@dataclass(frozen=True)
class EventRow:
    """The columns of a call event that listening needs (events of a call in time order)."""

    call_sid: str
    at: dt.datetime
    kind: str
    menu: str | None = None
    leaflet: str | None = None
    section: int | None = None
    part: int | None = None
    rate: str | None = None
    seconds: float | None = None


@dataclass
class Play:
    call_sid: str
    leaflet: str
    section: int
    started_at: dt.datetime
    parts: list[float] = field(default_factory=list)  # the section's parts' lengths, at the rate last heard
    fractions: dict[int, float] = field(default_factory=dict)  # part -> the most heard of it (0 to 1)
    listened: float = 0.0  # seconds listened, every hearing counted

    @property
    def length(self) -> float:
        return sum(self.parts)

    @property
    def heard(self) -> float:
        """Seconds of the section heard, each part once."""
        return sum(fraction * self.parts[number - 1] for number, fraction in self.fractions.items()
                   if number <= len(self.parts))

    @property
    def to_half(self) -> bool:
        return self.length > 0 and self.heard >= self.length / 2

    @property
    def to_end(self) -> bool:
        return self.length > 0 and self.heard >= self.length - END_TOLERANCE


def _part_lengths(event: EventRow, lengths: Lengths, seen: Mapping[tuple[str, int, str], dict[int, float]]) -> list[float]:
    assert event.leaflet is not None and event.section is not None
    rate = event.rate or "normal"
    known = lengths(event.leaflet, event.section, rate)
    if known:
        return list(known)
    recorded = seen.get((event.leaflet, event.section, rate), {})
    return [recorded.get(number, 0.0) for number in range(1, max(recorded, default=0) + 1)]


def _call_plays(events: Sequence[EventRow], closed_at: dt.datetime | None, lengths: Lengths,
                seen: Mapping[tuple[str, int, str], dict[int, float]]) -> list[Play]:
    found: list[Play] = []
    play: Play | None = None
    for index, event in enumerate(events):
        if event.kind == "nurse" or (event.kind in ("key", "said") and event.menu not in INSIDE_READING):
            play = None  # a menu or the nurse line: whatever is read next is another play
            continue
        if event.kind != "read" or event.leaflet is None or event.section is None:
            continue
        if play is None or (play.leaflet, play.section) != (event.leaflet, event.section):
            play = Play(event.call_sid, event.leaflet, event.section, event.at)
            found.append(play)
        parts = _part_lengths(event, lengths, seen)
        if not parts:
            continue
        number = min(max(event.part or 1, 1), len(parts))
        length = parts[number - 1]
        following = events[index + 1] if index + 1 < len(events) else None
        if following is not None and following.kind in ("read", "end"):
            heard = length  # Twilio went on by itself: the part played out
        else:
            until = following.at if following is not None else closed_at
            heard = 0.0 if until is None else min(length, max(0.0, (until - event.at).total_seconds()))
        play.parts = parts
        play.listened += heard
        if length > 0:
            play.fractions[number] = max(play.fractions.get(number, 0.0), heard / length)
    return found


def plays(events: Iterable[EventRow], closed_at: Mapping[str, dt.datetime], lengths: Lengths) -> list[Play]:
    """Every play in ``events`` (ordered by call, then time, then as written). ``closed_at``: when
    each call ended (hung up, or its last webhook when Twilio never said). Never raises."""
    ordered = list(events)
    seen: dict[tuple[str, int, str], dict[int, float]] = {}
    for event in ordered:
        if event.kind == "read" and event.leaflet and event.section is not None and event.part and event.seconds:
            seen.setdefault((event.leaflet, event.section, event.rate or "normal"), {})[event.part] = event.seconds
    found: list[Play] = []
    for call_sid, call_events in groupby(ordered, key=lambda e: e.call_sid):
        found.extend(_call_plays(list(call_events), closed_at.get(call_sid), lengths, seen))
    return found
