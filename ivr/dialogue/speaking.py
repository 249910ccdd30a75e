"""How the engine speaks: prompts by id with key names filled in, numbers in groups, the rules it
follows (opening hours, timeouts, promises), and the emergency sentences every state shares.

Every sentence comes from the prompt files (``ivr/prompts/<locale>/``), every key from
``keys.yaml``. Raises PromptError when a prompt is missing or takes other placeholders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ivr.content.phone_numbers import digit_groups
from ivr.dialogue.steps import Moment
from ivr.keymap import KeyMap
from ivr.nurse.hours import LONDON, Opening, OpeningHours
from ivr.nurse.phrases import day_phrase, spoken_time
from ivr.prompts import Prompts, Utterance

__all__ = ["PAUSE", "SAFETY_IDS", "LineRules", "Voice"]

_DUE: dict[tuple[object, ...], tuple[dt.datetime | None]] = {}  # due times worked out (the search walks days)

PAUSE = Utterance("pause", "")  # a short silence between groups of digits (<Pause>)
# The emergency signposting sentences: the caller-safety contract looks for these ids.
SAFETY_IDS = frozenset({"safety.emergency", "safety.before_goodbye", "safety.feel_worse", "safety.when_to_get_help"})


@dataclass(frozen=True)
class LineRules:
    """What the service decides, from the settings: when the nurses answer, how soon a call-back is
    promised (minutes of opening time), which number call-backs come from, how long the line waits
    for a key, how many times a caller may be put through in one call, whether words are listened for."""

    hours: OpeningHours
    callback_within_minutes: int = 120
    callback_from: str = ""  # E.164; "" = not said
    key_timeout: int = 8
    max_transfers: int = 2
    speech_input: bool = False
    speech_language: str = "en-GB"
    message_max_seconds: int = 120
    ring_seconds: int = 25

    _minutes: dict[dt.datetime, tuple[bool, Opening | None, dt.date]] = field(
        default_factory=dict, compare=False, repr=False)  # the hours' answers by minute (asked on every webhook)

    def moment(self, now: dt.datetime) -> Moment:
        """What the engine is told about ``now`` (aware): open or not, and the next opening. The
        hours are asked once a minute: they change only on the minute."""
        minute = now.replace(second=0, microsecond=0)
        found = self._minutes.get(minute)
        if found is None:
            is_open = self.hours.is_open(minute)
            found = (is_open, None if is_open else self.hours.next_opening(minute), minute.astimezone(LONDON).date())
            if len(self._minutes) >= 64:
                self._minutes.clear()
            self._minutes[minute] = found
        return Moment(now, *found)

    def due(self, now: dt.datetime) -> dt.datetime | None:
        """When a call-back asked for at ``now`` should have happened: ``callback_within_minutes``
        of the nurses' opening time after ``now``, rounded up to the quarter hour ("by 12:15 pm";
        None when they never open)."""
        found = _DUE.get((id(self.hours), self.callback_within_minutes, now))
        if found is None:
            due = self.hours.after_open_minutes(now, self.callback_within_minutes)
            if due is not None:
                late = (-(due.minute % 15)) % 15 or (15 if due.second or due.microsecond else 0)
                due = due.replace(second=0, microsecond=0) + dt.timedelta(minutes=late)
            found = _DUE.setdefault((id(self.hours), self.callback_within_minutes, now), (due,))
            if len(_DUE) > 4096:
                _DUE.clear()
        return found[0]


@dataclass
class Voice:
    """Prompts and keys together: ``say("menu.whole", key="5")`` names the key as callers hear it."""

    prompts: Prompts
    keys: KeyMap
    speech: bool = False  # words are listened for: offers name a word as well as a key
    _digits: dict[str, Utterance] = field(default_factory=dict, repr=False)

    def say(self, prompt_id: str, **params: object) -> Utterance:
        return self.prompts.say(prompt_id, **params)

    def press(self, prompt_id: str, key: str, **params: object) -> Utterance:
        """A sentence offering ``key`` ("For side effects, press 4.")."""
        return self.prompts.say(prompt_id, key=self.keys.name(key), **params)

    def offer(self, prompt_id: str, key: str, **params: object) -> Utterance:
        """A choice offered: "For side effects, press 4.", or with speech input on, the prompt's
        ``_say`` form ("Say side effects, or press 4.")."""
        return self.press(prompt_id + "_say" if self.speech else prompt_id, key, **params)

    def offer_answers(self, prompt_id: str) -> Utterance:
        """A yes/no question's answers ("If that is right, press 1 ..."), with words when listened for."""
        answer = self.keys.answer
        return self.keyed(prompt_id + "_say" if self.speech else prompt_id, yes=answer["yes"], no=answer["no"])

    def keyed(self, prompt_id: str, **keys: str) -> Utterance:
        """A sentence naming several keys by what they do ({back}, {repeat} ...)."""
        return self.prompts.say(prompt_id, **{name: self.keys.name(key) for name, key in keys.items()})

    def digit(self, digit: str) -> Utterance:
        if digit not in self._digits:
            self._digits[digit] = self.say(f"nurse.digits.{digit}")
        return self._digits[digit]

    def number(self, number: str) -> tuple[Utterance, ...]:
        """A phone number read back in full, digit by digit, in the groups people say it in
        ("07700 900 123"), with a short pause between groups; the number as keyed when it is not
        a UK number (one group)."""
        national = "0" + number[3:] if number.startswith("+44") else number
        groups = digit_groups(national) or ["".join(c for c in national if c.isdigit())]
        spoken: list[Utterance] = []
        for index, group in enumerate(groups):
            if index:
                spoken.append(PAUSE)
            spoken += [self.digit(d) for d in group if d.isdigit()]
        return tuple(spoken)

    # --- time ----------------------------------------------------------------------------------

    def time(self, moment: dt.datetime) -> str:
        local = moment.astimezone(LONDON)
        return spoken_time(local.hour * 60 + local.minute, self.prompts)

    def promise(self, kind: str, due: dt.datetime | None, now: dt.datetime) -> Utterance:
        """"A nurse will call you back today, usually by 4 pm" / "... after we open on Tuesday
        29 December, usually by 11 am" (``kind`` is ``callback`` or ``message``)."""
        if due is None:
            return self.say(f"nurse.promise.{kind}_unknown")
        if due.astimezone(LONDON).date() == now.astimezone(LONDON).date():
            return self.say(f"nurse.promise.{kind}_today", time=self.time(due))
        return self.say(f"nurse.promise.{kind}_later", day=day_phrase(due, now, self.prompts), time=self.time(due))
