"""What callers may say instead of pressing a key, per locale: ``ivr/prompts/<locale>/words.yaml``.

For each action ("nurse", "whole", "yes" ...): its ``label``, spoken when the line is not sure what
it heard ("Did you mean {label}?", so reviewed wording, approved with the prompts), and ``say``,
the words and phrases that mean it. The prompts loader skips this file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from ivr.errors import PromptError
from ivr.prompts import PROMPTS_DIR, WORDS_FILE

__all__ = ["Words", "load_words"]


@dataclass(frozen=True)
class Words:
    """The locale's words file: for each action, its label and the phrases that mean it."""

    labels: dict[str, str]
    phrases: dict[str, tuple[str, ...]]
    path: Path


def load_words(locale: str = "en-GB", folder: Path = PROMPTS_DIR) -> Words:
    """Read ``folder/<locale>/words.yaml``; PromptError naming the file when it is missing or malformed."""
    path = folder / locale / WORDS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PromptError(f"cannot be read ({exc}).", path=path,
                          hint="Each action needs a label and a list of words: nurse: {label: ..., say: [...]}") from exc
    if not isinstance(data, dict):
        raise PromptError("must map each action to its label and words.", path=path)
    labels: dict[str, str] = {}
    phrases: dict[str, tuple[str, ...]] = {}
    for action, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("label"), str) or not isinstance(entry.get("say"), list):
            raise PromptError(f"{action!r} needs a label (a phrase) and say: (a list of phrases).", path=path)
        labels[str(action)] = " ".join(entry["label"].split())
        phrases[str(action)] = tuple(" ".join(str(p).split()) for p in entry["say"] if str(p).strip())
    return Words(labels, phrases, path)
