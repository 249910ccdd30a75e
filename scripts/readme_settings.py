"""Rewrite the settings table in README.md from ivr/config.py SETTINGS (tests/test_docs.py checks it)."""

from __future__ import annotations

from pathlib import Path

from ivr.config import SETTINGS

README = Path(__file__).resolve().parent.parent / "README.md"
START = "<!-- settings-table: generated from ivr/config.py SETTINGS; tests/test_docs.py keeps it current -->"
END = "<!-- /settings-table -->"


def table() -> str:
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, (default, text) in SETTINGS.items():
        rows.append(f"| `{name}` | {f'`{default}`' if default else '(none)'} | {text} |")
    return "\n".join(rows)


def main() -> None:
    text = README.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    README.write_text(f"{head}{START}\n{table()}\n{END}{tail}")


if __name__ == "__main__":
    main()
