"""`ivr render` with nothing to do: the last complete run is remembered in the audio folder, so the
same inputs return at once, and anything missing since (or any changed input) renders again."""

from __future__ import annotations

import dataclasses
import shutil

from ivr.content.catalogue import load_catalogue
from ivr.prompts import load_prompts
from ivr.speech.render import RENDERED_NAME, render_missing

SEED = "cryotherapy-for-kidney-cancer"


def test_a_second_run_with_the_same_inputs_leaves_everything_alone(seed_audio, tmp_path):
    audio_dir = tmp_path / "audio"
    shutil.copytree(seed_audio.audio_dir, audio_dir)
    settings = dataclasses.replace(seed_audio.settings, audio_dir=audio_dir)
    catalogue, prompts = load_catalogue(settings.leaflets_dir), load_prompts(settings.locale)

    first = render_missing(settings, catalogue, prompts, only_leaflet=SEED, progress=False)
    assert first.rendered == 0 and first.reused == seed_audio.report.reused + seed_audio.report.rendered
    manifest = audio_dir / "manifest.json"
    written = manifest.stat().st_mtime_ns
    assert (audio_dir / RENDERED_NAME).exists()

    again = render_missing(settings, catalogue, prompts, only_leaflet=SEED, progress=False)
    assert (again.rendered, again.reused, again.failed) == (0, first.reused, ())
    assert again.audio_seconds == first.audio_seconds
    assert manifest.stat().st_mtime_ns == written  # not rewritten when unchanged

    victim = sorted(audio_dir.glob("*.wav"))[0]
    victim.unlink()
    after_loss = render_missing(settings, catalogue, prompts, only_leaflet=SEED, progress=False)
    assert after_loss.rendered == 1 and victim.exists()

    slow_only = render_missing(settings, catalogue, prompts, only_leaflet=SEED, rates=("slow",), progress=False)
    assert slow_only.reused == first.reused // 2  # other inputs: the rates asked for are counted again
