"""The nurse line's webhooks: transfer with a whisper, and messages / call-backs when nobody answers.

    POST /nurse?l=&s=&p=&r=        (nurse.start) in hours: <Dial> the nurses; closed: say when they open
    POST /nurse/whisper            (the nurse's leg) who is calling; 1 accepts, silence hangs up
    POST /nurse/after-dial         <Dial action>: answered -> goodbye; otherwise the options menu
    POST /nurse/menu, /nurse/choice the options menu (1 message, 2 call back, 3 back, 0 again)
    POST /nurse/message/saved, /nurse/recording   <Record> action and recording status callback
    POST /nurse/callback, /nurse/callback/number                  call-back request

All wording comes from ``prompts/en-GB/nurse.yaml``; the call's state travels in the URLs
(:mod:`ivr.nurse.flow`). A database failure is told to the caller, who is offered a retry or
the nurses again; it is logged with the number masked.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable

from flask import Blueprint, Flask, Response, current_app, request, url_for
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.errors import StoreError
from ivr.nurse.flow import MENU_KEYS, CallState
from ivr.nurse.line import NurseLine, build_nurse_line
from ivr.nurse.numbers import check_e164, last_digits, mask_number, uk_callback_number
from ivr.nurse.phrases import closed_utterance, digit_utterances, whisper_utterance
from ivr.prompts import Utterance
from ivr.runtime import current_runtime
from ivr.speech.manifest import Rate
from ivr.twiml import SpeechOutput, add_speech, audio_base_url
from ivr.web.twilio_hooks import register_safety_nets, twiml_response

__all__ = ["bp", "current_nurse_line", "init_app"]

log = logging.getLogger(__name__)
bp = Blueprint("nurse", __name__, url_prefix="/nurse")
register_safety_nets(bp)

KEY_TIMEOUT = 5  # seconds of silence before the no-input path (never longer without a prompt)
NUMBER_TIMEOUT = 5  # between digits of a number being keyed in (and after "1": no longer silence)
SILENCES_BEFORE_GOODBYE = 3


def init_app(app: Flask) -> None:
    """Register the nurse line. Raises ConfigError (the line refuses to start) for a missing or
    malformed IVR_NURSE_NUMBER, IVR_NURSE_HOURS, IVR_CLOSED_DATES, IVR_HOLIDAYS_REGION or
    database URL. ``app.config["NURSE_CLOCK"]`` (a callable returning an aware datetime) replaces
    the real clock, for tests."""
    settings = app.extensions["ivr.runtime"].settings
    app.extensions["ivr_nurse"] = build_nurse_line(settings, app.extensions["ivr.store"], app.config.get("NURSE_CLOCK"))
    app.register_blueprint(bp)


def current_nurse_line() -> NurseLine:
    return current_app.extensions["ivr_nurse"]


# --- speaking -------------------------------------------------------------------------------


def _output() -> SpeechOutput:
    runtime = current_runtime()
    settings = runtime.settings
    base = audio_base_url(settings, request.url_root)
    return SpeechOutput(settings.speech, runtime.manifest, base, settings.say_voice, settings.say_language)


def _speak(parent: VoiceResponse | Gather, items: Iterable[Utterance | str], rate: Rate = "normal") -> None:
    """Add speech for prompt ids (str) or ready utterances, through ``add_speech`` (Play or Say)."""
    prompts = current_runtime().prompts
    utterances = [prompts.say(item) if isinstance(item, str) else item for item in items]
    add_speech(parent, utterances, rate=rate, output=_output())


def _state() -> CallState:
    return CallState.from_args(request.args, current_runtime().catalogue)


def _url(endpoint: str, state: CallState, **changes: object) -> str:
    return url_for(endpoint, **state.args(**changes))


def _gather(response: VoiceResponse, action: str, **options: object) -> Gather:
    """A one-key <Gather> by default; ``finish_on_key=""`` so * and # reach the action as keys."""
    settings = {"num_digits": 1, "timeout": KEY_TIMEOUT, "finish_on_key": ""} | options
    return response.gather(action=action, method="POST", action_on_empty_result=False, **settings)


