"""A call engine :class:`~ivr.dialogue.steps.Step` -> TwiML. The only module that imports
``twilio.twiml``.

``add_speech`` is the one place that decides how an utterance reaches the caller: <Play> of its
rendered file when IVR_SPEECH=audio and the manifest has that exact text at that rate, otherwise
<Say> of the same text, so a caller never hears silence for a missing file.

``step_response`` turns a step into a whole <Response>: what no key can skip first, then the rest
inside a <Gather> when keys (or words) are listened for (barge-in), then what happens when nothing
comes: a <Redirect> (Twilio falls through to the next verb when a <Gather> gets no input), a <Dial>
to the nurses with a whisper, a <Record>, or <Hangup>.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.config import Settings
from ivr.dialogue.steps import (
    Bridge,
    Continue,
    HangUp,
    Listen,
    Position,
    Record,
    Silence,
    Step,
    Transfer,
)
from ivr.prompts import Rate, Utterance
from ivr.speech.manifest import Manifest

__all__ = [
    "DialNurses", "LineOutput", "RecordMessage", "SpeechOutput", "StepUrls", "add_speech", "apology_response",
    "audio_base_url", "empty_response", "fully_rendered", "said_response", "step_response",
]

log = logging.getLogger(__name__)
PAUSE_ID = "pause"  # an utterance that is a short silence (between groups of digits)
SPEECH_TIMEOUT = 2  # seconds of silence that end a spoken answer; see Listen rendering below
MAX_HINTS = 100  # Twilio's limit on hint phrases is generous; more add nothing for a menu


@dataclass(frozen=True)
class SpeechOutput:
    mode: str  # "audio" or "say"
    manifest: Manifest
    audio_base_url: str  # absolute, e.g. "https://ivr.example.org/audio/"
    say_voice: str
    say_language: str


@dataclass(frozen=True)
class LineOutput:
    """Everything besides the step that its TwiML needs: speech, and the telephone settings."""

    speech: SpeechOutput
    nurse_number: str
    ring_seconds: int
    message_max_seconds: int
    speech_language: str = "en-GB"


def audio_base_url(settings: Settings, host_url: str) -> str:
    """Where <Play> fetches rendered files: IVR_AUDIO_BASE_URL (a static host or CDN) when set,
    else this line's ``/audio/`` under IVR_PUBLIC_URL, else under the host the request came to."""
    if settings.audio_base_url:
        return settings.audio_base_url
    return (settings.public_url or host_url.rstrip("/")) + "/audio/"


def fully_rendered(step: Step, output: SpeechOutput) -> bool:
    """Whether :func:`add_speech` finds every utterance of ``step`` rendered (so logs nothing)."""
    rate = step.position.rate
    return output.mode != "audio" or all(
        u.id == PAUSE_ID or output.manifest.find(u.text, rate) is not None for u in step.spoken
    )


def add_speech(parent: VoiceResponse | Gather, utterances: Iterable[Utterance], *, rate: Rate,
               output: SpeechOutput) -> None:
    """Append each utterance to ``parent`` as <Play> (rendered audio) or <Say> (fallback)."""
    for utterance in utterances:
        if utterance.id == PAUSE_ID:
            parent.pause(length=1)
            continue
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
    def key(self, position: Position) -> str: ...  # keys or words (none: silence) at the position
    def dial(self, position: Position) -> str: ...  # a transfer to the nurses ended
    def whisper(self, position: Position) -> str: ...  # the nurse's leg, before the caller is connected
    def record(self, position: Position) -> str: ...  # <Record> ended
    def recording(self, position: Position) -> str: ...  # Twilio's recording status callback


def _gather(response: VoiceResponse, listen: Listen, action: str, hints: Sequence[str], language: str) -> Gather:
    """A <Gather>. ``finishOnKey=""`` for single keys so that * and # reach the line as keys.

    Speech (when the step listens for words): ``input="dtmf speech"`` with the locale's
    ``language`` and ``hints`` (what can be said here). No ``speechModel``: since 2025 Twilio
    chooses the speech-to-text provider and model itself and fails over when one is down
    (TwiML <Gather> reference, "Speech-to-text provider changes"); ``speechTimeout`` is a whole
    number of seconds because ``auto`` is refused whenever a model is set (Twilio warning 13335),
    and 2 s lets a slow speaker pause between words without long waits.
    """
    options: dict[str, object] = {
        "input": "dtmf", "action": action, "method": "POST", "timeout": listen.timeout,
        "finish_on_key": listen.digits.finish_on_key if listen.digits else "",
        "num_digits": None if listen.digits else 1,
    }
    if listen.speech:
        options.update(input="dtmf speech", language=language, speech_timeout=SPEECH_TIMEOUT)
        if hints:
            options["hints"] = ", ".join(hints[:MAX_HINTS])
    return response.gather(**options)


