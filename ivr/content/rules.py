"""The reviewed content rule files in ``ivr/data``, loaded once per process.

- ``clutter.yaml``: web-page lines (and whole sections, by heading) the importer drops and
  ``ivr check`` reports;
- ``lexicon.yaml``: abbreviations, acronyms, units and the digits of telephone numbers, and how
  the line says them;
- ``pronunciations.yaml``: words eSpeak NG says wrongly -> spellings it says right;
- ``medical-words.txt``: medical words the English dictionary may not know.

They are edited by people who are not programmers, so every loader raises
:class:`ContentError` naming the file (and the line, where it can) when an entry is malformed.
The results are cached: the phone tree builds speech text at start-up and must not re-read them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from ivr.errors import ContentError

__all__ = [
    "DATA_DIR",
    "ClutterRules",
    "Lexicon",
    "Replacement",
    "clutter_rules",
    "lexicon",
    "medical_words",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@dataclass(frozen=True)
class ClutterRules:
    lines: frozenset[str]  # casefolded, whitespace collapsed
    patterns: tuple[re.Pattern[str], ...]
    path: Path
    sections: frozenset[str] = frozenset()  # headings whose whole section is clutter, casefolded

    def section(self, heading: str) -> str | None:
        """The rule when ``heading`` starts a section of clutter ("Related links"), else None."""
        text = " ".join(heading.split()).rstrip(":")
        return text if text.casefold() in self.sections else None

    def match(self, line: str) -> str | None:
        """The rule a whole line matches (the exact line, or the pattern's text), else None."""
        text = " ".join(line.split())
        if not text:
            return None
        if text.casefold() in self.lines or self.section(text):
            return text
        return next((p.pattern for p in self.patterns if p.fullmatch(text)), None)


@dataclass(frozen=True)
class Replacement:
    """One lexicon or pronunciation entry, compiled to match whole words."""

    written: str
    spoken: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Lexicon:
    abbreviations: tuple[Replacement, ...]
    units: dict[str, tuple[str, str]]  # symbol -> (one, many)
    pronunciations: tuple[Replacement, ...]
    spoken_words: frozenset[str]  # every word an entry may add: the speech text's only additions
    digits: dict[str, str]  # "0" -> "oh": telephone numbers are read digit by digit


def _load_yaml(path: Path) -> object:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ContentError(f"cannot be read ({exc.strerror}).", path=path) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ContentError(
            f"is not valid YAML ({getattr(exc, 'problem', exc)}).", path=path,
            line=mark.line + 1 if mark is not None else None,
            hint="Check quotes and indentation; put a value with ': ' or '#' in quotes.",
        ) from exc


def _line_of(path: Path, key: str) -> int | None:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip().strip("\"'").startswith(key.strip("\"'")):
            return number
    return None


def _mapping(data: object, name: str, path: Path) -> dict[str, object]:
    value = data.get(name) if isinstance(data, dict) else None
    if not isinstance(value, dict):
        raise ContentError(
            f"has no '{name}:' list of 'written: spoken' lines.", path=path, line=1,
        )
    return {str(key): item for key, item in value.items()}


@cache
def clutter_rules(path: Path = DATA_DIR / "clutter.yaml") -> ClutterRules:
    """The clutter rules; ContentError if the file is malformed or a pattern is not a valid regex."""
    data = _load_yaml(path)
    if not isinstance(data, dict) or not all(isinstance(data.get(k) or [], list) for k in ("lines", "patterns", "sections")):
        raise ContentError("must have 'lines:', 'patterns:' and 'sections:' lists.", path=path, line=1)
    patterns = []
    for text in data.get("patterns") or []:
        try:
            patterns.append(re.compile(str(text), re.IGNORECASE))
        except re.error as exc:
            raise ContentError(
                f"pattern {text!r} is not a valid regular expression ({exc}).", path=path,
                line=_line_of(path, f"- '{text}"), hint="Put the pattern in single quotes.",
            ) from exc
    lines = frozenset(" ".join(str(line).split()).casefold() for line in data.get("lines") or [])
    sections = frozenset(" ".join(str(line).split()).casefold() for line in data.get("sections") or [])
    return ClutterRules(lines, tuple(patterns), path, sections)


def _replacement(written: str, spoken: object, path: Path) -> Replacement:
    if not isinstance(spoken, str) or not spoken.strip():
        raise ContentError(
            f"entry {written!r} needs what to say, got {spoken!r}.", path=path,
            line=_line_of(path, written), hint="Write it as 'written: spoken'.",
        )
    # A lower-case key matches any case; a key with capitals (an acronym) only as written.
    flags = re.IGNORECASE if written == written.lower() else 0
    pattern = re.compile(rf"(?<![\w-]){re.escape(written)}(?![\w-])", flags)
    return Replacement(written, spoken.strip(), pattern)


@cache
def lexicon(
    lexicon_path: Path = DATA_DIR / "lexicon.yaml",
    pronunciations_path: Path = DATA_DIR / "pronunciations.yaml",
) -> Lexicon:
    """Abbreviations, units and pronunciations; ContentError naming the file and entry if malformed."""
    data = _load_yaml(lexicon_path)
    abbreviations = [
        _replacement(written, spoken, lexicon_path)
        for written, spoken in _mapping(data, "abbreviations", lexicon_path).items()
    ]
    units: dict[str, tuple[str, str]] = {}
    for symbol, names in _mapping(data, "units", lexicon_path).items():
        if not (isinstance(names, list) and len(names) == 2 and all(isinstance(n, str) for n in names)):
            raise ContentError(
                f"unit {symbol!r} needs [one, many], got {names!r}.", path=lexicon_path,
                line=_line_of(lexicon_path, symbol), hint="e.g. cm: [centimetre, centimetres]",
            )
        units[symbol] = (names[0], names[1])
    digits = {str(key): value for key, value in _mapping(data, "digits", lexicon_path).items()}
    if set(digits) != set("0123456789") or not all(isinstance(v, str) and v.strip() for v in digits.values()):
        raise ContentError(
            f"'digits:' must say each digit 0 to 9 in words, got {digits!r}.", path=lexicon_path,
            line=_line_of(lexicon_path, "digits:"), hint='e.g. "0": oh (quote the digits)',
        )
    pron_data = _load_yaml(pronunciations_path) or {}
    if not isinstance(pron_data, dict):
        raise ContentError("must be 'word: respelling' lines.", path=pronunciations_path, line=1)
    pronunciations = [
        _replacement(str(written), spoken, pronunciations_path) for written, spoken in pron_data.items()
    ]
    # Longest first, so "x-rays" wins over "x-ray".
    abbreviations.sort(key=lambda r: -len(r.written))
    pronunciations.sort(key=lambda r: -len(r.written))
    spoken = " ".join(
        [r.spoken for r in (*abbreviations, *pronunciations)] + [" ".join(n) for n in units.values()]
        + [str(value) for value in digits.values()]
    )
    return Lexicon(
        tuple(abbreviations), units, tuple(pronunciations),
        frozenset(re.findall(r"[\w'-]+", spoken.casefold())),
        {key: str(value).strip() for key, value in digits.items()},
    )


@cache
def medical_words(path: Path = DATA_DIR / "medical-words.txt") -> frozenset[str]:
    """The reviewed medical word list, lower case; ContentError if a line holds more than one word."""
    words = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        word = line.strip()
        if not word or word.startswith("#"):
            continue
        if not re.fullmatch(r"[A-Za-z][A-Za-z'-]*", word):
            raise ContentError(
                f"expected one word a line, got {word!r}.", path=path, line=number,
                hint="Put each word on its own line; start a comment with #.",
            )
        words.add(word.lower())
    return frozenset(words)
