"""The fallback: what a caller hears when Twilio cannot get TwiML from the line, built once at start-up.

Twilio calls the number's fallback URL (``/voice/fallback``, "Primary handler fails") when the
line errors or does not answer within 15 s, in the middle of a call or at its start. So the
fallback needs nothing the line might have lost: no database, no leaflets, no audio files, no
call engine. Every document is made here, once, from the reviewed prompt files and the
settings, and spoken by Twilio's <Say> (audio files are fetched from a server that may be the
one failing). Relative URLs go to the host that served the fallback.

- ``open`` (the nurses' hours say they answer): apology, emergency sentence, "putting you
  through", <Dial> the nurses; ``dialled`` is the answer to its action, by how the dial ended:
  after a conversation, the emergency sentence and goodbye; busy or no answer, a message.
- ``closed``: apology, emergency sentence, "closed", then a message (<Record>).
- ``recorded``: the message is saved (Twilio keeps the recording whatever happens to the line),
  when to expect the call-back is not promised, and what to do if they feel worse.
- ``static``: one document for a static host or a TwiML Bin (``ivr twilio fallback-twiml``),
  which cannot know the hours or take a message: it rings the nurses, then says to call again
  and the emergency sentence.

A message's recording status callback goes to ``/voice/recording`` on the same host, which files
it in the nurses' queue (with the caller's number) once that host's database answers. The
<Record> action goes to the fallback itself, never to the line that failed: an action that
fails sends Twilio back to the fallback URL, and the caller would hear it all again.

Raises PromptError at start-up when a prompt is missing: the line then refuses to start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from ivr.config import Settings
from ivr.dialogue.steps import Position
from ivr.prompts import Prompts, Utterance
from ivr.twiml import DialNurses, RecordMessage, said_response

__all__ = ["DIALLED_PATH", "FALLBACK_PATH", "RECORDED_PATH", "FallbackDocuments", "fallback_documents", "static_twiml"]

FALLBACK_PATH = "/voice/fallback"
DIALLED_PATH = FALLBACK_PATH + "/dialled"
RECORDED_PATH = FALLBACK_PATH + "/recorded"
RECORDING_STATUS_PATH = "/voice/recording"  # the line's recording status callback: files the message

Verb = Utterance | DialNurses | RecordMessage | None  # None: hang up


@dataclass(frozen=True)
class FallbackDocuments:
    """Every TwiML document the fallback answers with, as text."""

    open: str
    closed: str
    dialled: dict[str, str]  # "answered", "busy", "no-answer" (anything else that did not connect)
    recorded: str
    nothing_recorded: str
    static: str


def _verbs(prompts: Prompts, settings: Settings) -> dict[str, list[Verb]]:
    say = prompts.say
    apology, emergency, goodbye = say("errors.apology"), say("safety.emergency"), say("safety.before_goodbye")

    def message(reason: str) -> list[Verb]:
        status_callback = RECORDING_STATUS_PATH + "?" + urlencode(Position("nurse-message", reason=reason).params())  # type: ignore[arg-type]
        return [say("nurse.message.instructions"),
                RecordMessage(RECORDED_PATH, status_callback, settings.message_max_seconds),
                say("nurse.message.nothing_heard"), goodbye, None]  # Twilio goes on here when nothing was recorded

    return {
        "open": [apology, emergency, say("nurse.connecting"),
                 DialNurses(settings.nurse_number, settings.nurse_ring_seconds, DIALLED_PATH)],
        "closed": [apology, emergency, say("nurse.closed.no_hours"), *message("closed")],
        "answered": [goodbye, None],
        "busy": [say("nurse.busy"), emergency, *message("busy")],
        "no-answer": [say("nurse.no_answer"), emergency, *message("no-answer")],
        "recorded": [say("nurse.message.saved"), say("nurse.promise.message_unknown"), say("safety.feel_worse"), None],
        "nothing_recorded": [say("nurse.message.nothing_heard"), goodbye, None],
        "static": [apology, emergency, say("nurse.connecting"),
                   DialNurses(settings.nurse_number, settings.nurse_ring_seconds),  # then on with the next verb
                   say("nurse.try_later"), goodbye, None],
    }


def _document(verbs: Sequence[Verb], settings: Settings) -> str:
    return str(said_response(verbs, say_voice=settings.say_voice, say_language=settings.say_language))


def fallback_documents(prompts: Prompts, settings: Settings) -> FallbackDocuments:
    """Every fallback document for these prompts and settings (PromptError if a prompt is missing)."""
    made = {name: _document(verbs, settings) for name, verbs in _verbs(prompts, settings).items()}
    return FallbackDocuments(
        open=made["open"], closed=made["closed"],
        dialled={name: made[name] for name in ("answered", "busy", "no-answer")},
        recorded=made["recorded"], nothing_recorded=made["nothing_recorded"], static=made["static"],
    )


def static_twiml(prompts: Prompts, settings: Settings) -> str:
    """The document for a static host or TwiML Bin, indented for people to read and paste."""
    import xml.dom.minidom

    document = fallback_documents(prompts, settings).static
    return xml.dom.minidom.parseString(document).toprettyxml(indent="  ", encoding="UTF-8").decode()
