"""``ivr users``: who may sign in to the staff pages (add / change password, list, remove, sessions)."""

from __future__ import annotations

import datetime as dt
import sys

import click

from ivr.config import Settings, load_settings
from ivr.nurse.hours import LONDON
from ivr.staff.sessions import SessionLimits, end_sessions, list_sessions
from ivr.staff.users import MIN_PASSWORD_LENGTH, add_user, list_users, normalise_name, remove_user
from ivr.store import Store

__all__ = ["users_group"]


def _store(settings: Settings | None = None) -> Store:
    return Store((settings or load_settings()).database_url)


def _ended(count: int) -> str:
    return f"; {count} open session{'s' if count != 1 else ''} ended" if count else ""


def _time(moment: dt.datetime) -> str:
    return moment.astimezone(LONDON).strftime("%a %d %b %Y %H:%M")


@click.group("users")
def users_group() -> None:
    """Staff who may sign in to the staff pages (/staff)."""


@users_group.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input (for scripts).")
def add_command(name: str, password_stdin: bool) -> None:
    """Add staff user NAME, or set a new password for them (which ends their open sessions).
    Asks for the password twice."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(f"Password for {name} (at least {MIN_PASSWORD_LENGTH} characters)",
                                hide_input=True, confirmation_prompt=True)
    stored, ended = add_user(_store(), name, password)
    click.echo(f"staff user {stored} can now sign in at /staff{_ended(ended)}")


@users_group.command("list")
def list_command() -> None:
    """List staff users and when they last signed in."""
    users = list_users(_store())
    if not users:
        click.echo("no staff users yet: add one with `ivr users add NAME`")
    for user in users:
        last = _time(user.last_login_at) if user.last_login_at else "never"
        click.echo(f"{user.name}\tlast signed in: {last}")


@users_group.command("remove")
@click.argument("name")
def remove_command(name: str) -> None:
    """Remove staff user NAME; their open sessions end at once."""
    ended = remove_user(_store(), name)
    click.echo(f"removed staff user {normalise_name(name)}{_ended(ended)}")


@users_group.command("sessions")
@click.argument("name")
@click.option("--end", "end", is_flag=True, help="End all of NAME's sessions (they must sign in again).")
def sessions_command(name: str, end: bool) -> None:
    """List staff user NAME's open sessions (started, last used, from where), or end them all."""
    settings = load_settings()
    store, clean = _store(settings), normalise_name(name)
    if end:
        ended = end_sessions(store, clean)
        click.echo(f"ended {ended} session{'s' if ended != 1 else ''} of {clean}")
        return
    limits = SessionLimits.from_settings(settings.staff_idle_minutes, settings.staff_session_hours)
    found = list_sessions(store, clean, limits)
    if not found:
        click.echo(f"{clean} has no open sessions")
    for info in found:
        click.echo(f"signed in {_time(info.created_at)}\tlast used {_time(info.last_seen_at)}\tfrom {info.address}")
