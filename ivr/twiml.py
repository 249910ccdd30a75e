"""Phone-tree output -> TwiML, built only with ``twilio.twiml.voice_response``.

``add_speech`` is the one place that decides how an utterance reaches the caller: <Play> of its
rendered file when IVR_SPEECH=audio and the manifest has that exact text at that rate, otherwise
<Say> of the same text, so a caller never hears silence for a missing file.

``step_response`` turns a phone-tree :class:`ivr.tree.Step` into a whole <Response>: its speech
inside a <Gather> when keys are listened for (barge-in), then the no-input path as a <Redirect>
(Twilio falls through to the next verb when a <Gather> gets no key), or <Hangup>.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.config import Settings
from ivr.prompts import Utterance
from ivr.speech.manifest import Manifest, Rate
from ivr.tree import Enter, HangUp, Position, Silence, Step, ToNurse

__all__ = ["SpeechOutput", "StepUrls", "add_speech", "audio_base_url", "fully_rendered", "step_response"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SpeechOutput:
    mode: str  # "audio" or "say"
    manifest: Manifest
    audio_base_url: str  # absolute, e.g. "https://ivr.example.org/audio/"
    say_voice: str
    say_language: str


def audio_base_url(settings: Settings, host_url: str) -> str:
    """Where <Play> fetches rendered files: IVR_AUDIO_BASE_URL (a static host or CDN) when set,
    else this line's ``/audio/`` under IVR_PUBLIC_URL, else under the host the request came to."""
    if settings.audio_base_url:
        return settings.audio_base_url
    return (settings.public_url or host_url.rstrip("/")) + "/audio/"


def fully_rendered(step: Step, output: SpeechOutput) -> bool:
    """Whether :func:`add_speech` finds every utterance of ``step`` rendered (so logs nothing)."""
    rate = step.position.rate
    return output.mode != "audio" or all(output.manifest.find(u.text, rate) is not None for u in step.utterances)


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


class StepUrls(Protocol):
    """Where the web layer answers: URLs (relative or absolute) for a position."""

    def enter(self, position: Position) -> str: ...  # arrive at the position
    def key(self, position: Position) -> str: ...  # a key (Digits) or, without Digits, silence
    def nurse(self, position: Position | None) -> str: ...  # the nurse line


def step_response(step: Step, *, urls: StepUrls, output: SpeechOutput) -> VoiceResponse:
    """The TwiML for one step. Never fails for a well-formed step."""
    response = VoiceResponse()
    rate = step.position.rate
    if step.listen is not None:
        listen = step.listen
        gather = response.gather(
            input="dtmf", action=urls.key(step.position), method="POST", timeout=listen.timeout,
            finish_on_key=listen.finish_on_key, num_digits=listen.num_digits,
        )
        add_speech(gather, step.utterances, rate=rate, output=output)
    else:
        add_speech(response, step.utterances, rate=rate, output=output)
    then = step.then
    if isinstance(then, Enter):
        response.redirect(urls.enter(then.position), method="POST")
    elif isinstance(then, Silence):
        response.redirect(urls.key(then.position), method="POST")
    elif isinstance(then, ToNurse):
        response.redirect(urls.nurse(then.position), method="POST")
    elif isinstance(then, HangUp):
        response.hangup()
    return response
