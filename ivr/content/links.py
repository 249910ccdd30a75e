"""A leaflet's public web address: the short link that fits in a text message.

Every leaflet has a web copy at ``/leaflets/<slug>`` and a short link ``/l/<code>`` that
redirects there. The code is six characters hashed from the slug (Crockford's base32 alphabet,
lower case: no i, l, o or u, so it reads back and types without confusion), so it needs no
table, is the same on every server and never changes while the slug does not: a link sent by
text message last year still works. ``https://ivr.example.org/l/x4k9m2`` is 33 characters.

No Flask here: the call engine builds the link for a text message from settings alone.
"""

from __future__ import annotations

import hashlib

from ivr.config import Settings
from ivr.errors import ConfigError

__all__ = ["SHORT_CODE_LENGTH", "SHORT_PREFIX", "leaflet_path", "leaflet_url", "short_code"]

SHORT_PREFIX = "/l/"
SHORT_CODE_LENGTH = 6  # 32**6: about a billion codes, so two slugs sharing one is vanishingly rare
_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford's base32


def short_code(slug: str) -> str:
    """The six-character short-link code of ``slug`` (a pure function of the slug; never fails)."""
    number = int.from_bytes(hashlib.sha256(slug.encode("utf-8")).digest()[:8], "big")
    code = []
    for _ in range(SHORT_CODE_LENGTH):
        number, digit = divmod(number, 32)
        code.append(_ALPHABET[digit])
    return "".join(code)


def leaflet_path(slug: str) -> str:
    """``/l/<code>``: the short path of a leaflet's web copy."""
    return SHORT_PREFIX + short_code(slug)


def leaflet_url(settings: Settings, slug: str) -> str:
    """The absolute short link to a leaflet's web copy, for a text message:
    ``<IVR_PUBLIC_URL>/l/<code>``.

    Raises ConfigError when IVR_PUBLIC_URL is not set (there is no address to send). The slug is
    not checked against the catalogue: pass one the caller was actually hearing.
    """
    if not settings.public_url:
        raise ConfigError(
            "IVR_PUBLIC_URL is not set, so there is no web address to send for a leaflet.",
            hint="Set IVR_PUBLIC_URL to the line's public address, like https://ivr.example.org.",
        )
    return settings.public_url + leaflet_path(slug)
