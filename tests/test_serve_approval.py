"""``ivr serve`` through the real command line: in service (a real TWILIO_AUTH_TOKEN) it refuses
words nobody approved unless --allow-unapproved (logged at CRITICAL); a development start warns
and serves. Leaflets and prompts are approved with the real ``ivr approve`` in temporary folders."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from ivr.prompts import PROMPTS_DIR
from tests.conftest import PROJECT, free_port

IVR = str(Path(sys.executable).parent / "ivr")
SEED = "cryotherapy-for-kidney-cancer"
SIGNER = ["--by", "Dr Jane Smith", "--role", "Consultant urologist"]


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    leaflets, locale = tmp_path / "leaflets", tmp_path / "en-GB"
    leaflets.mkdir()
    shutil.copy(PROJECT / "leaflets" / f"{SEED}.md", leaflets)
    shutil.copytree(PROJECT / "leaflets" / "sources", leaflets / "sources")
    shutil.copytree(PROMPTS_DIR / "en-GB", locale, ignore=shutil.ignore_patterns("approval.yaml"))
    return {**os.environ, "IVR_LEAFLETS_DIR": str(leaflets), "IVR_LOCALE": str(locale),
            "IVR_INSTANCE_DIR": str(tmp_path / "instance"), "IVR_AUDIO_DIR": str(tmp_path / "audio"),
            "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": "always",
            "TWILIO_AUTH_TOKEN": "a-real-looking-token"}


def ivr(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([IVR, *args], env=env, capture_output=True, text=True, timeout=60, cwd=PROJECT)


@contextmanager
def serving(env: dict[str, str], tmp_path: Path, *args: str) -> Iterator[tuple[str, Path]]:
    """``ivr serve`` in the background until it answers HTTP; its output file is read after it stops."""
    port = free_port()
    output = tmp_path / f"serve-{port}.log"
    with output.open("w") as out:
        process = subprocess.Popen([IVR, "serve", "--no-render", "--workers", "1", "--port", str(port), *args],
                                   env=env, stdout=out, stderr=subprocess.STDOUT, cwd=PROJECT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"ivr serve exited ({process.returncode}):\n{output.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                assert time.monotonic() < deadline, output.read_text()
                time.sleep(0.05)  # readiness poll of a real socket, not synchronisation by sleeping
        url = f"http://127.0.0.1:{port}"
        assert httpx.get(url + "/healthz", timeout=20).status_code in (200, 503)  # the app itself answers
        yield url, output
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


@pytest.mark.slow
def test_service_refuses_words_nobody_approved_until_each_is_approved(env, tmp_path):
    leaflet = Path(env["IVR_LEAFLETS_DIR"]) / f"{SEED}.md"
    prompts = Path(env["IVR_LOCALE"]) / "approval.yaml"
    refused = ivr(env, "serve", "--no-render", "--port", str(free_port()))
    assert refused.returncode == 1
    assert "Error: refusing to serve words nobody approved (2):" in refused.stderr
    assert f"  {leaflet}: not approved: nobody has signed off what callers hear." in refused.stderr
    assert f"  {prompts}: the wording of the en-GB prompts is not approved" in refused.stderr
    assert "--allow-unapproved" in refused.stderr

    assert ivr(env, "approve", SEED, *SIGNER).returncode == 0
    only_prompts = ivr(env, "serve", "--no-render", "--port", str(free_port()))
    assert only_prompts.returncode == 1 and "(1):" in only_prompts.stderr and str(leaflet) not in only_prompts.stderr

    assert ivr(env, "approve", "--prompts", *SIGNER).returncode == 0
    with serving(env, tmp_path) as (_, output):
        pass
    assert "nobody approved" not in output.read_text() and "review overdue since 2022-01-17" in output.read_text()

    leaflet.write_text(leaflet.read_text().replace("less than 4cm across", "less than 3cm across"))
    changed = ivr(env, "serve", "--no-render", "--port", str(free_port()))
    assert changed.returncode == 1
    assert f"{leaflet}: changed since approved by Dr Jane Smith (Consultant urologist)" in changed.stderr
    assert "'Who has it', part 1 changed" in changed.stderr


@pytest.mark.slow
def test_allow_unapproved_serves_and_says_so_loudly(env, tmp_path):
    with serving(env, tmp_path, "--allow-unapproved") as (_, output):
        pass
    log = output.read_text()
    assert "CRITICAL ivr.web.serve: SERVING WORDS NOBODY APPROVED (--allow-unapproved), 2 item(s):" in log
    assert f"{SEED}.md: not approved" in log


@pytest.mark.slow
def test_a_development_start_warns_and_serves(env, tmp_path):
    with serving({**env, "TWILIO_AUTH_TOKEN": ""}, tmp_path) as (_, output):
        pass
    log = output.read_text()
    assert "WARNING: words nobody has approved (development start; in service, with TWILIO_AUTH_TOKEN" in log
    assert "CRITICAL" not in log


def test_serve_without_a_nurse_number_stops_with_the_setting_to_fix_before_any_worker(env):
    """Before: the command printed "only the local simulator can call this line", then every
    gunicorn worker failed with a traceback and the line never answered."""
    refused = ivr({**env, "IVR_NURSE_NUMBER": ""}, "serve", "--no-render", "--port", str(free_port()))
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: Expected the nurses' number in E.164 form"), refused.stderr
    assert "Hint: Set IVR_NURSE_NUMBER" in refused.stderr and "Traceback" not in refused.stdout + refused.stderr
