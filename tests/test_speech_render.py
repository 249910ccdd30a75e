"""Rendered speech read back from disk: telephone format, speaking rate, trimming, loudness,
the content-addressed cache and the manifest. Rendering is real (pyttsx3 + eSpeak NG)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import soundfile

from ivr.config import load_settings
from ivr.content.catalogue import load_catalogue
from ivr.prompts import load_prompts
from ivr.speech.manifest import RATES, load_manifest
from ivr.speech.render import render_missing, wanted_utterances
from ivr.speech.sources import leaflet_utterances

from .conftest import TEST_LEAFLETS

SEED = "cryotherapy-for-kidney-cancer"
TARGET_LUFS = -18.0
WPM = {"normal": (150, 165), "slow": (110, 125)}

pytestmark = pytest.mark.slow


def read(path: Path) -> tuple[np.ndarray, int]:
    data, rate = soundfile.read(str(path), dtype="float64")
    return data, rate


def frame_db(data: np.ndarray, rate: int) -> np.ndarray:
    frame = rate // 100  # 10 ms
    count = len(data) // frame
    rms = np.sqrt(np.mean(data[: count * frame].reshape(count, frame) ** 2, axis=1))
    return 20 * np.log10(np.maximum(rms, 1e-10))


def lufs(data: np.ndarray, rate: int) -> float:
    """BS.1770 loudness; a clip shorter than a few 400 ms blocks is measured repeated end to
    end (same mean square), since pyloudnorm refuses clips shorter than one block."""
    if len(data) < 3 * 0.4 * rate:
        data = np.tile(data, int(3 * 0.4 * rate / len(data)) + 1)
    return pyloudnorm.Meter(rate).integrated_loudness(data)


def seed_entries(audio_dir: Path):
    return [e for e in load_manifest(audio_dir).entries if e.id.startswith(f"leaflet/{SEED}/")]


def test_first_render_made_every_seed_part_at_both_rates(seed_audio):
    parts = [u for u in leaflet_utterances(load_catalogue(TEST_LEAFLETS)) if u.id.startswith(f"leaflet/{SEED}/")]
    manifest = load_manifest(seed_audio.audio_dir)
    assert seed_audio.report.rendered == 2 * len(parts) and seed_audio.report.reused == 0
    for part in parts:
        for rate in RATES:
            entry = manifest.find(part.text, rate)
            assert entry is not None, (part.id, rate)
            assert entry.id == part.id and (seed_audio.audio_dir / entry.file).is_file()


def test_files_are_8khz_mono_mulaw_wav(seed_audio):
    for entry in seed_entries(seed_audio.audio_dir):
        info = soundfile.info(str(seed_audio.audio_dir / entry.file))
        assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", "ULAW", 8000, 1), entry.file
        assert info.duration == pytest.approx(entry.duration, abs=0.01)


@pytest.mark.parametrize("rate", RATES)
def test_speaking_rate_measured_from_the_files(seed_audio, rate):
    entries = [e for e in seed_entries(seed_audio.audio_dir) if e.rate == rate]
    words = sum(len(e.text.split()) for e in entries)
    seconds = sum(read(seed_audio.audio_dir / e.file)[0].size / 8000 for e in entries)
    wpm = words / seconds * 60
    low, high = WPM[rate]
    assert low <= wpm <= high, f"{rate}: {wpm:.1f} words a minute"
    for entry in entries:  # every part near the overall pace (long words, pauses vary it)
        data, sr = read(seed_audio.audio_dir / entry.file)
        part_wpm = len(entry.text.split()) / (len(data) / sr) * 60
        assert 0.6 * wpm <= part_wpm <= 1.4 * wpm, (entry.id, part_wpm)


def test_slow_is_slower_for_every_part(seed_audio):
    entries = seed_entries(seed_audio.audio_dir)
    normal = {e.id: e.duration for e in entries if e.rate == "normal"}
    for entry in (e for e in entries if e.rate == "slow"):
        assert entry.duration > 1.15 * normal[entry.id], entry.id


def test_files_are_not_silent_not_clipped_and_trimmed(seed_audio):
    for entry in seed_entries(seed_audio.audio_dir):
        data, rate = read(seed_audio.audio_dir / entry.file)
        rms_db = 20 * np.log10(np.sqrt(np.mean(data**2)))
        assert rms_db > -35, (entry.file, rms_db)
        assert np.max(np.abs(data)) <= 0.97, entry.file  # under mu-law full scale (0.98)
        sound = np.flatnonzero(frame_db(data, rate) > -50)
        lead = sound[0] * 0.010
        tail = (len(data) / rate) - (sound[-1] + 1) * 0.010
        assert lead <= 0.25 and tail <= 0.25, (entry.file, lead, tail)


def test_loudness_is_equal_across_parts_and_prompts(seed_audio, rendered_audio_dir):
    levels = {}
    for folder in (seed_audio.audio_dir, rendered_audio_dir):
        for entry in load_manifest(folder).entries:
            levels[entry.file] = lufs(*read(folder / entry.file))
    values = np.array(list(levels.values()))
    assert len(values) > 50
    assert values.max() - values.min() <= 1.0, (values.min(), values.max())
    assert abs(values.mean() - TARGET_LUFS) <= 0.5


def test_rerender_reuses_every_file(seed_audio):
    before = {p.name: p.stat().st_mtime_ns for p in seed_audio.audio_dir.glob("*.wav")}
    settings = seed_audio.settings
    report = render_missing(
        settings, load_catalogue(settings.leaflets_dir), load_prompts(settings.locale),
        only_leaflet=SEED, progress=False,
    )
    assert (report.rendered, report.reused, report.failed) == (0, len(before), ())
    assert {p.name: p.stat().st_mtime_ns for p in seed_audio.audio_dir.glob("*.wav")} == before


def edited_copy(seed_audio, tmp_path: Path) -> tuple[object, str, str]:
    """A leaflets folder whose seed leaflet has one edited sentence, and an audio folder copied
    from the session's render; returns (settings, old intro text, new intro text)."""
    leaflets = tmp_path / "leaflets"
    leaflets.mkdir()
    source = (TEST_LEAFLETS / f"{SEED}.md").read_text(encoding="utf-8")
    old, new = "early stage kidney cancers. See how", "early stage kidney cancers. Find out how"
    assert old in source
    (leaflets / f"{SEED}.md").write_text(source.replace(old, new, 1), encoding="utf-8")
    audio = tmp_path / "audio"
    shutil.copytree(seed_audio.audio_dir, audio)
    settings = load_settings({
        "IVR_LEAFLETS_DIR": str(leaflets), "IVR_AUDIO_DIR": str(audio), "TWILIO_AUTH_TOKEN": "t",
    })
    intro = load_catalogue(leaflets).by_slug(SEED).intro.parts[0]
    return settings, intro.replace("Find out how", "See how"), intro


