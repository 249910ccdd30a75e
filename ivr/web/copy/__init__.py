"""The wording of the public web pages, loaded from reviewed YAML: ``ivr/web/copy/<locale>/*.yaml``.

The same format and loader as the phone's prompts (:mod:`ivr.prompts`): ids are the file name
and keys joined by dots (``web.emergency.title``), sentences hold named placeholders. A missing
id or a placeholder mismatch is a PromptError, never a silent fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from markupsafe import Markup, escape

from ivr.prompts import Prompts, load_prompts

__all__ = ["COPY_DIR", "Copy", "load_copy"]

COPY_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Copy:
    prompts: Prompts

    @property
    def locale(self) -> str:
        return self.prompts.locale

    def text(self, copy_id: str, **params: object) -> str:
        """The sentence with its placeholders filled, as plain text; PromptError if the id is
        missing or the placeholders given differ from the sentence's."""
        return self.prompts.say(copy_id, **params).text

    def html(self, copy_id: str, **params: object) -> Markup:
        """The sentence as HTML: its own words escaped, and so are the values, except Markup
        values (links) which are kept. PromptError as for :meth:`text`."""
        self.prompts.say(copy_id, **params)  # checks the id and the placeholders
        return Markup(escape(self.prompts.templates[copy_id])).format(**params)


def load_copy(locale: str, folder: Path = COPY_DIR) -> Copy:
    """The web wording for ``locale`` (IVR_LOCALE); PromptError naming the file on any problem."""
    return Copy(load_prompts(locale, folder))
