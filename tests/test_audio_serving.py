"""``GET/HEAD /audio/<file>`` from a real gunicorn process serving a freshly rendered folder:
caching headers, conditional GET, and refusal of every name that is not a rendered file."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from ivr.speech.manifest import load_manifest

from .conftest import LiveServer, start_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def audio_server(seed_audio, tmp_path_factory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("audio-server")
    (tmp / "instance").mkdir()
    # A file outside the audio folder that a path trick would reach, named like audio.
    (seed_audio.audio_dir.parent / ("f" * 32 + ".wav")).write_bytes(b"outside the audio folder")
    server = start_server({
        "IVR_AUDIO_DIR": str(seed_audio.audio_dir), "IVR_INSTANCE_DIR": str(tmp / "instance"),
        "TWILIO_AUTH_TOKEN": "test-auth-token", "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": "always",
    }, tmp)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def audio_file(seed_audio):
    entry = load_manifest(seed_audio.audio_dir).entries[0]
    return entry.file, (seed_audio.audio_dir / entry.file).read_bytes()


def raw_get(server: LiveServer, path: str) -> http.client.HTTPResponse:
    """GET with the path sent exactly as written (httpx would normalise dot segments)."""
    url = urlsplit(server.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.endheaders()
    response = conn.getresponse()
    response.body = response.read()  # type: ignore[attr-defined]
    conn.close()
    return response


def test_get_serves_the_file_with_immutable_caching(audio_server, audio_file):
    name, body = audio_file
    response = httpx.get(f"{audio_server.url}/audio/{name}")  # plain GET, no signature, as Twilio
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["content-length"] == str(len(body))
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["etag"] == f'"{name.removesuffix(".wav")}"'  # strong: no W/


def test_head_gives_the_headers_without_the_body(audio_server, audio_file):
    name, body = audio_file
    response = httpx.head(f"{audio_server.url}/audio/{name}")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(body))
    assert response.headers["content-type"] == "audio/wav"
    assert response.headers["etag"] == f'"{name.removesuffix(".wav")}"'


def test_conditional_get_is_answered_304(audio_server, audio_file):
    name, _ = audio_file
    etag = f'"{name.removesuffix(".wav")}"'
    response = httpx.get(f"{audio_server.url}/audio/{name}", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert "immutable" in response.headers["cache-control"]
    other = httpx.get(f"{audio_server.url}/audio/{name}", headers={"If-None-Match": '"0123"'})
    assert other.status_code == 200


@pytest.mark.parametrize("path", [
    "/audio/" + "0" * 32 + ".wav",  # well formed, not rendered
    "/audio/manifest.json",
    "/audio/README.md",
    "/audio/../" + "f" * 32 + ".wav",
    "/audio/..%2F" + "f" * 32 + ".wav",
    "/audio/..%2f..%2f..%2fetc%2fpasswd",
    "/audio/%2e%2e/%2e%2e/etc/passwd",
    "/audio//etc/passwd",
    "/audio/%2Fetc%2Fpasswd",
    "/audio/" + "A" * 32 + ".wav",
    "/audio/" + "0" * 32 + ".WAV",
    "/audio/" + "0" * 32 + ".wav.bak",
    "/audio/" + "0" * 31 + ".wav",
    "/audio/" + "0" * 32 + ".wav%00.txt",
    "/audio/" + "0" * 32 + "%20.wav",
    "/audio/",
])
def test_anything_but_a_rendered_file_is_404(audio_server, path):
    response = raw_get(audio_server, path)
    assert response.status == 404, path
    assert response.body != b"outside the audio folder"  # type: ignore[attr-defined]