def _goodbye(response: VoiceResponse, rate: Rate) -> Response:
    _speak(response, ["nurse.goodbye"], rate)
    response.hangup()
    return twiml_response(response)


def _menu(state: CallState, lead: Iterable[Utterance | str] = ()) -> Response:
    """Speak ``lead``, then offer ``state.menu`` in a <Gather>; silence leads back here with one
    more silence counted: a short reprompt, then help, then goodbye."""
    response = VoiceResponse()
    rate = state.position.rate
    if state.silences >= (1 if state.menu == "saved" else SILENCES_BEFORE_GOODBYE):
        return _goodbye(response, rate)
    extra = {1: ["nurse.no_input"], 2: ["nurse.help"]}.get(state.silences, [])
    _speak(response, [*lead, *extra], rate)
    gather = _gather(response, _url("nurse.choice", state, silences=0))
    _speak(gather, state.option_prompts(), rate)
    response.redirect(_url("nurse.menu", state, silences=state.silences + 1), method="POST")
    return twiml_response(response)


# --- transfer -------------------------------------------------------------------------------


@bp.post("", endpoint="start")
def start() -> Response:
    """Put the caller through if the nurses are open; otherwise say when they open, and offer
    a message or a call-back."""
    state = _state()
    line = current_nurse_line()
    response = VoiceResponse()
    faults = request.args.get("faults", "")
    if faults.isascii() and faults.isdigit() and int(faults) >= SILENCES_BEFORE_GOODBYE:  # the line keeps failing: stop kindly
        return _goodbye(response, state.position.rate)
    now = line.clock()
    if not line.hours.is_open(now):
        closed = CallState(state.position, reason="closed")
        return _menu(closed, [closed_utterance(line.hours, now, current_runtime().prompts), "nurse.urgent"])
    settings = current_runtime().settings
    _speak(response, ["nurse.connecting"], state.position.rate)
    # The number the caller dialled, if it is one: Twilio refuses a <Dial> whose callerId is not.
    to = request.form.get("To", "")
    caller_id = settings.nurse_caller_id or (to if check_e164(to) is None else None)
    dial = response.dial(
        action=_url("nurse.after_dial", state), method="POST", timeout=settings.nurse_ring_seconds,
        answer_on_bridge=True, caller_id=caller_id,
    )
    whisper = {key: value for key, value in state.position.args().items() if key in ("l", "s")}
    dial.number(line.nurse_number, url=url_for("nurse.whisper", **whisper), method="POST")
    log.info("transferring CallSid %s to the nurses", request.form.get("CallSid", "?"))
    return twiml_response(response)


@bp.post("/whisper", endpoint="whisper")
def whisper() -> Response:
    """On the nurse's leg, before the bridge: who is calling, then "press 1". Returning TwiML
    that ends lets Twilio connect the caller; <Hangup> here ends the nurse's leg instead, so a
    voicemail that answers (and presses nothing) never swallows the caller."""
    state = _state()
    prompts = current_runtime().prompts
    about = whisper_utterance(current_runtime().catalogue, prompts, state.position.leaflet, state.position.section)
    response = VoiceResponse()
    action = url_for("nurse.whisper_answer")
    _speak(_gather(response, action), [about, "nurse.whisper.accept"])
    _speak(_gather(response, action), ["nurse.whisper.accept"])
    response.hangup()
    return twiml_response(response)


@bp.post("/whisper/answer", endpoint="whisper_answer")
def whisper_answer() -> Response:
    """1: an empty document, so the whisper ends and the nurse is connected. Anything else declines."""
    response = VoiceResponse()
    if request.form.get("Digits") != "1":
        response.hangup()
    return twiml_response(response)


