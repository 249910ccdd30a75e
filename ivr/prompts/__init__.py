"""Every sentence a caller hears, loaded from reviewed YAML files: ``ivr/prompts/<locale>/*.yaml``.

Each file is a mapping of names to sentences; nested mappings are allowed. A prompt's id is the
file name and the keys joined by dots: ``call.greeting`` is ``greeting`` in ``call.yaml``.
Sentences may hold named placeholders (``For {section}, press {key}.``) filled by the code.

The code refers to prompt ids only. A missing id or a placeholder mismatch is a
:class:`PromptError`, never a silent fallback: medical wording is fixed and reviewed.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

from ivr.errors import PromptError

__all__ = ["APPROVAL_FILE", "PROMPTS_DIR", "RATES", "WORDS_FILE", "Prompts", "Rate", "Utterance", "load_prompts"]

PROMPTS_DIR = Path(__file__).resolve().parent
APPROVAL_FILE = "approval.yaml"  # who approved the wording (ivr.prompts.approval), not prompts
WORDS_FILE = "words.yaml"  # what callers may say (ivr.prompts.words), not prompts
Rate = Literal["normal", "slow"]  # how fast an utterance is spoken (rendered at both)
RATES: tuple[Rate, ...] = ("normal", "slow")


@dataclass(frozen=True)
class Utterance:
    """One thing the line says: where it comes from (a prompt id or a leaflet part) and the text.

    Ids: ``call.greeting`` for prompts; ``leaflet/<slug>/<section>/<part>`` for leaflet parts
    (section 0 is the introduction, parts count from 1).
    """

    id: str
    text: str


@functools.lru_cache(maxsize=1024)
def _names(template: str) -> frozenset[str]:
    """The placeholders of a template, parsed once: every sentence the line says is checked."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


def _placeholders(template: str) -> set[str]:
    return set(_names(template))


SAID_KEPT = 20_000  # utterances kept per Prompts (a few MB at most): the same sentence is asked for again and again


@dataclass(frozen=True)
class Prompts:
    locale: str
    templates: dict[str, str]
    files: dict[str, Path]  # prompt id -> file it came from, for messages
    _said: dict[tuple[object, ...], Utterance] = field(default_factory=dict, repr=False, compare=False)

    def say(self, prompt_id: str, **params: object) -> Utterance:
        """The utterance for ``prompt_id`` with its placeholders filled; PromptError if it
        does not exist or the placeholders given differ from those in the sentence."""
        key = (prompt_id, *params.items())
        found = self._said.get(key)
        if found is None:
            found = self._fill(prompt_id, params)
            if len(self._said) < SAID_KEPT:
                self._said[key] = found
        return found

    def _fill(self, prompt_id: str, params: dict[str, object]) -> Utterance:
        template = self.templates.get(prompt_id)
        if template is None:
            raise PromptError(
                f"no prompt {prompt_id!r} in locale {self.locale}.",
                path=PROMPTS_DIR / self.locale,
                hint=f"Add it to {prompt_id.split('.')[0]}.yaml there, and have it reviewed.",
            )
        wanted = _names(template)
        if wanted != set(params):
            raise PromptError(
                f"prompt {prompt_id!r} takes {sorted(wanted)}, was given {sorted(params)}.",
                path=self.files[prompt_id],
            )
        return Utterance(prompt_id, template.format(**params))

    def placeholders(self, prompt_id: str) -> set[str]:
        return _placeholders(self.templates[prompt_id])


def _flatten(prefix: str, node: object, path: Path, out: dict[str, str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}", value, path, out)
    elif isinstance(node, str) and node.strip():
        out[prefix] = " ".join(node.split())
    else:
        raise PromptError(
            f"prompt {prefix!r} must be a sentence, got {node!r}.", path=path,
            hint="Write the words the caller hears, in quotes if they contain ': '.",
        )


def load_prompts(locale: str = "en-GB", folder: Path = PROMPTS_DIR) -> Prompts:
    """Load ``folder/<locale>/*.yaml``; PromptError naming the file on any problem."""
    locale_dir = folder / locale
    files = sorted(p for p in locale_dir.glob("*.yaml") if p.name not in (APPROVAL_FILE, WORDS_FILE))
    if not files:
        raise PromptError(
            f"no prompt files for locale {locale!r}.", path=locale_dir,
            hint="Set IVR_LOCALE to a folder under ivr/prompts/, e.g. en-GB.",
        )
    templates: dict[str, str] = {}
    sources: dict[str, Path] = {}
    for path in files:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise PromptError(
                f"is not valid YAML ({getattr(exc, 'problem', exc)}).", path=path,
                line=mark.line + 1 if mark is not None else None,
            ) from exc
        found: dict[str, str] = {}
        _flatten(path.stem, data, path, found)
        for prompt_id in found:
            sources[prompt_id] = path
            for name in _placeholders(found[prompt_id]):
                if not name.isidentifier():
                    raise PromptError(
                        f"prompt {prompt_id!r} has a bad placeholder {{{name}}}.", path=path,
                        hint="Placeholders are single words in braces, like {section}.",
                    )
        templates.update(found)
    return Prompts(locale, templates, sources)
