"""``ivr serve``: render any missing audio, then run the line on gunicorn (a production WSGI server)."""

from __future__ import annotations

import gc
import logging
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from ivr.config import load_settings
from ivr.runtime import Runtime

__all__ = ["serve_command"]

log = logging.getLogger(__name__)


class _Gunicorn(BaseApplication):
    """gunicorn run from Python on ``ivr:create_app()`` (each worker builds its own app)."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from ivr import create_app

        return create_app()


def _freeze_startup_objects(_worker: Any) -> None:
    """Move everything the app loaded at start (leaflets, manifest, libraries) out of the garbage
    collector's sight: a full collection otherwise walks all of it, a pause of 100 ms or more now
    and then in the middle of a webhook (measured with ``gc.callbacks``)."""
    gc.freeze()


def _render_missing(runtime: Runtime) -> None:
    """Render audio the line lacks; on any failure say so loudly and carry on (callers get <Say>)."""
    try:
        from ivr.speech.render import render_missing
    except ImportError as exc:
        click.secho(f"WARNING: audio rendering is not available ({exc}); callers will hear <Say>.",
                    fg="yellow", err=True)
        return
    try:
        render_missing(runtime.settings, runtime.catalogue, runtime.prompts)
    except Exception as exc:  # RenderError above all: serve anyway, with <Say> for what is missing
        log.exception("rendering audio failed")
        click.secho(f"WARNING: rendering audio failed: {exc}\nServing anyway: callers hear <Say> "
                    "for anything not rendered.", fg="yellow", err=True)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn worker processes.")
@click.option("--no-render", is_flag=True, help="Do not render missing audio first.")
def serve_command(host: str, port: int, workers: int, no_render: bool) -> None:
    """Run the line: check the call engine, render missing audio, then serve on gunicorn.

    Fails (exit 1, with the file and line) when a setting, a leaflet, the prompts or the key map
    is wrong: the line refuses to start rather than answer calls badly.
    """
    from ivr.dialogue.engine import build_engine
    from ivr.dialogue.explore import situations
    from ivr.runtime import load_runtime

    settings = load_settings()
    runtime = load_runtime(settings)
    engine = build_engine(settings, runtime.catalogue, runtime.prompts)
    for situation in situations(engine):  # a missing prompt stops the start here, not on a caller
        engine.enter(engine.nurse_entry(engine.leaflets.top()), situation.context)
        engine.answer(situation.context)
    if not no_render:
        _render_missing(runtime)
    url = f"http://{host}:{port}/voice"
    if settings.auth_token_is_local:
        click.secho(
            f"TWILIO_AUTH_TOKEN is not set: using the local development token in "
            f"{settings.instance_dir / 'dev-auth-token'}.\nOnly the local simulator can call this line: "
            f"ivr call --url {url}", fg="yellow", bold=True,
        )
    else:
        click.echo(f"Using TWILIO_AUTH_TOKEN from the environment. Test call: ivr call --url {url}")
    if settings.public_url:
        click.echo(f"Twilio's 'A call comes in' webhook: POST {settings.public_url}/voice")
    _Gunicorn({"bind": f"{host}:{port}", "workers": workers, "timeout": 30, "accesslog": "-",
               "errorlog": "-", "post_worker_init": _freeze_startup_objects}).run()
