"""Shared fixtures: a real app on the project's real content, with a private instance folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr import create_app

PROJECT = Path(__file__).resolve().parent.parent
# The seed leaflet's page as copied, kept in the repository beside the leaflet (its source_file).
SEED_SOURCE = PROJECT / "leaflets" / "sources" / "cryotherapy-for-kidney-cancer.txt"
# The leaflets the tests run the line on: a copy of the seed of their own, so that the project's
# leaflets/ folder can grow (a second leaflet dropped in) without changing what the tests hear.
TEST_LEAFLETS = PROJECT / "tests" / "fixtures" / "leaflets-one"


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
        "IVR_LEAFLETS_DIR": str(TEST_LEAFLETS),
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


# --- A real server process on 127.0.0.1, called with signed requests, as Twilio would ---

import os  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator, Mapping  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import httpx  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LiveServer:
    url: str  # http://127.0.0.1:PORT
    token: str
    process: subprocess.Popen
    log_path: Path

    def sign(self, url: str, params: Mapping[str, str]) -> str:
        return RequestValidator(self.token).compute_signature(url, dict(params))

    def post(self, path_or_url: str, params: Mapping[str, str] | None = None, *, signature: str | None = None) -> httpx.Response:
        """POST form ``params`` to a path ("/voice") or absolute URL, signed unless ``signature`` is given."""
        url = path_or_url if path_or_url.startswith("http") else self.url + path_or_url
        params = dict(params or {})
        headers = {"X-Twilio-Signature": self.sign(url, params) if signature is None else signature}
        return httpx.post(url, data=params, headers=headers, timeout=20)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_server(env_overrides: Mapping[str, object], tmp_path: Path, *, workers: int = 1) -> LiveServer:
    """Start ``gunicorn 'ivr:create_app()'`` with these settings; wait until it accepts connections."""
    port = free_port()
    settings = {k: str(v) for k, v in env_overrides.items() if k.startswith(("IVR_", "TWILIO_"))}
    env = {**os.environ, "IVR_LEAFLETS_DIR": str(TEST_LEAFLETS), **settings}
    log_path = tmp_path / f"server-{port}.log"
    log_file = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--timeout", "30", "--error-logfile", "-", "ivr:create_app()"],
        cwd=PROJECT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"server exited at start:\n{log_path.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"server did not start:\n{log_path.read_text()}") from None
            time.sleep(0.05)  # readiness poll of a real socket, not synchronisation by sleeping
    return LiveServer(f"http://127.0.0.1:{port}", str(env_overrides["TWILIO_AUTH_TOKEN"]), process, log_path)


@pytest.fixture
def live_server(app_config: dict[str, object], tmp_path: Path) -> Iterator[LiveServer]:
    """A real gunicorn process serving the line with ``app_config``; stopped after the test."""
    server = start_server(app_config, tmp_path)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


# --- Rendered speech (speech issue): the project's real content in the project's audio/ ---


@pytest.fixture(scope="session")
def rendered_audio_dir() -> Path:
    """Render every leaflet part of the test leaflets and every prompt into the project's own
    audio folder (content-addressed: a quick no-op when it is current) and return its path.
    Fails the tests that use it, naming the parts, if any part cannot be rendered."""
    from ivr.config import load_settings
    from ivr.content.catalogue import load_catalogue
    from ivr.prompts import load_prompts
    from ivr.speech.render import render_missing

    settings = load_settings({
        "IVR_AUDIO_DIR": str(PROJECT / "audio"), "IVR_LEAFLETS_DIR": str(TEST_LEAFLETS),
        "TWILIO_AUTH_TOKEN": "test-auth-token",  # no development token written by the tests
    })
    render_missing(settings, load_catalogue(settings.leaflets_dir), load_prompts(settings.locale), progress=False)
    return settings.audio_dir


@dataclass(frozen=True)
class SeedAudio:
    audio_dir: Path  # a temporary folder rendered from cold: the seed leaflet at both rates
    report: object  # ivr.speech.render.RenderReport of that first render
    settings: object  # ivr.config.Settings used (IVR_AUDIO_DIR = audio_dir)


@pytest.fixture(scope="session")
def seed_audio(tmp_path_factory: pytest.TempPathFactory) -> SeedAudio:
    """The seed leaflet's parts rendered once per session, at both rates, into a fresh folder."""
    from ivr.config import load_settings
    from ivr.content.catalogue import load_catalogue
    from ivr.prompts import load_prompts
    from ivr.speech.render import render_missing

    audio_dir = tmp_path_factory.mktemp("seed-audio")
    settings = load_settings({
        "IVR_AUDIO_DIR": str(audio_dir), "IVR_LEAFLETS_DIR": str(TEST_LEAFLETS),
        "TWILIO_AUTH_TOKEN": "test-auth-token",
    })
    report = render_missing(
        settings, load_catalogue(settings.leaflets_dir), load_prompts(settings.locale),
        only_leaflet="cryotherapy-for-kidney-cancer", progress=False,
    )
    return SeedAudio(audio_dir, report, settings)


# --- A real headless Chromium (Debian's /usr/bin/chromium via Playwright): see tests/browser.py ---

from tests.browser import browser, page, screenshot  # noqa: E402, F401

BROWSER_FIXTURES = (browser, page)  # pytest finds fixtures by their names in this module


# --- The store's databases: SQLite always, PostgreSQL when scripts/postgres.sh started one ---

import threading  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from contextlib import contextmanager  # noqa: E402

POSTGRES_URL = os.environ.get("IVR_TEST_POSTGRES_URL", "")
DATABASE_BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(
        not POSTGRES_URL,
        reason="IVR_TEST_POSTGRES_URL is not set: no PostgreSQL server for the tests "
               "(scripts/test.sh starts one with scripts/postgres.sh when PostgreSQL is installed)",
    )),
]


@contextmanager
def fresh_database(backend: str, folder: Path) -> Iterator[str]:
    """A URL of an empty database of its own: a new SQLite file in ``folder``, or a new database on
    the PostgreSQL server of IVR_TEST_POSTGRES_URL, dropped afterwards (even if still connected)."""
    if backend == "sqlite":
        yield f"sqlite:///{folder / f'ivr-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"ivr_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_together(work: Callable[[object], None], items: Sequence[object]) -> list[BaseException]:
    """``work(item)`` for every item, each in a thread of its own, all released at the same moment
    (like several workers answering at once); returns what they raised."""
    barrier, raised = threading.Barrier(len(items)), []

    def run(item: object) -> None:
        barrier.wait()
        try:
            work(item)
        except BaseException as exc:  # reported to the test
            raised.append(exc)

    threads = [threading.Thread(target=run, args=(item,)) for item in items]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return raised


@pytest.fixture(params=DATABASE_BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database for one test, on each backend in turn (``sqlite``, ``postgresql``)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


# --- Staff pages (issue 8): a live server with a staff user; see tests/staff_client.py ---

from tests.staff_client import staff_server  # noqa: E402, F401
