"""Settings from environment variables, validated once at start-up with clear messages.

Every setting is documented in the README; ``tests/test_docs.py`` fails when one is not.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from ivr.errors import ConfigError

__all__ = ["SETTINGS", "Settings", "instance_secret", "load_settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# name -> (default, one-line description). The README's settings table lists exactly these.
SETTINGS: dict[str, tuple[str, str]] = {
    "TWILIO_AUTH_TOKEN": ("", "Twilio auth token; signs every webhook. Unset: a local development token is made in the instance folder, and only the simulator can call."),
    "IVR_PUBLIC_URL": ("", "Base URL Twilio uses to reach the line (https://ivr.example.org), for absolute audio URLs, signature checks behind a proxy, and the webhooks `ivr twilio connect` sets."),
    "IVR_FALLBACK_URL": ("", "Where Twilio goes when the line fails (\"Primary handler fails\"), as `ivr twilio connect` sets it: the https:// address of `/voice/fallback` on a second region, or of a TwiML Bin or static host holding what `ivr twilio fallback-twiml` prints. Unset: IVR_PUBLIC_URL/voice/fallback."),
    "IVR_SPEECH": ("audio", "`audio`: play the rendered files; `say`: Twilio's <Say> of the same text."),
    "IVR_SAY_VOICE": ("Polly.Amy", "Twilio voice for <Say> (IVR_SPEECH=say, and for any part whose audio is missing)."),
    "IVR_SAY_LANGUAGE": ("en-GB", "Language for <Say>."),
    "IVR_LOCALE": ("en-GB", "Which prompts folder under ivr/prompts/ to use."),
    "IVR_VOICE": ("gmw/en-gb-x-rp", "eSpeak NG voice used to render audio."),
    "IVR_LEAFLETS_DIR": ("leaflets", "Folder of leaflet Markdown files (relative to the project)."),
    "IVR_REVIEW_PERIOD_MONTHS": ("36", "Months after its last review that a leaflet without a `next_review` date falls due for review (1 to 120). Past it, `ivr check` reports it (an error for service) and callers are told the content is due for review."),
    "IVR_AUDIO_DIR": ("audio", "Folder of rendered audio and its manifest.json (relative to the project)."),
    "IVR_AUDIO_BASE_URL": ("", "Where Twilio fetches the rendered audio: a static host or CDN holding the audio folder's files (https://cdn.example.org/ivr-audio/). Default: this server's /audio/."),
    "IVR_INSTANCE_DIR": ("instance", "Folder for local state: development token, SQLite database, secret key."),
    "IVR_SECRET_KEY": ("", "Key that signs staff sessions and browser-phone state and keys the call log's caller hashes; the same on every server (at least 32 characters). Unset: one made in the instance folder."),
    "IVR_DATABASE_URL": ("", "SQLAlchemy URL for messages and call-backs; default SQLite in the instance folder."),
    "IVR_NURSE_NUMBER": ("", "Nurse helpline number to transfer callers to, in E.164 (+44...)."),
    "IVR_NURSE_HOURS": ("Mon-Fri 09:00-17:00", "When nurses answer, e.g. `Mon-Fri 09:00-17:00; Sat 10:00-13:00`, or `always` / `never` (Europe/London)."),
    "IVR_NURSE_RING_SECONDS": ("25", "How long to ring the nurse line before offering a message or call-back."),
    "IVR_NURSE_CALLER_ID": ("", "Caller ID shown to the nurse; default the number the caller dialled."),
    "IVR_HOLIDAYS_REGION": ("ENG", "UK bank-holiday region (ENG, SCT, WLS, NIR) when nurses are closed."),
    "IVR_CLOSED_DATES": ("", "Extra closed dates, comma-separated ISO dates."),
    "IVR_MESSAGE_MAX_SECONDS": ("120", "Longest voicemail a caller can leave."),
    "IVR_KEY_TIMEOUT": ("8", "Seconds the line waits for a key (or words) after a question, and between the digits of a number."),
    "IVR_CALLBACK_WITHIN_MINUTES": ("120", "How soon, in minutes of the nurses' opening hours, callers are told to expect a call-back (also the queue's due time)."),
    "IVR_CALLBACK_FROM": ("", "The number call-backs come from, in E.164 (+44...), told to callers when a call-back or message is saved. Unset: not said."),
    "IVR_SPEECH_INPUT": ("on", "`on`: callers may say a choice as well as press a key (Twilio speech recognition, charged by Twilio); `off`: keys only."),
    "IVR_WELCOME_BACK_DAYS": ("30", "A caller whose number (as the call log's keyed hash) listened to a leaflet in this many days and did not finish it is offered, after the emergency sentence, to carry on where they left off (0 to 365; 0: never offered)."),
    "IVR_WELCOME_BACK_WAIT_MS": ("20", "Longest the line waits for the call log to say where a returning caller left off (milliseconds, 1 to 1000); slower, or the database down, and the call is answered without the offer (logged)."),
    "IVR_LOG_LEVEL": ("INFO", "Logging level."),
    "TWILIO_ACCOUNT_SID": ("", "Twilio account SID (AC...); with TWILIO_AUTH_TOKEN, lets `ivr twilio connect` set the line's number and the staff pages fetch message recordings from Twilio. Unset: recordings are not played."),
    "TWILIO_API_BASE_URL": ("https://api.twilio.com", "Twilio's REST API, scheme and host only (`ivr twilio` and message recordings use it); change it only for tests or a Twilio edge/region (https://api.dublin.ie1.twilio.com)."),
    "IVR_SMS_FROM": ("", "Who text messages come from: a number on the Twilio account, in E.164 (+44...), or a Messaging Service SID (MG...). With TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and IVR_PUBLIC_URL set, callers on a UK mobile are offered a link to the leaflet by text message. Unset: not offered."),
    "IVR_TEXTS_PER_NUMBER_PER_DAY": ("3", "Most text messages one caller's number is sent in 24 hours (1 to 20): a guard against text-message fraud."),
    "IVR_TEXTS_PER_HOUR": ("100", "Most text messages the whole line sends in an hour (1 to 10000): a guard against text-message fraud."),
    "IVR_METRICS": ("staff", "Who may read `/metrics`: `staff` (a staff login, or the bearer token IVR_METRICS_TOKEN) or `open` (anyone who can reach it: bind to a private network)."),
    "IVR_METRICS_TOKEN": ("", "Bearer token a Prometheus scraper sends to read `/metrics` when IVR_METRICS=staff (Authorization: Bearer ...). Unset: staff login only."),
    "IVR_PHONE": ("", "Who may use the browser phone at `/phone`: `open` (anyone who can reach the app), `staff` (a staff login) or `off`. Unset: `open` with the local development token, `staff` once TWILIO_AUTH_TOKEN is set."),
    "IVR_TRUSTED_PROXIES": ("0", "How many proxies (load balancers) in front of the app add X-Forwarded-For and X-Forwarded-Proto: the client's address is read that many hops back, for sign-in limits and the browser phone's rate limit. 0: the forwarded headers are not trusted (anyone can send them)."),
    "IVR_STAFF_IDLE_MINUTES": ("30", "A staff session ends after this many minutes without a page."),
    "IVR_STAFF_SESSION_HOURS": ("10", "A staff session ends this many hours after signing in, however busy (a working shift)."),
    "IVR_CLOCK": ("", "For tests only: a fixed time with its offset (2026-12-24T18:00:00+00:00) that the nurse line takes as now. Leave unset in service."),
}


def _resolve(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class Settings:
    """Validated settings. Build with :func:`load_settings`."""

    auth_token: str
    auth_token_is_local: bool
    public_url: str
    speech: Literal["audio", "say"]
    say_voice: str
    say_language: str
    locale: str
    voice: str
    leaflets_dir: Path
    audio_dir: Path
    instance_dir: Path
    database_url: str
    nurse_number: str
    nurse_hours: str
    nurse_ring_seconds: int
    nurse_caller_id: str
    holidays_region: str
    closed_dates: str
    message_max_seconds: int
    log_level: str
    audio_base_url: str = ""  # "" or an absolute URL ending in "/"
    secret_key: str = field(repr=False, default="")  # "" = the one in the instance folder
    twilio_api_base_url: str = "https://api.twilio.com"  # scheme://host[:port], no trailing "/"
    account_sid: str = ""  # TWILIO_ACCOUNT_SID, "" when unset
    metrics: Literal["staff", "open"] = "staff"
    metrics_token: str = field(repr=False, default="")
    phone: Literal["open", "staff", "off"] = "open"  # IVR_PHONE, its default already applied
    clock: dt.datetime | None = None  # IVR_CLOCK (tests only): the fixed time the line takes as now
    key_timeout: int = 8
    callback_within_minutes: int = 120
    callback_from: str = ""
    speech_input: bool = True
    review_period_months: int = 36  # IVR_REVIEW_PERIOD_MONTHS
    trusted_proxies: int = 0  # IVR_TRUSTED_PROXIES: forwarded hops to trust (0: none)
    staff_idle_minutes: int = 30
    staff_session_hours: int = 10
    fallback_url: str = ""  # IVR_FALLBACK_URL: "" = IVR_PUBLIC_URL/voice/fallback
    welcome_back_days: int = 30  # IVR_WELCOME_BACK_DAYS (0: off)
    welcome_back_wait_ms: int = 20  # IVR_WELCOME_BACK_WAIT_MS
    sms_from: str = ""  # IVR_SMS_FROM: E.164 or a Messaging Service SID (MG...); "" = no text messages
    texts_per_number_per_day: int = 3
    texts_per_hour: int = 100

    @property
    def for_service(self) -> bool:
        """A real Twilio auth token is set: the line answers real callers, so only approved words."""
        return not self.auth_token_is_local

    @property
    def can_send_texts(self) -> bool:
        """Everything a text message with a leaflet's link needs: a sender, the account's
        credentials, and the public address the link points at."""
        return bool(self.sms_from and self.account_sid and not self.auth_token_is_local and self.public_url)


def _int(values: Mapping[str, str], name: str, low: int, high: int) -> int:
    text = values[name].strip()
    try:
        number = int(text)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        raise ConfigError(
            f"Expected a whole number from {low} to {high} in {name}, got {text!r}.",
            hint=f"e.g. {name}={SETTINGS[name][0]}",
        )
    return number


def _api_base_url(text: str) -> str:
    """TWILIO_API_BASE_URL as ``scheme://host[:port]``: https, or http only to this machine (a
    test's fake Twilio), because the account's credentials are sent there. Raises ConfigError."""
    value = text.strip().rstrip("/") or SETTINGS["TWILIO_API_BASE_URL"][0]  # set but empty: the default
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        parts, port = None, None
    hint = "Leave it unset for Twilio (https://api.twilio.com), or give an https:// address with no path."
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None \
            or parts.path or parts.query or parts.fragment or value.endswith(("?", "#")):
        raise ConfigError(f"Expected an address like https://api.twilio.com in TWILIO_API_BASE_URL, got {text!r}.",
                          hint=hint)
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost"):
        raise ConfigError(
            f"Expected https:// in TWILIO_API_BASE_URL (the account's credentials are sent there), got {text!r}.",
            hint="http:// is allowed only for a test server on this machine (127.0.0.1 or localhost).",
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname  # IPv6 keeps its brackets
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


def _fallback_url(text: str) -> str:
    """IVR_FALLBACK_URL: "" or an https:// address with a host (any path: a TwiML Bin's is
    /twiml/EH...). Raises ConfigError naming the value."""
    value = text.strip()
    if not value:
        return ""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  # raises ValueError for a malformed port
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname or parts.username is not None \
            or parts.fragment or any(ch.isspace() for ch in value):
        raise ConfigError(
            f"Expected an https:// address like https://ivr-b.example.org/voice/fallback in IVR_FALLBACK_URL, "
            f"got {text!r}.",
            hint="Twilio calls it when the line fails: a second region's /voice/fallback, or a TwiML Bin's URL; "
                 "or leave it unset for IVR_PUBLIC_URL/voice/fallback.",
        )
    return value


def _e164(values: Mapping[str, str], name: str) -> str:
    """An optional E.164 number (+ and 7 to 15 digits); ConfigError naming the setting otherwise."""
    text = values[name].strip()
    if text and not (text.startswith("+") and text[1:].isdigit() and 7 <= len(text) - 1 <= 15 and text[1] != "0"):
        raise ConfigError(f"Expected a number in E.164 form like '+441632960000' in {name}, got {text!r}.",
                          hint="A + then the country code and the number, with no spaces; or leave it unset.")
    return text


def _sms_from(values: Mapping[str, str]) -> str:
    """IVR_SMS_FROM: "", an E.164 number, or a Messaging Service SID (MG and 32 hexadecimal digits)."""
    text = values["IVR_SMS_FROM"].strip()
    if text.startswith("MG"):
        if len(text) == 34 and all(c in "0123456789abcdef" for c in text[2:]):
            return text
        raise ConfigError(f"Expected MG followed by 32 lower-case hexadecimal digits in IVR_SMS_FROM, got {text!r}.",
                          hint="Copy the Messaging Service SID from the Twilio console, or give a number like +447700900000.")
    return _e164(values, "IVR_SMS_FROM")


def _choice(values: Mapping[str, str], name: str, allowed: tuple[str, ...], default: str, hint: str) -> str:
    text = values[name].strip().lower() or default
    if text not in allowed:
        quoted = [f"`{option}`" for option in allowed]
        options = ", ".join(quoted[:-1]) + f" or {quoted[-1]}"
        raise ConfigError(f"Expected {options} in {name}, got {values[name]!r}.", hint=hint)
    return text


def parse_clock(value: str) -> dt.datetime | None:
    """``IVR_CLOCK`` (tests only): an ISO time with its offset, or None for the real clock."""
    if not value.strip():
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ConfigError(
            f"Expected a time with its offset like '2026-12-24T18:00:00+00:00', got '{value}' in IVR_CLOCK.",
            hint="IVR_CLOCK is for tests only; leave it unset in service.",
        )
    return moment


def instance_secret(instance_dir: Path, name: str, nbytes: int) -> str:
    """A random secret kept in ``instance_dir/name`` (owner-only), made on first use and the
    same on every later start: the development auth token, the app's secret key."""
    path = instance_dir / name
    if not path.exists():
        instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Created owner-only (never readable by others, not even for a moment), written whole under
        # a name of its own, then linked into place: a worker starting at the same time either
        # finds no file or the whole secret, and the first one made is the one every worker keeps.
        draft = instance_dir / f".{name}.{os.getpid()}.{secrets.token_hex(4)}"
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(nbytes) + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.link(draft, path)
            logging.getLogger(__name__).warning("made a new %s in %s", name, path)
        except FileExistsError:
            pass  # another worker made it first: use theirs
        finally:
            draft.unlink(missing_ok=True)
    return path.read_text().strip()


