"""When the nurses answer: weekly opening hours in Europe/London, minus bank holidays and closed dates.

``IVR_NURSE_HOURS`` is ``always``, ``never``, or rules separated by ``;``, each a set of days
and one or more time ranges: ``Mon-Fri 09:00-17:00; Sat 10:00-13:00`` or
``Mon,Wed 09:00-12:30,13:30-17:00``. Times are wall-clock times in London, so "09:00" is
09:00 GMT in winter and 09:00 BST in summer; ``24:00`` may end a range.

Every function takes ``now`` (an aware datetime) rather than reading the clock, so the
behaviour across clock changes and holidays is testable with any instant.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import holidays

from ivr.errors import ConfigError

__all__ = [
    "DAY_NAMES",
    "LONDON",
    "REGIONS",
    "Opening",
    "OpeningHours",
    "load_opening_hours",
    "parse_closed_dates",
    "parse_hours",
]

LONDON = ZoneInfo("Europe/London")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
REGIONS = ("ENG", "NIR", "SCT", "WLS")
HOURS_EXAMPLE = "Mon-Fri 09:00-17:00; Sat 10:00-13:00"
_TIME = re.compile(r"^(\d{2}):(\d{2})$")
_SEARCH_DAYS = 400  # far enough to pass any run of closed dates an operator could list


@dataclass(frozen=True)
class Opening:
    """The next time the nurses answer: ``at`` (London time), and whether a bank holiday or closed
    date was skipped to reach it (the spoken phrase then names the date)."""

    at: dt.datetime
    after_closure: bool


def _hours_error(value: str, hint: str) -> ConfigError:
    return ConfigError(
        f"Expected opening hours like '{HOURS_EXAMPLE}', or 'always' or 'never', "
        f"got '{value}' in IVR_NURSE_HOURS.",
        hint=hint,
    )


def _minutes(text: str, value: str) -> int:
    match = _TIME.match(text)
    if not match:
        raise _hours_error(value, f"'{text}' is not a 24-hour time: write times as HH:MM, like 09:00 or 17:30.")
    hours, minutes = int(match[1]), int(match[2])
    if minutes > 59 or hours > 24 or (hours == 24 and minutes):
        raise _hours_error(value, f"'{text}' is not a time of day (00:00 to 24:00).")
    return hours * 60 + minutes


def _day(text: str, value: str) -> int:
    for number, name in enumerate(DAY_NAMES):
        if text.strip().lower() == name.lower():
            return number
    raise _hours_error(value, f"'{text}' is not a day: use Mon, Tue, Wed, Thu, Fri, Sat or Sun.")


def _days(text: str, value: str) -> list[int]:
    days: list[int] = []
    for item in text.split(","):
        if "-" in item:
            first, _, last = item.partition("-")
            start, end = _day(first, value), _day(last, value)
            if end < start:
                raise _hours_error(value, f"'{item}' runs backwards: write the earlier day first, like Mon-Fri.")
            days += range(start, end + 1)
        else:
            days.append(_day(item, value))
    return days


def parse_hours(value: str) -> dict[int, tuple[tuple[int, int], ...]]:
    """``IVR_NURSE_HOURS`` -> {weekday (Mon=0): ((start minute, end minute), ...)} in London time.

    ``always`` opens every minute of every day; ``never`` gives no hours at all. Raises
    ConfigError naming the bad value, the expected format, and what is wrong in the hint.
    """
    text = " ".join(value.split())
    if text.lower() == "always":
        return {day: ((0, 24 * 60),) for day in range(7)}
    if text.lower() == "never":
        return {}
    if not text:
        raise _hours_error(value, "It is empty: give the hours, or 'never' if nurses never answer this line.")
    ranges: dict[int, list[tuple[int, int]]] = {}
    for rule in filter(None, (part.strip() for part in text.split(";"))):
        days_text, _, times_text = rule.partition(" ")
        if not times_text or not re.match(r"^[A-Za-z]", days_text):
            raise _hours_error(value, f"'{rule}' needs days then times, like 'Mon-Fri 09:00-17:00'.")
        days = _days(days_text, value)
        for span in times_text.replace(" ", "").split(","):
            start_text, dash, end_text = span.partition("-")
            if not dash:
                raise _hours_error(value, f"'{span}' needs a start and an end time, like 09:00-17:00.")
            start, end = _minutes(start_text, value), _minutes(end_text, value)
            if end <= start:
                raise _hours_error(value, f"'{span}' ends before it starts; hours cannot run past midnight.")
            for day in days:
                ranges.setdefault(day, []).append((start, end))
    for day, spans in ranges.items():
        spans.sort()
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start < end:
                raise _hours_error(value, f"{DAY_NAMES[day]} has overlapping times; give each day its hours once.")
    return {day: tuple(spans) for day, spans in sorted(ranges.items())}


def parse_closed_dates(value: str) -> frozenset[dt.date]:
    """``IVR_CLOSED_DATES`` (comma-separated ISO dates) -> dates; ConfigError on a bad one."""
    dates = set()
    for item in filter(None, (part.strip() for part in value.split(","))):
        try:
            dates.add(dt.date.fromisoformat(item))
        except ValueError:
            raise ConfigError(
                f"Expected dates like '2026-12-24, 2026-12-31', got '{item}' in IVR_CLOSED_DATES.",
                hint="Write each date as YEAR-MONTH-DAY, separated by commas.",
            ) from None
    return frozenset(dates)


def _holiday_calendar(region: str) -> Callable[[dt.date], bool]:
    if region not in REGIONS:
        raise ConfigError(
            f"Expected one of {', '.join(REGIONS)}, got '{region}' in IVR_HOLIDAYS_REGION.",
            hint="ENG is England; the nurses are closed on that region's bank holidays.",
        )
    calendar = holidays.country_holidays("GB", subdiv=region)
    return lambda day: day in calendar


@dataclass(frozen=True)
class OpeningHours:
    """Weekly hours plus closed days; ask with an aware ``now`` (any time zone)."""

    weekly: dict[int, tuple[tuple[int, int], ...]]
    is_closed_day: Callable[[dt.date], bool] = field(default=lambda day: False)

    @property
    def always(self) -> bool:
        return all(self.weekly.get(day) == ((0, 24 * 60),) for day in range(7))

    def _open_on(self, day: dt.date, *, closures: bool = True) -> tuple[tuple[int, int], ...]:
        if self.always:
            return ((0, 24 * 60),)  # 'always' means always, bank holidays included
        if not self.weekly:
            return ()
        if closures and self.is_closed_day(day):
            return ()
        return self.weekly.get(day.weekday(), ())

    def is_open(self, now: dt.datetime) -> bool:
        """Whether a nurse should answer at ``now`` (aware; ValueError if naive)."""
        local = _local(now)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self._open_on(local.date()))

    def _search(self, local: dt.datetime, *, closures: bool) -> dt.datetime | None:
        minute = local.hour * 60 + local.minute
        for offset in range(_SEARCH_DAYS):
            day = local.date() + dt.timedelta(days=offset)
            for start, end in self._open_on(day, closures=closures):
                if offset == 0 and start <= minute < end:
                    return local
                if offset > 0 or start > minute:
                    return _wall_time(day, start)
        return None

    def next_opening(self, now: dt.datetime) -> Opening | None:
        """When the nurses next answer at or after ``now`` (``now`` itself if open), in London
        time; None when they never do (``never``, or closed for the next 400 days).
        ValueError if ``now`` is naive."""
        local = _local(now)
        found = self._search(local, closures=True)
        if found is None:
            return None
        # A holiday or closed date was skipped when the plain weekly hours would open sooner.
        return Opening(found, self._search(local, closures=False) != found)

    def after_open_minutes(self, now: dt.datetime, minutes: int) -> dt.datetime | None:
        """The moment ``minutes`` of opening time have passed after ``now`` (London time): a
        call-back asked for at 16:30 with 120 minutes, on hours ending at 17:00, is due at 10:30 the
        next opening day. None when the nurses never open (``never``, or closed for 400 days)."""
        local = _local(now)
        left = minutes
        for offset in range(_SEARCH_DAYS):
            day = local.date() + dt.timedelta(days=offset)
            for start, end in self._open_on(day):
                begin = _wall_time(day, start)
                finish = _wall_time(day, end) if end < 24 * 60 else _wall_time(day + dt.timedelta(days=1), 0)
                begin = max(begin, local)
                if finish <= begin:
                    continue
                available = (finish - begin).total_seconds() / 60
                if left <= available:
                    return begin + dt.timedelta(minutes=left)
                left -= int(available)
        return None

    def opening_minutes(self) -> Iterable[int]:
        """Every minute of the day at which some opening period starts (for pre-rendering phrases)."""
        return sorted({start for spans in self.weekly.values() for start, _ in spans})


def _local(now: dt.datetime) -> dt.datetime:
    if now.tzinfo is None:
        raise ValueError("opening hours need an aware datetime (with a time zone)")
    return now.astimezone(LONDON)


def _wall_time(day: dt.date, minute: int) -> dt.datetime:
    """London wall-clock time ``minute`` on ``day``, normalised through UTC so that a time in the
    spring-forward gap (01:00-02:00 on the last Sunday of March) becomes the real instant after it."""
    naive = dt.datetime.combine(day, dt.time()) + dt.timedelta(minutes=minute)
    return naive.replace(tzinfo=LONDON).astimezone(dt.UTC).astimezone(LONDON)


def load_opening_hours(hours: str, region: str, closed_dates: str) -> OpeningHours:
    """The nurses' hours from the three settings; ConfigError naming the first bad one."""
    weekly = parse_hours(hours)
    closed = parse_closed_dates(closed_dates)
    holiday = _holiday_calendar(region.strip().upper())
    return OpeningHours(weekly, lambda day: day in closed or holiday(day))
