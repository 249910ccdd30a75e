"""Settings for several servers (docs/deploy.md): IVR_AUDIO_BASE_URL puts the rendered audio on a
static host or CDN; IVR_SECRET_KEY gives every server the same secret key."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from ivr import create_app
from ivr.config import load_settings
from ivr.errors import ConfigError

from .conftest import start_server
from .test_hot_path import CALL, _full_manifest, _post

CDN = "https://cdn.example.org/ivr-audio"


@pytest.mark.parametrize(("given", "used"), [
    ("", ""),
    (CDN, CDN + "/"),
    (CDN + "/", CDN + "/"),
    ("  http://static.example.org/a/  ", "http://static.example.org/a/"),
])
def test_the_base_url_is_kept_with_one_trailing_slash(given, used):
    assert load_settings({"IVR_AUDIO_BASE_URL": given, "TWILIO_AUTH_TOKEN": "t"}).audio_base_url == used


@pytest.mark.parametrize("given", ["cdn.example.org/ivr-audio", "/audio/", "ftp://cdn.example.org/"])
def test_a_base_url_that_is_not_a_web_address_stops_the_line(given):
    with pytest.raises(ConfigError) as caught:
        load_settings({"IVR_AUDIO_BASE_URL": given, "TWILIO_AUTH_TOKEN": "t"})
    assert "IVR_AUDIO_BASE_URL" in str(caught.value) and repr(given.strip()) in str(caught.value)


@pytest.mark.parametrize("base", [None, CDN])
def test_play_urls_point_at_the_audio_host(app_config, tmp_path, base):
    app_config["IVR_AUDIO_DIR"] = str(_full_manifest(tmp_path / "audio"))
    if base:
        app_config["IVR_AUDIO_BASE_URL"] = base
    server = start_server(app_config, tmp_path)
    try:
        answers = [_post(server.url, path, CALL) for path in ("/voice", "/voice/read?l=cryotherapy-for-kidney-cancer&s=1&p=1&r=slow",
                                                              "/nurse?l=cryotherapy-for-kidney-cancer&s=1&p=1&r=normal")]
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)
    expected = (base + "/") if base else server.url + "/audio/"
    for answer in answers:
        assert answer.status_code == 200
        plays = [e.text or "" for e in ET.fromstring(answer.text).iter("Play")]
        assert plays, answer.text
        assert all(p.startswith(expected) and p.endswith(".wav") for p in plays)


SECRET = "0123456789abcdef" * 4


def test_servers_given_the_same_secret_key_share_it_and_write_none(app_config, tmp_path):
    keys = []
    for name in ("a", "b"):
        instance = tmp_path / name
        app = create_app({**app_config, "IVR_INSTANCE_DIR": str(instance), "IVR_SECRET_KEY": SECRET})
        keys.append(app.secret_key)
        assert not (instance / "secret-key").exists()
    assert keys == [SECRET, SECRET]


def test_without_a_secret_key_each_instance_folder_makes_its_own(app_config, tmp_path):
    one = create_app({**app_config, "IVR_INSTANCE_DIR": str(tmp_path / "a")}).secret_key
    again = create_app({**app_config, "IVR_INSTANCE_DIR": str(tmp_path / "a")}).secret_key
    other = create_app({**app_config, "IVR_INSTANCE_DIR": str(tmp_path / "b")}).secret_key
    assert one == again != other
    assert (tmp_path / "a" / "secret-key").read_text().strip() == one


def test_a_short_secret_key_stops_the_line_without_showing_it():
    with pytest.raises(ConfigError) as caught:
        load_settings({"IVR_SECRET_KEY": "hunter2", "TWILIO_AUTH_TOKEN": "t"})
    assert "IVR_SECRET_KEY" in str(caught.value) and "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(load_settings({"IVR_SECRET_KEY": SECRET + "hunter2", "TWILIO_AUTH_TOKEN": "t"}))
