"""Telephone numbers: the nurse line's own (E.164), call-back numbers (UK), and masking for logs.

Full caller numbers are stored only on call-back requests and shown only by the operator
commands; everywhere else, and always in logs, a number appears as ``+44 7*** ***123``.
"""

from __future__ import annotations

import functools
import re

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType, ValidationResult

__all__ = ["check_e164", "last_digits", "mask_number", "uk_callback_number", "uk_mobile_number"]

_UK_REGIONS = {"GB", "GG", "JE", "IM"}  # +44 numbers: UK, Guernsey, Jersey, Isle of Man
_NOT_FOR_CALLBACK = {PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST, PhoneNumberType.PAGER}


def mask_number(number: str | None) -> str:
    """``+447900123456`` -> ``+44 7*** ***456``; never fails, never returns the whole number."""
    text = (number or "").strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        return "(no number)"
    try:
        parsed = phonenumbers.parse(text if text.startswith("+") else "+" + digits, None)
        national = str(parsed.national_number)
        if len(national) >= 7:
            return f"+{parsed.country_code} {national[0]}*** ***{national[-3:]}"
    except NumberParseException:
        pass
    return f"*** ***{digits[-3:]}" if len(digits) >= 7 else "***"


def last_digits(number: str, count: int = 3) -> str:
    """The last ``count`` digits of ``number``, for reading back to the caller."""
    return re.sub(r"\D", "", number)[-count:]


@functools.lru_cache(maxsize=1024)  # pure; asked on every transfer for the same few numbers
def check_e164(value: str) -> str | None:
    """Why ``value`` is not a usable E.164 number (``+441632960001``), or None when it is.

    Numbers must be *possible* (right length for the country); ranges reserved for drama and
    testing are accepted here, so a demonstration line can start.
    """
    if not value:
        return "is not set"
    if not re.fullmatch(r"\+[1-9]\d{6,14}", value):
        return "is not in E.164 form (a + then the country code and number, no spaces)"
    try:
        parsed = phonenumbers.parse(value, None)
    except NumberParseException:
        return "is not a telephone number"
    if phonenumbers.is_possible_number_with_reason(parsed) != ValidationResult.IS_POSSIBLE:
        return "has the wrong number of digits for its country"
    return None


@functools.lru_cache(maxsize=4096)  # pure, and asked for the same few numbers at every state explored
def uk_callback_number(text: str | None) -> str | None:
    """A UK number a nurse can ring back, in E.164, from what the caller keyed (``07900123456``,
    ``447900123456``) or Twilio's ``From`` (``+447900123456``); None if it is not one
    (too short, not a valid UK number, premium rate, withheld)."""
    raw = (text or "").strip()
    if not raw or not re.fullmatch(r"\+?\d{6,16}", raw):
        return None
    if raw.startswith("44") and not raw.startswith("+"):
        raw = "+" + raw
    try:
        parsed = phonenumbers.parse(raw, "GB")
    except NumberParseException:
        return None
    if (
        not phonenumbers.is_valid_number(parsed)
        or phonenumbers.region_code_for_number(parsed) not in _UK_REGIONS
        or phonenumbers.number_type(parsed) in _NOT_FOR_CALLBACK
    ):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


@functools.lru_cache(maxsize=4096)  # asked on every webhook of a call, with the same From
def uk_mobile_number(text: str | None) -> str | None:
    """Twilio's ``From`` (E.164) when it is a UK mobile that can take a text message (``+447900123456``;
    Guernsey, Jersey and the Isle of Man included); None for a landline, a pager, a personal or
    premium number, a foreign or withheld number. Text-message fraud sends to premium and foreign
    numbers: only these are ever sent to."""
    number = uk_callback_number(text)
    if number is None:
        return None
    parsed = phonenumbers.parse(number, None)
    return number if phonenumbers.number_type(parsed) == PhoneNumberType.MOBILE else None
