"""``ivr import``: turn a leaflet copied from a web page into a leaflet file for review."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

__all__ = ["import_command"]


@click.command("import")
@click.argument("source_file", metavar="SOURCE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write <slug>.md to [default: IVR_LEAFLETS_DIR, leaflets/].")
@click.option("--title", help="The leaflet's title [default: the page's <h1>, else the file name].")
@click.option("--slug", help="The file name and web id [default: made from the title].")
@click.option("--source", "source_note", help="Where the text came from, for the 'source' field.")
@click.option("--last-reviewed", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Review date (2019-01-17), used when the page has no 'Last reviewed:' line.")
@click.option("--apply-corrections", is_flag=True,
              help="Make every suggested spelling fix in the text and mark it confirmed.")
@click.option("--force", is_flag=True,
              help="Replace the leaflet file if it already exists (keeping its code, section labels and approval).")
def import_command(
    source_file: Path, out: Path | None, title: str | None, slug: str | None, source_note: str | None,
    last_reviewed: dt.datetime | None, apply_corrections: bool, force: bool,
) -> None:
    """Import SOURCE (plain text copied from a web page, or a saved HTML page) as a leaflet.

    Web clutter is dropped, the page's dates and references are lifted into the front matter,
    and words that look misspelt are listed as suggested corrections for a reviewer: the text
    keeps them until a person confirms. Everything left out, and everything kept where a reviewer
    should check it, is listed with its lines. SOURCE is kept beside the leaflet, in
    sources/<slug>.txt (or .html). If every spelling suggestion is right, import again with
    --apply-corrections --force. Otherwise edit the leaflet file: for a right one, change the
    word in the text and set its status to confirmed; for a wrong one, set it to rejected.

    Exit status 1, naming the file and line, for a source it cannot understand.
    """
    from ivr.config import load_settings
    from ivr.content.importer import import_source, write_leaflet

    imported = import_source(
        source_file, title=title, slug=slug, source=source_note,
        last_reviewed=last_reviewed.date() if last_reviewed else None,
    )
    if apply_corrections:
        imported = imported.with_corrections_applied()
    target, imported = write_leaflet(imported, out or load_settings().leaflets_dir, force=force,
                                     source_path=source_file)
    next_review = f", next review {imported.next_review.isoformat()}" if imported.next_review else ""
    click.echo(
        f"Wrote {target}: {len(imported.sections)} section(s), {len(imported.references)} reference(s), "
        f"last reviewed {imported.last_reviewed.isoformat()}{next_review}."
    )
    click.echo(f"Sections: {'; '.join(s.title for s in imported.sections)}.")
    if imported.source_file:
        click.echo(f"The source is kept as {target.parent / imported.source_file}.")
    if imported.kept:
        click.echo(f"Kept from the file replaced: {'; '.join(imported.kept)}.")
    for line in imported.report(str(source_file)):
        click.echo(line)
    for correction in imported.corrections:
        click.echo(
            f"{source_file}:{correction.source_line}: {correction.original!r} -> {correction.fix!r} "
            f"({correction.status})"
        )
    for word in imported.unknown_words:
        click.echo(f"{source_file}:{word.line}: {word.word!r} looks misspelt; no suggestion.")
    if any(c.status == "suggested" for c in imported.corrections):
        click.echo(
            "Review the suggested corrections: if all are right, import again with "
            "--apply-corrections --force; otherwise edit the file (see `ivr import --help`)."
        )
    click.echo(f"Next: read it with `ivr diff {imported.slug}` (the spoken text), hear it on the staff "
               f"leaflets page after `ivr render --leaflet {imported.slug}`, then have it approved: "
               f"ivr approve {imported.slug} --by 'FULL NAME' --role 'ROLE'.")
