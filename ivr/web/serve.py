"""``ivr serve``: render any missing audio, then run the line on gunicorn (a production WSGI server)."""

from __future__ import annotations

import datetime as dt
import gc
import logging
from typing import Any

import click
from gunicorn.app.base import BaseApplication

from ivr.config import load_settings
from ivr.findings import Finding
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


# Objects allocated before a worker's garbage collector looks at the young ones (Python's default
# is 700), and how often it then looks further: each webhook allocates a few hundred, and the call
# log's queue keeps a second of them alive, so the default's collections interrupted webhooks
# often enough to show in the tail (saturation p99 1.6x the baseline's with the collector off,
# 2.3x with the defaults; scripts/bench_webhook.py). Cycles are still collected, less often.
WORKER_GC_THRESHOLDS = (50_000, 20, 100)


def _freeze_startup_objects(_worker: Any) -> None:
    """Move everything the app loaded at start (leaflets, manifest, libraries) out of the garbage
    collector's sight: a full collection otherwise walks all of it, a pause of 100 ms or more now
    and then in the middle of a webhook (measured with ``gc.callbacks``); and collect less often
    (:data:`WORKER_GC_THRESHOLDS`)."""
    gc.freeze()
    gc.set_threshold(*WORKER_GC_THRESHOLDS)


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


def _unapproved(runtime: Runtime) -> list[Finding]:
    """A finding for each leaflet, and for the prompts, whose spoken words are not approved as they are."""
    from ivr.content.leaflet_approval import approval_finding
    from ivr.prompts.approval import prompts_approval_finding

    found = [approval_finding(leaflet, "error") for leaflet in runtime.catalogue.sources]
    found.append(prompts_approval_finding(runtime.prompts, "error"))
    return [finding for finding in found if finding is not None]


def _check_approvals(runtime: Runtime, allow_unapproved: bool) -> None:
    """In service, refuse words nobody approved unless ``allow_unapproved`` (then log it loudly);
    in development, warn. Overdue reviews are warned about: callers hear that they are due."""
    from ivr.nurse.hours import LONDON

    settings = runtime.settings
    today = dt.datetime.now(LONDON).date()
    for leaflet in runtime.catalogue.leaflets:
        if leaflet.review_overdue(today):
            click.secho(f"WARNING: {leaflet.slug}: review overdue since {leaflet.next_review.isoformat()}; "
                        "callers are told the content is due for review.", fg="yellow", err=True)
    unapproved = _unapproved(runtime)
    if not unapproved:
        return
    listing = "\n".join(f"  {finding.path}: {finding.message}" for finding in unapproved)
    if not settings.for_service:
        click.secho(f"WARNING: words nobody has approved (development start; in service, with TWILIO_AUTH_TOKEN, "
                    f"`ivr serve` refuses them):\n{listing}", fg="yellow", err=True)
        return
    if not allow_unapproved:
        raise click.ClickException(
            f"refusing to serve words nobody approved ({len(unapproved)}):\n{listing}\n"
            "Have a clinician read them (`ivr diff SLUG`, `ivr diff --prompts`) and record the sign-off with "
            "`ivr approve`; or, knowingly, start with --allow-unapproved (it is logged)."
        )
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.critical("SERVING WORDS NOBODY APPROVED (--allow-unapproved), %d item(s):\n%s", len(unapproved), listing)
    click.secho(f"SERVING WORDS NOBODY APPROVED (--allow-unapproved):\n{listing}", fg="red", bold=True, err=True)


# gunicorn's default line without the query string (%(U)s, not %(r)s): a call's position travels
# there, and so does a call-back number a caller keyed in, which must never reach a log in full.
ACCESS_LOG_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(f)s" "%(a)s"'


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="gunicorn worker processes.")
@click.option("--no-render", is_flag=True, help="Do not render missing audio first.")
@click.option("--allow-unapproved", is_flag=True,
              help="In service, start even with words changed since their approval (logged at CRITICAL).")
def serve_command(host: str, port: int, workers: int, no_render: bool, allow_unapproved: bool) -> None:
    """Run the line: check the call engine and approvals, render missing audio, then serve on gunicorn.

    Fails (exit 1, with the file and line) when a setting, a leaflet, the prompts or the key map
    is wrong: the line refuses to start rather than answer calls badly. In service (a real
    TWILIO_AUTH_TOKEN) it also refuses leaflets and prompts whose spoken words changed since
    their approval (`ivr approve`), unless --allow-unapproved is given; a development start only
    warns.
    """
    from ivr.dialogue.engine import build_engine
    from ivr.dialogue.explore import situations
    from ivr.runtime import load_runtime
    from ivr.web.voice import require_nurse_number

    settings = load_settings()
    require_nurse_number(settings)  # here, not in each worker: gunicorn would only say "failed to boot"
    runtime = load_runtime(settings)
    engine = build_engine(settings, runtime.catalogue, runtime.prompts)
    for situation in situations(engine):  # a missing prompt stops the start here, not on a caller
        engine.enter(engine.nurse_entry(engine.leaflets.top()), situation.context)
        engine.answer(situation.context)
    _check_approvals(runtime, allow_unapproved)
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
               "access_log_format": ACCESS_LOG_FORMAT,
               "errorlog": "-", "post_worker_init": _freeze_startup_objects}).run()
