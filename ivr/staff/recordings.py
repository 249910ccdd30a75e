"""Message recordings, fetched from Twilio for signed-in staff (never a public link).

A recording is fetched only from TWILIO_API_BASE_URL (Twilio's REST API: scheme, host and port
exactly), only at ``/2010-04-01/Accounts/<TWILIO_ACCOUNT_SID>/Recordings/RE<32 hex>``, with the
account's credentials, and is passed on only if it is a WAV file. Anything else, such as the
simulator's made-up recordings, is "not available" with the reason, never fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import httpx

from ivr.config import Settings

__all__ = ["FETCH_TIMEOUT", "MAX_RECORDING_BYTES", "Fetched", "RecordingUnavailable", "fetch_recording",
           "recording_problem"]

FETCH_TIMEOUT = 10.0
MAX_RECORDING_BYTES = 64 * 1024 * 1024  # ten minutes of 8 kHz WAV is ~10 MB; never hold more than this
_PATH_RE = re.compile(r"/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Recordings/(RE[0-9a-fA-F]{32})(\.wav)?")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Fetched:
    content: bytes
    mimetype: str


class RecordingUnavailable(Exception):
    """A recording that cannot be passed on: ``status`` is the HTTP status to answer staff with
    (404: no such recording; 502: Twilio failed or refused), ``reason`` a sentence for staff."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _origin(parts: SplitResult) -> tuple[str, str, int | None]:
    """(scheme, host, port) with the default port filled in. Raises ValueError for a bad port."""
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or ""), parts.port or _DEFAULT_PORTS.get(scheme)


def _account(settings: Settings) -> str:
    return settings.account_sid


def recording_problem(settings: Settings, url: str | None) -> str | None:
    """Why this recording cannot be played here (a sentence for staff), or None if it can be fetched.
    Never raises."""
    if not url:
        return "Twilio has not sent this recording's address yet."
    account = _account(settings)
    if not account or settings.auth_token_is_local:
        return "Recordings can be played here once TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set."
    parts = urlsplit(url)
    try:
        same_origin = _origin(parts) == _origin(urlsplit(settings.twilio_api_base_url))
    except ValueError:  # a port that is not a number
        same_origin = False
    match = _PATH_RE.fullmatch(parts.path)
    # No user name, query or fragment either: the address we fetch is exactly the base and the path.
    if not same_origin or parts.username is not None or parts.query or parts.fragment or match is None:
        return "This recording is not stored at Twilio (for example, a simulated call)."
    if match.group(1) != account:
        return "This recording belongs to another Twilio account (for example, a simulated call)."
    return None


def fetch_recording(settings: Settings, url: str) -> Fetched:
    """The recording as WAV (``audio/wav``), fetched with the account's credentials.

    Raises :class:`RecordingUnavailable`: 404 when :func:`recording_problem` names a problem or
    Twilio has no such recording; 502 when Twilio cannot be reached, refuses the credentials,
    fails, or answers with something that is not a WAV file of at most MAX_RECORDING_BYTES.
    """
    problem = recording_problem(settings, url)
    if problem is not None:
        raise RecordingUnavailable(404, problem)
    path = urlsplit(url).path.removesuffix(".wav")
    # Rebuilt from the setting and the checked path, so nothing else in the stored URL is used.
    target = f"{settings.twilio_api_base_url}{path}.wav"
    try:
        with httpx.Client(timeout=FETCH_TIMEOUT, follow_redirects=True) as client, \
                client.stream("GET", target, auth=(_account(settings), settings.auth_token)) as response:
            status = response.status_code
            if status in (401, 403):
                raise RecordingUnavailable(502, "Twilio refused the line's credentials "
                                                "(TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN need checking).")
            if status in (404, 410):
                raise RecordingUnavailable(404, "Twilio has no such recording (it may have been deleted).")
            if not 200 <= status < 300:
                raise RecordingUnavailable(502, f"Twilio answered HTTP {status}. Try again later.")
            content = bytearray()
            for chunk in response.iter_bytes():
                content += chunk
                if len(content) > MAX_RECORDING_BYTES:
                    raise RecordingUnavailable(502, "Twilio sent more than a recording's worth of data.")
    except httpx.HTTPError as exc:
        raise RecordingUnavailable(502, "Twilio could not be reached. Try again later.") from exc
    # Only a WAV file is passed on: whatever else came back is never served from our own address.
    if content[:4] != b"RIFF" or content[8:12] != b"WAVE":
        raise RecordingUnavailable(502, "Twilio's answer was not a WAV recording.")
    return Fetched(bytes(content), "audio/wav")
