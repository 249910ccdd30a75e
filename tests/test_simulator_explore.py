"""``explore`` + ``verify`` (what ``ivr check --calls`` runs) against the fixture line."""

from __future__ import annotations

import pytest

from ivr.findings import Finding
from ivr.keymap import load_keymap
from ivr.simulator.explore import explore
from ivr.simulator.measure import FirstLeaflet, first_leaflet, first_leaflet_report
from ivr.simulator.transcript import Transcript
from ivr.simulator.verify import verify
from tests.test_simulator import INDEX, MENU_SECONDS, TOKEN, fixture_app, serve, words, write_audio

SECTIONS = [("test 1 (part one)", "leaflet/test/1/"), ("test 2 (part two)", "leaflet/test/2/")]


def explore_fixture(tmp_path, *, broken: bool):
    write_audio(tmp_path / "audio")
    with serve(fixture_app(tmp_path / "audio", broken=broken)) as url:
        graph = explore(url + "/voice", token=TOKEN, index=INDEX)
    return graph, verify(graph, SECTIONS)


def test_a_sound_tree_has_no_findings_and_its_figures(tmp_path):
    graph, report = explore_fixture(tmp_path, broken=False)

    assert report.findings == []
    assert not graph.truncated
    assert report.section_keys == {"test 1 (part one)": 1, "test 2 (part two)": 1}
    assert report.summary[0].startswith("calls: explored ")
    assert "keys to reach each section: test 1 (part one): 1; test 2 (part two): 1; most 1" in report.summary[-1]


def test_the_checker_catches_a_broken_tree(tmp_path):
    _, report = explore_fixture(tmp_path, broken=True)

    messages = [f.message for f in report.findings]
    assert all(f.level == "error" for f in report.findings), messages

    def one(fragment: str) -> str:
        found = [m for m in messages if fragment in m]
        assert len(found) == 1, (fragment, messages)
        return found[0]

    missing = one("missing.wav answered HTTP 404")
    assert "keys from the start: 2" in missing
    dead_end = one("dead end: the line hangs up without a goodbye")
    assert "POST /voice/choose (Digits=8)" in dead_end
    no_input = one("a <Gather> has no no-input path")
    assert "POST /voice/stuck" in no_input and "keys from the start: 5" in no_input
    nurse = one("pressing 0 does not lead to the nurse line (/nurse)")
    assert "POST /voice/stuck" in nurse
    one("section not reachable by any keys: test 2 (part two)")
    assert len(messages) == 5, messages
    assert report.section_keys["test 2 (part two)"] is None


def test_a_line_that_refuses_the_signature_is_one_error(tmp_path):
    write_audio(tmp_path / "audio")
    with serve(fixture_app(tmp_path / "audio")) as url:
        graph = explore(url + "/voice", token="forged", index=INDEX)
    report = verify(graph, SECTIONS)

    assert graph.states == {}
    assert [f.message for f in report.findings] == ["POST /voice answered HTTP 403; reached by the first request"]


def test_first_leaflet_sentence_when_pressing_the_first_key_offered(tmp_path):
    write_audio(tmp_path / "audio")
    with serve(fixture_app(tmp_path / "audio")) as url:
        result = first_leaflet(url + "/voice", token=TOKEN, names=load_keymap().names, index=INDEX)

    # the caller waits for "Press 1 for part one, ..." (0 and the nurse come later in it)
    assert result.keys == ("1",)
    assert result.seconds == pytest.approx(words("test.welcome") + MENU_SECONDS + words("test.menu_options"))
    line, findings = first_leaflet_report(result)
    assert line == f"calls: first leaflet sentence after {result.seconds:.1f} s of audio, pressing the first key offered (keys: 1)"
    assert findings == []


@pytest.mark.parametrize(
    ("seconds", "levels"),
    [(14.9, []), (15.0, []), (15.1, ["warning"]), (None, ["warning"])],
)
def test_first_leaflet_is_a_warning_only_over_15_seconds(seconds, levels):
    _, findings = first_leaflet_report(FirstLeaflet(seconds, ("1",), Transcript()))

    assert [f.level for f in findings] == levels
    assert all(isinstance(f, Finding) for f in findings)
