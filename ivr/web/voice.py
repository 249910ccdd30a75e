"""The call's webhooks: every request Twilio makes during a call, answered by the call engine.

Each view only parses the request, stores what must be stored, and renders the engine's step
(:mod:`ivr.dialogue` decides everything a caller hears). URLs (all POST, all signed; the position
travels in the query string, see :class:`ivr.dialogue.steps.Position`):

- ``/voice``: a call comes in: the greeting and the main menu (or, for a caller who left a
  leaflet unfinished, the offer to carry on: the place is looked up here, within a budget).
                                                                         endpoint ``voice.answer``
- ``/voice/at?k=KIND&...``: arrive at a position.                        ``voice.at``
- ``/voice/key?k=KIND&...``: a <Gather>'s action: ``Digits`` or ``SpeechResult`` there, or (from
  the <Redirect> after it, with neither) the caller said nothing.        ``voice.key``
- ``/voice/dial?...``: the transfer to the nurses ended (``DialCallStatus``).  ``voice.dial``
- ``/voice/whisper?...``: the nurse's leg, before the caller is connected.    ``voice.whisper``
- ``/voice/record?...``: <Record> ended: the message is saved, then confirmed. ``voice.record``
- ``/voice/recording?...``: Twilio's recording status callback (fills in the recording's URL).
- ``/voice/menu`` and ``/nurse``: the main menu and the nurse line (the safety nets' targets).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import uuid
from collections.abc import Callable, Hashable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, g, request, url_for

from ivr.calllog.facts import Said, StepFacts, step_facts
from ivr.calllog.returning import ReturningCallers
from ivr.dialogue.engine import CallEngine, build_engine
from ivr.dialogue.speaking import LineRules
from ivr.dialogue.steps import (
    NURSE_KINDS,
    CallContext,
    DialEnded,
    Event,
    Heard,
    Keys,
    NoInput,
    Position,
    Recorded,
    Reply,
    Resume,
    Save,
    SaveCallback,
    SaveMessage,
    SendText,
    Step,
    TextOutcome,
    Transfer,
    small_int,
)
from ivr.dialogue.understanding import hints_for, interpreted
from ivr.errors import StoreError
from ivr.nurse.numbers import check_e164, mask_number, uk_callback_number, uk_mobile_number
from ivr.runtime import current_runtime
from ivr.texts import message_body, queue_text
from ivr.twiml import LineOutput, SpeechOutput, audio_base_url, empty_response, fully_rendered, step_response
from ivr.web.database import current_store
from ivr.web.texts import texts_for
from ivr.web.twilio_hooks import LineApp, host_url, parameters, register_safety_nets, twiml_response

if TYPE_CHECKING:
    from ivr.config import Settings

__all__ = ["ANSWERS_KEPT", "Answers", "bp", "current_engine", "init_app"]

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")
legacy = Blueprint("voice_legacy", __name__)  # /nurse: the safety nets' way to the nurse line
register_safety_nets(bp)
register_safety_nets(legacy)

ANSWERS_KEPT = 2048  # TwiML documents kept per worker (about 1 kB each)
LONGEST_CACHED_DIGITS = 16  # longer key sequences (junk, or a code) are answered afresh
MAX_SPEECH = 200  # characters of SpeechResult considered (a menu answer is a few words)
POSITIONS_KEPT = 4096  # parsed query strings kept per worker (the line's own URLs: a few thousand)
LONGEST_KEPT_QUERY = 300  # bytes; the line's own URLs are shorter
_positions: dict[bytes, Position] = {}
QUERY_SAFE = "!$'()*,/:;?@"  # what werkzeug's url_for leaves unquoted in a query string
_paths: dict[tuple[str, str], str] = {}  # (endpoint, script root): its path
CALLER_ID_SLOT = "{caller-id}"  # a kept transfer's callerId, filled in for each caller
_SLOT_ATTRIBUTE = f' callerId="{CALLER_ID_SLOT}"'


# --- the engine, the time, and the call ------------------------------------------------------


def current_engine() -> CallEngine:
    return current_app.extensions["ivr.engine"]


def _context() -> CallContext:
    return context_for(current_app, request.form.get("From"))


def context_for(app: Flask, caller: str | None) -> CallContext:
    """What the engine is told besides the position: the time, and what the caller's number allows."""
    clock: Callable[[], object] = app.extensions["ivr.clock"]
    rules: LineRules = app.extensions["ivr.engine"].rules
    can_text = app.extensions.get("ivr.texts") is not None and uk_mobile_number(caller) is not None
    return CallContext(rules.moment(clock()), uk_callback_number(caller), can_text)  # type: ignore[arg-type]


