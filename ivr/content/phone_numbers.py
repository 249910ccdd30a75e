"""UK telephone numbers in the groups people say them in: ``020 7946 0000`` -> 020, 7946, 0000.

Used by the leaflet speech text (a number in a leaflet is read digit by digit, group by group)
and by the nurse line to read a call-back number back to the caller.

Why digit by digit, in words, with commas between groups. What eSpeak NG (voice en-gb-x-rp)
says, from ``espeak-ng -v en-gb-x-rp -q -x TEXT`` (a new line in its output is a pause):

- ``020 7946 0000`` as written: ``z'i@roU tw'Enti s'Ev@n T'aUz@nd n'aInh'VndrI2d@n f'O@ti s'Iks
  z'i@roUz'i@roU...``: "zero twenty seven thousand nine hundred and forty six zero zero...",
  a number nobody could write down;
- ``07700 900123``: "... nine hundred thousand one hundred and twenty three";
- ``call 111``: ``k'O:l w'0nh'VndrI2d@n Il'Ev@n``, "call one hundred and eleven";
- ``0 2 0, 7 9 4 6, 0 0 0 0`` (single digits): ``z'i@roU t'u: z'i@roU`` / ``s'Ev@n n'aIn f'O@
  s'Iks`` / ``z'i@roU ...``: right digits, pauses at the commas, but 0 is "zero", which British
  callers do not say in a phone number, and Twilio's <Say> voices read lone digits their own way;
- ``oh two oh, seven nine four six, oh oh oh oh`` (words): ``'oU t'u: 'oU`` / ``s'Ev@n n'aIn
  f'O@ s'Iks`` / ``'oU 'oU 'oU 'oU``: "oh two oh, seven nine four six, oh oh oh oh", as people
  say it, with a pause after each group. The words are in ``ivr/data/lexicon.yaml`` (``digits``).
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, ValidationResult, shortnumberinfo

__all__ = ["digit_groups"]

UK_COUNTRY_CODE = 44
NATIONAL_MIN_DIGITS = 7  # 0800 1111; fewer is a fragment ("0117" of a date), not a number to ring
# How a long group is said: 900123 -> 900 123, 4567890 -> 456 7890.
_SPLITS = {5: (2, 3), 6: (3, 3), 7: (3, 4), 8: (4, 4)}


def _said(group: str) -> list[str]:
    if len(group) <= 4:
        return [group]
    sizes = _SPLITS.get(len(group)) or (3,) * (len(group) // 3) + ((len(group) % 3,) if len(group) % 3 else ())
    pieces, start = [], 0
    for size in sizes:
        pieces.append(group[start:start + size])
        start += size
    return pieces


def digit_groups(number: str) -> list[str] | None:
    """:func:`_digit_groups`, remembered: the call engine says the same few numbers at every
    state it explores, and phonenumbers' parse is the dearest part of that."""
    groups = _remembered_digit_groups(number)
    return None if groups is None else list(groups)


@functools.lru_cache(maxsize=4096)
def _remembered_digit_groups(number: str) -> tuple[str, ...] | None:
    groups = _digit_groups(number)
    return None if groups is None else tuple(groups)


def _digit_groups(number: str) -> list[str] | None:
    """The digits of a UK number in the groups people say, or None when it is not a UK number.

    ``"07700 900123"`` -> ``["07700", "900", "123"]``; ``"0800 123 4567"`` -> ``["0800", "123",
    "4567"]``; ``"+44 (0)20 7946 0000"`` -> ``["020", "7946", "0000"]``; short numbers callers dial
    in the UK: ``"999"`` -> ``["999"]``, ``"116 123"`` -> ``["116", "123"]``. The groups follow the
    ``phonenumbers`` package's national format, with long groups split in threes and fours.
    None (never an exception) for text that is not a possible UK number: another country's
    (``+1 212 555 0100``), too short (fewer than seven digits after the 0) or too long, one that
    can only be dialled locally, or not a number at all. Numbers in Ofcom's
    ranges for drama (07700 900xxx) count: they are possible, though never assigned.
    """
    text = (number or "").strip()
    if not re.fullmatch(r"\+?[\d\s().-]+", text):
        return None
    digits = re.sub(r"\D", "", text)
    if not digits.startswith(("0", "44")) and not text.startswith("+"):
        try:
            short = phonenumbers.parse(digits, "GB")
        except NumberParseException:
            return None
        if shortnumberinfo.is_valid_short_number_for_region(short, "GB"):
            return _said(digits)
        return None
    if digits.startswith("44") and not text.startswith("+"):
        text, digits = "+" + digits, "+" + digits  # 44 20 7946 0000, as keyed in
    try:
        parsed = phonenumbers.parse(text, "GB")
    except NumberParseException:
        return None
    if parsed.country_code != UK_COUNTRY_CODE or len(str(parsed.national_number)) < NATIONAL_MIN_DIGITS \
            or phonenumbers.is_possible_number_with_reason(parsed) != ValidationResult.IS_POSSIBLE:
        return None
    national = phonenumbers.format_number(parsed, PhoneNumberFormat.NATIONAL)
    groups = re.findall(r"\d+", national)
    if not groups or "".join(groups) != "0" + str(parsed.national_number):
        return None
    return [groups[0], *(piece for group in groups[1:] for piece in _said(group))]
