"""``ivr check``: every check of content, prompts, settings and (with --calls) every call path."""

from __future__ import annotations

import click

from ivr.config import load_settings
from ivr.findings import Finding

__all__ = ["check_command", "run_checks"]


def run_checks(*, calls: bool = False) -> list[Finding]:
    """All findings; a setting or content error that stops loading is itself a finding."""
    from ivr import nurse, tree
    from ivr.content.checks import check_content
    from ivr.errors import IvrError
    from ivr.runtime import load_runtime

    settings = load_settings()
    findings = list(check_content(settings))
    findings += nurse.check_settings(settings)
    if any(f.level == "error" for f in findings):
        return findings
    try:
        runtime = load_runtime(settings)
    except IvrError as exc:
        return [*findings, Finding("error", exc.message, exc.path, exc.line)]
    findings += tree.check_tree(runtime.catalogue, runtime.prompts)
    if calls:
        from ivr.simulator.explore import check_calls

        findings += check_calls()
    return findings


@click.command("check")
@click.option("--calls", is_flag=True, help="Also ring the line in-process and walk every key path.")
def check_command(calls: bool) -> None:
    """Check leaflets, prompts and settings; with --calls, every path a caller can take.

    Exits 1 when there is any error; warnings are printed but do not fail.
    """
    findings = run_checks(calls=calls)
    for finding in findings:
        click.echo(str(finding), err=finding.level == "error")
    errors = sum(f.level == "error" for f in findings)
    warnings = len(findings) - errors
    click.echo(f"ivr check: {errors} error(s), {warnings} warning(s)")
    if errors:
        raise SystemExit(1)