@bp.post("/after-dial", endpoint="after_dial")
def after_dial() -> Response:
    """The <Dial> ended. Talked to a nurse -> goodbye. Anything else (busy, no-answer, failed,
    canceled, unknown, or answered but never bridged because the whisper hung up) -> "the
    nurses are all busy" and the options."""
    state = _state()
    status = request.form.get("DialCallStatus", "")
    bridged = request.form.get("DialBridged", "").lower() != "false"
    log.info("nurse transfer for CallSid %s ended: %s%s", request.form.get("CallSid", "?"),
             status[:20] or "(no status)", " but not bridged" if status == "completed" and not bridged else "")
    if status == "completed" and bridged:
        return _goodbye(VoiceResponse(), state.position.rate)
    return _menu(CallState(state.position, reason="busy"), ["nurse.busy"])


@bp.post("/menu", endpoint="menu")
def menu() -> Response:
    return _menu(_state())


@bp.post("/choice", endpoint="choice")
def choice() -> Response:
    state = _state()
    action = MENU_KEYS[state.menu].get(request.form.get("Digits", ""))
    response = VoiceResponse()
    if action == "back":
        response.redirect(state.position.back_url(request.script_root), method="POST")
        return twiml_response(response)
    if action == "nurse":
        response.redirect(url_for("nurse.start", **state.position.args()), method="POST")
        return twiml_response(response)
    if action == "repeat":
        return _menu(state)
    if action == "message":
        return _record_prompt(state)
    if action == "callback":
        return _callback_prompt(state)
    if action == "save_again" and state.recording is not None:
        sid, url, seconds = state.recording
        return _save_message(state, sid, url, int(seconds))
    if state.menu == "saved":  # "or you can hang up now": any other key ends the call kindly
        return _goodbye(response, state.position.rate)
    return _menu(state, ["nurse.wrong_key"])


# --- messages -------------------------------------------------------------------------------


def _record_prompt(state: CallState) -> Response:
    settings = current_runtime().settings
    response = VoiceResponse()
    _speak(response, ["nurse.message.instructions"], state.position.rate)
    response.record(
        action=_url("nurse.message_saved", state), method="POST", max_length=settings.message_max_seconds,
        finish_on_key="#", play_beep=True, timeout=10,
        recording_status_callback=url_for("nurse.recording", **state.args()),
        recording_status_callback_method="POST",
    )
    # Twilio goes on to here when nothing was recorded.
    _speak(response, ["nurse.message.nothing_heard"], state.position.rate)
    response.redirect(_url("nurse.menu", state, menu="options", silences=0), method="POST")
    return twiml_response(response)


def _recording_sid() -> str:
    sid = request.form.get("RecordingSid", "")
    if not sid:  # older requests name the recording only in its URL: .../Recordings/RE...
        sid = request.form.get("RecordingUrl", "").rstrip("/").rsplit("/", 1)[-1]
    return sid[:64] if sid.startswith("RE") else ""


def _seconds(text: str | None) -> int:
    return int(text) if text and text.isascii() and text.isdigit() and len(text) < 7 else 0  # not "²"


def _save_message(state: CallState, sid: str, url: str, seconds: int) -> Response:
    """Commit the message, then (and only then) tell the caller it is saved."""
    line = current_nurse_line()
    caller = mask_number(request.form.get("From"))
    try:
        row, created = line.store.save_message(
            recording_sid=sid, call_sid=request.form.get("CallSid", "")[:64], caller_masked=caller,
            leaflet=state.position.leaflet, section=state.position.section, reason=state.reason,
            recording_url=url or None, duration_seconds=seconds,
        )
    except StoreError as exc:
        log.error("could not save the message from %s (CallSid %s): %s", caller, request.form.get("CallSid", "?"), exc)
        failed = CallState(state.position, state.reason, "message_failed", 0, (sid, url, str(seconds)))
        return _menu(failed, ["nurse.message.not_saved"])
    log.info("message %d %s from %s (%d s)", row.id, "saved" if created else "already saved", caller, seconds)
    return _menu(CallState(state.position, state.reason, "saved"), ["nurse.message.saved"])


@bp.post("/message/saved", endpoint="message_saved")
def message_saved() -> Response:
    """<Record action>: save the message (idempotent on RecordingSid), or say nothing was heard."""
    state = _state()
    sid, url = _recording_sid(), request.form.get("RecordingUrl", "")[:500]
    seconds = _seconds(request.form.get("RecordingDuration"))
    if not sid or not url or seconds == 0:
        return _menu(CallState(state.position, state.reason), ["nurse.message.nothing_heard"])
    return _save_message(state, sid, url, seconds)


