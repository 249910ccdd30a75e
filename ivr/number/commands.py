"""``ivr twilio connect`` and ``ivr twilio status``: the line's Twilio number, set and checked.

Everything that can be checked without Twilio (IVR_PUBLIC_URL, the number, the credentials being
set) is checked before any request, so a refusal changes nothing. The Twilio REST client is
imported only when a command runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from ivr.config import load_settings

if TYPE_CHECKING:
    from ivr.number.account import NumberOnAccount, TwilioAccount

__all__ = ["twilio_group"]

_NUMBER_HELP = "The Twilio number callers ring, in E.164 form (+441632960001)."


def _shown(value: str) -> str:
    return value or "(none)"


def _header(number: NumberOnAccount, account_sid: str) -> str:
    name = f' "{number.friendly_name}"' if number.friendly_name else ""
    return f"{number.phone_number}{name} ({number.sid}) on Twilio account {account_sid}:"


def _prepare(number_text: str) -> tuple[str, str, str, TwilioAccount]:
    """(IVR_PUBLIC_URL, IVR_FALLBACK_URL, the number, the account), all checked before anything is
    sent to Twilio. Raises what ``check_public_url``, ``check_number`` and :class:`TwilioAccount` raise."""
    from ivr.number.account import TwilioAccount
    from ivr.number.webhooks import check_number, check_public_url

    settings = load_settings()
    public_url = check_public_url(settings.public_url)
    number = check_number(number_text.strip())
    return public_url, settings.fallback_url, number, TwilioAccount(settings)


@click.group("twilio")
def twilio_group() -> None:
    """Point the line's Twilio number at this line, and check how it is set.

    Uses TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and IVR_PUBLIC_URL (see the README's settings)."""


@twilio_group.command("connect")
@click.option("--number", "number_text", required=True, help=_NUMBER_HELP)
@click.option("--dry-run", is_flag=True, help="Show what would change (before -> after), and change nothing.")
@click.option("--check", is_flag=True,
              help="First fetch IVR_PUBLIC_URL/healthz, to be sure the line answers there (5 s at most).")
def connect_command(number_text: str, dry_run: bool, check: bool) -> None:
    """Point the number's calls at this line: its voice URL (POST /voice), fallback URL (POST
    /voice/fallback, or IVR_FALLBACK_URL) and call status callback (POST /voice/status), under
    IVR_PUBLIC_URL.

    Running it again changes nothing. Refuses, changing nothing, when IVR_PUBLIC_URL is not a
    plain https:// address, the credentials are missing or wrong, or the number is not on the account.
    """
    from ivr.errors import TwilioNumberError
    from ivr.number.webhooks import check_reachable, compare

    public_url, fallback_url, number, account = _prepare(number_text)
    if check:
        check_reachable(public_url)
        click.echo(f"{public_url}/healthz answers: the line is up there.")
    found = account.find(number)
    rows = compare(found.settings, public_url, fallback_url)
    click.echo(_header(found, account.account_sid))
    for row in rows:
        change = f"{_shown(row.now)} (unchanged)" if row.matches else f"{_shown(row.now)} -> {_shown(row.wanted)}"
        click.echo(f"  {row.field:<22}{change}")
    trunk = found.settings["TrunkSid"]
    if trunk:
        raise TwilioNumberError(
            f"{number} is on SIP trunk {trunk}, so Twilio ignores its voice URLs; connect does not take it off the trunk.",
            hint="Remove the number from the trunk in the Twilio console (Elastic SIP Trunking), then run connect again.")
    changes = {row.field: row.wanted for row in rows if not row.matches}
    voice_url = rows[0].wanted
    if not changes:
        click.echo(f"Already connected: calls to {number} come to {voice_url}. Nothing changed.")
    elif dry_run:
        click.echo(f"Dry run: nothing changed. Without --dry-run, {len(changes)} setting(s) would change as shown.")
        return
    else:
        account.update(found, changes)
        click.echo(f"Connected: calls to {number} now come to {voice_url} ({len(changes)} setting(s) changed).")
    click.echo(f"Next: run the line behind {public_url} with `ivr serve`, then ring {number}.")


@twilio_group.command("status")
@click.option("--number", "number_text", required=True, help=_NUMBER_HELP)
@click.pass_context
def status_command(ctx: click.Context, number_text: str) -> None:
    """Show how the number is set now, field by field, against what `ivr twilio connect` sets.

    Exit status 0 when every field matches, 1 when any differs (or on an error)."""
    from ivr.number.webhooks import compare

    public_url, fallback_url, number, account = _prepare(number_text)
    found = account.find(number)
    rows = compare(found.settings, public_url, fallback_url)
    click.echo(_header(found, account.account_sid))
    for row in rows:
        if row.matches:
            verdict = "ok"
        elif row.field == "TrunkSid":
            verdict = "differs: Twilio ignores the voice URLs while the number is on a SIP trunk"
        else:
            verdict = f"differs: connect sets {row.wanted}" if row.wanted else "differs: connect clears it"
        click.echo(f"  {row.field:<22}{_shown(row.now):<48} {verdict}")
    differing = [row.field for row in rows if not row.matches]
    if not differing:
        click.echo(f"Matches IVR_PUBLIC_URL {public_url}: calls to {number} come to this line.")
        return
    fix = ("remove the number from its SIP trunk in the Twilio console, then run "
           if found.settings["TrunkSid"] else "run ")
    click.echo(f"Does not match IVR_PUBLIC_URL {public_url} ({len(differing)} field(s) differ): "
               f"{fix}`ivr twilio connect --number {number}`.")
    ctx.exit(1)


@twilio_group.command("fallback-twiml")
def fallback_twiml_command() -> None:
    """Print the fallback's TwiML for a TwiML Bin or a static host (IVR_FALLBACK_URL): the emergency
    sentence, then the nurses (IVR_NURSE_NUMBER, rung IVR_NURSE_RING_SECONDS), then "call again
    later". Spoken by Twilio's <Say>; nothing else is needed while the line is down.

    Print it again, and paste it again, after the nurses' number or the prompts change.
    """
    from ivr.errors import ConfigError
    from ivr.fallback import static_twiml
    from ivr.nurse.numbers import check_e164
    from ivr.prompts import load_prompts

    settings = load_settings()
    problem = check_e164(settings.nurse_number)
    if problem:
        raise ConfigError(f"Expected the nurses' number in E.164 form like '+441632960001', got "
                          f"'{settings.nurse_number}' in IVR_NURSE_NUMBER, which {problem}.",
                          hint="The fallback puts callers through to it: set IVR_NURSE_NUMBER first.")
    click.echo(static_twiml(load_prompts(settings.locale), settings), nl=False)
