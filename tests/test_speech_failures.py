"""``ivr render`` when synthesis fails: every failed part named, exit status 1, the manifest
still written for the rest. Run as an operator would, through the installed command."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ivr.content.catalogue import load_catalogue

from .conftest import PROJECT, TEST_LEAFLETS

SEED = "cryotherapy-for-kidney-cancer"
IVR = str(Path(sys.executable).parent / "ivr")

pytestmark = pytest.mark.slow


def ivr_render(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [IVR, "render", *args], cwd=PROJECT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "TWILIO_AUTH_TOKEN": "test-auth-token", **env},
    )


def test_unknown_voice_names_every_part_and_exits_non_zero(tmp_path):
    parts = [f"leaflet/{SEED}/{s.number}/{n}" for s in (lambda lf: (lf.intro, *lf.sections))(
        load_catalogue(TEST_LEAFLETS).by_slug(SEED)) for n in range(1, len(s.parts) + 1)]

    result = ivr_render("--leaflet", SEED, "--rate", "normal",
                        IVR_AUDIO_DIR=str(tmp_path), IVR_VOICE="gmw/en-gb-x-nosuchvoice")

    assert result.returncode == 1, result.stderr
    for part in parts:
        assert f"failed: {part} (normal): eSpeak NG has no voice 'gmw/en-gb-x-nosuchvoice'" in result.stderr
    assert "gmw/en-gb-x-rp" in result.stderr  # the close voices are suggested
    assert json.loads((tmp_path / "manifest.json").read_text())["entries"] == []
    assert not list(tmp_path.glob("*.wav"))


def test_timeout_fails_only_what_is_missing_and_keeps_the_rest(seed_audio, tmp_path):
    leaflets = tmp_path / "leaflets"
    leaflets.mkdir()
    text = (TEST_LEAFLETS / f"{SEED}.md").read_text(encoding="utf-8")
    (leaflets / f"{SEED}.md").write_text(text.replace("See how and when", "See when and how", 1), encoding="utf-8")
    audio = tmp_path / "audio"
    shutil.copytree(seed_audio.audio_dir, audio)
    before = sorted(p.name for p in audio.iterdir())

    result = ivr_render("--leaflet", SEED, "--timeout", "0.001",
                        IVR_AUDIO_DIR=str(audio), IVR_LEAFLETS_DIR=str(leaflets))

    assert result.returncode == 1, result.stderr
    for rate in ("normal", "slow"):
        assert f"failed: leaflet/{SEED}/0/1 ({rate}): no audio within the 0.001 s timeout" in result.stderr
    assert result.stderr.count("failed: ") == 2
    assert "2 part(s) could not be rendered" in result.stderr
    entries = json.loads((audio / "manifest.json").read_text())["entries"]
    ids = {(e["id"], e["rate"]) for e in entries}
    assert (f"leaflet/{SEED}/0/1", "normal") not in ids  # the phone tree will use <Say> for it
    assert (f"leaflet/{SEED}/1/1", "slow") in ids
    assert len(entries) == len([e for e in json.loads((seed_audio.audio_dir / "manifest.json").read_text())["entries"]]) - 2
    assert sorted(p.name for p in audio.iterdir()) == before  # no new files, no half-written ones


@pytest.mark.parametrize(("args", "status", "message"), [
    (["--rate", "fast"], 2, "Invalid value for '--rate'"),
    (["--jobs", "0"], 2, "Invalid value for '--jobs'"),
    (["--timeout", "0"], 2, "Invalid value for '--timeout'"),
    (["--leaflet", "no-such-leaflet"], 1, "there is no leaflet 'no-such-leaflet'. Hint: Known leaflets: " + SEED),
])
def test_bad_options_are_refused_with_a_message(tmp_path, args, status, message):
    result = ivr_render(*args, IVR_AUDIO_DIR=str(tmp_path))
    assert result.returncode == status
    assert message in result.stderr
    assert not list(tmp_path.glob("*.wav"))


def test_a_file_not_spoken_at_its_rate_is_a_synthesis_error(tmp_path):
    """Guards against eSpeak dropping the rate setting (once seen: a slow part at the default rate)."""
    from ivr.speech.synth import Synthesiser, SynthesisError, _check_rate

    text = "Cryotherapy kills cancer cells by freezing them. It can cure small, early stage kidney cancers."
    path = tmp_path / "normal.wav"
    Synthesiser().render(text, path, voice="gmw/en-gb-x-rp", rate=155)  # checked against 155: fine
    with pytest.raises(SynthesisError, match="rate setting was not applied"):
        _check_rate(text, path, 300)
    with pytest.raises(SynthesisError, match="rate setting was not applied"):
        _check_rate(text, path, 80)
    _check_rate("Too short to judge.", path, 300)


def test_a_sentence_of_short_words_at_its_rate_is_not_mistaken_for_a_rate_left_unapplied(tmp_path):
    """eSpeak's words a minute assume words of average length: thirteen one-syllable words at the
    prompts' rate once measured 224 words a minute against 140 and failed the render."""
    from ivr.speech.synth import PROMPT_RATE_SETTINGS, Synthesiser, SynthesisError, _check_rate

    text = "You can press a key as soon as you hear the choice you want."
    path = tmp_path / "short-words.wav"
    rate = PROMPT_RATE_SETTINGS["normal"]
    Synthesiser().render(text, path, voice="gmw/en-gb-x-rp", rate=rate)  # checks the rate itself
    with pytest.raises(SynthesisError, match="rate setting was not applied"):
        _check_rate(text, path, rate * 3)  # and a rate really left unapplied is still caught
