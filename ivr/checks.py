"""``ivr check``: every check of content, prompts, settings and (with --calls) every call path."""

from __future__ import annotations

import click

from ivr.config import load_settings
from ivr.findings import Finding

__all__ = ["check_command", "run_checks"]


def run_checks(*, calls: bool = False, service: bool = False) -> list[Finding]:
    """All findings; a setting or content error that stops loading is itself a finding.

    For service (``service``, or a real TWILIO_AUTH_TOKEN), overdue reviews and words not
    approved as they are are errors; otherwise warnings.
    """
    from ivr import nurse, tree
    from ivr.content.checks import check_content
    from ivr.errors import IvrError
    from ivr.prompts.approval import prompts_approval_finding
    from ivr.runtime import load_runtime

    settings = load_settings()
    service = service or settings.for_service
    findings = list(check_content(settings, service=service))
    findings += nurse.check_settings(settings)
    try:
        runtime = load_runtime(settings)
    except IvrError as exc:  # a leaflet that does not load is reported above already
        reported = any(f.path == exc.path and f.line == exc.line for f in findings)
        return findings if reported else [*findings, Finding("error", exc.message, exc.path, exc.line)]
    prompts = prompts_approval_finding(runtime.prompts, "error" if service else "warning")
    findings += [prompts] if prompts else []
    findings += tree.check_tree(runtime.catalogue, runtime.prompts)
    if calls:
        from ivr.simulator.explore import check_calls

        findings += check_calls()
    return findings


@click.command("check")
@click.option("--calls", is_flag=True, help="Also ring the line in-process and walk every key path.")
@click.option("--service", is_flag=True,
              help="Check as for service even without TWILIO_AUTH_TOKEN: overdue reviews and unapproved words are errors.")
def check_command(calls: bool, service: bool) -> None:
    """Check leaflets, prompts and settings; with --calls, every path a caller can take.

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
