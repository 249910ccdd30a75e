"""Executes one TwiML document as Twilio would, up to the next webhook request or the end.

Verbs: <Say>, <Play>, <Pause>, <Gather> (with nested Say/Play/Pause and barge-in), <Redirect>,
<Hangup>, <Reject>, <Dial> and <Record> (in :mod:`ivr.simulator.dial`). Anything else is an
error that ends the call, as Twilio rejects a document it cannot validate.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin

from ivr.simulator.keys import GatherInfo, KeySource, spoken
from ivr.simulator.speech_index import SpeechIndex, normalise
from ivr.simulator.transcript import EndedBy, Event, Leg, Transcript
from ivr.simulator.wire import Request, Wire

__all__ = ["AudioOut", "End", "Next", "Outcome", "Runner", "say_seconds"]

WORDS_PER_MINUTE = 155  # Twilio's voices speak at about this rate
PLAY_LOOP_FOREVER = 10  # loop="0" plays "forever"; a caller hears this many before we stop counting
_PROSODY_RATES = {"x-slow": 0.6, "slow": 0.8, "medium": 1.0, "fast": 1.2, "x-fast": 1.4}

AudioOut = Callable[[Event, bytes | None], str | None]  # plays what was heard; keys pressed meanwhile


@dataclass(frozen=True)
class Next:
    """Twilio's next webhook request; ``after`` are callbacks Twilio sends once it is answered."""

    request: Request
    after: tuple[tuple[Request, tuple[tuple[str, str], ...]], ...] = ()


@dataclass(frozen=True)
class End:
    how: EndedBy
    detail: str = ""


Outcome = Next | End


def say_seconds(text: str, rate: float = 1.0) -> float:
    """How long Twilio takes to say ``text``: its word count at ~155 words a minute."""
    return len(text.split()) * 60.0 / WORDS_PER_MINUTE / rate


def _rate(element: ET.Element) -> float:
    for node in element.iter("prosody"):
        value = node.get("rate", "").strip().lower()
        if value in _PROSODY_RATES:
            return _PROSODY_RATES[value]
        match = re.fullmatch(r"(\d+(?:\.\d+)?)%", value)
        if match and float(match.group(1)) > 0:
            return float(match.group(1)) / 100
    return 1.0


def _loops(element: ET.Element) -> int:
    text = element.get("loop", "1").strip()
    if not text.isdigit():
        return 1
    return PLAY_LOOP_FOREVER if int(text) == 0 else int(text)


