"""``simulate_call``: ring the line the way Twilio does and return what the caller heard."""

from __future__ import annotations

import datetime as dt
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from email.utils import format_datetime
from typing import Literal

import httpx

from ivr.simulator.keys import CallerHangsUp, KeySource, ScriptedKeys
from ivr.simulator.runner import AudioOut, End, Next, Runner
from ivr.simulator.speech_index import SpeechIndex
from ivr.simulator.transcript import Event, Transcript
from ivr.simulator.wire import Request, Wire, new_sid

__all__ = ["DEFAULT_ACCOUNT_SID", "DEFAULT_API_BASE_URL", "DEFAULT_FROM", "DEFAULT_TO", "NurseMode", "call_params",
           "simulate_call"]

DEFAULT_FROM = "+447700900123"  # Ofcom's range for drama: never a real caller
DEFAULT_TO = "+441632960000"
DEFAULT_ACCOUNT_SID = "AC" + "0" * 32  # no real account: its recordings are never fetched
DEFAULT_API_BASE_URL = "https://api.twilio.com"
NurseMode = Literal["answer", "busy", "no-answer", "voicemail"]
_index_cache: dict[str, SpeechIndex] = {}


def call_params(from_number: str, to_number: str, account_sid: str = DEFAULT_ACCOUNT_SID,
                call_sid: str | None = None) -> dict[str, str]:
    """The form parameters Twilio sends with every webhook of an inbound call (a new CallSid
    unless one is given)."""
    return {
        "AccountSid": account_sid, "ApiVersion": "2010-04-01", "CallSid": call_sid or new_sid("CA"),
        "CallStatus": "ringing", "Direction": "inbound", "From": from_number, "Caller": from_number,
        "To": to_number, "Called": to_number, "FromCountry": "GB", "ToCountry": "GB",
    }


def _default_index() -> SpeechIndex:
    """The index of the line described by this environment's settings (loaded once)."""
    from ivr.config import load_settings

    if "env" not in _index_cache:
        _index_cache["env"] = SpeechIndex.from_settings(load_settings())
    return _index_cache["env"]


def simulate_call(
    url: str,
    *,
    token: str,
    keys: Iterable[str | None] | KeySource | None = None,
    from_number: str = DEFAULT_FROM,
    to_number: str = DEFAULT_TO,
    nurse: NurseMode = "answer",
    transport: httpx.BaseTransport | None = None,
    max_steps: int = 200,
    on_event: Callable[[Event], None] | None = None,
    index: SpeechIndex | None = None,
    audio_out: AudioOut | None = None,
    account_sid: str = DEFAULT_ACCOUNT_SID,
    api_base_url: str = DEFAULT_API_BASE_URL,
    status_callback: str | None = None,
    call_sid: str | None = None,
) -> Transcript:
    """Call ``url`` (the line's ``/voice``) as Twilio would, and return the transcript.

    ``keys``: one entry per <Gather> ("1", "12#", or None/"" for silence); when they run out
    the caller hangs up. A KeySource (e.g. TerminalKeys) may be given instead. ``transport``
    lets the call go to an app in-process (``httpx.WSGITransport(app=create_app())``).
    ``index`` names what is heard; by default it is built from this environment's settings.
    ``account_sid`` is the call's AccountSid, and a <Record>ed message's RecordingUrl is
    ``<api_base_url>/2010-04-01/Accounts/<account_sid>/Recordings/RE...`` (give the line's
    TWILIO_ACCOUNT_SID and TWILIO_API_BASE_URL to have a fake Twilio serve the recording).
    ``status_callback``: once the call is over, post Twilio's call status callback there
    (``completed``, with CallDuration: the call's length on the transcript's clock, rounded up).
    ``call_sid``: the call's CallSid (default: a new one).

    Never raises for anything the line does: HTTP errors, invalid TwiML, bad audio and unknown
    verbs are error events in the transcript (``.failed``), as Twilio would log them.
    """
    scripted = keys is None or not hasattr(keys, "listen")
    source: KeySource = ScriptedKeys(keys or []) if scripted else keys  # type: ignore[arg-type,assignment]
    transcript = Transcript(on_event=on_event)
    params = call_params(from_number, to_number, account_sid, call_sid)
    with httpx.Client(transport=transport) as client:
        wire = Wire(token, params, client=client)
        runner = Runner(
            wire=wire, index=index if index is not None else _default_index(), transcript=transcript,
            keys=source, nurse=lambda number: nurse, audio_out=audio_out, api_base_url=api_base_url,
        )
        _run(runner, Next(Request(url)), transcript, max_steps)
        if status_callback:
            _call_ended(wire, Request(status_callback), transcript)
    return transcript


def _call_ended(wire: Wire, request: Request, transcript: Transcript) -> None:
    """Twilio's call status callback once the call is over: the call's parameters, its final
    status, its length (whole seconds, rounded up) and when it ended."""
    params = {**wire.call_params, "CallStatus": "completed", "CallDuration": str(math.ceil(transcript.clock)),
              "Timestamp": format_datetime(dt.datetime.now(dt.UTC)), "CallbackSource": "call-progress-events",
              "SequenceNumber": "0"}
    _callback(wire, request, params, transcript)


def _run(runner: Runner, first: Next, transcript: Transcript, max_steps: int) -> None:
    wire = runner.wire
    step: Next = first
    for _ in range(max_steps):
        request = step.request
        transcript.add("request", request.describe(), url=request.url)
        root = fetch_document(wire, step, transcript)
        if root is None:
            return
        try:
            outcome = runner.run(root, request.url)
        except CallerHangsUp as hung_up:
            transcript.end("caller", hung_up.reason)
            return
        if isinstance(outcome, End):
            transcript.end(outcome.how, outcome.detail if outcome.how != "error" else "")
            return
        step = outcome
    transcript.end("max-steps", f"{max_steps} requests")


def fetch_document(wire: Wire, step: Next, transcript: Transcript) -> ET.Element | None:
    """Post ``step``'s request and send its status callbacks, as Twilio does; the TwiML root, or
    None after ending the transcript with the error (HTTP failure, invalid XML)."""
    fetched = wire.fetch_twiml(step.request)
    wire.call_params["CallStatus"] = "in-progress"
    for callback, callback_params in step.after:
        _callback(wire, callback, dict(callback_params), transcript)
    if fetched.root is None:
        transcript.add("error", fetched.error or "no TwiML", url=step.request.url)
        transcript.end("error", fetched.error or "")
    return fetched.root


def _callback(wire: Wire, request: Request, params: dict[str, str], transcript: Transcript) -> None:
    """A status callback: Twilio ignores the body but logs a failure."""
    transcript.add("request", request.describe(), url=request.url)
    response = wire.send(request, only=params)
    if isinstance(response, str):
        transcript.add("error", f"status callback: {response}", url=request.url)
    elif not 200 <= response.status_code < 300:
        transcript.add("error", f"status callback {request.describe()} answered HTTP {response.status_code}",
                       url=request.url)
