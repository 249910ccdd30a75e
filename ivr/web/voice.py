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

from flask import Blueprint, Flask, Response, current_app, request, url_for
from werkzeug.routing import BuildError

from ivr.runtime import current_runtime
from ivr.tree import Position, Step, Tree
from ivr.twiml import SpeechOutput, step_response
from ivr.web.twilio_hooks import register_safety_nets, twiml_response

__all__ = ["bp", "init_app", "nurse_url"]

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")
register_safety_nets(bp)


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


def _tree() -> Tree:
    return current_app.extensions["ivr.tree"]


def _respond(tree: Tree, step: Step) -> Response:
    runtime = current_runtime()
    settings = runtime.settings
    base = (settings.public_url or request.host_url.rstrip("/")) + "/audio/"
    output = SpeechOutput(settings.speech, runtime.manifest, base, settings.say_voice, settings.say_language)
    return twiml_response(step_response(step, urls=_Urls(tree), output=output))


@bp.post("")
def answer() -> Response:
    log.info("call %s answered", request.form.get("CallSid", "?"))
    tree = _tree()
    return _respond(tree, tree.answer())


@bp.post("/menu")
def menu() -> Response:
    tree = _tree()
    return _respond(tree, tree.enter(tree.top()))


@bp.post("/read")
def read() -> Response:
    tree = _tree()
    return _respond(tree, tree.enter(Position.from_params(request.args, kind="read")))


@bp.post("/at")
def at() -> Response:
    tree = _tree()
    return _respond(tree, tree.enter(Position.from_params(request.args)))


@bp.post("/key")
def key() -> Response:
    tree = _tree()
    digits = request.form.get("Digits")
    position = Position.from_params(request.args)
    log.debug("call %s: %r at %s", request.form.get("CallSid", "?"), digits, position.params())
    return _respond(tree, tree.press(position, digits))


def init_app(app: Flask) -> None:
    """Register the voice blueprint on ``app``; ContentError if the key map is broken."""
    runtime = app.extensions["ivr"]
    app.extensions["ivr.tree"] = Tree(runtime.catalogue, runtime.prompts)
    app.register_blueprint(bp)
