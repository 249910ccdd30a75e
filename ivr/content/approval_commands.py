"""``ivr approve`` and ``ivr diff``: record who approved the spoken words, and show what changed since."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import click

from ivr.config import Settings, load_settings
from ivr.content.approval import Approval, Change, word_changes
from ivr.content.leaflet import Leaflet, load_leaflet
from ivr.errors import ApprovalError, IvrError

__all__ = ["approve_command", "diff_command"]


def _today() -> dt.date:
    from ivr.nurse.hours import LONDON

    return dt.datetime.now(LONDON).date()


def _find_leaflet(settings: Settings, slug: str) -> Leaflet:
    """The leaflet with this slug; ApprovalError listing the slugs there are when none has it."""
    named = settings.leaflets_dir / f"{slug}.md"
    if named.is_file():
        leaflet = load_leaflet(named)
        if leaflet.slug == slug:
            return leaflet
    slugs = []
    for path in sorted(settings.leaflets_dir.glob("*.md")):
        try:
            leaflet = load_leaflet(path)
        except IvrError:
            continue
        if leaflet.slug == slug:
            return leaflet
        slugs.append(leaflet.slug)
    raise ApprovalError(
        f"has no leaflet with the slug {slug!r}.", path=settings.leaflets_dir,
        hint=f"Leaflets there: {', '.join(slugs) or 'none'}.",
    )


def _which(slug: str | None, prompts: bool) -> None:
    if bool(slug) == prompts:
        raise click.UsageError("Give a leaflet's SLUG, or --prompts for the prompt files (not both).")


def _approval_line(approval: Approval) -> str:
    return f"{approval.by} ({approval.role}) on {approval.date.isoformat()}"


@click.command("approve")
@click.argument("slug", required=False)
@click.option("--prompts", "prompts_flag", is_flag=True, help="Approve the prompt files of IVR_LOCALE, not a leaflet.")
@click.option("--by", "by", required=True, metavar="NAME", help="The approver's full name: --by 'Dr Jane Smith'.")
@click.option("--role", required=True, help="Their role: --role 'Consultant urologist'.")
def approve_command(slug: str | None, prompts_flag: bool, by: str, role: str) -> None:
    """Record that NAME (ROLE) approved what callers hear from leaflet SLUG (or the prompts), today.

    The approval is of the spoken text (`ivr diff SLUG` shows it): its SHA-256, the name, role and
    date go in the leaflet's front matter (approval:), and the text in approved/<slug>.txt beside
    it, so `ivr diff` can show what changes later. Prompts: approval.yaml beside the prompt files.
    In service, `ivr serve` refuses words changed since their approval.

    Exit status 1, with the reason, for a name or role that is not a real one, a leaflet with
    errors or spelling corrections still only suggested, or an unknown slug.
    """
    _which(slug, prompts_flag)
    settings = load_settings()
    today = _today()
    if prompts_flag:
        from ivr.prompts.approval import approve_prompts

        approval, path = approve_prompts(settings.locale, by=by, role=role, today=today)
        click.echo(f"Approved the {Path(settings.locale).name} prompts (spoken text sha256 {approval.spoken_sha256[:12]}) "
                   f"by {_approval_line(approval)}.\nRecorded in {path}. Commit it with the prompt files.")
        return
    from ivr.content.leaflet_approval import approve_leaflet
    from ivr.content.review import review_due

    assert slug is not None
    leaflet = _find_leaflet(settings, slug)
    assert leaflet.path is not None
    approval, kept = approve_leaflet(leaflet.path, by=by, role=role, today=today)
    click.echo(f"Approved {slug} (spoken text sha256 {approval.spoken_sha256[:12]}) by {_approval_line(approval)}.\n"
               f"Recorded in {leaflet.path} (approval:); the approved text is in {kept}. Commit both.")
    due = review_due(leaflet.last_reviewed, leaflet.next_review, settings.review_period_months)
    if today > due:
        click.secho(f"Note: its review was due on {due.isoformat()}; callers are told the content is due for review "
                    "until last_reviewed (and next_review) are updated after a review, and approved.", fg="yellow")


def _wrapped(label: str, text: str) -> list[str]:
    return textwrap.wrap(text, width=96, initial_indent=f"  {label}", subsequent_indent=" " * (len(label) + 2))


def _change_lines(change: Change) -> list[str]:
    if change.before is None:
        return [f"{change.where}, added:", *_wrapped("now: ", change.after or "")]
    if change.after is None:
        return [f"{change.where}, removed:", *_wrapped("was: ", change.before)]
    runs = word_changes(change.before, change.after)
    removed = " ... ".join(text for kind, text in runs if kind == "removed")
    added = " ... ".join(text for kind, text in runs if kind == "added")
    words = f"{removed!r} became {added!r}" if removed and added else \
        f"added {added!r}" if added else f"removed {removed!r}"
    return [f"{change.where}, changed:", *_wrapped("was: ", change.before), *_wrapped("now: ", change.after),
            f"  words: {words}"]


def _print_changes(changes: tuple[Change, ...]) -> None:
    spoken = [c for c in changes if not c.where.startswith("Recognition words")]
    heard = [c for c in changes if c.where.startswith("Recognition words")]
    for change in spoken:
        click.echo("\n".join(["", *_change_lines(change)]))
    if heard:
        click.echo("\nRecognition words (what callers may say; not spoken, not part of the approval):")
        for change in heard:
            click.echo("\n".join(_change_lines(change)))


@click.command("diff")
@click.argument("slug", required=False)
@click.option("--prompts", "prompts_flag", is_flag=True, help="The prompt files of IVR_LOCALE, not a leaflet.")
def diff_command(slug: str | None, prompts_flag: bool) -> None:
    """Show what callers would hear that changed since leaflet SLUG (or the prompts) was approved.

    Spoken text, not Markdown: what the synthesiser reads, after the lexicon and respellings. For
    a leaflet never approved, all of it. Recognition words (say:) are listed apart: they are not
    spoken, so not part of the approval. Exit status 1 for an unknown slug.
    """
    _which(slug, prompts_flag)
    settings = load_settings()
    if prompts_flag:
        from ivr.prompts import load_prompts
        from ivr.prompts.approval import prompts_signoff

        signoff = prompts_signoff(load_prompts(settings.locale))
        name, state, changes, problem = f"The {Path(settings.locale).name} prompts", signoff.state, signoff.changes, None
    else:
        from ivr.content.leaflet_approval import leaflet_signoff

        assert slug is not None
        leaflet = _find_leaflet(settings, slug)
        found = leaflet_signoff(leaflet)
        name, state, changes, problem = f"{leaflet.title} ({leaflet.path})", found.state, found.changes, found.problem
    if state.approval is None:
        click.echo(f"{name}: never approved. Everything callers would hear:")
    elif state.approved:
        click.echo(f"{name}: approved by {_approval_line(state.approval)}; what callers hear has not changed since.")
    else:
        click.echo(f"{name}: approved by {_approval_line(state.approval)}; changed since:")
    if problem:
        click.secho(f"Note: {problem}.", fg="yellow")
    _print_changes(changes)
