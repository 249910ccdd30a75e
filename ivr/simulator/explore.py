"""Placeholder: filled in by the simulator issue."""

from __future__ import annotations

from ivr.findings import Finding


def check_calls() -> list[Finding]:
    return []
