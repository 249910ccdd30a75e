"""A telephone information line that reads patient leaflets aloud and transfers callers to a nurse."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from flask import Flask

from ivr.config import instance_secret, load_settings
from ivr.runtime import load_runtime

__all__ = ["create_app"]

log = logging.getLogger(__name__)


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """The Flask app. ``config`` overrides environment settings (IVR_*) and Flask settings.

    Raises ConfigError or ContentError when a setting or content file is wrong: the line
    refuses to start rather than answer calls badly.
    """
    settings = load_settings(config)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    app.config.from_mapping(
        SECRET_KEY=settings.secret_key or instance_secret(settings.instance_dir, "secret-key", 32),
    )
    app.config.update({k: v for k, v in (config or {}).items() if not k.startswith(("IVR_", "TWILIO_"))})
    app.extensions["ivr.runtime"] = load_runtime(settings)
    if settings.auth_token_is_local:
        log.warning(
            "TWILIO_AUTH_TOKEN is not set: using the development token in %s; "
            "only the local simulator (`ivr call`) can call this line, Twilio cannot.",
            settings.instance_dir / "dev-auth-token",
        )

    from ivr.web import audio, calllog, database, health, leaflets, metrics, phone, staff, voice

    for feature in (database, audio, voice, phone, calllog, metrics, staff, leaflets, health):
        feature.init_app(app)
    return app