def load_settings(overrides: Mapping[str, object] | None = None) -> Settings:
    """Read settings from the environment, then ``overrides`` (tests, ``create_app(config)``).

    Raises :class:`ConfigError` naming the variable, the bad value and the expected form.
    """
    values = {name: os.environ.get(name, default) for name, (default, _) in SETTINGS.items()}
    for key, value in (overrides or {}).items():
        if key in SETTINGS:
            values[key] = str(value)
    speech = values["IVR_SPEECH"].strip().lower()
    if speech not in ("audio", "say"):
        raise ConfigError(
            f"Expected `audio` or `say` in IVR_SPEECH, got {values['IVR_SPEECH']!r}.",
            hint="Leave it unset to play the rendered audio files.",
        )
    public_url = values["IVR_PUBLIC_URL"].strip().rstrip("/")
    if public_url and not public_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"Expected a URL starting with https:// in IVR_PUBLIC_URL, got {public_url!r}.",
            hint="The address Twilio is configured to call, without the /voice path.",
        )
    audio_base_url = values["IVR_AUDIO_BASE_URL"].strip()
    if audio_base_url and not audio_base_url.startswith(("http://", "https://")):
        raise ConfigError(
            f"Expected a URL starting with https:// in IVR_AUDIO_BASE_URL, got {audio_base_url!r}.",
            hint="The address of the folder holding the rendered .wav files, or leave it unset.",
        )
    secret_key = values["IVR_SECRET_KEY"].strip()
    if secret_key and len(secret_key) < 32:
        raise ConfigError(
            f"Expected at least 32 characters in IVR_SECRET_KEY, got {len(secret_key)}.",
            hint="Make one with: python3 -c 'import secrets; print(secrets.token_hex(32))'",
        )
    twilio_api_base_url = _api_base_url(values["TWILIO_API_BASE_URL"])
    instance_dir = _resolve(values["IVR_INSTANCE_DIR"])
    token = values["TWILIO_AUTH_TOKEN"].strip()
    database_url = values["IVR_DATABASE_URL"].strip() or f"sqlite:///{instance_dir / 'ivr.sqlite3'}"
    return Settings(
        auth_token=token or instance_secret(instance_dir, "dev-auth-token", 16),
        auth_token_is_local=not token,
        public_url=public_url,
        speech=speech,  # type: ignore[arg-type]
        say_voice=values["IVR_SAY_VOICE"].strip(),
        say_language=values["IVR_SAY_LANGUAGE"].strip(),
        locale=values["IVR_LOCALE"].strip(),
        voice=values["IVR_VOICE"].strip(),
        leaflets_dir=_resolve(values["IVR_LEAFLETS_DIR"]),
        audio_dir=_resolve(values["IVR_AUDIO_DIR"]),
        audio_base_url=audio_base_url.rstrip("/") + "/" if audio_base_url else "",
        secret_key=secret_key,
        twilio_api_base_url=twilio_api_base_url,
        instance_dir=instance_dir,
        database_url=database_url,
        nurse_number=values["IVR_NURSE_NUMBER"].strip(),
        nurse_hours=values["IVR_NURSE_HOURS"].strip(),
        nurse_ring_seconds=_int(values, "IVR_NURSE_RING_SECONDS", 5, 120),
        nurse_caller_id=values["IVR_NURSE_CALLER_ID"].strip(),
        holidays_region=values["IVR_HOLIDAYS_REGION"].strip().upper(),
        closed_dates=values["IVR_CLOSED_DATES"].strip(),
        message_max_seconds=_int(values, "IVR_MESSAGE_MAX_SECONDS", 10, 600),
        log_level=values["IVR_LOG_LEVEL"].strip().upper(),
        account_sid=values["TWILIO_ACCOUNT_SID"].strip(),
        metrics=_choice(values, "IVR_METRICS", ("staff", "open"), "staff",  # type: ignore[arg-type]
                        "Leave it unset so that /metrics needs a staff login or IVR_METRICS_TOKEN."),
        metrics_token=values["IVR_METRICS_TOKEN"].strip(),
        phone=_choice(values, "IVR_PHONE", ("open", "staff", "off"),  # type: ignore[arg-type]
                      "open" if not token else "staff",
                      "Leave it unset: open for a local start, staff login once TWILIO_AUTH_TOKEN is set."),
        clock=parse_clock(values["IVR_CLOCK"]),
        key_timeout=_int(values, "IVR_KEY_TIMEOUT", 3, 30),
        callback_within_minutes=_int(values, "IVR_CALLBACK_WITHIN_MINUTES", 15, 7 * 24 * 60),
        callback_from=_e164(values, "IVR_CALLBACK_FROM"),
        speech_input=_choice(values, "IVR_SPEECH_INPUT", ("on", "off"), "on",
                             "`off` turns speech recognition off (keys only).") == "on",
        review_period_months=_int(values, "IVR_REVIEW_PERIOD_MONTHS", 1, 120),
        trusted_proxies=_int(values, "IVR_TRUSTED_PROXIES", 0, 5),
        staff_idle_minutes=_int(values, "IVR_STAFF_IDLE_MINUTES", 1, 24 * 60),
        staff_session_hours=_int(values, "IVR_STAFF_SESSION_HOURS", 1, 24),
        fallback_url=_fallback_url(values["IVR_FALLBACK_URL"]),
        welcome_back_days=_int(values, "IVR_WELCOME_BACK_DAYS", 0, 365),
        welcome_back_wait_ms=_int(values, "IVR_WELCOME_BACK_WAIT_MS", 1, 1000),
        sms_from=_sms_from(values),
        texts_per_number_per_day=_int(values, "IVR_TEXTS_PER_NUMBER_PER_DAY", 1, 20),
        texts_per_hour=_int(values, "IVR_TEXTS_PER_HOUR", 1, 10000),
    )
