"""``ivr users``: who may sign in to the staff pages (add / change password, list, remove)."""

from __future__ import annotations

import sys

import click

from ivr.config import load_settings
from ivr.nurse.hours import LONDON
from ivr.staff.users import MIN_PASSWORD_LENGTH, add_user, list_users, remove_user
from ivr.store import Store

__all__ = ["users_group"]


def _store() -> Store:
    return Store(load_settings().database_url)


@click.group("users")
def users_group() -> None:
    """Staff who may sign in to the staff pages (/staff)."""


@users_group.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input (for scripts).")
def add_command(name: str, password_stdin: bool) -> None:
    """Add staff user NAME, or set a new password for them. Asks for the password twice."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(f"Password for {name} (at least {MIN_PASSWORD_LENGTH} characters)",
                                hide_input=True, confirmation_prompt=True)
    stored = add_user(_store(), name, password)
    click.echo(f"staff user {stored} can now sign in at /staff")


@users_group.command("list")
def list_command() -> None:
    """List staff users and when they last signed in."""
    users = list_users(_store())
    if not users:
        click.echo("no staff users yet: add one with `ivr users add NAME`")
    for user in users:
        last = user.last_login_at.astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if user.last_login_at else "never"
        click.echo(f"{user.name}\tlast signed in: {last}")


@users_group.command("remove")
@click.argument("name")
def remove_command(name: str) -> None:
    """Remove staff user NAME; their open sessions stop working."""
    remove_user(_store(), name)
    click.echo(f"removed staff user {name.strip().lower()}")