def step_response(
    step: Step, *, urls: StepUrls, output: LineOutput, caller_id: str | None = None, hints: Sequence[str] = (),
) -> VoiceResponse:
    """The TwiML for one step; ``caller_id`` is shown to the nurse on a transfer (the caller's own
    number where Twilio allows it), ``hints`` the phrases speech recognition should expect.
    Never fails for a well-formed step."""
    response = VoiceResponse()
    rate = step.position.rate
    speech = output.speech
    add_speech(response, step.before, rate=rate, output=speech)
    if step.listen is not None:
        gather = _gather(response, step.listen, urls.key(step.position), hints, output.speech_language)
        add_speech(gather, step.utterances, rate=rate, output=speech)
    else:
        add_speech(response, step.utterances, rate=rate, output=speech)
    then = step.then
    if isinstance(then, Continue):
        response.redirect(urls.enter(then.position), method="POST")
    elif isinstance(then, Silence):
        response.redirect(urls.key(then.position), method="POST")
    elif isinstance(then, Transfer):
        dial = response.dial(action=urls.dial(then.position), method="POST", timeout=output.ring_seconds,
                             answer_on_bridge=True, caller_id=caller_id)
        dial.number(output.nurse_number, url=urls.whisper(then.whisper), method="POST")
    elif isinstance(then, Record):
        response.record(
            action=urls.record(then.position), method="POST", max_length=output.message_max_seconds,
            finish_on_key="#", play_beep=True, timeout=10,
            recording_status_callback=urls.recording(then.position), recording_status_callback_method="POST",
        )
        response.redirect(urls.key(then.position), method="POST")  # Twilio goes on here when nothing was recorded
    elif isinstance(then, HangUp):
        response.hangup()
    elif isinstance(then, Bridge):
        pass  # an ended whisper: Twilio connects the nurse and the caller
    return response


def empty_response() -> VoiceResponse:
    """An empty <Response/> (a status callback's answer: nothing for the caller to hear)."""
    return VoiceResponse()


def apology_response(apology: Utterance | None, say_voice: str, say_language: str, target: str) -> VoiceResponse:
    """Valid TwiML for a fault: the apology spoken by <Say> (the audio path may be what failed),
    then a <Redirect> to ``target``."""
    response = VoiceResponse()
    if apology is not None:
        response.say(apology.text, voice=say_voice, language=say_language)
    response.redirect(target, method="POST")
    return response


# --- Documents of spoken sentences and one action (the fallback: ivr.fallback) ---------------


@dataclass(frozen=True)
class DialNurses:
    """<Dial> the nurses for ``ring_seconds``; ``action`` gets DialCallStatus (None: Twilio goes
    on with the next verb of the document when the call ends)."""

    number: str
    ring_seconds: int
    action: str | None = None


@dataclass(frozen=True)
class RecordMessage:
    """<Record> a message of at most ``max_seconds`` (# ends it); ``action`` gets the recording,
    ``status_callback`` its status once Twilio has stored it."""

    action: str
    status_callback: str
    max_seconds: int


def said_response(
    verbs: Sequence[Utterance | DialNurses | RecordMessage | None], *, say_voice: str, say_language: str,
) -> VoiceResponse:
    """A document of sentences spoken by <Say> (no audio files: nothing but Twilio is needed to
    play it), a dial or a recording, and None for <Hangup>; each in the order given."""
    response = VoiceResponse()
    for verb in verbs:
        if isinstance(verb, Utterance):
            response.say(verb.text, voice=say_voice, language=say_language)
        elif isinstance(verb, DialNurses):
            options: dict[str, object] = {"timeout": verb.ring_seconds, "answer_on_bridge": True}
            if verb.action is not None:
                options.update(action=verb.action, method="POST")
            response.dial(**options).number(verb.number)
        elif isinstance(verb, RecordMessage):
            response.record(
                action=verb.action, method="POST", max_length=verb.max_seconds, finish_on_key="#", play_beep=True,
                timeout=10, recording_status_callback=verb.status_callback,
                recording_status_callback_method="POST",
            )
        else:
            response.hangup()
    return response
