"""The ``ivr`` command line: one command for every operator task.

Feature modules define their own commands; this module gathers them and is the only place
where domain errors (:class:`ivr.errors.IvrError`) become click errors: a one-line message
naming the file, line and fix, and exit status 1, never a traceback.

A command's module is imported only when that command runs (``ivr --help`` imports none of
them: SQLAlchemy, Flask and the audio libraries take a second to load), so the table below
carries each command's one-line help; tests/test_cli.py keeps it equal to the command's own.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from ivr.errors import IvrError

__all__ = ["COMMANDS", "main"]

# name: (module, attribute, the command's short help as `ivr --help` shows it)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "approve": ("ivr.content.approval_commands", "approve_command",
                "Record that NAME (ROLE) approved what callers hear from..."),
    "call": ("ivr.simulator.commands", "call_command", "Call the line without a phone: signed requests as Twilio..."),
    "callbacks": ("ivr.staff.queue_commands", "callbacks_group",
                  "Call-back requests left by callers when the nurses were busy..."),
    "check": ("ivr.checks", "check_command", "Check leaflets, prompts and settings, and walk every state..."),
    "diff": ("ivr.content.approval_commands", "diff_command",
             "Show what callers would hear that changed since leaflet SLUG..."),
    "import": ("ivr.content.commands", "import_command",
               "Import SOURCE (plain text copied from a web page, or a saved..."),
    "messages": ("ivr.staff.queue_commands", "messages_group", "Voicemail messages left for the nurses."),
    "render": ("ivr.speech.commands", "render_command", "Render every leaflet part and prompt that has no audio yet."),
    "serve": ("ivr.web.serve", "serve_command", "Run the line: check the call engine and approvals, render..."),
    "twilio": ("ivr.number.commands", "twilio_group", "Point the line's Twilio number at this line, and check how..."),
    "users": ("ivr.staff.commands", "users_group", "Staff who may sign in to the staff pages (/staff)."),
}


class OperatorGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        command = getattr(importlib.import_module(module), attribute)
        assert isinstance(command, click.Command)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, short_help) for name, (_, _, short_help) in sorted(COMMANDS.items())])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IvrError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=OperatorGroup)
@click.version_option(package_name="ivr")
def main() -> None:
    """Run and maintain the telephone information line."""
