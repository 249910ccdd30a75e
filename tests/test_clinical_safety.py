"""The hazard log stays true: every hazard has controls, every control names the test that proves
it, and every test it names exists (so a renamed or deleted test cannot leave a control unproved)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from .conftest import PROJECT

SAFETY = PROJECT / "docs" / "clinical-safety"
TEST_ID = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _hazards() -> dict[str, str]:
    """Each hazard's heading mapped to its section of the log."""
    text = (SAFETY / "hazard-log.md").read_text()
    parts = re.split(r"^## (H\d\d .+)$", text, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def _controls(section: str) -> list[str]:
    """Each control ("- C01.1 ...") with its following lines, up to the next control."""
    return re.split(r"^(?=- C\d\d\.\d )", section.split("Controls:", 1)[1], flags=re.M)[1:]


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}


def _matrix() -> dict[tuple[int, int], int]:
    """The plan's risk matrix: (severity, likelihood) -> rating."""
    plan = (SAFETY / "clinical-risk-management-plan.md").read_text()
    rows = re.findall(r"^\| (\d) [a-z ]+\| (\d) \| (\d) \| (\d) \| (\d) \| (\d) \|$", plan, flags=re.M)
    assert len(rows) == 5
    return {(severity, int(row[0])): int(rating) for row in rows for severity, rating in enumerate(row[1:], start=1)}


def test_every_hazard_has_scored_risks_and_controls_each_proved_by_a_test():
    hazards, matrix = _hazards(), _matrix()
    assert len(hazards) >= 15
    for heading, section in hazards.items():
        for which in ("Initial", "Residual"):
            found = re.search(rf"\| {which} risk \| severity (\d) × likelihood (\d) → (\d) \|", section)
            assert found, f"{heading}: no {which.lower()} risk"
            severity, likelihood, rating = map(int, found.groups())
            assert matrix[severity, likelihood] == rating, f"{heading}: {which.lower()} risk disagrees with the matrix"
            if which == "Residual":
                assert rating <= 3, f"{heading}: residual risk {rating} is not acceptable for go-live"
        controls = _controls(section)
        assert controls, f"{heading} has no controls"
        for control in controls:
            assert TEST_ID.search(control), f"{heading}: {control.splitlines()[0]} names no test"


def test_every_test_the_hazard_log_names_exists():
    named = TEST_ID.findall((SAFETY / "hazard-log.md").read_text())
    assert len(named) > 40
    missing = []
    for file, name in named:
        path = PROJECT / file
        if not path.is_file() or name not in _test_names(path):
            missing.append(f"{file}::{name}")
    assert not missing, "the hazard log names tests that do not exist: " + ", ".join(missing)


def test_the_hazards_the_issue_asks_for_are_in_the_log():
    headings = " ".join(_hazards()).lower()
    for topic in ("emergency", "keypad", "promise", "returned", "busy", "menu", "slow responder", "greeting",
                  "out-of-date", "end of a leaflet", "nurse number", "database", "audio", "mispronounced"):
        assert topic in headings, topic
