"""``/metrics`` through real HTTP: who may read it, what it counts, and counts summed over workers."""

from __future__ import annotations

import re

import httpx
import pytest

from ivr import create_app
from ivr.errors import ConfigError
from ivr.simulator import simulate_call
from tests.conftest import start_server
from tests.staff_client import StaffSession, add_user_cli

TOKEN = "scrape-token-0123456789"


def value(page: str, sample: str) -> float:
    """The value of one sample line, e.g. 'ivr_transfers_total{outcome="busy"}'; 0 if absent."""
    found = re.search(rf"^{re.escape(sample)} ([0-9.e+]+)$", page, re.M)
    return float(found.group(1)) if found else 0.0


def serve(app_config, tmp_path, workers=1, **settings):
    app_config.update(settings)
    return start_server(app_config, tmp_path, workers=workers)


def stop(server):
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.parametrize(("settings", "headers", "status"), [
    ({}, {}, 401),
    ({"IVR_METRICS_TOKEN": TOKEN}, {"Authorization": f"Bearer {TOKEN}"}, 200),
    ({"IVR_METRICS_TOKEN": TOKEN}, {"Authorization": "Bearer wrong-token"}, 401),
    ({}, {"Authorization": "Bearer x"}, 401),  # no token set: no bearer header opens it
    ({"IVR_METRICS": "open"}, {}, 200),
])
def test_who_may_read_metrics(app_config, tmp_path, settings, headers, status):
    server = serve(app_config, tmp_path, **settings)
    try:
        response = httpx.get(server.url + "/metrics", headers=headers)
        assert response.status_code == status
        if status == 401:
            assert "ivr_" not in response.text and response.headers["www-authenticate"].startswith("Bearer")
        else:
            assert response.headers["content-type"].startswith("text/plain; version=")
    finally:
        stop(server)


@pytest.mark.slow
def test_a_staff_login_may_read_metrics(app_config, tmp_path):
    add_user_cli(app_config, "alice", "correct horse battery")
    server = serve(app_config, tmp_path)
    staff = StaffSession(server)
    try:
        assert staff.get("/metrics").status_code == 401
        staff.login("alice", "correct horse battery")
        assert staff.get("/metrics").status_code == 200
    finally:
        staff.close()
        stop(server)


@pytest.mark.slow
def test_metrics_count_a_call(app_config, tmp_path):
    server = serve(app_config, tmp_path, IVR_METRICS="open")
    try:
        keys = ["1", None, "6", "0", "2"]  # a section, forward, the nurses (busy), leave a message
        assert not simulate_call(server.url + "/voice", token=server.token, keys=keys, nurse="busy").failed
        page = httpx.get(server.url + "/metrics").text
    finally:
        stop(server)
    assert value(page, "ivr_calls_total") == 1
    assert value(page, 'ivr_key_presses_total{menu="sections"}') == 1
    assert value(page, 'ivr_key_presses_total{menu="read"}') == 1
    assert value(page, 'ivr_key_presses_total{menu="nurse-options"}') == 1
    assert value(page, 'ivr_nurse_requests_total{hours="open"}') == 1
    assert value(page, 'ivr_transfers_total{outcome="busy"}') == 1
    assert value(page, 'ivr_messages_total{kind="message"}') == 1
    assert value(page, 'ivr_webhook_seconds_count{endpoint="voice.answer"}') == 1
    assert value(page, 'ivr_webhook_seconds_count{endpoint="voice.dial"}') == 1
    assert re.search(r"^ivr_speech_parts_without_audio \d+", page, re.M)


@pytest.mark.slow
def test_counts_from_several_workers_are_added_up(app_config, tmp_path):
    server = serve(app_config, tmp_path, workers=2, IVR_METRICS="open")
    try:
        for _ in range(4):
            assert not simulate_call(server.url + "/voice", token=server.token, keys=["1"]).failed
        scrapes = [value(httpx.get(server.url + "/metrics").text, "ivr_calls_total") for _ in range(6)]
        folders = list((tmp_path / "instance" / "metrics").iterdir())
    finally:
        stop(server)
    assert scrapes == [4] * 6  # whichever worker answers the scrape
    assert len(folders) == 1  # one folder for this server run, in the instance folder


def test_a_parts_gauge_counts_leaflet_parts_without_audio(app_config, tmp_path):
    app_config["IVR_AUDIO_DIR"] = str(tmp_path / "no-audio")
    app_config["IVR_METRICS"] = "open"
    page = create_app(app_config).test_client().get("/metrics").text
    assert value(page, "ivr_speech_parts_without_audio") > 10


@pytest.mark.parametrize("setting", ["public", "yes", "staff-only"])
def test_a_bad_metrics_setting_stops_start_up(app_config, setting):
    app_config["IVR_METRICS"] = setting
    with pytest.raises(ConfigError, match="Expected `staff` or `open` in IVR_METRICS"):
        create_app(app_config)
