"""docs/deploy.md cannot go stale: every setting, path and command it names exists."""

from __future__ import annotations

import re

import click
import pytest
from werkzeug.exceptions import MethodNotAllowed, NotFound

from ivr.cli import main
from ivr.config import SETTINGS

from .conftest import PROJECT

DOC = (PROJECT / "docs" / "deploy.md").read_text()
SETTING_RE = re.compile(r"\b(?:IVR|TWILIO)_[A-Z0-9_]*[A-Z0-9]\b")
SPANS = re.findall(r"`([^`\n]+)`", DOC)
# `GET /healthz`, `POST https://ivr.example.org/voice`, `/voice/key?...`, `GET /audio/<file>`;
# URLs on other hosts (the CDN) are not the line's.
PATH_RE = re.compile(r"(?:(GET|POST|HEAD) )?(?:https?://(ivr[^/\s]*))?(/[A-Za-z0-9_./<>-]*)(?:\?\S*)?")
PATHS = sorted({(m[1] or "", m[3]) for span in SPANS if (m := PATH_RE.fullmatch(span))})
COMMAND_RE = re.compile(r"`ivr ([a-z-]+)")


def test_the_doc_names_settings_and_paths():
    assert len(set(SETTING_RE.findall(DOC))) >= 8
    assert len(PATHS) >= 6


@pytest.mark.parametrize("name", sorted(set(SETTING_RE.findall(DOC))))
def test_every_setting_named_exists(name):
    assert name in SETTINGS, f"docs/deploy.md names {name}, which is not in ivr/config.py SETTINGS"


@pytest.mark.parametrize(("method", "path"), PATHS)
def test_every_path_named_is_answered(app, method, path):
    adapter = app.url_map.bind("ivr.example.org")
    concrete = re.sub(r"<[^>]+>", "0123456789abcdef0123456789abcdef.wav", path)
    methods = [method] if method else ["GET", "POST"]
    matched = []
    for chosen in methods:
        try:
            matched.append(adapter.match(concrete, method=chosen))
        except MethodNotAllowed:
            continue
        except NotFound:
            pytest.fail(f"docs/deploy.md names {path}, which the line does not answer")
    assert matched, f"docs/deploy.md names {method} {path}, which the line answers with another method"


@pytest.mark.parametrize("command", sorted(set(COMMAND_RE.findall(DOC))))
def test_every_command_named_exists(command):
    assert main.get_command(click.Context(main), command) is not None, f"docs/deploy.md names `ivr {command}`, which does not exist"


def test_the_deploy_essentials_are_covered():
    for needed in ("IVR_PUBLIC_URL", "IVR_DATABASE_URL", "IVR_AUDIO_BASE_URL", "TWILIO_AUTH_TOKEN",
                   "IVR_SECRET_KEY", "`GET /healthz`", "--no-render", "Primary handler fails"):
        assert needed in DOC
