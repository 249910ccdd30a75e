"""What the staff leaflets pages show: each leaflet's review date, its sign-off, and what changed since.

Pure data for the templates (no Flask): overdue reviews first, the most overdue at the top; each
change since approval with its words marked as kept, removed or added.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ivr.content.approval import Change, word_changes
from ivr.content.catalogue import Catalogue
from ivr.content.leaflet import Leaflet
from ivr.content.leaflet_approval import LeafletSignOff, leaflet_signoff
from ivr.content.review import days_overdue
from ivr.content.speech_text import SpeechLeaflet
from ivr.prompts import Prompts
from ivr.prompts.approval import PromptsSignOff, prompts_signoff

__all__ = ["LeafletStatus", "ShownChange", "leaflet_statuses", "prompts_status", "shown_changes"]


@dataclass(frozen=True)
class ShownChange:
    where: str
    kind: str  # "added", "removed" or "changed"
    runs: tuple[tuple[str, str], ...]  # ("same" | "removed" | "added", words)
    recognition: bool  # recognition words: listed, not spoken, not approved


def shown_changes(changes: tuple[Change, ...]) -> list[ShownChange]:
    shown = []
    for change in changes:
        if change.before is None:
            kind, runs = "added", [("added", change.after or "")]
        elif change.after is None:
            kind, runs = "removed", [("removed", change.before)]
        else:
            kind, runs = "changed", [(what, words) for what, words in word_changes(change.before, change.after)]
        shown.append(ShownChange(change.where, kind, tuple(runs), change.where.startswith("Recognition words")))
    return shown


@dataclass(frozen=True)
class LeafletStatus:
    speech: SpeechLeaflet
    source: Leaflet
    signoff: LeafletSignOff
    days_overdue: int  # 0 when not overdue
    days_left: int  # days until the review falls due (0 when overdue)

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0

    @property
    def changes(self) -> list[ShownChange]:
        return shown_changes(self.signoff.changes) if self.signoff.state.approval is not None else []


def leaflet_statuses(catalogue: Catalogue, today: dt.date) -> list[LeafletStatus]:
    """Every leaflet's status, overdue reviews first (most overdue at the top), then by title."""
    sources = {source.slug: source for source in catalogue.sources}
    statuses = []
    for speech in catalogue.leaflets:
        source = sources[speech.slug]
        statuses.append(LeafletStatus(
            speech, source, leaflet_signoff(source), days_overdue(speech.next_review, today),
            max(0, (speech.next_review - today).days),
        ))
    return sorted(statuses, key=lambda s: (-s.days_overdue, s.source.title.casefold()))


def prompts_status(prompts: Prompts) -> PromptsSignOff | None:
    """The prompts' sign-off, or None when its approval file cannot be read (shown as not approved)."""
    from ivr.errors import PromptError

    try:
        return prompts_signoff(prompts)
    except PromptError:
        return None
