"""Leaflet checks for ``ivr check``. Placeholder until the content issue."""

from __future__ import annotations

from ivr.config import Settings
from ivr.findings import Finding


def check_content(settings: Settings) -> list[Finding]:
    return []