def answer_key(cache_key: Hashable, context: CallContext, host: str, script_root: str) -> Hashable:
    """What a kept answer depends on besides the request's position and event (see :class:`Answers`):
    the hours, whether a text can be offered, whether the caller's number is known (the nurse line
    asks for one when it is not), and the host (in the audio URLs)."""
    return (cache_key, context.moment.key, context.can_text, context.caller_number is not None, host, script_root)


def _url(endpoint: str, position: Position) -> str:
    """``url_for(endpoint, **position.params())``, with the path worked out once per endpoint (and
    script root) and the query encoded as werkzeug encodes it: a nurse-line answer names several
    URLs, and werkzeug's router took a third of building one."""
    root = request.script_root
    path = _paths.get((endpoint, root))
    if path is None:
        path = _paths[(endpoint, root)] = url_for(endpoint)
    return f"{path}?{urlencode(position.params(), safe=QUERY_SAFE)}"


class _Urls:
    def __init__(self, top: Position) -> None:
        self.top = top

    def enter(self, position: Position) -> str:
        if position == self.top:
            return url_for("voice.menu")
        return _url("voice.at", position)

    def key(self, position: Position) -> str:
        return _url("voice.key", position)

    def dial(self, position: Position) -> str:
        return _url("voice.dial", position)

    def whisper(self, position: Position) -> str:
        return _url("voice.whisper", position)

    def record(self, position: Position) -> str:
        return _url("voice.record", position)

    def recording(self, position: Position) -> str:
        return _url("voice.recording", position)


def _output() -> LineOutput:
    runtime = current_runtime()
    settings = runtime.settings
    speech = SpeechOutput(settings.speech, runtime.manifest, audio_base_url(settings, host_url()),
                          settings.say_voice, settings.say_language)
    return LineOutput(speech, settings.nurse_number, settings.nurse_ring_seconds, settings.message_max_seconds,
                      settings.say_language)


def caller_id(settings: Settings, form: Mapping[str, str]) -> str | None:
    """Shown to the nurse on a transfer: the caller's own number, so a dropped call can be rung
    back (Twilio allows the calling number as callerId); else IVR_NURSE_CALLER_ID, else the number
    they dialled. Twilio refuses a callerId that is none of these (error 13214)."""
    for number in (form.get("From", ""), settings.nurse_caller_id, form.get("To", "")):
        if number and check_e164(number) is None:
            return number
    return None


def with_caller_id(document: str, number: str | None) -> str:
    """A document rendered with :data:`CALLER_ID_SLOT`, for this caller (an E.164 number: nothing
    in it to escape; None: no callerId, as rendering without one gives)."""
    return document.replace(_SLOT_ATTRIBUTE, f' callerId="{number}"' if number else "")


def _render(step: Step) -> tuple[str, bool]:
    """(TwiML with :data:`CALLER_ID_SLOT` for the callerId of a transfer, whether it may be kept for
    the next identical request)."""
    engine = current_engine()
    output = _output()
    document = step_response(step, urls=_Urls(engine.leaflets.top()), output=output, caller_id=CALLER_ID_SLOT,
                             hints=hints_for(engine, step))
    return str(document), fully_rendered(step, output.speech)


# --- answers kept ----------------------------------------------------------------------------


