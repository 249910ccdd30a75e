"""Which prompt or leaflet part a <Say> text or a <Play> file is: the ids in a transcript.

Built from the line's own content (prompts, leaflets, the audio manifest), so it only knows the
ids when the simulator runs beside the line it calls, which is the usual case (``ivr call``
against a local server, tests, ``ivr check --calls``). Texts it does not know get no id.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from ivr.config import Settings
from ivr.prompts import Prompts, Utterance
from ivr.speech.manifest import AudioEntry, Manifest

__all__ = ["SpeechIndex", "normalise"]

log = logging.getLogger(__name__)


def normalise(text: str) -> str:
    return " ".join(text.split())


def _template_pattern(template: str) -> tuple[re.Pattern[str], int]:
    """A regex matching any filled-in instance of a prompt template, and its literal length."""
    pieces: list[str] = []
    literal = 0
    for text, name, _, _ in string.Formatter().parse(normalise(template)):
        pieces.append(re.escape(text))
        literal += len(text)
        if name:
            pieces.append(".+?")
    return re.compile("".join(pieces) + r"\Z", re.DOTALL), literal


@dataclass(frozen=True)
class SpeechIndex:
    by_text: dict[str, str] = field(default_factory=dict)
    by_file: dict[str, AudioEntry] = field(default_factory=dict)
    templates: tuple[tuple[re.Pattern[str], str], ...] = ()

    @classmethod
    def build(
        cls, utterances: Iterable[Utterance], manifest: Manifest | None = None, prompts: Prompts | None = None
    ) -> SpeechIndex:
        by_text = {normalise(u.text): u.id for u in utterances}
        by_file = {e.file: e for e in (manifest.entries if manifest else ())}
        for entry in by_file.values():
            by_text.setdefault(normalise(entry.text), entry.id)
        patterns = []
        if prompts is not None:
            for prompt_id, template in prompts.templates.items():
                pattern, literal = _template_pattern(template)
                patterns.append((literal, pattern, prompt_id))
        patterns.sort(key=lambda item: -item[0])  # the most specific template wins
        return cls(by_text, by_file, tuple((p, i) for _, p, i in patterns))

    @classmethod
    def from_settings(cls, settings: Settings) -> SpeechIndex:
        """The index of the line these settings describe; an empty index (logged) if its content
        cannot be loaded, since a transcript without ids is still a transcript."""
        from ivr.content.catalogue import load_catalogue
        from ivr.errors import IvrError
        from ivr.prompts import load_prompts
        from ivr.speech.manifest import load_manifest
        from ivr.speech.sources import leaflet_utterances

        try:  # as ivr.runtime.load_runtime, without importing Flask: `ivr call` starts at once
            catalogue = load_catalogue(settings.leaflets_dir, review_period_months=settings.review_period_months)
            prompts = load_prompts(settings.locale)
            manifest = load_manifest(settings.audio_dir)
            items = leaflet_utterances(catalogue)  # prompts are known by their templates
        except IvrError as exc:
            log.warning("cannot load the line's content, transcript ids are unknown: %s", exc)
            return cls()
        return cls.build(items, manifest, prompts)

    def say_id(self, text: str) -> str | None:
        """The id of this spoken text: an exact utterance, else the prompt whose template fits."""
        text = normalise(text)
        if text not in self.by_text:
            # remembered, found or not: exploring the line asks for the same texts many times
            self.by_text[text] = next((i for pattern, i in self.templates if pattern.match(text)), "")
        return self.by_text[text] or None

    def audio(self, url: str) -> AudioEntry | None:
        """The manifest entry for the file a <Play> URL names (by its file name)."""
        name = PurePosixPath(unquote(urlsplit(url).path)).name
        return self.by_file.get(name)
