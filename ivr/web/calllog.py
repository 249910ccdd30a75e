"""Hooks that log every call through its webhooks, best effort: logging never delays or breaks a call.

An ``after_request`` hook on the app, for the call's webhooks only, takes the facts the view
noted from the engine's step (``g.ivr_step_facts``; :func:`ivr.calllog.webhook_facts` adds the
call and time), counts them for ``/metrics`` and hands them to the process's
:class:`ivr.calllog.CallLogWriter`, whose thread writes them within moments: a slow or failing
database never holds a caller up. Failures are
logged (without the caller's number) and dropped. :func:`flush` waits for this process's
pending facts (the staff dashboard calls it, so a call just made is counted).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask, Response, current_app, g, request

from ivr.calllog import CallLogWriter, webhook_facts
from ivr.calllog.facts import Read, StepFacts
from ivr.calllog.listening import Lengths
from ivr.dialogue.steps import leaflet_part_id
from ivr.runtime import Runtime
from ivr.store.models import utcnow

__all__ = [
    "WEBHOOK_BLUEPRINTS", "current_lengths", "flush", "init_app", "note_webhook", "part_seconds", "section_lengths",
]

log = logging.getLogger(__name__)
WEBHOOK_BLUEPRINTS = ("voice", "voice_legacy")
WORDS_PER_SECOND = {"normal": 2.5, "slow": 1.8}  # for a part with no rendered audio (spoken by <Say>)


def _durations(runtime: Runtime) -> dict[tuple[str, str], float]:
    return {(entry.id, entry.rate): entry.duration for entry in runtime.manifest.entries}


def part_seconds(runtime: Runtime, durations: Mapping[tuple[str, str], float], read: Read) -> float | None:
    """How long the part takes to say: its rendered audio's length, else an estimate from its
    words; None for a part that does not exist."""
    found = durations.get((leaflet_part_id(read.leaflet, read.section, read.part), read.rate))
    if found is not None:
        return found
    leaflet = runtime.catalogue.by_slug(read.leaflet)
    section = leaflet.section(read.section) if leaflet is not None else None
    if section is None or not 1 <= read.part <= len(section.parts):
        return None
    return round(len(section.parts[read.part - 1].split()) / WORDS_PER_SECOND.get(read.rate, 2.5), 2)


def section_lengths(runtime: Runtime) -> Lengths:
    """How long each part of a section takes to say at a rate (:func:`part_seconds`), worked out
    once per section; None for a section the content does not have."""
    durations = _durations(runtime)
    found: dict[tuple[str, int, str], tuple[float, ...] | None] = {}

    def lengths(slug: str, number: int, rate: str) -> tuple[float, ...] | None:
        key = (slug, number, rate)
        if key not in found:
            leaflet = runtime.catalogue.by_slug(slug)
            section = leaflet.section(number) if leaflet is not None else None
            found[key] = None if section is None else tuple(
                part_seconds(runtime, durations, Read(slug, number, part, rate)) or 0.0
                for part in range(1, len(section.parts) + 1))
        return found[key]

    return lengths


def current_lengths() -> Lengths:
    return current_app.extensions["ivr.lengths"]


def flush() -> None:
    """Wait (a few seconds at most) for this process's call-log facts to be written."""
    writer: CallLogWriter = current_app.extensions["ivr.calllog"]
    if not writer.flush(timeout=5):
        log.warning("call log: pending writes not finished after 5 s; figures may lag")


def init_app(app: Flask) -> None:
    """Log the calls answered by ``app`` (its voice and nurse blueprints)."""
    app.extensions["ivr.lengths"] = section_lengths(app.extensions["ivr.runtime"])
    app.extensions["ivr.calllog"] = CallLogWriter(app.extensions["ivr.store"], str(app.secret_key))
    top = app.extensions["ivr.engine"].leaflets.top()
    app.extensions["ivr.calllog.note"] = _Notes(app, (top.kind, top.slug or None))

    @app.after_request
    def _log_call(response: Response) -> Response:
        step = g.get("ivr_step_facts")
        if request.blueprint not in WEBHOOK_BLUEPRINTS or response.status_code != 200 or step is None:
            return response  # refused (403) requests are not calls; a fault's apology moves nothing on
        note_webhook(current_app, request.endpoint or "", request.form, step)
        return response


class _Notes:
    """What :func:`note_webhook` needs of an app, gathered once."""

    def __init__(self, app: Flask, first_menu: tuple[str, str | None]) -> None:
        self.runtime: Runtime = app.extensions["ivr.runtime"]
        self.durations = _durations(self.runtime)
        self.writer: CallLogWriter = app.extensions["ivr.calllog"]
        self.first_menu = first_menu  # the main menu: "never got past it" is counted from here


def note_webhook(app: Flask, endpoint: str, form: Mapping[str, str], step: StepFacts) -> None:
    """Count an answered webhook for /metrics and hand its facts to the call log's writer (nothing
    when ``app`` keeps no call log: the practice line). Never raises: logged instead."""
    notes: _Notes | None = app.extensions.get("ivr.calllog.note")
    if notes is None:
        return
    try:
        facts = webhook_facts(endpoint, form, step, utcnow(), first_menu=notes.first_menu)
        if facts is None:
            return
        seconds = part_seconds(notes.runtime, notes.durations, facts.read) if facts.read is not None else None
        from ivr.web import metrics

        metrics.observe_facts(app, facts)
        notes.writer.submit(facts, seconds)
    except Exception:
        log.exception("call log: could not read the facts of a webhook to %s", endpoint)