@dataclass
class Runner:
    """Runs documents for one leg of a call (the caller's, or the nurse's whisper)."""

    wire: Wire
    index: SpeechIndex
    transcript: Transcript
    keys: KeySource
    nurse: Callable[[str], str]  # number dialled -> "answer" | "busy" | "no-answer" | "voicemail"
    leg: Leg = "caller"
    audio_out: AudioOut | None = None
    ring_seconds: float = 5.0
    talk_seconds: float = 60.0
    message_seconds: float = 8.0
    api_base_url: str = "https://api.twilio.com"  # where a simulated <Record> says its recording is kept
    last_keys: str | None = field(default=None, init=False)  # pressed during the last playback

    def run(self, root: ET.Element, url: str) -> Outcome:
        """Execute the document ``root`` fetched from ``url``; the next request or the end."""
        for verb in root:
            outcome = self.verb(verb, url)
            if outcome is not None:
                return outcome
        return End("end")

    def verb(self, verb: ET.Element, url: str) -> Outcome | None:
        from ivr.simulator import dial

        handlers: dict[str, Callable[[ET.Element, str], Outcome | None]] = {
            "Say": self.say, "Play": self.play, "Pause": self.pause, "Gather": self.gather,
            "Redirect": self.redirect, "Hangup": lambda v, u: End("hangup"),
            "Reject": lambda v, u: End("rejected"),
            "Dial": lambda v, u: dial.dial(self, v, u), "Record": lambda v, u: dial.record(self, v, u),
        }
        handler = handlers.get(verb.tag)
        if handler is None or (self.leg == "nurse" and verb.tag in ("Dial", "Record")):
            return self.fail(f"<{verb.tag}> is not a TwiML voice verb Twilio can run here ({url})")
        return handler(verb, url)

    def fail(self, message: str) -> End:
        self.transcript.add("error", message, leg=self.leg)
        return End("error", message)

    # --- speech ---

    def say(self, verb: ET.Element, url: str) -> None:
        text = normalise("".join(verb.itertext()))
        seconds = say_seconds(text, _rate(verb)) * _loops(verb)
        event = self.transcript.add("say", text, duration=seconds, id=self.index.say_id(text), leg=self.leg)
        self.heard(event, None)

    def play(self, verb: ET.Element, url: str) -> None:
        source = urljoin(url, (verb.text or "").strip())
        check = self.wire.fetch_audio(source)
        if check.error:
            # Twilio logs the failed fetch and goes on with the next verb
            self.transcript.add("error", check.error, url=source, leg=self.leg)
            return
        entry = self.index.audio(source)
        text = entry.text if entry else f"(audio {source.rsplit('/', 1)[-1]})"
        event = self.transcript.add(
            "play", text, duration=check.duration * _loops(verb), id=entry.id if entry else None,
            url=source, leg=self.leg,
        )
        self.heard(event, check.data)

    def heard(self, event: Event, data: bytes | None) -> str | None:
        self.last_keys = self.audio_out(event, data) if self.audio_out is not None else None
        return self.last_keys

    def pause(self, verb: ET.Element, url: str) -> None:
        length = verb.get("length", "1").strip()
        seconds = float(length) if length.isdigit() else 1.0
        self.transcript.add("pause", duration=seconds, leg=self.leg)

    # --- navigation ---

    def redirect(self, verb: ET.Element, url: str) -> Outcome:
        target = (verb.text or "").strip()
        if not target:
            return self.fail(f"<Redirect> with no URL in {url}")
        return Next(Request(urljoin(url, target), verb.get("method", "POST").upper()))

    def gather(self, verb: ET.Element, url: str) -> Outcome | None:
        """Nested audio, then keys (or a timeout); digits go to ``action`` (default: this URL)."""
        num = verb.get("numDigits", "").strip()
        timeout = verb.get("timeout", "5").strip()
        info = GatherInfo(
            num_digits=int(num) if num.isdigit() and int(num) > 0 else None,
            finish_on_key=verb.get("finishOnKey", "#"),
            timeout=float(timeout) if timeout.isdigit() else 5.0,
            leg=self.leg,
            speech="speech" in verb.get("input", "dtmf"),
        )
        action = Request(urljoin(url, verb.get("action") or url), verb.get("method", "POST").upper())
        on_empty = verb.get("actionOnEmptyResult", "false").strip().lower() == "true"
        listener = self.keys.listen(info)
        pressed: str | None = None
        for child in verb:
            if child.tag not in ("Say", "Play", "Pause"):
                return self.fail(f"<{child.tag}> cannot be nested in <Gather> ({url})")
            count = len(self.transcript.events)
            self.last_keys = None
            self.verb(child, url)
            heard = self.transcript.events[count:]
            # a key pressed during playback, or a scripted key once the first verb is heard
            pressed = self.last_keys or listener.after(heard[-1] if heard else None)
            if pressed:
                break
        else:
            pressed = listener.wait()
        words = spoken(pressed)
        if words is not None:
            return self._said(words, info, action, on_empty)
        if "dtmf" not in verb.get("input", "dtmf"):
            pressed = None  # a speech-only Gather hears no keys
        return self._gathered(pressed, info, action, on_empty)

    def _said(self, words: tuple[str, float], info: GatherInfo, action: Request, on_empty: bool) -> Outcome | None:
        """Words said at a Gather: sent as Twilio's SpeechResult and Confidence when it listens for
        speech; otherwise nothing is heard (a keypad-only question)."""
        text, confidence = words
        if not info.speech:
            self.transcript.add("said", text, keys="not listened for: nothing happens", leg=self.leg)
            self.transcript.add("silence", f"waited {info.timeout:g} s", duration=info.timeout, leg=self.leg)
            return None if not on_empty else Next(Request(action.url, action.method, ()))
        self.transcript.add("said", text, keys=f"confidence {confidence:g}", duration=len(text.split()) * 0.4,
                            leg=self.leg)
        return Next(Request(action.url, action.method, (("SpeechResult", text), ("Confidence", f"{confidence:g}"))))

    def _gathered(self, pressed: str | None, info: GatherInfo, action: Request, on_empty: bool) -> Outcome | None:
        digits, finished_on = "", ""
        for key in pressed or "":
            if info.finish_on_key and key == info.finish_on_key:
                finished_on = key
                break
            digits += key
            if info.num_digits is not None and len(digits) >= info.num_digits:
                break
        if pressed:
            self.transcript.add("keys", keys=pressed, leg=self.leg)
        complete = finished_on or (info.num_digits is not None and len(digits) >= info.num_digits)
        if not complete:
            # Twilio waits ``timeout`` seconds for another key before it submits
            what = f"waited {info.timeout:g} s" + (" for more keys" if digits else "")
            self.transcript.add("silence", what, duration=info.timeout, leg=self.leg)
        if not digits and not on_empty:
            return None  # no input (or only the finish key): on to the next verb
        params = (("Digits", digits),) + ((("FinishedOnKey", finished_on),) if finished_on else ())
        return Next(Request(action.url, action.method, params))
