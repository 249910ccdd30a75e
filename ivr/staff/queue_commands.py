"""Operator commands for the message and call-back queue: ``ivr callbacks`` and ``ivr messages``.

Numbers are shown in full here (and on the staff pages): the nurses have to ring them back.
Database failures become a one-line error (StoreError through ``ivr.cli``), never a traceback.
"""

from __future__ import annotations

import datetime as dt
import getpass

import click

from ivr.config import load_settings
from ivr.nurse.hours import LONDON
from ivr.store import CallbackRequest, Message, Store

__all__ = ["callbacks_group", "messages_group"]


def _store() -> Store:
    return Store(load_settings().database_url)


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone(LONDON).strftime("%a %d %b %Y %H:%M") if moment else "-"


def _where(row: CallbackRequest | Message) -> str:
    if row.leaflet is None:
        return "main menu"
    return row.leaflet if row.section is None else f"{row.leaflet} section {row.section}"


def _done(row: CallbackRequest | Message) -> str:
    return f"done {_when(row.done_at)} by {row.done_by}" if row.done_at else "OPEN"


def _operator() -> str:
    try:
        return getpass.getuser()
    except OSError:
        return "operator"


@click.group("callbacks")
def callbacks_group() -> None:
    """Call-back requests left by callers when the nurses were busy or closed."""


@callbacks_group.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only requests not yet marked done.")
def callbacks_list(open_only: bool) -> None:
    """List call-back requests, newest first, with the number to ring."""
    rows = _store().callbacks(open_only=open_only)
    for row in rows:
        source = "their own number" if row.number_source == "caller" else "number they keyed in"
        click.echo(f"#{row.id}  {_when(row.created_at)}  {row.number} ({source})  "
                   f"nurses {row.reason}  due {_when(row.due_at)}  from {_where(row)}  {_done(row)}")
    click.echo(f"{len(rows)} call-back request(s)" + (" open" if open_only else ""))


@callbacks_group.command("done")
@click.argument("request_id", type=int)
@click.option("--by", default=None, help="Who dealt with it (default: your login name).")
def callbacks_done(request_id: int, by: str | None) -> None:
    """Mark call-back request ID as dealt with (records who and when)."""
    row = _store().mark_callback_done(request_id, by=by or _operator())
    if row is None:
        raise click.ClickException(f"there is no call-back request #{request_id}. See `ivr callbacks list`.")
    click.echo(f"#{row.id} {_done(row)}")


@click.group("messages")
def messages_group() -> None:
    """Voicemail messages left for the nurses."""


@messages_group.command("list")
@click.option("--open", "open_only", is_flag=True, help="Only messages not yet marked done.")
def messages_list(open_only: bool) -> None:
    """List messages, newest first, with the recording's URL."""
    rows = _store().messages(open_only=open_only)
    for row in rows:
        seconds = f"{row.duration_seconds} s" if row.duration_seconds else "length unknown"
        click.echo(f"#{row.id}  {_when(row.created_at)}  {row.caller_number or row.caller_masked}  {seconds}  "
                   f"nurses {row.reason}  due {_when(row.due_at)}  "
                   f"from {_where(row)}  {_done(row)}\n    {row.recording_url or '(recording URL not received yet)'}")
    click.echo(f"{len(rows)} message(s)" + (" open" if open_only else ""))


@messages_group.command("done")
@click.argument("message_id", type=int)
@click.option("--by", default=None, help="Who dealt with it (default: your login name).")
def messages_done(message_id: int, by: str | None) -> None:
    """Mark message ID as dealt with (records who and when)."""
    row = _store().mark_message_done(message_id, by=by or _operator())
    if row is None:
        raise click.ClickException(f"there is no message #{message_id}. See `ivr messages list`.")
    click.echo(f"#{row.id} {_done(row)}")
