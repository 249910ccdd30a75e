"""``ivr render``: render the speech that has no audio yet into the audio folder."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pathlib import Path

    from ivr.speech.render import RenderReport

__all__ = ["render_command"]


@click.command("render")
@click.option("--leaflet", "slug", metavar="SLUG", default=None,
              help="Render only this leaflet's parts (no prompts).")
@click.option("--rate", type=click.Choice(["normal", "slow", "all"]), default="all", show_default=True,
              help="Which speaking rate to render.")
@click.option("--jobs", type=click.IntRange(1, 64), default=None,
              help="Worker processes [default: one per CPU core].")
@click.option("--prune", is_flag=True,
              help="Delete rendered files that nothing refers to any more (only hash-named .wav files).")
@click.option("--timeout", type=click.FloatRange(0, min_open=True), default=None,
              help="Seconds allowed per file before its worker is stopped and the file retried [default: 60].")
def render_command(slug: str | None, rate: str, jobs: int | None, prune: bool, timeout: float | None) -> None:
    """Render every leaflet part and prompt that has no audio yet.

    Files go to IVR_AUDIO_DIR (audio/) as 8 kHz mu-law WAV named by a hash of what they say
    and how, with manifest.json mapping each part and prompt to its file. Unchanged speech is
    never rendered again, so running it when nothing changed takes a moment.

    Exit status 1, naming each part, when some part could not be rendered after a retry;
    the line then speaks those parts with Twilio's <Say>.
    """
    from ivr.config import load_settings
    from ivr.content.catalogue import load_catalogue
    from ivr.prompts import load_prompts
    from ivr.speech.manifest import RATES
    from ivr.speech.render import DEFAULT_TIMEOUT, RenderFailed, render_missing

    settings = load_settings()
    rates = RATES if rate == "all" else (rate,)
    try:
        report = render_missing(
            settings, load_catalogue(settings.leaflets_dir), load_prompts(settings.locale),
            rates=rates, jobs=jobs, only_leaflet=slug, prune=prune,  # type: ignore[arg-type]
            timeout=timeout or DEFAULT_TIMEOUT,
        )
    except RenderFailed as exc:
        _summary(exc.report, settings.audio_dir)
        for name in exc.report.failed:
            click.echo(f"failed: {name}: {exc.report.errors.get(name, '')}", err=True)
        raise
    _summary(report, settings.audio_dir)


def _summary(report: RenderReport, audio_dir: Path) -> None:
    click.echo(
        f"{report.rendered} rendered, {report.reused} already current, {len(report.failed)} failed"
        + (f", {report.pruned} pruned" if report.pruned else "")
        + f" in {report.seconds:.1f} s ({report.audio_seconds / 60:.1f} min of audio) -> {audio_dir}"
    )
