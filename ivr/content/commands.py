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
@click.option("--force", is_flag=True, help="Replace the leaflet file if it already exists.")
def import_command(
    source_file: Path, out: Path | None, title: str | None, slug: str | None, source_note: str | None,
    last_reviewed: dt.datetime | None, apply_corrections: bool, force: bool,
) -> None:
    """Import SOURCE (plain text copied from a web page, or simple HTML) as a leaflet.

    Web clutter is dropped, the review date and references are lifted into the front matter,
    and words that look misspelt are listed as suggested corrections for a reviewer: the text
    keeps them until a person confirms. If every suggestion is right, import again with
    --apply-corrections --force. Otherwise edit the leaflet file: for a right one, change the word
    in the text and set its status to confirmed; for a wrong one, set its status to rejected.

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
    target = write_leaflet(imported, out or load_settings().leaflets_dir, force=force)
    click.echo(
        f"Wrote {target}: {len(imported.sections)} section(s), {len(imported.references)} reference(s), "
        f"last reviewed {imported.last_reviewed.isoformat()}."
    )
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
