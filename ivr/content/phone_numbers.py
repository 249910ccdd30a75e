"""UK telephone numbers in the groups people say them in, for speaking them digit by digit.

``phonenumbers`` knows how each UK range is written nationally ("07700 900123", "020 7946 0000",
"0800 123 4567"); a group of six or more digits is split as people read it aloud ("900 123").
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException

__all__ = ["digit_groups"]


def _split(group: str) -> list[str]:
    if len(group) < 6:
        return [group]
    if len(group) == 6:
        return [group[:3], group[3:]]
    if len(group) == 7:
        return [group[:3], group[3:]]
    return [group[:4], group[4:]]


def digit_groups(number: str) -> list[str] | None:
    """The digits of a UK number in spoken groups: "07700900123" -> ["07700", "900", "123"];
    None when ``number`` is not a possible UK number."""
    text = "".join(c for c in number if c.isdigit() or c == "+")
    try:
        parsed = phonenumbers.parse(text, "GB")
    except NumberParseException:
        return None
    if parsed.country_code != 44 or len(str(parsed.national_number)) < 9 or not phonenumbers.is_possible_number(parsed):
        return None
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    groups: list[str] = []
    for group in national.split():
        digits = "".join(c for c in group if c.isdigit())
        if digits:
            groups += _split(digits)
    return groups or None
