"""``ivr import``: the seed web page, HTML, and input it must refuse, naming the line."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.content.importer import import_source, write_leaflet
from ivr.content.leaflet import BulletList, Paragraph, load_leaflet, parse_leaflet
from ivr.errors import SourceNotUnderstood

from .conftest import PROJECT, SEED_SOURCE

COMMITTED = PROJECT / "leaflets" / "cryotherapy-for-kidney-cancer.md"
SEED_SOURCE_NOTE = "Copied from a cancer charity's patient information web page"


@pytest.fixture(scope="module")
def seed():
    return import_source(SEED_SOURCE, source=SEED_SOURCE_NOTE)


def _all_text(imported) -> str:
    pieces = []
    for blocks in [imported.intro, *(s.blocks for s in imported.sections)]:
        for block in blocks:
            pieces += [block.text] if isinstance(block, Paragraph) else list(block.items)
    return "\n".join(pieces + [s.title for s in imported.sections])


def test_seed_sections_title_and_intro(seed):
    assert seed.title == "Cryotherapy for kidney cancer"
    assert seed.slug == "cryotherapy-for-kidney-cancer"
    assert [s.title for s in seed.sections] == ["What it is", "Who has it", "What happens", "Side effects"]
    assert [b.text for b in seed.intro] == [
        "Cryotherapy kills cancer cells by freezing them. It can cure small, early stage kidney cancers. "
        "See how and when you may have it."
    ]
    side_effects = seed.sections[3].blocks
    assert isinstance(side_effects[1], Paragraph) and side_effects[1].text.endswith("can include:")
    assert isinstance(side_effects[2], BulletList)
    assert side_effects[2].items == (
        "bleeding around the kidney, requiring a blood transfusion",
        "urine leakage",
        "temporary weakness caused by a nerve being damaged",
        "injury to the tube that carries urine from the kidney to the bladder (the ureter)",
    )


def test_seed_clutter_and_odd_spaces_are_gone(seed):
    text = _all_text(seed)
    assert "Decorative image" not in text and "Information and help" not in text
    assert "\u00a0" not in text and "  " not in text and "•" not in text
    assert "Last reviewed" not in text and "Zargar" not in text


def test_seed_review_date_and_references_are_lifted(seed):
    assert seed.last_reviewed == dt.date(2019, 1, 17)
    assert seed.references == (
        "Cryoablation for Small Renal Masses: Selection Criteria, Complications, and Functional and "
        "Oncologic Results. H Zargar and others. European Urology 2016 69(1):116-28",
        "MDT Guidance for managing Renal Cancer. British Association of Urological Surgeons (BAUS), "
        "Section of Oncology and British Uro-oncology Group (BUG), May 2012",
        "Percutaneous cryotherapy for renal cancer. National Institute for Health and Care Excellence, July 2011",
        "Renal cell carcinoma: ESMO Clinical Practice Guidelines for diagnosis, treatment and follow-up. "
        "B Escudier and others. Annals of Oncology 2016 27 (Supplement 5): v58-v68",
    )


def test_seed_misspellings_are_suggested_not_changed(seed):
    found = [(c.original, c.fix, c.source_line, c.status) for c in seed.corrections]
    assert found == [
        ("Precutaneous", "Percutaneous", 10, "suggested"),
        ("laproscope", "laparoscope", 24, "suggested"),
    ]
    source_lines = SEED_SOURCE.read_text(encoding="utf-8").splitlines()
    assert "Precutaneous" in source_lines[9] and "laproscope" in source_lines[23]
    text = _all_text(seed)
    assert "Precutaneous means" in text and "camera (laproscope)" in text  # the body keeps them
    assert seed.unknown_words == ()


def _without_editorial_fields(text: str) -> str:
    """The committed leaflet without what people added after importing it (recognition words,
    section labels): what a first import of the page gives."""
    front, body = text.split("\n---\n", 1)
    return front.split("\nsay:", 1)[0] + "\n---\n" + body


def test_import_reproduces_committed_leaflet_apart_from_reviewed_corrections(seed, tmp_path):
    committed = COMMITTED.read_text(encoding="utf-8")
    _, written = write_leaflet(seed, tmp_path, source_path=SEED_SOURCE)
    imported = written.markdown()
    confirmed = written.with_corrections_applied().markdown()
    assert confirmed == _without_editorial_fields(committed)
    # ...and the only differences are the two words and the two statuses.
    undone = confirmed.replace("status: confirmed", "status: suggested")
    undone = undone.replace("Percutaneous means", "Precutaneous means").replace("(laparoscope)", "(laproscope)")
    assert imported == undone


def test_importing_again_keeps_what_people_added(seed, tmp_path):
    """Re-import over the committed leaflet: its labels and recognition words are kept, byte for byte."""
    (tmp_path / COMMITTED.name).write_text(COMMITTED.read_text(encoding="utf-8"), encoding="utf-8")
    target, written = write_leaflet(seed.with_corrections_applied(), tmp_path, force=True, source_path=SEED_SOURCE)
    assert target.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8")
    assert written.kept[0] == "say"


def test_cli_import_then_apply_corrections_gives_committed_file(tmp_path):
    runner = CliRunner()
    args = ["import", str(SEED_SOURCE), "--out", str(tmp_path), "--source", SEED_SOURCE_NOTE]
    first = runner.invoke(main, args)
    assert first.exit_code == 0, first.output
    assert "cryotherapy-for-kidney-cancer.txt:24: 'laproscope' -> 'laparoscope' (suggested)" in first.output
    assert "cryotherapy-for-kidney-cancer.txt:1: 'Decorative image': web clutter" in first.output
    written = tmp_path / "cryotherapy-for-kidney-cancer.md"
    assert load_leaflet(written).corrections[0].status == "suggested"
    assert (tmp_path / "sources" / SEED_SOURCE.name).read_bytes() == SEED_SOURCE.read_bytes()

    again = runner.invoke(main, args)
    assert again.exit_code == 1 and "already exists" in again.output

    confirmed = runner.invoke(main, [*args, "--apply-corrections", "--force"])
    assert confirmed.exit_code == 0, confirmed.output
    assert written.read_text(encoding="utf-8") == _without_editorial_fields(COMMITTED.read_text(encoding="utf-8"))


def test_the_seed_source_is_in_the_repository_and_named_by_its_leaflet():
    leaflet = load_leaflet(COMMITTED)
    assert leaflet.source_file == "sources/cryotherapy-for-kidney-cancer.txt"
    assert (COMMITTED.parent / leaflet.source_file) == SEED_SOURCE and SEED_SOURCE.is_file()


HTML_PAGE = """<!DOCTYPE html>
<html><head><title>Site name | Page</title><script>var x = "Skip";</script></head>
<body>
<nav><a href="/">Home</a> <a href="/menu">Menu</a></nav>
<h1>Bladder stones</h1>
<p>Bladder stones are hard lumps of minerals.&nbsp;They can be removed.</p>
<img alt="Decorative image" src="x.png">
<h2>What happens</h2>
<p>A thin tube with a camera (a cystoscope) goes into the bladder through the <strong>urethera</strong>.</p>
<p>The stones are washed out of the bladdder.</p>
<h2>After the treatment</h2>
<p>You may notice:</p>
<ul>
  <li>some blood in your urine</li>
  <li>a burning feeling when you pass urine</li>
