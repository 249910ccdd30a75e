"""Placeholder: filled in by the nurse-line issue."""

from __future__ import annotations

import click


@click.group("callbacks")
def callbacks_group() -> None:
    """Call-back requests (not built yet)."""


@click.group("messages")
def messages_group() -> None:
    """Voicemail messages (not built yet)."""
