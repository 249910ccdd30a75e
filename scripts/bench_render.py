"""Benchmark speech rendering (not a test): prints figures, asserts nothing.

    .venv/bin/python scripts/bench_render.py [--jobs N] [--leaflet SLUG]

Renders the seed leaflet at both rates into an empty temporary folder (cold cache), then again
(warm cache: goal under 1 s), and prints the wall-clock times, the real-time factor (seconds
of audio per second of rendering), the audio minutes and bytes, and the measured words a
minute at each rate. The warm time is split into enumerating everything the line can say
(the phone tree and nurse line walk their menus) and the cache check itself.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from ivr.config import load_settings
from ivr.content.catalogue import load_catalogue
from ivr.prompts import load_prompts
from ivr.speech.manifest import RATES, load_manifest
from ivr.speech.render import render_missing, wanted_utterances
from ivr.speech.synth import RATE_SETTINGS, engine_version


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: one per core)")
    parser.add_argument("--leaflet", default="cryotherapy-for-kidney-cancer")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as folder:
        audio_dir = Path(folder)
        settings = load_settings({"IVR_AUDIO_DIR": str(audio_dir), "TWILIO_AUTH_TOKEN": "bench"})
        catalogue, prompts = load_catalogue(settings.leaflets_dir), load_prompts(settings.locale)
        print(f"engine: {engine_version()}; voice {settings.voice}; rate settings {RATE_SETTINGS}; jobs {args.jobs or 'all cores'}")

        def render(target: Path):
            chosen = replace(settings, audio_dir=target)
            return render_missing(chosen, catalogue, prompts, only_leaflet=args.leaflet, jobs=args.jobs, progress=False)

        cold = render(audio_dir)
        with tempfile.TemporaryDirectory(prefix="ivr-bench-") as second:
            again = render(Path(second))  # cold files, but the worker server is already up
        warm = min((render(audio_dir) for _ in range(3)), key=lambda report: report.seconds)
        enumerate_s = min(timed(lambda: wanted_utterances(settings, catalogue, prompts)) for _ in range(3))

        entries = [e for e in load_manifest(audio_dir).entries if e.id.startswith(f"leaflet/{args.leaflet}/")]
        size = sum((audio_dir / e.file).stat().st_size for e in entries)
        audio_s = sum(e.duration for e in entries)
        print(f"cold render, {args.leaflet} at both rates: {cold.seconds:.2f} s for {cold.rendered} files "
              f"(first run in this process: includes starting the worker server)")
        print(f"cold render again, fresh folder, worker server up: {again.seconds:.2f} s")
        print(f"warm re-render (best of 3): {warm.seconds:.3f} s ({warm.reused} reused, {warm.rendered} rendered); "
              f"enumerating everything the line can say alone takes {enumerate_s:.3f} s (best of 3)")
        print(f"real-time factor: {audio_s / cold.seconds:.0f}x first run, {audio_s / again.seconds:.0f}x warmed up "
              f"({audio_s:.1f} s of audio)")
        print(f"audio: {audio_s / 60:.2f} min, {size:,} bytes ({size / 1e6:.2f} MB) in {len(entries)} files")
        for rate in RATES:
            chosen = [e for e in entries if e.rate == rate]
            words = sum(len(e.text.split()) for e in chosen)
            print(f"  {rate}: {words / sum(e.duration for e in chosen) * 60:.1f} words/min measured "
                  f"(setting {RATE_SETTINGS[rate]})")


if __name__ == "__main__":  # the worker processes import this file's module: no work at import
    main()
