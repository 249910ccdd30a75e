"""Helpers for the staff-page tests: a live server with a staff user, and a signed-in HTTP session.

The user is added with the real command (``ivr users add NAME --password-stdin``); the session is
a real httpx client with a cookie jar that reads each form's CSRF token from the page, as a
browser would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from ivr.cli import main
from tests.conftest import LiveServer, start_server

__all__ = ["PASSWORD", "USER", "StaffSession", "add_user_cli", "csrf_from", "staff_server"]

USER = "alice"
PASSWORD = "correct horse battery"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = CSRF_RE.search(html)
    assert found, "the page has no CSRF token in a form"
    return found.group(1)


def add_user_cli(config: dict[str, object], name: str, password: str) -> None:
    env = {k: str(v) for k, v in config.items() if k.startswith(("IVR_", "TWILIO_"))}
    result = CliRunner().invoke(main, ["users", "add", name, "--password-stdin"], input=password + "\n", env=env)
    assert result.exit_code == 0, result.output


class StaffSession:
    """A browser-like session on the staff pages: cookies kept, redirects not followed."""

    def __init__(self, server: LiveServer) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=20)

    def get(self, path: str) -> httpx.Response:
        return self.http.get(path)

    def post_form(self, path: str, data: dict[str, str] | None = None, *, token_from: str = "/staff/login") -> httpx.Response:
        """POST ``data`` with the CSRF token found on the page ``token_from``."""
        token = csrf_from(self.http.get(token_from).text)
        return self.http.post(path, data={**(data or {}), "csrf_token": token})

    def login(self, name: str = USER, password: str = PASSWORD) -> httpx.Response:
        return self.post_form("/staff/login", {"name": name, "password": password})

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def staff_server(app_config: dict[str, object], tmp_path: Path) -> Iterator[LiveServer]:
    """A live server whose database has staff user ``alice``."""
    add_user_cli(app_config, USER, PASSWORD)
    server = start_server(app_config, tmp_path)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)
