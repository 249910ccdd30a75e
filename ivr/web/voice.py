"""The voice webhooks: Twilio's "a call comes in" (``POST /voice``) and every step of the phone tree.

URLs (all POST, all signed; the position travels in the query string, see ``ivr.tree.Position``):

- ``/voice``: greeting, then the main menu.            endpoint ``voice.answer``
- ``/voice/menu``: the main menu.                        endpoint ``voice.menu``
- ``/voice/read?l=SLUG&s=N&p=M&r=normal|slow[&w=1]``: read from that part.   ``voice.read``
- ``/voice/at?k=KIND&...``: arrive at any other position.                     ``voice.at``
- ``/voice/key?k=KIND&...``: a <Gather>'s action: ``Digits`` pressed there, or (no Digits,
  from the <Redirect> after it) the caller said nothing.                      ``voice.key``
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable

from flask import Blueprint, Flask, Response, current_app, request, url_for
from werkzeug.routing import BuildError

from ivr.runtime import current_runtime
from ivr.tree import Position, Step, Tree
from ivr.twiml import SpeechOutput, audio_base_url, fully_rendered, step_response
from ivr.web.twilio_hooks import host_url, register_safety_nets, twiml_response

__all__ = ["ANSWERS_KEPT", "Answers", "bp", "init_app", "nurse_url"]

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")
register_safety_nets(bp)

ANSWERS_KEPT = 2048  # TwiML documents kept per worker (about 1 kB each)
LONGEST_CACHED_DIGITS = 16  # longer key sequences (junk, or a code) are answered afresh


def nurse_url(position: Position | None) -> str:
    """``nurse.start`` with the position (l, s, p, r) where there is one; the plain path
    ``/nurse?...`` if the nurse line is not registered in this app (it answers 404 then)."""
    params: dict[str, str] = {}
    if position is not None and position.slug:
        params["l"] = position.slug
        if position.kind in ("read", "pause", "end"):
            params.update(s=str(position.section), p=str(position.part))
        params["r"] = position.rate
    try:
        return url_for("nurse.start", **params)
    except BuildError:
        query = "&".join(f"{name}={value}" for name, value in params.items())
        return "/nurse" + (f"?{query}" if query else "")


class _Urls:
    def __init__(self, tree: Tree) -> None:
        self.top = tree.top()

    def enter(self, position: Position) -> str:
        if position == self.top:
            return url_for("voice.menu")
        if position.kind == "read":
            params = position.params()
            del params["k"]
            return url_for("voice.read", **params)
        return url_for("voice.at", **position.params())

    def key(self, position: Position) -> str:
        return url_for("voice.key", **position.params())

    def nurse(self, position: Position | None) -> str:
        return nurse_url(position)


class Answers:
    """The TwiML already built for a request, by what it depends on: the phone tree is pure, so
    the same position and key (and the same host, which is in the audio URLs) always give the
    same document. Building one (tree, TwiML elements, url_for, XML) is most of a webhook's work.

    A document in which some audio was missing (spoken by <Say>, with a warning logged) is not
    kept, so the warning is logged on every such request. At most ``size`` documents are kept,
    the oldest dropped first. Safe to share between threads.
    """

    def __init__(self, size: int = ANSWERS_KEPT) -> None:
        self.size = size
        self._kept: dict[Hashable, str] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: Hashable | None, build: Callable[[], tuple[str, bool]]) -> str:
        """The document for ``key``; ``build`` makes it (document, keep it) when it is not kept.
        A None key is never kept. Whatever ``build`` raises propagates, and nothing is kept."""
        document = self._kept.get(key) if key is not None else None
        if document is None:
            document, keep = build()
            if keep and key is not None:
                with self._lock:
                    self._kept[key] = document
                    while len(self._kept) > self.size:
                        del self._kept[next(iter(self._kept))]
        return document


def _tree() -> Tree:
    return current_app.extensions["ivr.tree"]


def _respond(kind: str, given: Hashable, step: Callable[[Tree], Step], *, keep: bool = True) -> Response:
    """The TwiML for ``step(tree)``, from the answers kept when this (kind, given) was answered
    before for this host; built afresh (and not kept) when ``keep`` is false."""

    def build() -> tuple[str, bool]:
        runtime = current_runtime()
        settings = runtime.settings
        output = SpeechOutput(settings.speech, runtime.manifest, audio_base_url(settings, host_url()),
                              settings.say_voice, settings.say_language)
        tree = _tree()
        made = step(tree)
        return str(step_response(made, urls=_Urls(tree), output=output)), fully_rendered(made, output)

    answers: Answers = current_app.extensions["ivr.answers"]
    key = (kind, given, host_url(), request.script_root) if keep else None
    return twiml_response(answers.get(key, build))


@bp.post("")
def answer() -> Response:
    log.info("call %s answered", request.form.get("CallSid", "?"))
    return _respond("answer", None, lambda tree: tree.answer())


@bp.post("/menu")
def menu() -> Response:
    return _respond("menu", None, lambda tree: tree.enter(tree.top()))


@bp.post("/read")
def read() -> Response:
    position = Position.from_params(request.args, kind="read")
    return _respond("enter", position, lambda tree: tree.enter(position))


@bp.post("/at")
def at() -> Response:
    position = Position.from_params(request.args)
    return _respond("enter", position, lambda tree: tree.enter(position))


@bp.post("/key")
def key() -> Response:
    digits = request.form.get("Digits")
    position = Position.from_params(request.args)
    if log.isEnabledFor(logging.DEBUG):  # position.params() costs, on every key of every call
        log.debug("call %s: %r at %s", request.form.get("CallSid", "?"), digits, position.params())
    # Junk as long as the body allows must not fill the memory: such answers are not kept.
    keep = digits is None or len(digits) <= LONGEST_CACHED_DIGITS
    return _respond("press", (position, digits), lambda tree: tree.press(position, digits), keep=keep)


def init_app(app: Flask) -> None:
    """Register the voice blueprint on ``app``; ContentError if the key map is broken."""
    runtime = app.extensions["ivr.runtime"]
    app.extensions["ivr.tree"] = Tree(runtime.catalogue, runtime.prompts)
    app.extensions["ivr.answers"] = Answers()
    app.register_blueprint(bp)
