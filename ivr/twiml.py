"""Phone-tree output -> TwiML, built only with ``twilio.twiml.voice_response``.

``add_speech`` is the one place that decides how an utterance reaches the caller: <Play> of its
rendered file when IVR_SPEECH=audio and the manifest has that exact text at that rate, otherwise
<Say> of the same text, so a caller never hears silence for a missing file.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.prompts import Utterance
from ivr.speech.manifest import Manifest, Rate

__all__ = ["SpeechOutput", "add_speech"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpeechOutput:
    mode: str  # "audio" or "say"
    manifest: Manifest
    audio_base_url: str  # absolute, e.g. "https://ivr.example.org/audio/"
    say_voice: str
    say_language: str


def add_speech(
    parent: VoiceResponse | Gather,
    utterances: Iterable[Utterance],
    *,
    rate: Rate,
    output: SpeechOutput,
) -> None:
    """Append each utterance to ``parent`` as <Play> (rendered audio) or <Say> (fallback)."""
    for utterance in utterances:
        entry = output.manifest.find(utterance.text, rate) if output.mode == "audio" else None
        if entry is not None:
            parent.play(output.audio_base_url + entry.file)
            continue
        if output.mode == "audio":
            log.warning("no rendered audio for %s at %s rate: using <Say>", utterance.id, rate)
        if rate == "slow":
            say = parent.say(voice=output.say_voice, language=output.say_language)
            say.prosody(utterance.text, rate="80%")
        else:
            parent.say(utterance.text, voice=output.say_voice, language=output.say_language)
