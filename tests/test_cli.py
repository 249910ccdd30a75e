"""The command line's table of commands (ivr/cli.py) says what the commands themselves say."""

from __future__ import annotations

import subprocess
import sys

import click

from ivr.cli import COMMANDS, main

from .conftest import PROJECT


def test_every_command_loads_under_its_name_with_its_own_short_help():
    context = click.Context(main)
    width = click.HelpFormatter().width
    limit = width - 6 - max(len(name) for name in COMMANDS)  # as click's own format_commands
    for name, (_, _, short_help) in COMMANDS.items():
        command = main.get_command(context, name)
        assert command is not None and command.name == name
        assert command.get_short_help_str(limit) == short_help, f"update the short help of `ivr {name}` in ivr/cli.py"


def test_help_imports_no_command_module():
    modules = {module for module, _, _ in COMMANDS.values()} | {"flask", "sqlalchemy", "scipy"}
    code = ("import sys\nfrom ivr.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print(sorted(m for m in {sorted(modules)!r} if m in sys.modules))")
    output = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert output.stdout.strip().splitlines()[-1] == "[]"
    assert "render" in output.stdout and "Commands:" in output.stdout
