"""The nurse line: opening hours, transfers with a whisper, messages and call-backs.

``spoken_utterances`` lists every sentence it can say (for rendering); ``check_settings``
reports its settings problems for ``ivr check``. The webhooks are in ``ivr.web.nurse``.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ivr.config import Settings
from ivr.content.catalogue import Catalogue
from ivr.errors import ConfigError
from ivr.findings import Finding
from ivr.nurse.hours import (
    DAY_NAMES,
    OpeningHours,
    load_opening_hours,
    parse_closed_dates,
    parse_hours,
)
from ivr.nurse.numbers import check_e164, uk_callback_number
from ivr.nurse.phrases import spoken_time, whisper_utterance
from ivr.prompts import Prompts, Utterance

__all__ = ["check_settings", "spoken_utterances"]

# Prompts spoken as they stand (no placeholders), in the order a caller meets them.
_FIXED = (
    "connecting", "goodbye", "busy", "closed.no_hours", "urgent",
    "options.message", "options.callback", "options.back_leaflet", "options.back_menu", "options.again",
    "no_input", "help", "wrong_key",
    "message.instructions", "message.saved", "message.nothing_heard", "message.not_saved", "message.retry",
    "callback.this_number", "callback.confirm", "callback.key_in", "callback.invalid", "callback.saved",
    "callback.not_saved", "callback.retry", "after_saved", "after_saved_menu",
    "whisper.caller", "whisper.accept",
    *(f"digits.{digit}" for digit in range(10)),
)


def _closed_sentences(prompts: Prompts, settings: Settings) -> Iterable[Utterance]:
    """"It opens again today / tomorrow / on Monday at <each opening time>": finite. Phrases that
    name a date (after a holiday, or a week ahead) are not pre-rendered and use <Say>."""
    try:
        hours = parse_hours(settings.nurse_hours)
    except ConfigError:
        return
    weekly = OpeningHours(hours)
    for minute in weekly.opening_minutes():
        time = spoken_time(minute, prompts)
        phrases = [prompts.say("nurse.when.today", time=time).text, prompts.say("nurse.when.tomorrow", time=time).text]
        phrases += [prompts.say("nurse.when.weekday", day=prompts.say(f"nurse.days.{day}").text, time=time).text
                    for day in range(len(DAY_NAMES))]
        for when in phrases:
            yield prompts.say("nurse.closed.next", when=when)


def spoken_utterances(catalogue: Catalogue, prompts: Prompts, settings: Settings) -> Iterable[Utterance]:
    """Every utterance the nurse line can say (for rendering): its fixed prompts, the closed
    announcement for each opening time, and the whisper for every leaflet and section.
    Raises PromptError when a prompt is missing from nurse.yaml."""
    items = [prompts.say(f"nurse.{key}") for key in _FIXED]
    items += _closed_sentences(prompts, settings)
    for leaflet in catalogue.leaflets:
        items.append(whisper_utterance(catalogue, prompts, leaflet.slug, None))
        for section in (leaflet.intro, *leaflet.sections):
            items.append(whisper_utterance(catalogue, prompts, leaflet.slug, section.number))
    return items


def check_settings(settings: Settings) -> list[Finding]:
    """Nurse-line settings problems: the nurse number and caller ID, hours, closed dates,
    holiday region, IVR_CLOCK. Errors stop the line starting; warnings do not."""
    findings: list[Finding] = []
    problem = check_e164(settings.nurse_number)
    if problem:
        findings.append(Finding("error", f"IVR_NURSE_NUMBER {problem}: expected E.164 like '+441632960001', "
                                         f"got '{settings.nurse_number}'."))
    elif uk_callback_number(settings.nurse_number) is None:
        findings.append(Finding("warning", f"IVR_NURSE_NUMBER '{settings.nurse_number}' is not a UK number in "
                                           "service (a drama or test range?): transfers will fail."))
    if settings.nurse_caller_id and (problem := check_e164(settings.nurse_caller_id)):
        findings.append(Finding("error", f"IVR_NURSE_CALLER_ID {problem}: expected E.164 like '+441632960000', "
                                         f"got '{settings.nurse_caller_id}'."))
    for check in (
        lambda: parse_hours(settings.nurse_hours),
        lambda: parse_closed_dates(settings.closed_dates),
        lambda: load_opening_hours("never", settings.holidays_region, ""),
    ):
        try:
            check()
        except ConfigError as exc:
            findings.append(Finding("error", str(exc)))
    try:
        make_url(settings.database_url)
    except ArgumentError:
        findings.append(Finding("error", f"IVR_DATABASE_URL is not a database URL: got '{settings.database_url}', "
                                         "expected e.g. 'postgresql+psycopg://user@host/ivr' (unset: SQLite)."))
    if settings.clock is not None:
        findings.append(Finding("warning", "IVR_CLOCK is set: the nurse line ignores the real time (tests only)."))
    return findings
