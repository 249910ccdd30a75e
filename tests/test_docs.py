"""Docs that cannot go stale: every setting and command is in the README."""

from __future__ import annotations

import click

from ivr.cli import main
from ivr.config import SETTINGS

from .conftest import PROJECT

README = (PROJECT / "README.md").read_text()


def test_every_setting_is_in_the_readme_table():
    for name, (default, text) in SETTINGS.items():
        shown = f"`{default}`" if default else "(none)"
        assert f"| `{name}` | {shown} | {text} |" in README, f"README settings table is missing or stale for {name}"


def test_every_command_is_in_the_readme():
    for name in main.list_commands(click.Context(main)):
        assert f"`ivr {name}" in README, f"README 'Operate it' does not mention `ivr {name}`"


def test_ci_runs_the_readme_test_command():
    assert "scripts/test.sh" in README
    assert "scripts/test.sh" in (PROJECT / ".ci" / "run").read_text()
