"""``GET /healthz`` through a real gunicorn server: what a load balancer sees.

Each test starts the line with a database and an audio folder in a known state (a tiny audio
folder: a manifest naming two files, which exist unless the test removes one).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from .conftest import start_server

FILES = ["0123456789abcdef0123456789abcdef.wav", "fedcba9876543210fedcba9876543210.wav"]


def audio_folder(folder: Path, *, files: list[str] = FILES, present: list[str] = FILES) -> Path:
    folder.mkdir(parents=True)
    entries = [{"id": f"call.test_{n}", "rate": "normal", "text": f"Test sentence {n}.", "file": name,
                "duration": 1.0} for n, name in enumerate(files)]
    (folder / "manifest.json").write_text(json.dumps({"entries": entries}))
    for name in present:
        (folder / name).write_bytes(b"RIFF")
    return folder


def health(config: dict[str, object], tmp_path: Path) -> httpx.Response:
    server = start_server(config, tmp_path)
    try:
        return httpx.get(server.url + "/healthz", timeout=20)  # no X-Twilio-Signature: none needed
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)


def test_a_healthy_line_answers_200_with_each_check(app_config, tmp_path):
    app_config["IVR_AUDIO_DIR"] = str(audio_folder(tmp_path / "audio"))
    response = health(app_config, tmp_path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert "no-store" in response.headers["cache-control"]
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"ok": True},
            "audio": {"ok": True, "speech": "audio", "manifest": True, "entries": 2, "missing_files": 0},
        },
    }


def test_a_database_that_cannot_be_opened_is_unhealthy(app_config, tmp_path):
    app_config["IVR_AUDIO_DIR"] = str(audio_folder(tmp_path / "audio"))
    app_config["IVR_DATABASE_URL"] = f"sqlite:///{tmp_path / 'no-such-folder' / 'ivr.sqlite3'}"
    response = health(app_config, tmp_path)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["audio"]["ok"] is True
    assert "no-such-folder" not in response.text  # where the database lives is for the log only


def test_a_database_file_that_is_not_a_database_is_unhealthy(app_config, tmp_path):
    damaged = tmp_path / "ivr.sqlite3"
    damaged.write_bytes(b"this is not an SQLite database\n" * 100)
    app_config["IVR_AUDIO_DIR"] = str(audio_folder(tmp_path / "audio"))
    app_config["IVR_DATABASE_URL"] = f"sqlite:///{damaged}"
    response = health(app_config, tmp_path)
    assert response.status_code == 503
    assert response.json()["checks"]["database"] == {"ok": False, "error": "the database does not answer"}


@pytest.mark.parametrize(("case", "speech", "status", "audio"), [
    ("no manifest", "audio", 503, {"ok": False, "speech": "audio", "manifest": False, "entries": 0, "missing_files": 0}),
    ("a file missing", "audio", 503, {"ok": False, "speech": "audio", "manifest": True, "entries": 2, "missing_files": 1}),
    ("no manifest, <Say> wanted", "say", 200, {"ok": True, "speech": "say", "manifest": False, "entries": 0, "missing_files": 0}),
])
def test_audio_the_line_cannot_play_is_unhealthy(app_config, tmp_path, case, speech, status, audio):
    if case.startswith("no manifest"):
        (tmp_path / "empty").mkdir()
        app_config["IVR_AUDIO_DIR"] = str(tmp_path / "empty")
    else:
        app_config["IVR_AUDIO_DIR"] = str(audio_folder(tmp_path / "audio", present=FILES[:1]))
    app_config["IVR_SPEECH"] = speech
    response = health(app_config, tmp_path)
    assert response.status_code == status
    assert response.json()["checks"]["audio"] == audio
    assert response.json()["checks"]["database"] == {"ok": True}


def test_audio_on_another_host_is_not_looked_for_here(app_config, tmp_path):
    app_config["IVR_AUDIO_DIR"] = str(audio_folder(tmp_path / "audio", present=[]))
    app_config["IVR_AUDIO_BASE_URL"] = "https://cdn.example.org/ivr-audio/"
    response = health(app_config, tmp_path)
    assert response.status_code == 200
    assert response.json()["checks"]["audio"] == {
        "ok": True, "speech": "audio", "manifest": True, "entries": 2, "missing_files": None,
    }


def test_healthz_is_get_only_and_says_nothing_of_callers(live_server):
    assert httpx.post(live_server.url + "/healthz", timeout=20).status_code == 405
    response = httpx.head(live_server.url + "/healthz", timeout=20)
    assert response.status_code in (200, 503)
    body = httpx.get(live_server.url + "/healthz", timeout=20).text
    assert "+44" not in body and "CallSid" not in body