</ul>
<p>Last reviewed: 3 March 2021</p>
<h2>References</h2>
<ul><li>Bladder stones guidance, 2020</li></ul>
<footer><p>Information and help</p><p>Copyright 2024 A Charity</p></footer>
</body></html>
"""


def test_html_import(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(HTML_PAGE, encoding="utf-8")
    imported = import_source(page)
    assert imported.title == "Bladder stones" and imported.slug == "bladder-stones"
    assert [b.text for b in imported.intro] == ["Bladder stones are hard lumps of minerals. They can be removed."]
    assert [s.title for s in imported.sections] == ["What happens", "After the treatment"]
    after = imported.sections[1].blocks
    assert after[1] == BulletList(("some blood in your urine", "a burning feeling when you pass urine"), after[1].line)
    assert imported.last_reviewed == dt.date(2021, 3, 3)
    assert imported.references == ("Bladder stones guidance, 2020",)
    assert [(c.original, c.fix, c.source_line) for c in imported.corrections] == [
        ("urethera", "urethra", 9), ("bladdder", "bladder", 10),
    ]
    assert "through the urethera." in imported.markdown()  # inline tags joined as written
    assert "Home" not in imported.markdown() and "Copyright" not in imported.markdown()
    target, _ = write_leaflet(imported, tmp_path / "leaflets")
    assert parse_leaflet(target.read_text(encoding="utf-8")).title == "Bladder stones"


def test_plain_text_with_markdown_headings_and_review_option(tmp_path):
    source = tmp_path / "stones.txt"
    source.write_text("Intro text.\n\n## Care\n\n* Drink water\n* Rest\n    for a day\n", encoding="utf-8")
    imported = import_source(source, title="Kidney stones: care", last_reviewed=dt.date(2024, 5, 1))
    assert imported.sections[0].blocks == (BulletList(("Drink water", "Rest for a day"), 5),)
    assert imported.last_reviewed == dt.date(2024, 5, 1)
    assert 'title: "Kidney stones: care"' in imported.markdown()  # quoted: it has ': '
    assert parse_leaflet(imported.markdown()).title == "Kidney stones: care"


SECTIONED = "Intro.\n\nWhat it is\n\nSome text.\n\n"


@pytest.mark.parametrize(
    ("name", "content", "message", "line"),
    [
        ("empty", b"", "is empty", 1),
        ("whitespace only", b"  \n\n\t \n", "only blank lines", 1),
        ("binary bytes", b"Heading\nsome text\x00\x01\x02", "looks binary", 2),
        ("control characters", b"Heading\n\nok\n\x01\x02\x03", "looks binary", 4),
        ("not UTF-8", b"What it is\n\ncaf\xe9 au lait.\n", "not UTF-8", 3),
        ("no sections", b"One paragraph of text.\nAnother line of it.\n", "no section headings", 1),
        ("only clutter", b"Decorative image\n\nInformation and help\n", "nothing but web clutter", 1),
        ("review label without date", (SECTIONED + "Last reviewed:\n").encode(), "no date after it", 7),
        ("unreadable review date", (SECTIONED + "Last reviewed: some time ago\n").encode(), "cannot read the date", 7),
        ("no review date", SECTIONED.encode(), "no 'Last reviewed:' date", 5),
        ("review date on the next line is not a date", (SECTIONED + "Last reviewed:\nsoon\n").encode(),
         "no date after it", 7),
        ("only an empty section", b"Intro.\n\n## Empty\n\nLast reviewed: 1 May 2020\n", "no section headings", 1),
    ],
)
def test_refuses_what_it_cannot_understand(tmp_path, name, content, message, line):
    source = tmp_path / "leaflet.txt"
    source.write_bytes(content)
    with pytest.raises(SourceNotUnderstood) as caught:
        import_source(source)
    assert message in caught.value.message
    assert caught.value.line == line
    assert str(caught.value).startswith(f"{source}:{line}: ")


def test_cli_refusal_is_one_clean_line(tmp_path):
    source = tmp_path / "empty.txt"
    source.write_bytes(b"")
    result = CliRunner().invoke(main, ["import", str(source), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert f"Error: {source}:1: is empty." in result.output
    assert "Traceback" not in result.output


def test_an_empty_heading_is_left_out_and_reported(tmp_path):
    source = tmp_path / "leaflet.txt"
    source.write_text("Intro.\n\n## Empty\n\n## Full\n\nText.\nLast reviewed: 1 May 2020\n", encoding="utf-8")
    imported = import_source(source)
    assert [s.title for s in imported.sections] == ["Full"]
    assert [(n.line, n.text, n.reason) for n in imported.dropped] == [(3, "Empty", "a heading with no text under it")]
