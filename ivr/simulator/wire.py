"""Twilio's side of the HTTP conversation: signed webhook requests, TwiML fetched, media checked.

Signatures are computed exactly as Twilio does (``RequestValidator.compute_signature`` over the
full URL and the POST parameters; for GET the parameters go in the query string and are signed
as part of the URL). A response that is not 2xx, not XML, or not a <Response> is a failure.
"""

from __future__ import annotations

import io
import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

import httpx
from twilio.request_validator import RequestValidator

__all__ = ["AudioCheck", "Fetched", "Request", "Wire", "new_sid"]

TWILIO_TIMEOUT = 15.0  # seconds Twilio waits for a webhook before giving up


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass(frozen=True)
class Request:
    """A webhook request Twilio will make: where, how, and the parameters beyond the call's own."""

    url: str
    method: str = "POST"
    params: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        parts = urlsplit(self.url)
        where = parts.path + (f"?{parts.query}" if parts.query else "")
        extra = ", ".join(f"{k}={v}" for k, v in self.params)
        return f"{self.method} {where}" + (f" ({extra})" if extra else "")


@dataclass(frozen=True)
class Fetched:
    """A webhook's answer: the TwiML root, or why there is none."""

    root: ET.Element | None
    error: str | None = None
    status: int | None = None


@dataclass(frozen=True)
class AudioCheck:
    duration: float = 0.0
    error: str | None = None
    data: bytes = field(default=b"", repr=False)


class Wire:
    """One party's HTTP connection to the line (the caller's leg, or the nurse's leg)."""

    def __init__(
        self, token: str, call_params: dict[str, str], *, client: httpx.Client,
        audio_cache: dict[str, AudioCheck] | None = None,
    ) -> None:
        self.token = token
        self.validator = RequestValidator(token)
        self.call_params = call_params
        self.client = client
        self.audio_cache: dict[str, AudioCheck] = {} if audio_cache is None else audio_cache

    def with_params(self, call_params: dict[str, str]) -> Wire:
        """Another leg on the same connection (and the same media cache)."""
        return Wire(self.token, call_params, client=self.client, audio_cache=self.audio_cache)

    def send(self, request: Request, *, only: dict[str, str] | None = None) -> httpx.Response | str:
        """Make the request signed; the response, or a description of why there is none.

        ``only`` replaces the call parameters (status callbacks carry their own set).
        """
        params = dict(self.call_params if only is None else only)
        params.update(dict(request.params))
        url = request.url
        try:
            if request.method == "GET":
                url += ("&" if urlsplit(url).query else "?") + urlencode(params)
                headers = {"X-Twilio-Signature": self.validator.compute_signature(url, {})}
                return self.client.get(url, headers=headers, timeout=TWILIO_TIMEOUT)
            headers = {"X-Twilio-Signature": self.validator.compute_signature(url, params)}
            return self.client.post(url, data=params, headers=headers, timeout=TWILIO_TIMEOUT)
        except httpx.TimeoutException:
            return f"no answer within {TWILIO_TIMEOUT:g} s from {request.describe()}"
        except httpx.HTTPError as exc:
            return f"cannot reach {request.describe()}: {exc}"

    def fetch_twiml(self, request: Request) -> Fetched:
        """POST (or GET) the webhook and parse its TwiML; a failure says what Twilio would log."""
        response = self.send(request)
        if isinstance(response, str):
            return Fetched(None, response)
        where = request.describe()
        if not 200 <= response.status_code < 300:
            return Fetched(None, f"{where} answered HTTP {response.status_code}", response.status_code)
        try:
            root = ET.fromstring(response.content)
        except ET.ParseError as exc:
            return Fetched(None, f"{where} answered invalid XML ({exc})", response.status_code)
        if root.tag != "Response":
            return Fetched(None, f"{where} answered <{root.tag}>, not a TwiML <Response>", response.status_code)
        return Fetched(root, None, response.status_code)

    def fetch_audio(self, url: str) -> AudioCheck:
        """GET a <Play> file and check it is telephone audio: WAV, 8 kHz, mono, mu-law.

        Results are cached by URL (Twilio caches media too). Never raises: problems are in
        ``error``.
        """
        if url not in self.audio_cache:
            self.audio_cache[url] = self._check_audio(url)
        return self.audio_cache[url]

    def _check_audio(self, url: str) -> AudioCheck:
        try:
            headers = {"X-Twilio-Signature": self.validator.compute_signature(url, {})}
            response = self.client.get(url, headers=headers, timeout=TWILIO_TIMEOUT)
        except httpx.HTTPError as exc:
            return AudioCheck(error=f"cannot fetch audio {url}: {exc}")
        if response.status_code != 200:
            return AudioCheck(error=f"audio {url} answered HTTP {response.status_code}")
        kind = response.headers.get("content-type", "")
        if not kind.startswith("audio/"):
            return AudioCheck(error=f"audio {url} is served as {kind or 'no content type'}, not audio/*")
        import soundfile  # with numpy, 0.15 s: loaded at the first audio, not before the call is dialled

        try:
            info = soundfile.info(io.BytesIO(response.content))
        except (RuntimeError, soundfile.LibsndfileError) as exc:
            return AudioCheck(error=f"audio {url} is not a readable sound file ({exc})")
        found = (info.format, info.subtype, info.samplerate, info.channels)
        if found != ("WAV", "ULAW", 8000, 1):
            return AudioCheck(
                duration=info.frames / info.samplerate if info.samplerate else 0.0,
                error=f"audio {url} is {info.format} {info.subtype} {info.samplerate} Hz "
                      f"{info.channels} channel(s); expected WAV mu-law 8000 Hz mono",
            )
        return AudioCheck(duration=info.frames / info.samplerate, data=response.content)
