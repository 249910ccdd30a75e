"""Placeholder: filled in by its issue."""

from __future__ import annotations

import click


@click.command("serve")
def serve_command() -> None:
    """Not built yet."""
    raise click.ClickException("not built yet")