@bp.post("/recording", endpoint="recording")
def recording() -> Response:
    """recordingStatusCallback: store the recording's URL and status on its message (creating the
    row if this arrives first, or if saving failed during the call). Answers 200 with empty TwiML
    even when the database is down (logged): Twilio does not retry status callbacks on our say."""
    state = _state()
    sid = _recording_sid()
    if sid:
        try:
            current_nurse_line().store.save_message(
                recording_sid=sid, call_sid=request.form.get("CallSid", "")[:64],
                caller_masked=mask_number(request.form.get("From")), leaflet=state.position.leaflet,
                section=state.position.section, reason=state.reason,
                recording_url=request.form.get("RecordingUrl", "")[:500] or None,
                duration_seconds=_seconds(request.form.get("RecordingDuration")) or None,
                recording_status=request.form.get("RecordingStatus", "")[:32] or None,
            )
        except StoreError as exc:
            log.error("could not store recording %s (CallSid %s): %s", sid, request.form.get("CallSid", "?"), exc)
    return twiml_response(VoiceResponse())


# --- call-backs -----------------------------------------------------------------------------


def _callback_prompt(state: CallState, lead: Iterable[Utterance | str] = ()) -> Response:
    """Offer the caller's own number (last three digits read back, 1 to confirm) or ask them
    to key one in, followed by #."""
    response = VoiceResponse()
    rate = state.position.rate
    if state.silences >= SILENCES_BEFORE_GOODBYE:
        return _goodbye(response, rate)
    extra = {1: ["nurse.no_input"], 2: ["nurse.help"]}.get(state.silences, [])
    _speak(response, [*lead, *extra], rate)
    own = uk_callback_number(request.form.get("From"))
    gather = _gather(response, _url("nurse.callback_number", state, silences=0), num_digits=None,
                     finish_on_key="#", timeout=NUMBER_TIMEOUT)
    if own:
        prompts = current_runtime().prompts
        _speak(gather, ["nurse.callback.this_number", *digit_utterances(last_digits(own), prompts),
                        "nurse.callback.confirm"], rate)
    else:
        _speak(gather, ["nurse.callback.key_in"], rate)
    response.redirect(_url("nurse.callback", state, silences=state.silences + 1), method="POST")
    return twiml_response(response)


@bp.post("/callback", endpoint="callback")
def callback() -> Response:
    return _callback_prompt(_state())


@bp.post("/callback/number", endpoint="callback_number")
def callback_number() -> Response:
    """1 = the caller's own number; otherwise the keyed number, if it is a UK number we can call.
    The request is committed before the caller hears that it is saved; a retried webhook finds
    it already there (one request per CallSid)."""
    state = _state()
    digits = request.form.get("Digits", "").strip("#")
    own = uk_callback_number(request.form.get("From"))
    number, source = (own, "caller") if digits == "1" and own else (uk_callback_number(digits), "keyed")
    if number is None:
        return _callback_prompt(state, ["nurse.callback.invalid"])
    line = current_nurse_line()
    # Twilio always sends CallSid; without one, never merge two callers' requests into one row.
    call_sid = request.form.get("CallSid", "")[:64] or f"none-{uuid.uuid4().hex}"
    try:
        row, created = line.store.save_callback(
            call_sid=call_sid, number=number, number_source=source, leaflet=state.position.leaflet,
            section=state.position.section, reason=state.reason,
        )
    except StoreError as exc:
        log.error("could not save a call-back request for %s (CallSid %s): %s", mask_number(number), call_sid, exc)
        return _menu(CallState(state.position, state.reason, "callback_failed"), ["nurse.callback.not_saved"])
    log.info("call-back request %d %s for %s", row.id, "saved" if created else "already saved", mask_number(number))
    prompts = current_runtime().prompts
    return _menu(CallState(state.position, state.reason, "saved"),
                 ["nurse.callback.saved", *digit_utterances(last_digits(row.number), prompts)])
