"""``ivr call``: ring the line as Twilio would and print what the caller hears, as it happens."""

from __future__ import annotations

import os
from urllib.parse import urljoin

import click

from ivr.simulator.caller import DEFAULT_FROM, simulate_call
from ivr.simulator.dial import NURSE_MODES
from ivr.simulator.keys import KeySource, ScriptedKeys, TerminalKeys, parse_keys
from ivr.simulator.transcript import Event, format_clock

__all__ = ["call_command"]


def _mask(number: str) -> str:
    """``+44 7*** ***123``: enough to recognise, never the whole number."""
    digits = number.lstrip("+")
    if len(digits) < 6:
        return "***"
    return f"+{digits[:2]} {digits[2]}*** ***{digits[-3:]}"


@click.command("call")
@click.option("--url", default="http://127.0.0.1:5000/voice", show_default=True, help="The line's /voice URL.")
@click.option("--keys", default=None,
              help='Keys to press, one entry per prompt, e.g. "1,,6" (an empty entry: say nothing; '
                   '"say:side effects": words instead of keys, "say:side effects@0.3": heard unsurely). '
                   "Without --keys, your keyboard is the keypad (s: type words).")
@click.option("--from", "from_number", default=DEFAULT_FROM, show_default=True, help="The caller's number.")
@click.option("--nurse", type=click.Choice(NURSE_MODES), default="answer", show_default=True,
              help="What the nurse's phone does when the line puts you through.")
@click.option("--play", is_flag=True, help="Play the audio through a local player (aplay, play or ffplay).")
@click.option("--urls", is_flag=True, help="Also show every request Twilio would make.")
def call_command(url: str, keys: str | None, from_number: str, nurse: str, play: bool, urls: bool) -> None:
    """Call the line without a phone: signed requests as Twilio makes them, TwiML followed,
    and a transcript with a running clock of the audio heard. When the call is over, Twilio's
    call status callback goes to /voice/status on the same host (as `ivr twilio connect` sets it).

    Exits 1 when the call failed (an HTTP error, invalid TwiML, a bad audio file).
    """
    from ivr.config import load_settings

    token = os.environ.get("TWILIO_AUTH_TOKEN", "").strip() or load_settings().auth_token
    source: KeySource
    if keys is not None:
        try:
            source = ScriptedKeys(parse_keys(keys))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--keys") from exc
    else:
        source = TerminalKeys()
    audio_out = None
    if play:
        from ivr.simulator.player import LocalPlayer, find_player

        command = find_player()
        if command is None:
            click.echo("(--play: no audio player found -- install aplay, sox's play or ffplay; "
                       "showing the transcript only)", err=True)
        else:
            audio_out = LocalPlayer(command, interactive=keys is None)

    def show(event: Event) -> None:
        if urls or event.kind != "request":
            click.echo(event.line())

    click.echo(f"Calling {url} from {_mask(from_number)} (nurse: {nurse})")
    transcript = simulate_call(url, token=token, keys=source, from_number=from_number, nurse=nurse,  # type: ignore[arg-type]
                               on_event=show, audio_out=audio_out, status_callback=urljoin(url, "/voice/status"))
    click.echo(f"Call over after {format_clock(transcript.clock).strip()} on the line.")
    if transcript.failed:
        first = transcript.errors[0].text if transcript.errors else "the call failed"
        if "cannot reach" in first:
            click.echo("Is the line running? Start it with `ivr serve` (or scripts/start.sh).", err=True)
        raise SystemExit(1)
