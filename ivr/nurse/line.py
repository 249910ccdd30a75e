"""The nurse line's working parts, built once from settings: opening hours, the store, the clock."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from ivr.config import Settings
from ivr.errors import ConfigError
from ivr.nurse.hours import OpeningHours, load_opening_hours
from ivr.nurse.numbers import check_e164
from ivr.store import Store

__all__ = ["Clock", "NurseLine", "build_nurse_line", "real_clock"]

log = logging.getLogger(__name__)

Clock = Callable[[], dt.datetime]


def real_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class NurseLine:
    nurse_number: str
    hours: OpeningHours
    store: Store
    clock: Clock


def build_nurse_line(settings: Settings, store: Store, clock: Clock | None = None) -> NurseLine:
    """Everything the nurse-line webhooks need. Raises ConfigError for a missing or malformed nurse
    number, hours, closed dates, holiday region, database URL or IVR_CLOCK: the line refuses to
    start. A database that is down is *not* an error here: the store retries when first used.
    """
    problem = check_e164(settings.nurse_number)
    if problem:
        raise ConfigError(
            f"Expected the nurses' number in E.164 form like '+441632960001', got "
            f"'{settings.nurse_number}' in IVR_NURSE_NUMBER, which {problem}.",
            hint="Set IVR_NURSE_NUMBER to the helpline the line transfers callers to.",
        )
    hours = load_opening_hours(settings.nurse_hours, settings.holidays_region, settings.closed_dates)
    fixed = settings.clock
    if clock is None and fixed is not None:
        log.warning("IVR_CLOCK is set: the nurse line takes the time to be %s (for tests only)", fixed.isoformat())
        clock = lambda: fixed  # noqa: E731
    return NurseLine(settings.nurse_number, hours, store, clock or real_clock)
