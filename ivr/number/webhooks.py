"""What the line's Twilio number must be set to, worked out from IVR_PUBLIC_URL.

Twilio signs every webhook over the URL exactly as it is set on the number, and the line checks
that signature over IVR_PUBLIC_URL followed by the path (``ivr.web.twilio_hooks``). So the
address must be one plain form, the same string on both sides: https, a host name in lower case
that Twilio can reach, no user name, no default port written out, no path, query or fragment.
Only :func:`check_reachable` uses the network.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ivr.errors import ConfigError, TwilioNumberError

__all__ = [
    "CHECK_TIMEOUT", "FALLBACK_PATH", "FIELDS", "STATUS_PATH", "VOICE_PATH", "Row", "check_number",
    "check_public_url", "check_reachable", "compare", "wanted",
]

VOICE_PATH = "/voice"  # "A call comes in"
FALLBACK_PATH = "/voice/fallback"  # "Primary handler fails"
STATUS_PATH = "/voice/status"  # "Call status changes"
CHECK_TIMEOUT = 5.0  # seconds for ``--check``: Twilio itself waits at most 15 s for a webhook

# The number's voice settings (Twilio's IncomingPhoneNumber resource), in the order shown: Twilio's
# name -> the REST client's attribute and keyword. VoiceApplicationSid or TrunkSid, when set, make
# Twilio ignore the voice URLs altogether.
FIELDS = {
    "VoiceUrl": "voice_url", "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url", "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallback": "status_callback", "StatusCallbackMethod": "status_callback_method",
    "VoiceApplicationSid": "voice_application_sid", "TrunkSid": "trunk_sid",
}

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_RE = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
_EXAMPLE = "https://ivr.example.org"


def wanted(public_url: str, fallback_url: str = "") -> dict[str, str]:
    """Each of :data:`FIELDS` as ``connect`` sets it ("" = none) for a checked public URL; the
    fallback is ``fallback_url`` (IVR_FALLBACK_URL: a second region, a TwiML Bin) when given."""
    return {
        "VoiceUrl": public_url + VOICE_PATH, "VoiceMethod": "POST",
        "VoiceFallbackUrl": fallback_url or public_url + FALLBACK_PATH, "VoiceFallbackMethod": "POST",
        "StatusCallback": public_url + STATUS_PATH, "StatusCallbackMethod": "POST",
        "VoiceApplicationSid": "", "TrunkSid": "",
    }


@dataclass(frozen=True)
class Row:
    """One of the number's settings: as it is now and as ``connect`` sets it ("" = none)."""

    field: str
    now: str
    wanted: str

    @property
    def matches(self) -> bool:
        return self.now == self.wanted


def compare(current: Mapping[str, str], public_url: str, fallback_url: str = "") -> list[Row]:
    """The number's settings (``current``, keyed by :data:`FIELDS`) against :func:`wanted`."""
    target = wanted(public_url, fallback_url)
    return [Row(name, current.get(name, ""), target[name]) for name in FIELDS]


def _refuse(what: str, value: str, hint: str) -> ConfigError:
    return ConfigError(f"Expected {what} in IVR_PUBLIC_URL, got {value!r}.", hint=hint)


