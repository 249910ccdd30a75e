"""A telephone information line that reads patient leaflets aloud and transfers callers to a nurse."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by create_app: `import ivr.cli` must not load Flask
    from flask import Flask

    from ivr.runtime import Runtime

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(config: Mapping[str, object] | None = None, *, runtime: Runtime | None = None) -> Flask:
    """The Flask app. ``config`` overrides environment settings (IVR_*) and Flask settings.

    ``PRACTICE_LINE`` in ``config`` makes the browser phone's practice line instead
    (:mod:`ivr.web.practice`): the webhooks and audio only, on a store of its own, sharing ``runtime``
    (the content another app of this process has already loaded).

    Raises ConfigError or ContentError when a setting or content file is wrong: the line
    refuses to start rather than answer calls badly.
    """
    from ivr.config import instance_secret, load_settings
    from ivr.logs import configure_logging
    from ivr.runtime import load_runtime

    settings = runtime.settings if runtime is not None else load_settings(config)
    configure_logging(settings.log_level)
    from ivr.web.twilio_hooks import LineApp

    app = LineApp(__name__, instance_path=str(settings.instance_dir))
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key or instance_secret(settings.instance_dir, "secret-key", 32),
    )
    app.config.update({k: v for k, v in (config or {}).items() if not k.startswith(("IVR_", "TWILIO_"))})
    app.extensions["ivr.runtime"] = runtime or load_runtime(settings)

    if app.config.get("PRACTICE_LINE"):
        from ivr.web import audio, practice, voice

        features: tuple[ModuleType, ...] = (practice, audio, voice)
    else:
        from ivr.web import (
            audio,
            call_status,
            calllog,
            database,
            fallback,
            health,
            leaflets,
            metrics,
            phone,
            security,
            staff,
            texts,
            voice,
        )

        if settings.auth_token_is_local:
            log.warning(
                "TWILIO_AUTH_TOKEN is not set: using the development token in %s; "
                "only the local simulator (`ivr call`) can call this line, Twilio cannot.",
                settings.instance_dir / "dev-auth-token",
            )
        features = (security, database, texts, audio, voice, fallback, call_status, phone, calllog, metrics, staff, leaflets,
                    health)
    for feature in features:
        feature.init_app(app)
    return app
