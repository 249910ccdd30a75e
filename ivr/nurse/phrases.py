"""What the nurse line says, as utterances built from the pieces in ``prompts/en-GB/nurse.yaml``.

The code only chooses and joins pieces: "tomorrow at 9 am" is ``nurse.when.tomorrow`` with
``nurse.time.hour`` inside it. Every function raises PromptError if a piece is missing.
"""

from __future__ import annotations

import datetime as dt

from ivr.nurse.hours import LONDON, Opening, OpeningHours
from ivr.prompts import Prompts, Utterance

__all__ = [
    "closed_utterance",
    "closed_utterance_at",
    "day_phrase",
    "spoken_time",
    "when_phrase",
]

_WEEKDAY_DAYS = range(2, 7)  # "on Monday" is clear up to six days ahead; a week or more names the date


def spoken_time(minute_of_day: int, prompts: Prompts) -> str:
    """09:00 -> "9 am", 14:30 -> "2:30 pm", 12:00 -> "midday", 00:00 -> "midnight"."""
    hour, minute = divmod(minute_of_day % (24 * 60), 60)
    if minute == 0 and hour in (0, 12):
        return prompts.say("nurse.time.midnight" if hour == 0 else "nurse.time.midday").text
    half_day = prompts.say("nurse.half_day.am" if hour < 12 else "nurse.half_day.pm").text
    hour12 = hour % 12 or 12
    if minute == 0:
        return prompts.say("nurse.time.hour", hour=hour12, half_day=half_day).text
    return prompts.say("nurse.time.hour_minute", hour=hour12, minute=f"{minute:02d}", half_day=half_day).text


def _day_name(day: dt.date, prompts: Prompts) -> str:
    return prompts.say(f"nurse.days.{day.weekday()}").text


def when_phrase(opening: Opening, now: dt.datetime, prompts: Prompts) -> str:
    """"today at 2 pm", "tomorrow at 9 am", "on Monday at 9 am", or, a week or more ahead or past a
    bank holiday or closed date, "on Tuesday 29 December at 9 am" (all London time)."""
    at = opening.at.astimezone(LONDON)
    time = spoken_time(at.hour * 60 + at.minute, prompts)
    days_ahead = (at.date() - now.astimezone(LONDON).date()).days
    if days_ahead <= 0:
        return prompts.say("nurse.when.today", time=time).text
    if days_ahead == 1:
        return prompts.say("nurse.when.tomorrow", time=time).text
    day = _day_name(at.date(), prompts)
    if days_ahead in _WEEKDAY_DAYS and not opening.after_closure:
        return prompts.say("nurse.when.weekday", day=day, time=time).text
    date = f"{at.day} {prompts.say(f'nurse.months.{at.month}').text}"
    return prompts.say("nurse.when.date", day=day, date=date, time=time).text


def day_phrase(moment: dt.datetime, now: dt.datetime, prompts: Prompts) -> str:
    """The day of ``moment`` as said in a promise ("after we open ..."): "tomorrow", else always
    with its date, "on Tuesday 29 December" (London dates): a promise is something a caller may
    write down, and a weekday alone is ambiguous across a bank holiday."""
    at = moment.astimezone(LONDON)
    days_ahead = (at.date() - now.astimezone(LONDON).date()).days
    if days_ahead <= 1:
        return prompts.say("nurse.day.tomorrow").text
    day = _day_name(at.date(), prompts)
    date = f"{at.day} {prompts.say(f'nurse.months.{at.month}').text}"
    return prompts.say("nurse.day.date", day=day, date=date).text


def closed_utterance(hours: OpeningHours, now: dt.datetime, prompts: Prompts) -> Utterance:
    """"The nurse helpline is closed ... It opens again <when>." from the real next opening."""
    return closed_utterance_at(hours.next_opening(now), now, prompts)


def closed_utterance_at(opening: Opening | None, now: dt.datetime, prompts: Prompts) -> Utterance:
    """The same, for a next opening already found (None: they never open)."""
    if opening is None:
        return prompts.say("nurse.closed.no_hours")
    return prompts.say("nurse.closed.next", when=when_phrase(opening, now, prompts))