def check_public_url(value: str) -> str:
    """``value`` (IVR_PUBLIC_URL as loaded: trailing slashes already removed) if it is an address
    Twilio can call and signs exactly as the line checks it.

    Raises :class:`ConfigError` naming the value and the form to use: when it is unset, not https,
    has a user name, the default port written out, a path, query or fragment, a host in capitals
    or not a host name, or a host Twilio cannot reach (localhost, a private address).
    """
    if not value:
        raise ConfigError("IVR_PUBLIC_URL is not set: Twilio needs the https:// address of this line.",
                          hint=f"Set it to the address that reaches `ivr serve`, e.g. IVR_PUBLIC_URL={_EXAMPLE}")
    parts = urlsplit(value)
    netloc = parts.netloc
    if "@" in netloc:  # never echo a password
        shown = value.replace(netloc, "…@" + netloc.rsplit("@", 1)[1], 1)
        plain = f"https://{netloc.rsplit('@', 1)[1]}"
        raise _refuse("no user name or password", shown,
                      f"Twilio proves each request with its signature instead: set IVR_PUBLIC_URL={plain}")
    host, colon, port = netloc.partition(":")
    plain = "https://" + host.lower().rstrip(".") + (f":{port}" if port and port != "443" else "")
    if parts.scheme != "https":
        raise _refuse("an https:// address", value,
                      "Twilio sends callers' key presses there: put the line behind TLS "
                      "(a reverse proxy or tunnel) and give its https:// address.")
    if parts.query or parts.fragment or value.endswith(("?", "#")):
        raise _refuse("no query or fragment ('?' or '#')", value, f"The line adds its own paths to it: set IVR_PUBLIC_URL={plain}")
    if parts.path:
        raise _refuse("no path after the host", value,
                      f"The line answers at the root of its host (Twilio calls {VOICE_PATH} there): "
                      f"serve it at the root and set IVR_PUBLIC_URL={plain}")
    if colon and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise _refuse("a port number from 1 to 65535", value, f"e.g. IVR_PUBLIC_URL={_EXAMPLE}")
    signed = "Twilio signs the address exactly as it is set, so write it in its one plain form"
    if port == "443":
        raise _refuse("no default port :443", value, f"{signed}: set IVR_PUBLIC_URL={plain}")
    if host != host.lower() or host.endswith("."):
        raise _refuse("the host in lower case with no final dot", value, f"{signed}: set IVR_PUBLIC_URL={plain}")
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address | None = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if host == "localhost" or host.endswith(".localhost") or (address is not None and not address.is_global):
        raise _refuse("an address Twilio can reach from the internet", value,
                      "Give the public https:// address of a reverse proxy or tunnel in front of `ivr serve`.")
    if address is None and not _HOST_RE.fullmatch(host):
        raise _refuse("a host name like ivr.example.org (letters, digits, hyphens and dots)", value,
                      f"e.g. IVR_PUBLIC_URL={_EXAMPLE}")
    return value


def check_number(text: str) -> str:
    """``text`` if it is a phone number in E.164 form (``+441632960001``).

    Raises :class:`TwilioNumberError` naming it, with the E.164 form when ``text`` is a UK number
    written another way (``01632 960001``, ``+44 1632 960001``).
    """
    import phonenumbers

    from ivr.nurse.numbers import check_e164

    problem = check_e164(text)
    if problem is None:
        return text
    hint = "Give the number as Twilio lists it: + then the country code and number, no spaces (+441632960001)."
    try:
        parsed = phonenumbers.parse(text, "GB")
        if phonenumbers.is_possible_number(parsed):
            hint = f"Write it as {phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)}"
    except phonenumbers.NumberParseException:
        pass
    raise TwilioNumberError(f"The number {text!r} {problem}.", hint=hint)


def check_reachable(public_url: str, *, timeout: float = CHECK_TIMEOUT) -> None:
    """Fetch ``{public_url}/healthz`` as Twilio would reach the line (``--check``).

    Raises :class:`ConfigError` when it cannot be reached within ``timeout`` seconds (name not
    found, refused, TLS certificate not trusted, too slow) or does not answer 200.
    """
    import httpx

    url = public_url + "/healthz"
    hint = "Start the line (`ivr serve`) behind that address first, or run without --check."
    try:
        response = httpx.get(url, timeout=timeout)
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise ConfigError(f"Could not reach {url} (IVR_PUBLIC_URL): {reason}.", hint=hint) from exc
    if response.status_code != 200:
        raise ConfigError(f"{url} (IVR_PUBLIC_URL) answered HTTP {response.status_code}, not 200.",
                          hint="See `ivr serve`'s log: /healthz names what is wrong (the database or the audio).")
