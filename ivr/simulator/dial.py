"""<Dial> (the simulated nurse, with the whisper leg) and <Record> (a simulated message).

The nurse is one of: ``answer`` (picks up, hears the whisper, presses 1 at its Gather),
``voicemail`` (a machine picks up and presses nothing), ``busy``, ``no-answer``.

Twilio facts modelled here: the whisper (``<Number url=...>``) runs on the nurse's leg before
the parties are connected; if it ends in <Hangup> the caller is not connected, if it simply runs
out the parties are bridged. The Dial's ``action`` gets ``DialCallStatus`` (``completed`` whenever
the nurse's phone was answered, even if the whisper then hung up, ``busy``, ``no-answer``),
``DialCallSid``, ``DialBridged`` and, when answered, ``DialCallDuration``. Without an ``action``
the document goes on with the next verb.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import urljoin

from ivr.simulator.keys import AlwaysKeys
from ivr.simulator.runner import End, Next, Outcome, Runner
from ivr.simulator.wire import Request, new_sid

__all__ = ["NURSE_MODES", "dial", "record"]

NURSE_MODES = ("answer", "busy", "no-answer", "voicemail")
MAX_WHISPER_STEPS = 10


def _int(verb: ET.Element, name: str, default: int) -> int:
    text = verb.get(name, "").strip()
    return int(text) if text.isdigit() else default


def dial(runner: Runner, verb: ET.Element, url: str) -> Outcome | None:
    """Ring the number; the nurse behaves as ``runner.nurse`` says; then the action (or go on)."""
    transcript = runner.transcript
    nouns = [child for child in verb if child.tag is not None]
    if any(child.tag != "Number" for child in nouns):
        return runner.fail(f"<Dial> to <{nouns[0].tag}> is not simulated (only numbers) in {url}")
    noun = nouns[0] if nouns else None
    number = ((noun.text if noun is not None else verb.text) or "").strip()
    if not number:
        return runner.fail(f"<Dial> with no number in {url}")
    timeout = _int(verb, "timeout", 30)
    caller_id = verb.get("callerId") or runner.wire.call_params.get("From", "")
    mode = runner.nurse(number)
    child_sid = new_sid("CA")
    params: list[tuple[str, str]] = [("DialCallSid", child_sid)]
    if mode == "busy":
        transcript.add("dial", f"calling {number}: engaged (busy)", duration=1.0)
        status, bridged = "busy", False
    elif mode == "no-answer":
        transcript.add("dial", f"calling {number}: rings for {timeout} s, no answer", duration=float(timeout))
        status, bridged = "no-answer", False
    else:
        ring = float(min(runner.ring_seconds, timeout))
        who = "the nurse" if mode == "answer" else "a voicemail"
        transcript.add("dial", f"calling {number}: {who} answers after {ring:g} s", duration=ring)
        started = transcript.clock
        bridged = True
        if noun is not None and noun.get("url"):
            whisper = Request(urljoin(url, noun.get("url", "")), noun.get("method", "POST").upper())
            bridged = _whisper(runner, whisper, mode, child_sid, caller_id, number)
        if bridged:
            transcript.add("talk", f"connected: you talk to {who} for {runner.talk_seconds:g} s",
                           duration=runner.talk_seconds)
        else:
            transcript.add("dial", f"{who} hangs up without connecting you")
        status = "completed"
        params.append(("DialCallDuration", str(round(transcript.clock - started))))
    params += [("DialCallStatus", status), ("DialBridged", "true" if bridged else "false")]
    action = verb.get("action")
    if not action:
        return None
    return Next(Request(urljoin(url, action), verb.get("method", "POST").upper(), tuple(params)))


def _whisper(runner: Runner, request: Request, mode: str, child_sid: str, caller_id: str, number: str) -> bool:
    """Run the whisper on the nurse's leg; True when it ends by running out (the call is bridged)."""
    parent = runner.wire.call_params
    leg_params = {
        "AccountSid": parent.get("AccountSid", ""), "ApiVersion": parent.get("ApiVersion", ""),
        "CallSid": child_sid, "ParentCallSid": parent.get("CallSid", ""), "CallStatus": "in-progress",
        "Direction": "outbound-dial", "From": caller_id, "Caller": caller_id, "To": number, "Called": number,
    }
    wire = runner.wire.with_params(leg_params)
    nurse = Runner(
        wire=wire, index=runner.index, transcript=runner.transcript,
        keys=AlwaysKeys("1" if mode == "answer" else None), nurse=runner.nurse, leg="nurse",
        api_base_url=runner.api_base_url,
    )
    transcript = runner.transcript
    for _ in range(MAX_WHISPER_STEPS):
        transcript.add("request", request.describe(), url=request.url, leg="nurse")
        fetched = wire.fetch_twiml(request)
        if fetched.root is None:
            transcript.add("error", f"whisper: {fetched.error}", url=request.url, leg="nurse")
            return False
        outcome = nurse.run(fetched.root, request.url)
        if isinstance(outcome, End):
            return outcome.how == "end"
        request = outcome.request
    transcript.add("error", f"whisper did not finish in {MAX_WHISPER_STEPS} requests", leg="nurse")
    return False


def record(runner: Runner, verb: ET.Element, url: str) -> Outcome:
    """The caller leaves a message and presses # (when # finishes it); then the action, and the
    ``recordingStatusCallback`` once the action has been answered."""
    action = Request(urljoin(url, verb.get("action") or url), verb.get("method", "POST").upper())
    max_length = _int(verb, "maxLength", 3600)
    finish = verb.get("finishOnKey", "1234567890*#")
    beep = verb.get("playBeep", "true").strip().lower() != "false"
    seconds = float(min(runner.message_seconds, max_length))
    by_hash = "#" in finish and runner.message_seconds < max_length
    text = ("beep, then " if beep else "") + f"you leave a message of {seconds:g} s"
    if by_hash:
        text += " and press #"
    elif seconds < max_length:
        seconds += _int(verb, "timeout", 5)  # Twilio stops after this much silence
    runner.transcript.add("message", text, duration=seconds)
    sid = new_sid("RE")
    account = runner.wire.call_params.get("AccountSid", "")
    # Twilio's address for the recording (no extension): the REST API, under the call's account.
    recording_url = f"{runner.api_base_url.rstrip('/')}/2010-04-01/Accounts/{account}/Recordings/{sid}"
    params = [("RecordingUrl", recording_url), ("RecordingSid", sid),
              ("RecordingDuration", str(round(min(runner.message_seconds, max_length))))]
    if by_hash:
        params.append(("Digits", "#"))
    after: tuple[tuple[Request, tuple[tuple[str, str], ...]], ...] = ()
    callback = verb.get("recordingStatusCallback")
    if callback:
        status = (
            ("AccountSid", account), ("CallSid", runner.wire.call_params.get("CallSid", "")),
            ("RecordingSid", sid), ("RecordingUrl", recording_url), ("RecordingStatus", "completed"),
            ("RecordingDuration", params[2][1]), ("RecordingChannels", "1"), ("RecordingSource", "RecordVerb"),
        )
        method = verb.get("recordingStatusCallbackMethod", "POST").upper()
        after = ((Request(urljoin(url, callback), method), status),)
    return Next(Request(action.url, action.method, tuple(params)), after)
