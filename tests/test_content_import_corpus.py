"""``ivr import`` on a corpus of web pages in the shapes real leaflets arrive in.

Each source in ``tests/fixtures/sources/`` (plain text copied from a page, or a saved HTML page)
has its expected leaflet and import report in ``expected/``: the report names each line left out
and each thing a reviewer should check. After a reviewed change to the importer, regenerate them
with ``IVR_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_content_import_corpus.py`` and
read the diff before committing it.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.content.checks import check_leaflet
from ivr.content.importer import import_source, write_leaflet
from ivr.content.leaflet import load_leaflet
from ivr.content.speech_text import leaflet_speech

from .conftest import PROJECT

CORPUS = PROJECT / "tests" / "fixtures" / "sources"
EXPECTED = CORPUS / "expected"
SOURCES = sorted(p for p in CORPUS.iterdir() if p.suffix in (".txt", ".html"))
NOTE = "Test corpus"


def test_the_corpus_has_the_shapes_real_pages_come_in():
    assert len(SOURCES) >= 8
    assert {p.suffix for p in SOURCES} == {".txt", ".html"}
    for source in SOURCES:
        assert (EXPECTED / f"{source.stem}.md").is_file(), f"no expected leaflet for {source.name}"
        assert (EXPECTED / f"{source.stem}.report.txt").is_file(), f"no expected report for {source.name}"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_each_source_imports_to_its_expected_leaflet_and_report(source: Path, tmp_path: Path):
    imported = import_source(source, source=NOTE)
    target, written = write_leaflet(imported, tmp_path, source_path=source)
    report = "\n".join(written.report(source.name)) + "\n"
    expected_leaflet, expected_report = EXPECTED / f"{source.stem}.md", EXPECTED / f"{source.stem}.report.txt"
    if os.environ.get("IVR_UPDATE_GOLDEN"):
        expected_leaflet.write_text(target.read_text(encoding="utf-8"), encoding="utf-8")
        expected_report.write_text(report, encoding="utf-8")
    assert target.read_text(encoding="utf-8") == expected_leaflet.read_text(encoding="utf-8")
    assert report == expected_report.read_text(encoding="utf-8")
    # The source is kept beside the leaflet, byte for byte, and named in its front matter.
    assert (tmp_path / written.source_file).read_bytes() == source.read_bytes()
    # What was written loads, and `ivr check` finds nothing that stops the line (development).
    leaflet = load_leaflet(target)
    errors = [str(f) for f in check_leaflet(target, today=dt.date(2025, 1, 1)) if f.level == "error"]
    assert errors == []
    assert leaflet_speech(leaflet).sections


def test_review_lines_glued_together_are_both_read():
    """The issue's own failure: 'Last reviewed' and 'Next review due' on consecutive lines."""
    imported = import_source(CORPUS / "nephrectomy.txt")
    assert (imported.last_reviewed, imported.next_review) == (dt.date(2022, 3, 3), dt.date(2025, 3, 3))
    one_line = import_source(CORPUS / "vasectomy.txt")  # both on one line
    assert (one_line.last_reviewed, one_line.next_review) == (dt.date(2022, 3, 3), dt.date(2025, 3, 3))


def test_numbers_in_imported_leaflets_are_spoken_digit_by_digit(tmp_path):
    imported = import_source(CORPUS / "nephrectomy.txt", source=NOTE)
    target, _ = write_leaflet(imported, tmp_path)
    contact = leaflet_speech(load_leaflet(target)).sections[-1]
    assert contact.title == "Contact us"
    assert "Telephone: oh two oh, seven nine four six, oh oh oh oh." in contact.parts[0]
    assert contact.parts[1] == "If you feel very unwell, call one one one. In an emergency, call nine nine nine."


def test_cli_lists_what_it_left_out_with_line_numbers(tmp_path):
    source = CORPUS / "nephrectomy.txt"
    result = CliRunner().invoke(main, ["import", str(source), "--out", str(tmp_path), "--source", NOTE])
    assert result.exit_code == 0, result.output
    assert f"  {source}:8: 'Share': web clutter (rule 'Share')" in result.output
    assert f"  {source}:45-49: 'Related links': a section of web clutter" in result.output
    assert f"  {source}:39-41: 'Urology nurse specialists / Telephone: 020 7946 0000 / Monday to Fr...': " \
           "lines of an address or contact block, kept together as a list" in result.output
    assert (tmp_path / "sources" / "nephrectomy-kidney-removal.txt").read_bytes() == source.read_bytes()
