"""``ivr check``: every check of content, prompts, settings and the call; ``--calls`` adds the
caller-safety contract over every state, and a walk of real calls through the real app."""

from __future__ import annotations

from collections.abc import Callable

import click

from ivr.config import load_settings
from ivr.findings import Finding

__all__ = ["check_command", "run_checks"]


def run_checks(*, calls: bool = False, service: bool = False, echo: Callable[[str], None] | None = None) -> list[Finding]:
    """All findings; a setting or content error that stops loading is itself a finding. With
    ``calls`` the figures are printed with ``echo`` (click.echo by default).

    For service (``service``, or a real TWILIO_AUTH_TOKEN), overdue reviews and words not
    approved as they are are errors; otherwise warnings.
    """
    from ivr import nurse
    from ivr.content.checks import check_content
    from ivr.errors import IvrError
    from ivr.prompts.approval import prompts_approval_finding
    from ivr.runtime import load_runtime

    say = echo or click.echo
    settings = load_settings()
    service = service or settings.for_service
    findings = list(check_content(settings, service=service))
    findings += nurse.check_settings(settings)
    findings += _database_url(settings.database_url)
    try:
        runtime = load_runtime(settings)
    except IvrError as exc:  # a leaflet that does not load is reported above already
        reported = any(f.path == exc.path and f.line == exc.line for f in findings)
        return findings if reported else [*findings, Finding("error", exc.message, exc.path, exc.line)]
    prompts = prompts_approval_finding(runtime.prompts, "error" if service else "warning")
    findings += [prompts] if prompts else []
    if any(f.level == "error" and "approv" not in f.message for f in findings):
        return findings
    try:
        from ivr.dialogue.engine import build_engine

        engine = build_engine(settings, runtime.catalogue, runtime.prompts)
        if calls:
            from ivr.dialogue.contract import check_contract

            exploration, contract = check_contract(engine)
        else:
            from ivr.dialogue.explore import explore

            exploration, contract = explore(engine), []
    except IvrError as exc:
        return [*findings, Finding("error", exc.message, exc.path, exc.line)]
    from ivr.dialogue.figures import figures

    lines, found = figures(engine, exploration, runtime.manifest)
    findings += found
    if calls:
        from ivr.simulator.smoke import smoke_walk

        for line in lines:
            say(line)
        say(f"calls: caller-safety contract: {len(contract)} broken promise(s) over every state")
        findings += contract
        findings += smoke_walk(say)
    return findings


def _database_url(url: str) -> list[Finding]:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        make_url(url)
    except ArgumentError:
        return [Finding("error", f"IVR_DATABASE_URL is not a database URL: got '{url}', "
                                 "expected e.g. 'postgresql+psycopg://user@host/ivr' (unset: SQLite).")]
    return []


@click.command("check")
@click.option("--calls", is_flag=True, help="Also check the caller-safety contract over every state of a call, "
                                            "and ring the line in-process along real paths.")
@click.option("--service", is_flag=True,
              help="Check as for service even without TWILIO_AUTH_TOKEN: overdue reviews and unapproved words are errors.")
def check_command(calls: bool, service: bool) -> None:
    """Check leaflets, prompts and settings, and walk every state of a call; with --calls, the
    promises every caller is owed (see the README's caller-safety contract).

    Exits 1 when there is any error; warnings are printed but do not fail. With a real
    TWILIO_AUTH_TOKEN (or --service), a review overdue and words not approved since they last
    changed are errors: what `ivr serve` would refuse.
    """
    findings = run_checks(calls=calls, service=service)
    for finding in findings:
        click.echo(str(finding), err=finding.level == "error")
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    click.echo(f"ivr check: {errors} error(s), {warnings} warning(s)")
    if errors:
        raise SystemExit(1)
