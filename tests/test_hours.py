"""Opening hours with an injected clock: weekdays, weekends, bank holidays, clock changes, phrases."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.config import parse_clock
from ivr.errors import ConfigError
from ivr.nurse.hours import LONDON, load_opening_hours, parse_closed_dates, parse_hours
from ivr.nurse.phrases import closed_utterance, spoken_time, when_phrase
from ivr.prompts import load_prompts

UTC = dt.UTC
WEEKDAYS = "Mon-Fri 09:00-17:00"
WITH_SATURDAY = "Mon-Fri 09:00-17:00; Sat 10:00-13:00"
PROMPTS = load_prompts("en-GB")


def hours(text: str = WEEKDAYS, region: str = "ENG", closed: str = ""):
    return load_opening_hours(text, region, closed)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def london(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        (london(2026, 11, 25, 10, 0), True),  # Wednesday morning
        (london(2026, 11, 25, 8, 59), False),  # a minute before opening
        (london(2026, 11, 25, 9, 0), True),  # opening minute
        (london(2026, 11, 25, 16, 59), True),
        (london(2026, 11, 25, 17, 0), False),  # closing time is closed
        (london(2026, 11, 25, 22, 0), False),
        (london(2026, 11, 28, 11, 0), True),  # Saturday inside its hours
        (london(2026, 11, 28, 13, 30), False),  # Saturday after its hours
        (london(2026, 11, 29, 11, 0), False),  # Sunday
        (london(2026, 12, 25, 11, 0), False),  # Christmas Day (Friday)
        (london(2026, 12, 26, 11, 0), False),  # Boxing Day (Saturday)
        (london(2026, 12, 28, 11, 0), False),  # Boxing Day observed (Monday)
        (london(2026, 12, 29, 11, 0), True),
        (london(2026, 4, 3, 11, 0), False),  # Good Friday 2026
        (london(2026, 4, 6, 11, 0), False),  # Easter Monday 2026
        (london(2026, 4, 7, 11, 0), True),
    ],
)
def test_is_open_in_london_time(now, is_open):
    assert hours(WITH_SATURDAY).is_open(now) is is_open


def test_october_2026_clock_change():
    line = hours()
    # Friday 23 October: BST, so 08:30 UTC is 09:30 in London.
    assert line.is_open(utc(2026, 10, 23, 8, 30))
    # Monday 26 October, after the change on Sunday 25: GMT, so 08:30 UTC is 08:30 in London.
    assert not line.is_open(utc(2026, 10, 26, 8, 30))
    assert line.is_open(utc(2026, 10, 26, 9, 0))
    opening = line.next_opening(utc(2026, 10, 23, 17, 0))  # Friday 18:00 BST
    assert opening is not None
    assert opening.at.astimezone(UTC) == utc(2026, 10, 26, 9, 0)  # 09:00 GMT, not 08:00 UTC
    assert when_phrase(opening, utc(2026, 10, 23, 17, 0), PROMPTS) == "on Monday at 9 am"


def test_march_2027_clock_change_over_easter():
    line = hours()
    assert not line.is_open(utc(2027, 3, 25, 8, 30))  # Thursday, GMT: 08:30 in London
    assert line.is_open(utc(2027, 3, 30, 8, 30))  # Tuesday after the change, BST: 09:30 in London
    now = utc(2027, 3, 25, 18, 0)  # Thursday evening before Good Friday
    opening = line.next_opening(now)
    assert opening is not None and opening.after_closure
    # Good Friday and Easter Monday are skipped; Tuesday 09:00 BST is 08:00 UTC.
    assert opening.at.astimezone(UTC) == utc(2027, 3, 30, 8, 0)
    assert when_phrase(opening, now, PROMPTS) == "on Tuesday 30 March at 9 am"


def test_opening_in_the_spring_forward_gap_is_the_real_instant_after_it():
    line = hours("Sun 01:30-03:00")
    opening = line.next_opening(utc(2027, 3, 27, 12, 0))
    assert opening is not None
    # 01:30 does not exist in London on 28 March 2027: the clocks go from 01:00 GMT to 02:00 BST.
    assert opening.at.astimezone(UTC) == utc(2027, 3, 28, 1, 30)
    assert line.is_open(opening.at)


def test_christmas_2026_next_opening_names_the_date():
    now = utc(2026, 12, 24, 18, 0)  # Thursday evening
    line = hours()
    opening = line.next_opening(now)
    assert opening is not None and opening.after_closure
    assert opening.at == london(2026, 12, 29, 9, 0)
    assert closed_utterance(line, now, PROMPTS).text == (
        "The nurse helpline is closed at the moment. It opens again on Tuesday 29 December at 9 am."
    )


@pytest.mark.parametrize(
    ("text", "now", "phrase"),
    [
        ("Mon-Fri 14:00-17:00", london(2026, 11, 25, 10, 0), "today at 2 pm"),
        (WEEKDAYS, london(2026, 11, 25, 7, 0), "today at 9 am"),
        (WEEKDAYS, london(2026, 11, 25, 18, 0), "tomorrow at 9 am"),
        (WEEKDAYS, london(2026, 11, 26, 0, 5), "today at 9 am"),  # just after midnight
        (WEEKDAYS, london(2026, 11, 27, 18, 0), "on Monday at 9 am"),  # Friday evening
        (WITH_SATURDAY, london(2026, 11, 27, 18, 0), "tomorrow at 10 am"),
        (WITH_SATURDAY, london(2026, 11, 28, 14, 0), "on Monday at 9 am"),
        ("Mon-Fri 09:30-17:00", london(2026, 11, 25, 18, 0), "tomorrow at 9:30 am"),
        ("Mon 12:00-14:00", london(2026, 11, 25, 18, 0), "on Monday at midday"),
        ("Mon 09:00-12:00", london(2026, 11, 30, 13, 0), "on Monday 7 December at 9 am"),  # a week ahead
        (WEEKDAYS, london(2026, 4, 2, 18, 0), "on Tuesday 7 April at 9 am"),  # over Easter 2026
    ],
)
def test_next_opening_phrases(text, now, phrase):
    opening = hours(text).next_opening(now)
    assert opening is not None
    assert when_phrase(opening, now, PROMPTS) == phrase


@pytest.mark.parametrize(("minute", "spoken"), [(0, "midnight"), (9 * 60, "9 am"), (12 * 60, "midday"),
                                                 (13 * 60 + 5, "1:05 pm"), (23 * 60 + 59, "11:59 pm")])
def test_spoken_times(minute, spoken):
    assert spoken_time(minute, PROMPTS) == spoken


def test_always_and_never():
    always, never = hours("always"), hours("never")
    christmas = london(2026, 12, 25, 3, 0)
    assert always.is_open(christmas)
    opening = always.next_opening(christmas)
    assert opening is not None and opening.at == christmas
    assert not never.is_open(christmas)
    assert never.next_opening(christmas) is None
    assert closed_utterance(never, christmas, PROMPTS).text == "The nurse helpline is closed at the moment."


def test_extra_closed_dates_and_holiday_region():
    assert not hours(closed="2026-11-25, 2026-12-31").is_open(london(2026, 11, 25, 10, 0))
    # 2 January 2026 is a bank holiday in Scotland but not in England.
    assert hours(region="ENG").is_open(london(2026, 1, 2, 10, 0))
    assert not hours(region="SCT").is_open(london(2026, 1, 2, 10, 0))


def test_several_ranges_a_day():
    line = hours("Mon,Wed 09:00-12:30,13:30-17:00")
    assert line.is_open(london(2026, 11, 25, 12, 0))
    assert not line.is_open(london(2026, 11, 25, 13, 0))
    assert not line.is_open(london(2026, 11, 24, 10, 0))  # Tuesday
    opening = line.next_opening(london(2026, 11, 25, 12, 45))
    assert opening is not None and opening.at == london(2026, 11, 25, 13, 30)


def test_naive_now_is_refused():
    with pytest.raises(ValueError, match="aware"):
        hours().is_open(dt.datetime(2026, 11, 25, 10, 0))


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2028, 12, 31), timezones=st.just(UTC)))
def test_next_opening_is_the_first_open_minute(now):
    line = hours(WITH_SATURDAY)
    opening = line.next_opening(now)
    assert opening is not None
    if line.is_open(now):
        assert opening.at == now
    else:
        assert opening.at > now
        assert line.is_open(opening.at)
        assert not line.is_open(opening.at - dt.timedelta(minutes=1))


HOURS_FORMAT = "Expected opening hours like 'Mon-Fri 09:00-17:00; Sat 10:00-13:00', or 'always' or 'never'"


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ("9am-5pm", "needs days then times, like 'Mon-Fri 09:00-17:00'"),
        ("", "It is empty"),
        ("Mon-Fri", "needs days then times"),
        ("Mnd-Fri 09:00-17:00", "'Mnd' is not a day: use Mon, Tue, Wed, Thu, Fri, Sat or Sun."),
        ("Fri-Mon 09:00-17:00", "'Fri-Mon' runs backwards"),
        ("Mon-Fri 9:00-17:00", "'9:00' is not a 24-hour time: write times as HH:MM"),
        ("Mon-Fri 09:00-25:00", "'25:00' is not a time of day"),
        ("Mon-Fri 09:00-09:60", "'09:60' is not a time of day"),
        ("Mon-Fri 17:00-09:00", "'17:00-09:00' ends before it starts"),
        ("Mon-Fri 09:00", "'09:00' needs a start and an end time"),
        ("Mon-Fri 09:00-17:00; Mon 16:00-18:00", "Mon has overlapping times"),
    ],
)
def test_bad_hours_say_what_was_expected(value, hint):
    with pytest.raises(ConfigError) as caught:
        parse_hours(value)
    message = str(caught.value)
    assert message.startswith(f"{HOURS_FORMAT}, got '{value}' in IVR_NURSE_HOURS. Hint: ")
    assert hint in message


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: parse_closed_dates("2026-12-24, 24/12/2026"),
         "Expected dates like '2026-12-24, 2026-12-31', got '24/12/2026' in IVR_CLOSED_DATES."),
        (lambda: load_opening_hours(WEEKDAYS, "England", ""),
         "Expected one of ENG, NIR, SCT, WLS, got 'ENGLAND' in IVR_HOLIDAYS_REGION."),
        (lambda: parse_clock("2026-12-24 18:00"),
         "Expected a time with its offset like '2026-12-24T18:00:00+00:00', got '2026-12-24 18:00' in IVR_CLOCK."),
    ],
)
def test_other_bad_settings(call, message):
    with pytest.raises(ConfigError) as caught:
        call()
    assert str(caught.value).startswith(message)
