"""UK telephone numbers in the groups people say them in, and how the line reads them."""

from __future__ import annotations

import subprocess

import pytest

from ivr.content.phone_numbers import digit_groups
from ivr.content.speech_text import to_speech


@pytest.mark.parametrize(
    ("number", "groups"),
    [
        ("07700 900123", ["07700", "900", "123"]),
        ("0800 123 4567", ["0800", "123", "4567"]),
        ("020 7946 0000", ["020", "7946", "0000"]),
        ("02079460000", ["020", "7946", "0000"]),  # as keyed in
        ("+44 (0)20 7946 0000", ["020", "7946", "0000"]),
        ("+447700900123", ["07700", "900", "123"]),  # E.164, as stored for a call-back
        ("447700900123", ["07700", "900", "123"]),
        ("0044 161 496 0000", ["0161", "496", "0000"]),
        ("01632 960001", ["01632", "960", "001"]),
        ("0300-123-4567", ["0300", "123", "4567"]),
        ("0845 4647", ["0845", "46", "47"]),
        ("999", ["999"]),
        ("111", ["111"]),
        ("116 123", ["116", "123"]),
    ],
)
def test_digit_groups_as_people_say_them(number, groups):
    assert digit_groups(number) == groups


@pytest.mark.parametrize(
    "text",
    ["", "not a number", "+1 212 555 0100", "+33 1 42 68 53 00", "12345", "0117", "020 7946", "020 7946 00000",
     "07700 900123 ext 4", "0"],
)
def test_digit_groups_is_none_for_what_is_not_a_uk_number(text):
    assert digit_groups(text) is None


@pytest.mark.parametrize(
    ("written", "spoken"),
    [
        ("Telephone: 020 7946 0000", "Telephone: oh two oh, seven nine four six, oh oh oh oh"),
        ("Call 0808 157 0192 (free).", "Call oh eight oh eight, one five seven, oh one nine two, free."),
        ("Textphone: 18001 0808 157 0192", "Textphone: one eight oh oh one, oh eight oh eight, one five seven, "
                                          "oh one nine two"),
        ("ring (01632) 960001 or 07700 900123.", "ring oh one six three two, nine six oh, oh oh one or oh seven "
                                                 "seven oh oh, nine oh oh, one two three."),
        ("call 999 or NHS 111", "call nine nine nine or N H S one one one"),
        ("Samaritans: call 116 123", "Samaritans: call one one six, one two three"),
        ("call 020 7946 0000 2 times", "call oh two oh, seven nine four six, oh oh oh oh 2 times"),
        ("Monday to Friday, 8.30am to 4.30 pm", "Monday to Friday, 8:30am to 4:30pm"),  # times, not decimals
        ("take 2.50 ml", "take 2.50 millilitres"),
        # not telephone numbers: left to the other rules
        ("based on 112 patients", "based on 112 patients"),
        ("on 2019-01-17", "on 17 January 2019"),
        ("4-6 weeks", "4 to 6 weeks"),
        ("+1 212 555 0100", "+1 212 555 0100"),
    ],
)
def test_numbers_in_leaflets_are_read_digit_by_digit_in_groups(written, spoken):
    assert to_speech(written) == spoken


def _phonemes(text: str) -> str:
    result = subprocess.run(["espeak-ng", "-v", "en-gb-x-rp", "-q", "-x", text], capture_output=True, text=True,
                            check=True)
    return result.stdout


def test_espeak_reads_the_digits_not_a_quantity():
    """The evidence in ivr/content/phone_numbers.py: as written, eSpeak NG reads a number as a
    quantity ("...seven thousand nine hundred and forty six..."); in words, digit by digit, with a
    pause (a new line in its output) after each group, and 0 as "oh"."""
    written = _phonemes("020 7946 0000")
    assert "T'aUz@nd" in written  # "thousand"
    spoken = _phonemes(to_speech("020 7946 0000"))
    assert "T'aUz@nd" not in spoken and "h'VndrI2d" not in spoken
    assert spoken.split() == ["'oU", "t'u:", "'oU", "s'Ev@n", "n'aIn", "f'O@", "s'Iks", "'oU", "'oU", "'oU", "'oU"]
    assert len(spoken.strip().splitlines()) == 3  # a pause after each group
