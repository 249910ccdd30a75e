"""Placeholder: filled in by its issue."""

from __future__ import annotations

import click


@click.command("call")
def call_command() -> None:
    """Not built yet."""
    raise click.ClickException("not built yet")
