"""The simulator calling the real line: a gunicorn process (``live_server``) with the real tree,
nurse line and content, as a reviewer would with ``ivr call``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.config import load_settings
from ivr.content.catalogue import load_catalogue
from ivr.simulator import SpeechIndex, simulate_call
from ivr.speech.sources import leaflet_utterances

PROJECT = Path(__file__).resolve().parent.parent


@pytest.fixture
def index(app_config) -> SpeechIndex:
    return SpeechIndex.from_settings(load_settings(app_config))


@pytest.fixture
def parts(app_config) -> list[str]:
    """Every leaflet part id of the seed content, in reading order."""
    catalogue = load_catalogue(load_settings(app_config).leaflets_dir)
    return [u.id for u in leaflet_utterances(catalogue)]


def ring(live_server, index, **kwargs):
    return simulate_call(live_server.url + "/voice", token=live_server.token, index=index, **kwargs)


def test_a_scripted_call_hears_every_section_of_the_leaflet_in_order(live_server, index, parts, app_config):
    # "the whole leaflet from the start" is the key after the sections' keys; then silence
    leaflet = load_catalogue(load_settings(app_config).leaflets_dir).leaflets[0]
    transcript = ring(live_server, index, keys=[str(len(leaflet.sections) + 1)] + [None] * (len(parts) + 10))

    assert not transcript.failed, transcript.text()
    heard = [i for i in transcript.ids() if i and i.startswith("leaflet/")]
    assert heard == parts
    assert len({p.split("/")[2] for p in heard}) == len(leaflet.sections) + 1  # the intro too
    assert transcript.ids()[-1] == "call.goodbye"
    assert transcript.ended_by == "hangup"


def test_next_section_key_moves_through_every_section(live_server, index, app_config):
    # each 9 is pressed as soon as the section's title has been heard (barge-in)
    transcript = ring(live_server, index, keys=["1", "3", "3", "3", None])  # 3: the next section

    leaflet = load_catalogue(load_settings(app_config).leaflets_dir).leaflets[0]
    titles = [e.text for e in transcript.heard() if e.id == "reading.section_start"]
    assert titles == [f"{section.title}." for section in leaflet.sections]
    assert transcript.ended_by == "caller"


def test_saying_nothing_leads_through_the_reprompts_to_a_nurse(live_server, index):
    transcript = ring(live_server, index, keys=[None] * 4)

    assert not transcript.failed, transcript.text()
    said = transcript.ids()
    for prompt in ("errors.no_input", "errors.key_help", "errors.put_through", "nurse.connecting"):
        assert prompt in said
    assert said.index("errors.no_input") < said.index("errors.key_help") < said.index("errors.put_through")
    assert any(e.kind == "talk" for e in transcript.events)  # a person, not a hang-up
    assert said[-2:] == ["safety.before_goodbye", "call.goodbye"]
    assert transcript.ended_by == "hangup"
    assert all(e.duration == 8 for e in transcript.events if e.kind == "silence")  # time for slow responders


def test_zero_from_the_menu_puts_the_caller_through_to_the_nurse(live_server, index):
    transcript = ring(live_server, index, keys=["0"], nurse="answer")

    assert not transcript.failed, transcript.text()
    requests = [e.text for e in transcript.requests()]
    assert any(r.startswith("POST /voice/dial") for r in requests)
    assert any("DialCallStatus=completed" in r and "DialBridged=true" in r for r in requests)
    assert any(i and i.startswith("nurse.whisper") for i in transcript.ids("nurse"))
    assert any(e.kind == "talk" for e in transcript.events)
    assert transcript.ended_by == "hangup"


def test_a_forged_token_is_refused_by_the_real_line(live_server, index):
    transcript = simulate_call(live_server.url + "/voice", token="forged", index=index, keys=["1"])

    assert transcript.failed and "HTTP 403" in transcript.errors[0].text


def test_ivr_call_against_the_real_line(live_server):
    env = {**os.environ, "TWILIO_AUTH_TOKEN": live_server.token}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ivr"), "call", "--url", live_server.url + "/voice", "--keys", "1,,6,0"],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "you press 1" in result.stdout
    assert "nurse hears" in result.stdout
    assert "call.greeting_one" in result.stdout
