"""Shared fixtures: a real app on the project's real content, with a private instance folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr import create_app

PROJECT = Path(__file__).resolve().parent.parent
SHARED = PROJECT.parent / "shared"
SEED_SOURCE = SHARED / "leaflets" / "cryotherapy-for-kidney-cancer.txt"


@pytest.fixture
def instance_dir(tmp_path: Path) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def app_config(instance_dir: Path) -> dict[str, object]:
    """Settings for a test app; tests add or change keys before asking for ``app``."""
    return {
        "TESTING": True,
        "IVR_INSTANCE_DIR": str(instance_dir),
        "TWILIO_AUTH_TOKEN": "test-auth-token",
        "IVR_NURSE_NUMBER": "+441632960001",
        "IVR_NURSE_HOURS": "always",
    }


@pytest.fixture
def app(app_config: dict[str, object]):
    return create_app(app_config)


@pytest.fixture
def client(app):
    return app.test_client()