class Answers:
    """The TwiML already built for a request, by what it depends on: the engine is pure, so the same
    position, event and hours (and the same host, which is in the audio URLs) give the same document.
    Leaflet steps and transfers to the nurses are kept (the nurse line's other steps may name the
    caller's number, or the time); a transfer's callerId is kept as :data:`CALLER_ID_SLOT`.

    A document in which some audio was missing (spoken by <Say>, with a warning logged) is not
    kept, so the warning is logged on every such request. At most ``size`` documents are kept,
    the oldest dropped first. Safe to share between threads.
    """

    def __init__(self, size: int = ANSWERS_KEPT) -> None:
        self.size = size
        self._kept: dict[Hashable, tuple[str, StepFacts]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def kept(self, key: Hashable) -> tuple[str, StepFacts] | None:
        return self._kept.get(key)

    def get(self, key: Hashable | None, build: Callable[[], tuple[str, StepFacts, bool]]) -> tuple[str, StepFacts]:
        """The document for ``key``; ``build`` makes it (document, facts, keep it) when it is not
        kept. A None key is never kept. Whatever ``build`` raises propagates; nothing is kept."""
        found = self._kept.get(key) if key is not None else None
        if found is None:
            document, facts, keep = build()
            found = (document, facts)
            if keep and key is not None:
                with self._lock:
                    self._kept[key] = found
                    while len(self._kept) > self.size:
                        del self._kept[next(iter(self._kept))]
        return found


def _answer_with(step_of: Callable[[CallContext], Reply], *, cache_key: Hashable | None,
                 came_from: Position | None, event: Event | None) -> Response:
    """Run the engine (through the answers kept, for a leaflet step), store a save it asks for,
    render, and note the facts for the call log."""
    context = _context()

    def build() -> tuple[str, StepFacts, bool]:
        reply = step_of(context)
        save: Save | None = None
        saved: bool | None = None
        texted = isinstance(reply, SendText)  # a request of its own: its answer is never kept
        if isinstance(reply, SendText):
            reply = current_engine().after_text(reply, _queue_text(reply), context)
        elif not isinstance(reply, Step):
            save, saved = reply, _save(reply, context)
            reply = current_engine().after_save(save, saved, context)
        document, complete = _render(reply)
        said = None
        if isinstance(event, Heard) and came_from is not None:
            said = Said(came_from.kind, interpreted(current_engine(), came_from, event, context), event.confidence)
        facts = step_facts(reply, came_from=came_from, event=event, open_now=context.moment.open,
                           save=save, saved=saved, said=said)
        # The nurse line's other steps may name the caller's number; a transfer never does (its
        # callerId is a slot): tests/test_kept_answers.py checks that over every state.
        keep = complete and saved is None and not texted and (
            reply.position.kind not in NURSE_KINDS or isinstance(reply.then, Transfer))
        return document, facts, keep

    answers: Answers = current_app.extensions["ivr.answers"]
    key = None if cache_key is None else answer_key(cache_key, context, host_url(), request.script_root)
    document, facts = answers.get(key, build)
    g.ivr_step_facts = facts
    return twiml_response(with_caller_id(document, caller_id(current_runtime().settings, request.form)))


# --- storing ---------------------------------------------------------------------------------


def _save(save: Save, context: CallContext) -> bool:
    """Commit the request; True once it is committed (only then is the caller told it is saved)."""
    store = current_store()
    engine = current_engine()
    leaflet, section = engine.leaflets.listening_to(save.position)
    slug, number = (leaflet.slug if leaflet else None), (section.number if section else None)
    call_sid = request.form.get("CallSid", "")[:64]
    reason = save.position.reason or "unknown"
    try:
        if isinstance(save, SaveMessage):
            row, created = store.save_message(
                recording_sid=save.recording_sid, call_sid=call_sid, caller_masked=mask_number(request.form.get("From")),
                caller_number=uk_callback_number(request.form.get("From")) or _e164(request.form.get("From")),
                reason=reason, recording_url=_recording_url(save.recording_sid),
                duration_seconds=small_int(request.form.get("RecordingDuration"), 0, 86400) or save.seconds or None,
                due_at=save.due, leaflet=slug, section=number,
            )
            log.info("message %d %s (%s)", row.id, "saved" if created else "already saved", mask_number(request.form.get("From")))
        else:
            assert isinstance(save, SaveCallback)
            # Twilio always sends CallSid; without one, never merge two callers' requests into one row.
            row_cb, created = store.save_callback(
                call_sid=call_sid or f"none-{uuid.uuid4().hex}", number=save.number, number_source=save.source,
                reason=reason, due_at=save.due, leaflet=slug, section=number,
            )
            log.info("call-back request %d %s for %s", row_cb.id, "saved" if created else "already saved",
                     mask_number(save.number))
    except StoreError as exc:
        log.error("could not save a %s for %s (CallSid %s): %s", "message" if isinstance(save, SaveMessage)
                  else "call-back request", mask_number(request.form.get("From")), call_sid or "?", exc)
        return False
    return True


def _queue_text(send: SendText) -> TextOutcome:
    """Commit the text message for the sender and wake it; never waits for the send itself."""
    texts = texts_for()
    number = uk_mobile_number(request.form.get("From"))
    leaflet = current_runtime().catalogue.by_slug(send.slug)
    if texts is None or number is None or leaflet is None:
        return "not-possible"
    call_sid = request.form.get("CallSid", "")[:64]
    try:
        body = message_body(texts.settings, texts.copy, title=leaflet.title, slug=leaflet.slug)
        outcome = queue_text(current_store(), call_sid=call_sid, leaflet=leaflet.slug, number=number, body=body,
                             secret=str(current_app.secret_key), limits=texts.limits)
    except StoreError as exc:
        log.error("could not queue a text message for %s (CallSid %s): %s", mask_number(number), call_sid or "?", exc)
        return "not-possible"
    if outcome == "queued":
        texts.sender.wake()
    log.info("text message of %s for %s: %s", leaflet.slug, mask_number(number), outcome)
    return outcome


def _e164(number: str | None) -> str | None:
    return number if number and check_e164(number) is None else None


def _recording_url(sid: str) -> str | None:
    """The recording's address: as Twilio sent it, or its REST address under the call's account."""
    sent = request.form.get("RecordingUrl", "")[:500]
    if sent:
        return sent
    account = request.form.get("AccountSid", "")
    if not (account.startswith("AC") and account.isalnum() and len(account) <= 64):
        return None
    base = current_runtime().settings.twilio_api_base_url
    return f"{base}/2010-04-01/Accounts/{account}/Recordings/{sid}"


def _recording_sid() -> str:
    sid = request.form.get("RecordingSid", "")
    if not sid:  # older requests name the recording only in its URL: .../Recordings/RE...
        sid = request.form.get("RecordingUrl", "").rstrip("/").rsplit("/", 1)[-1]
    return sid[:64] if sid.startswith("RE") and sid.isalnum() else ""


# --- the webhooks ----------------------------------------------------------------------------


def _position() -> Position:
    return position_in(request.query_string)


def position_in(query: bytes) -> Position:
    """The position in a query string, parsed as ``request.args`` is. Parsed positions are kept by
    query string (parsing was a third of a cached answer's time), but not one holding digits the
    caller keyed in (h=). UnicodeDecodeError for a query string that is not UTF-8."""
    found = _positions.get(query)
    if found is None:
        found = Position.from_params(parameters(query.decode()))
        if len(query) <= LONGEST_KEPT_QUERY and b"h=" not in query:
            if len(_positions) >= POSITIONS_KEPT:
                _positions.clear()
            _positions[query] = found
    return found


def event_from_gather(form: Mapping[str, str]) -> Event:
    """Keys (Digits), words (SpeechResult with Confidence), or nothing (the Redirect after it)."""
    digits = form.get("Digits")
    if digits:
        return Keys(digits)
    speech = form.get("SpeechResult")
    if speech is not None and speech.strip():
        try:
            confidence = float(form.get("Confidence", "0"))
        except ValueError:
            confidence = 0.0
        confidence = confidence if 0.0 <= confidence <= 1.0 else 0.0  # nan, inf and junk are "not sure"
        return Heard(speech[:MAX_SPEECH], confidence)
    return NoInput()


def resume_for(app: Flask, caller: str | None) -> Resume | None:
    """Where this caller left off last time, if the line knows within its budget (see
    :mod:`ivr.calllog.returning`); None when welcome back is off (or on the practice line)."""
    returning: ReturningCallers | None = app.extensions.get("ivr.returning")
    if returning is None:
        return None
    return returning.lookup(caller, dt.datetime.now(dt.UTC))


@bp.post("")
def answer() -> Response:
    log.info("call %s answered", request.form.get("CallSid", "?")[:64])
    resume = resume_for(current_app, request.form.get("From"))
    return _answer_with(lambda context: current_engine().answer(context, resume), cache_key=("answer", resume),
                        came_from=None, event=None)


def press_key(position: Position, event: Event) -> Hashable | None:
    """The kept answer's key for ``event`` at ``position`` at /voice/key, or None: never kept.
    Junk as long as the body allows must not fill the memory; words are answered afresh."""
    if isinstance(event, NoInput) or (isinstance(event, Keys) and len(event.digits) <= LONGEST_CACHED_DIGITS):
        return ("press", position, event)
    return None


@bp.post("/menu")
def menu() -> Response:
    top = current_engine().leaflets.top()
    return _answer_with(lambda context: current_engine().enter(top, context), cache_key=("enter", top),
                        came_from=None, event=None)


@bp.post("/read")
def read() -> Response:  # the URL of reading before the one engine, for calls in progress at an upgrade
    position = Position.from_params(request.args, kind="read")
    return _answer_with(lambda context: current_engine().enter(position, context), cache_key=("enter", position),
                        came_from=None, event=None)


@bp.post("/at")
def at() -> Response:
    position = _position()
    return _answer_with(lambda context: current_engine().enter(position, context), cache_key=("enter", position),
                        came_from=None, event=None)


@bp.post("/key")
def key() -> Response:
    position = _position()
    event = event_from_gather(request.form)
    return _answer_with(lambda context: current_engine().respond(position, event, context),
                        cache_key=press_key(position, event), came_from=position, event=event)


@bp.post("/dial")
def dial() -> Response:
    """The <Dial> ended. Talked to a nurse -> goodbye. Anything else (busy, no-answer, failed,
    canceled, or answered but never bridged because the whisper declined) -> what happens next."""
    position = _position()
    status = request.form.get("DialCallStatus", "")[:20]
    bridged = request.form.get("DialBridged", "").lower() != "false"
    answered = status == "completed" and bridged
    event = DialEnded(answered, status if status != "completed" else "not-bridged")
    log.info("nurse transfer for CallSid %s ended: %s", request.form.get("CallSid", "?")[:64],
             "answered" if answered else event.status or "(no status)")
    return _answer_with(lambda context: current_engine().respond(position, event, context), cache_key=None,
                        came_from=position, event=event)


@bp.post("/whisper")
def whisper() -> Response:
    """On the nurse's leg, before the bridge: who is calling, then "press 1". An empty document
    lets Twilio connect the caller; <Hangup> ends the nurse's leg instead."""
    position = _position()
    return _answer_with(lambda context: current_engine().enter(position.but(kind="whisper"), context),
                        cache_key=None, came_from=None, event=None)


@bp.post("/record")
def record() -> Response:
    """<Record action>: save the message (idempotent on RecordingSid), then confirm it with a time."""
    position = _position()
    seconds = small_int(request.form.get("RecordingDuration"), 0, 86400) or 0
    sid = _recording_sid()
    event = Recorded(seconds if sid and request.form.get("RecordingUrl") else 0, sid)
    return _answer_with(lambda context: current_engine().respond(position, event, context), cache_key=None,
                        came_from=position, event=event)


@bp.post("/recording")
def recording() -> Response:
    """recordingStatusCallback: store the recording's URL and status on its message (creating the
    row if this arrives first, or if saving failed during the call). Answers 200 with empty TwiML
    even when the database is down (logged): Twilio does not retry status callbacks on our say."""
    position = current_engine().settle(_position())
    sid = _recording_sid()
    if sid:
        leaflet, section = current_engine().leaflets.listening_to(position)
        try:
            current_store().save_message(
                recording_sid=sid, call_sid=request.form.get("CallSid", "")[:64],
                caller_masked=mask_number(request.form.get("From")),
                caller_number=uk_callback_number(request.form.get("From")) or _e164(request.form.get("From")),
                leaflet=leaflet.slug if leaflet else None, section=section.number if section else None,
                reason=position.reason or "unknown", recording_url=_recording_url(sid),
                duration_seconds=small_int(request.form.get("RecordingDuration"), 0, 86400),
                recording_status=request.form.get("RecordingStatus", "")[:32] or None,
                due_at=current_engine().rules.due(_context().moment.now),
            )
        except StoreError as exc:
            log.error("could not store recording %s (CallSid %s): %s", sid, request.form.get("CallSid", "?")[:64], exc)
    return twiml_response(empty_response())


@legacy.post("/nurse")
def nurse() -> Response:
    """The nurse line from anywhere (the second fault in a call is sent here)."""
    entry = nurse_entry(current_engine(), _position())
    return _answer_with(lambda context: current_engine().enter(entry, context), cache_key=("enter", entry),
                        came_from=None, event=None)


def nurse_entry(engine: CallEngine, position: Position) -> Position:
    """Where /nurse starts the nurse line for a caller last at ``position``."""
    return engine.nurse_entry(position if position.kind != "leaflets" else position.but(kind="sections"))


def require_nurse_number(settings: Settings) -> None:
    """ConfigError unless IVR_NURSE_NUMBER is a number the line can put callers through to."""
    from ivr.errors import ConfigError

    problem = check_e164(settings.nurse_number)
    if problem:
        raise ConfigError(
            f"Expected the nurses' number in E.164 form like '+441632960001', got "
            f"'{settings.nurse_number}' in IVR_NURSE_NUMBER, which {problem}.",
            hint="Set IVR_NURSE_NUMBER to the helpline the line transfers callers to.",
        )


def init_app(app: Flask) -> None:
    """Register the call's webhooks. ConfigError (the line refuses to start) for malformed opening
    hours, closed dates or holiday region; ContentError for a broken key map."""
    runtime = app.extensions["ivr.runtime"]
    settings: Settings = runtime.settings
    require_nurse_number(settings)
    app.extensions["ivr.engine"] = build_engine(settings, runtime.catalogue, runtime.prompts)
    app.extensions["ivr.answers"] = Answers()
    if settings.welcome_back_days and not app.config.get("PRACTICE_LINE"):  # practice calls are not logged
        app.extensions["ivr.returning"] = ReturningCallers(
            app.extensions["ivr.store"], str(app.secret_key), days=settings.welcome_back_days,
            wait_ms=settings.welcome_back_wait_ms)
    clock = app.config.get("CLOCK")
    if clock is None and settings.clock is not None:
        log.warning("IVR_CLOCK is set: the line takes the time to be %s (for tests only)", settings.clock.isoformat())
        fixed = settings.clock
        clock = lambda: fixed  # noqa: E731
    app.extensions["ivr.clock"] = clock or _real_clock
    app.register_blueprint(bp)
    app.register_blueprint(legacy)
    if isinstance(app, LineApp):
        from ivr.web.kept_answers import answer_kept

        app.answer_early = functools.partial(answer_kept, app)


def _real_clock() -> object:
    return dt.datetime.now(dt.UTC)
