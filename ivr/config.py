"""Settings from environment variables, validated once at start-up with clear messages.

Every setting is documented in the README; ``tests/test_docs.py`` fails when one is not.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from ivr.errors import ConfigError

__all__ = ["SETTINGS", "Settings", "load_settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# name -> (default, one-line description). The README's settings table lists exactly these.
SETTINGS: dict[str, tuple[str, str]] = {
    "TWILIO_AUTH_TOKEN": ("", "Twilio auth token; signs every webhook. Unset: a local development token is made in the instance folder, and only the simulator can call."),
    "IVR_PUBLIC_URL": ("", "Base URL Twilio uses to reach the line (https://ivr.example.org), for absolute audio URLs and signature checks behind a proxy."),
    "IVR_SPEECH": ("audio", "`audio`: play the rendered files; `say`: Twilio's <Say> of the same text."),
    "IVR_SAY_VOICE": ("Polly.Amy", "Twilio voice for <Say> (IVR_SPEECH=say, and for any part whose audio is missing)."),
    "IVR_SAY_LANGUAGE": ("en-GB", "Language for <Say>."),
    "IVR_LOCALE": ("en-GB", "Which prompts folder under ivr/prompts/ to use."),
    "IVR_VOICE": ("gmw/en-gb-x-rp", "eSpeak NG voice used to render audio."),
    "IVR_LEAFLETS_DIR": ("leaflets", "Folder of leaflet Markdown files (relative to the project)."),
    "IVR_AUDIO_DIR": ("audio", "Folder of rendered audio and its manifest.json (relative to the project)."),
    "IVR_INSTANCE_DIR": ("instance", "Folder for local state: development token, SQLite database, secret key."),
    "IVR_DATABASE_URL": ("", "SQLAlchemy URL for messages and call-backs; default SQLite in the instance folder."),
    "IVR_NURSE_NUMBER": ("", "Nurse helpline number to transfer callers to, in E.164 (+44...)."),
    "IVR_NURSE_HOURS": ("Mon-Fri 09:00-17:00", "When nurses answer, e.g. `Mon-Fri 09:00-17:00; Sat 10:00-13:00`, or `always` / `never` (Europe/London)."),
    "IVR_NURSE_RING_SECONDS": ("25", "How long to ring the nurse line before offering a message or call-back."),
    "IVR_NURSE_CALLER_ID": ("", "Caller ID shown to the nurse; default the number the caller dialled."),
    "IVR_HOLIDAYS_REGION": ("ENG", "UK bank-holiday region (ENG, SCT, WLS, NIR) when nurses are closed."),
    "IVR_CLOSED_DATES": ("", "Extra closed dates, comma-separated ISO dates."),
    "IVR_MESSAGE_MAX_SECONDS": ("120", "Longest voicemail a caller can leave."),
    "IVR_LOG_LEVEL": ("INFO", "Logging level."),
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
    raw: Mapping[str, str] = field(repr=False, default_factory=dict)


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


def _local_token(instance_dir: Path) -> str:
    """The development auth token kept in the instance folder, made on first use."""
    path = instance_dir / "dev-auth-token"
    if not path.exists():
        instance_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(16) + "\n")
        path.chmod(0o600)
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
    instance_dir = _resolve(values["IVR_INSTANCE_DIR"])
    token = values["TWILIO_AUTH_TOKEN"].strip()
    database_url = values["IVR_DATABASE_URL"].strip() or f"sqlite:///{instance_dir / 'ivr.sqlite3'}"
    return Settings(
        auth_token=token or _local_token(instance_dir),
        auth_token_is_local=not token,
        public_url=public_url,
        speech=speech,  # type: ignore[arg-type]
        say_voice=values["IVR_SAY_VOICE"].strip(),
        say_language=values["IVR_SAY_LANGUAGE"].strip(),
        locale=values["IVR_LOCALE"].strip(),
        voice=values["IVR_VOICE"].strip(),
        leaflets_dir=_resolve(values["IVR_LEAFLETS_DIR"]),
        audio_dir=_resolve(values["IVR_AUDIO_DIR"]),
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
        raw=values,
    )
