"""The ``ivr`` command line: one command for every operator task.

Feature modules define their own commands; this module gathers them and is the only place
where domain errors (:class:`ivr.errors.IvrError`) become click errors: a one-line message
naming the file, line and fix, and exit status 1, never a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from ivr.errors import IvrError

__all__ = ["main"]


class OperatorGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except IvrError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=OperatorGroup)
@click.version_option(package_name="ivr")
def main() -> None:
    """Run and maintain the telephone information line."""


def _register() -> None:
    from ivr.checks import check_command
    from ivr.content.approval_commands import approve_command, diff_command
    from ivr.content.commands import import_command
    from ivr.number.commands import twilio_group
    from ivr.simulator.commands import call_command
    from ivr.speech.commands import render_command
    from ivr.staff.commands import users_group
    from ivr.staff.queue_commands import callbacks_group, messages_group
    from ivr.web.serve import serve_command

    for command in (
        import_command, check_command, approve_command, diff_command, render_command, serve_command,
        call_command, callbacks_group, messages_group, users_group, twilio_group,
    ):
        main.add_command(command)


_register()
