"""Placeholder: filled in by its issue."""

from __future__ import annotations

import click


@click.command("import")
def import_command() -> None:
    """Not built yet."""
    raise click.ClickException("not built yet")
