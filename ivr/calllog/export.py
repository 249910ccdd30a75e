"""The call log of a period as CSV, for the service's own reporting. Pure.

``sections_csv``: one row per leaflet section (plays, heard to half and to the end, time listened).
``calls_csv``: one row per call, without its CallSid or the caller's hash (how many calls that
caller made in the period is given instead). Times are London time. A cell that a spreadsheet
would take for a formula (starting with = + - @) is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable, Sequence

from ivr.calllog.stats import CallRow, Dashboard, place_name
from ivr.content.catalogue import Catalogue
from ivr.nurse.hours import LONDON

__all__ = ["CALL_COLUMNS", "SECTION_COLUMNS", "calls_csv", "sections_csv"]

SECTION_COLUMNS = (
    "period_from", "period_to", "leaflet", "leaflet_slug", "section_number", "section", "plays_started",
    "heard_to_half", "heard_to_half_share", "heard_to_end", "heard_to_end_share", "calls", "minutes_listened",
)
CALL_COLUMNS = (
    "started", "length_seconds", "final_status", "hung_up", "where_it_ended", "got_past_main_menu",
    "nurse_requested", "nurses_closed", "transfer", "message_left", "callback_left", "calls_from_this_caller",
)


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(value) for value in row] for row in rows)
    return out.getvalue()


def _local(moment: dt.datetime | None) -> str:
    return moment.astimezone(LONDON).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def sections_csv(figures: Dashboard, until: dt.datetime) -> str:
    """Each section of ``figures`` (the period up to ``until``)."""
    period = (figures.since.date().isoformat(), until.astimezone(LONDON).date().isoformat())
    return _csv(SECTION_COLUMNS, (
        (*period, s.leaflet, s.slug, s.number, s.section, s.plays, s.to_half, f"{s.half_share:.3f}", s.to_end,
         f"{s.end_share:.3f}", s.calls, f"{s.seconds / 60:.1f}")
        for s in figures.sections
    ))


def calls_csv(calls: Sequence[CallRow], catalogue: Catalogue) -> str:
    """Each call of ``calls``, oldest first."""
    per_caller = Counter(c.caller_hash for c in calls if c.caller_hash)
    return _csv(CALL_COLUMNS, (
        (_local(c.started_at), c.duration_seconds, c.call_status, _local(c.hung_up_at),
         place_name(catalogue, c.stage, c.leaflet, c.section), _yes(c.past_first_menu), _yes(c.nurse_requested),
         _yes(c.nurse_closed), c.transfer_status, _yes(c.message_left), _yes(c.callback_left),
         per_caller[c.caller_hash] if c.caller_hash else "")
        for c in sorted(calls, key=lambda c: c.started_at)
    ))
