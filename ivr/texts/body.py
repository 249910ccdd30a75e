"""The text message itself: the leaflet's title and its short link, in reviewed wording
(``ivr/web/copy/<locale>/text_message.yaml``, beside the web copy it links to)."""

from __future__ import annotations

from ivr.config import Settings
from ivr.content.links import leaflet_url
from ivr.web.copy import Copy

__all__ = ["message_body"]


def message_body(settings: Settings, copy: Copy, *, title: str, slug: str) -> str:
    """The message for leaflet ``slug``. ConfigError without IVR_PUBLIC_URL; PromptError when the
    wording is missing or takes other placeholders."""
    return copy.text("text_message.body", title=title, link=leaflet_url(settings, slug))
