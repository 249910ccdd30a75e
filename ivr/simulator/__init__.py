"""Call the line without a phone: a TwiML-executing simulator of Twilio, and a path checker.

``simulate_call(url, token=..., keys=[...])`` returns a :class:`Transcript` of what a caller
hears; ``ivr call`` prints one as it goes; ``ivr check --calls`` (``explore``) walks every path.
"""

from __future__ import annotations

from ivr.simulator.caller import DEFAULT_FROM, DEFAULT_TO, NurseMode, simulate_call
from ivr.simulator.keys import CallerHangsUp, GatherInfo, KeySource, ScriptedKeys, TerminalKeys, parse_keys
from ivr.simulator.speech_index import SpeechIndex
from ivr.simulator.transcript import Event, Transcript, format_clock

__all__ = [
    "DEFAULT_FROM",
    "DEFAULT_TO",
    "CallerHangsUp",
    "Event",
    "GatherInfo",
    "KeySource",
    "NurseMode",
    "ScriptedKeys",
    "SpeechIndex",
    "TerminalKeys",
    "Transcript",
    "format_clock",
    "parse_keys",
    "simulate_call",
]
