"""``GET /healthz``: may a load balancer send calls to this server? (endpoint ``health.healthz``)

Checks the database (the nurse line's store answers ``SELECT 1``) and the audio: the manifest
is present and every file it names is in the audio folder (not checked when IVR_AUDIO_BASE_URL
puts the files on another host). Answers JSON with each check, 200 when healthy and 503 when
not: the database is down, or IVR_SPEECH=audio and the manifest is missing, empty or names a
missing file (Twilio would be sent to fetch audio that is not there).

No signature (load balancers and uptime monitors call it) and nothing about callers: only
yes/no, counts and fixed descriptions. The reasons are logged for the operator.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, jsonify

from ivr.errors import StoreError
from ivr.runtime import current_runtime
from ivr.speech.manifest import MANIFEST_NAME

__all__ = ["bp", "init_app"]

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


def _database() -> dict[str, object]:
    store = current_app.extensions.get("ivr.store")
    if store is None:
        return {"ok": False, "error": "no database in this app"}
    try:
        store.ping()
    except StoreError as exc:
        log.error("health check: the database does not answer: %s", exc)
        return {"ok": False, "error": "the database does not answer"}
    return {"ok": True}


def _audio() -> dict[str, object]:
    runtime = current_runtime()
    settings = runtime.settings
    entries = runtime.manifest.entries
    report: dict[str, object] = {
        "speech": settings.speech,
        "manifest": (settings.audio_dir / MANIFEST_NAME).is_file(),
        "entries": len(entries),
    }
    if settings.audio_base_url:
        report["missing_files"] = None  # served by another host: not ours to see
    else:
        report["missing_files"] = sum(not (settings.audio_dir / e.file).is_file() for e in entries)
    problems = []
    if not report["manifest"]:
        problems.append(f"no {MANIFEST_NAME} in {settings.audio_dir}")
    elif not entries:
        problems.append(f"{MANIFEST_NAME} in {settings.audio_dir} lists no audio")
    if report["missing_files"]:
        problems.append(f"{report['missing_files']} files named in {MANIFEST_NAME} are missing")
    report["ok"] = settings.speech != "audio" or not problems
    if problems and settings.speech == "audio":
        log.error("health check: audio is not ready: %s (run `ivr render`)", "; ".join(problems))
    return report


@bp.get("/healthz")
def healthz() -> Response:
    """Each check's result; 200 when all pass, else 503. Never raises for a failed check."""
    checks = {"database": _database(), "audio": _audio()}
    healthy = all(check["ok"] for check in checks.values())
    response = jsonify(status="ok" if healthy else "unavailable", checks=checks)
    response.status_code = 200 if healthy else 503
    response.cache_control.no_store = True
    return response


def init_app(app: Flask) -> None:
    """Register ``/healthz`` on ``app``."""
    app.register_blueprint(bp)