def test_edited_text_gets_a_new_file_and_prune_removes_the_old(seed_audio, tmp_path):
    settings, old_text, new_text = edited_copy(seed_audio, tmp_path)
    old_files = {rate: load_manifest(settings.audio_dir).find(old_text, rate).file for rate in RATES}
    (settings.audio_dir / "notes.wav").write_bytes(b"not ours")
    (settings.audio_dir / "README.md").write_text("keep me")
    catalogue, prompts = load_catalogue(settings.leaflets_dir), load_prompts(settings.locale)

    report = render_missing(settings, catalogue, prompts, only_leaflet=SEED, progress=False)

    parts = len(seed_entries(seed_audio.audio_dir))
    assert (report.rendered, report.reused) == (2, parts - 2)
    manifest = load_manifest(settings.audio_dir)
    for rate in RATES:
        entry = manifest.find(new_text, rate)
        assert entry is not None and entry.file != old_files[rate]
        assert manifest.find(old_text, rate) is None  # the old audio is never played
        assert (settings.audio_dir / old_files[rate]).exists()  # until pruned

    pruned = render_missing(settings, catalogue, prompts, only_leaflet=SEED, prune=True, progress=False)
    assert (pruned.rendered, pruned.pruned) == (0, 2)
    assert not any((settings.audio_dir / f).exists() for f in old_files.values())
    assert (settings.audio_dir / "notes.wav").read_bytes() == b"not ours"
    assert (settings.audio_dir / "README.md").exists()
    assert len(list(settings.audio_dir.glob("*.wav"))) == parts + 1


def test_manifest_covers_every_part_and_prompt(rendered_audio_dir):
    settings = load_settings({"IVR_AUDIO_DIR": str(rendered_audio_dir), "TWILIO_AUTH_TOKEN": "t",
                              "IVR_LEAFLETS_DIR": str(TEST_LEAFLETS)})
    prompts = load_prompts(settings.locale)
    wanted = wanted_utterances(settings, load_catalogue(settings.leaflets_dir), prompts)
    manifest = load_manifest(rendered_audio_dir)
    fixed = {prompts.templates[t] for t in prompts.templates if not prompts.placeholders(t)}
    assert fixed <= {u.text for u in wanted}  # (two prompts with one text share one file)
    assert any(u.id.startswith("leaflet/") for u in wanted)
    for item in wanted:
        for rate in RATES:
            entry = manifest.find(item.text, rate)
            assert entry is not None, (item.id, rate)
            assert (rendered_audio_dir / entry.file).is_file()
    data = json.loads((rendered_audio_dir / "manifest.json").read_text())
    assert {"id", "rate", "text", "file", "duration"} <= set(data["entries"][0])
