"""Benchmark how the operator paths grow with content (not a test): prints figures, asserts nothing.

    .venv/bin/python scripts/bench_scale.py [--leaflets 100] [--check-leaflets N] [--rate slow]
                                            [--extrapolate-to N]

Generates ``--leaflets`` leaflets in a temporary folder (never in leaflets/): copies of the test
fixture tests/fixtures/leaflets-one/cryotherapy-for-kidney-cancer.md (the seed's size) under
other titles, slugs, codes and spoken names. Then, each on its own temporary audio folder:

- cold render (``ivr render``, every core): seconds and files a second. Copies share their
  sentences, so only what differs (titles, menus naming them) adds files, as it would in
  audio rendered by content hash;
- warm render with nothing to do;
- ``ivr check --calls`` over ``--check-leaflets`` of them (default all), with its peak memory;
- ``ivr serve`` start-up (from the command until /healthz answers 200) and each worker's RSS
  once it has answered a webhook of every kind;

and, measured in the same run, the same for the one fixture leaflet, so the ratios say how each
grows. With fewer than ``--extrapolate-to`` leaflets the figures are also extrapolated linearly.
The whole run with 100 leaflets takes about ten minutes on 2 cores (the cold render most of it);
``--rate slow`` (the default) renders the slow rate only, halving the cold render's time;
``--rate all`` renders both, as an operator's ``ivr render`` does.
Goals (issue 18): check --calls < 10 s for the seed and < 5 min for 100 leaflets; warm no-op
render < 2 s; worker RSS < 100 MB; start-up < 3 s.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
IVR = str(VENV_BIN / "ivr")
FIXTURE = PROJECT / "tests" / "fixtures" / "leaflets-one" / "cryotherapy-for-kidney-cancer.md"
COLOURS = ["amber", "azure", "bronze", "cobalt", "coral", "crimson", "ebony", "emerald", "golden", "indigo", "ivory", "jade", "lemon", "lilac", "maroon", "olive", "pearl", "ruby", "silver", "violet"]
PLACES = ["harbour", "meadow", "river", "valley", "forest", "garden", "island", "orchard"]  # 20 x 8 = 160 names


def generate(folder: Path, count: int) -> None:
    """``count`` copies of the fixture leaflet, each with its own title, slug, code and spoken name."""
    if count > len(COLOURS) * len(PLACES):
        raise SystemExit(f"at most {len(COLOURS) * len(PLACES)} leaflets")
    folder.mkdir(parents=True)
    source = FIXTURE.read_text(encoding="utf-8")
    for index in range(count):
        name = f"{COLOURS[index % len(COLOURS)]} {PLACES[index // len(COLOURS)]}"
        slug = name.replace(" ", "-") + "-care"
        text = source.replace("title: Cryotherapy for kidney cancer", f"title: {name.title()} care", 1)
        text = text.replace("slug: cryotherapy-for-kidney-cancer", f"slug: {slug}\ncode: '{100 + index}'", 1)
        text = re.sub(r"^say: \[.*\]$", f"say: [{name} care, {name}]", text, count=1, flags=re.MULTILINE)
        (folder / f"{slug}.md").write_text(text, encoding="utf-8")


@dataclass
class Figures:
    leaflets: int
    cold_s: float = 0.0
    files: int = 0
    cold_summary: str = ""
    warm_s: float = 0.0
    check_s: float = 0.0
    check_mb: float = 0.0
    check_leaflets: int = 0
    check_summary: str = ""
    start_s: float = 0.0
    rss_mb: tuple[float, ...] = ()


def run(command: list[str], env: dict[str, str], timeout: float = 3600) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return time.perf_counter() - started, done


# Runs a command as its only child and prints that child's peak RSS (Linux: kB) last on stderr.
PEAK_WRAPPER = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[1:]); "
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(code)")


def run_with_peak(command: list[str], env: dict[str, str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Seconds, peak RSS in MB, and the result of ``command``."""
    seconds, done = run([sys.executable, "-c", PEAK_WRAPPER, *command], env)
    lines = done.stderr.rstrip().splitlines()
    peak_kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return seconds, peak_kb / 1024, done


def summary(done: subprocess.CompletedProcess[str], pattern: str) -> str:
    lines = [line for line in (done.stdout + done.stderr).splitlines() if re.search(pattern, line)]
    return " | ".join(lines) or (done.stdout + done.stderr).strip()[-300:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_figures(env: dict[str, str], log: Path) -> tuple[float, tuple[float, ...]]:
    """Seconds from `ivr serve` to /healthz answering 200, and each worker's RSS (MB) after a call."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([IVR, "serve", "--no-render", "--port", str(port), "--workers", "2"], cwd=PROJECT,
                               env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"ivr serve exited:\n{log.read_text()[-2000:]}")
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.perf_counter() - started > 120:
                raise SystemExit(f"ivr serve did not answer within 120 s:\n{log.read_text()[-2000:]}")
            time.sleep(0.05)  # readiness poll of a real socket
        seconds = time.perf_counter() - started
        for _ in range(2):  # a whole simulated call per worker (keys: the first leaflet, a section, the nurse)
            subprocess.run([IVR, "call", "--url", url + "/voice", "--keys", "1,1,,0"], cwd=PROJECT, env=env,
                           capture_output=True, timeout=120, check=False)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        rss = []
        for pid in children:
            status = Path(f"/proc/{pid}/status").read_text()
            rss.append(int(re.search(r"VmRSS:\s+(\d+)", status)[1]) / 1024)  # type: ignore[index]
        return seconds, tuple(rss)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def measure(folder: Path, count: int, check_count: int, rate: str, base_env: dict[str, str]) -> Figures:
    leaflets, check_leaflets = folder / "leaflets", folder / "check-leaflets"
    generate(leaflets, count)
    generate(check_leaflets, check_count)
    (folder / "instance").mkdir()
    env = {**base_env, "IVR_LEAFLETS_DIR": str(leaflets), "IVR_AUDIO_DIR": str(folder / "audio"),
           "IVR_INSTANCE_DIR": str(folder / "instance")}
    found = Figures(count, check_leaflets=check_count)
    found.cold_s, done = run([IVR, "render", "--rate", rate], env)
    found.cold_summary = summary(done, r"rendered|failed")
    found.files = len(list((folder / "audio").glob("*.wav")))
    found.warm_s, _ = run([IVR, "render", "--rate", rate], env)
    found.check_s, found.check_mb, done = run_with_peak([IVR, "check", "--calls"],
                                                        {**env, "IVR_LEAFLETS_DIR": str(check_leaflets)})
    found.check_summary = summary(done, r"calls: walked \d+ states|contract|real calls|ivr check:")
    found.start_s, found.rss_mb = serve_figures(env, folder / "serve.log")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaflets", type=int, default=100, help="leaflets generated")
    parser.add_argument("--check-leaflets", type=int, default=None,
                        help="leaflets `ivr check --calls` walks (default: all; fewer are extrapolated)")
    parser.add_argument("--rate", choices=["normal", "slow", "all"], default="slow", help="rate rendered")
    parser.add_argument("--extrapolate-to", type=int, default=100,
                        help="also show the figures extrapolated linearly to this many leaflets")
    args = parser.parse_args()
    check_count = min(args.check_leaflets or args.leaflets, args.leaflets)
    # No TWILIO_AUTH_TOKEN: a development start (the generated leaflets are approved by nobody)
    base_env = {**{k: v for k, v in os.environ.items() if k != "TWILIO_AUTH_TOKEN"}, "IVR_NURSE_NUMBER": "+441632960001",
                "IVR_NURSE_HOURS": "always", "IVR_LOG_LEVEL": "WARNING"}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ivr-scale-") as temp:
        one = measure(Path(temp) / "one", 1, 1, args.rate, base_env)
        many = measure(Path(temp) / "many", args.leaflets, check_count, args.rate, base_env)
        shutil.rmtree(temp, ignore_errors=True)
    print(f"{os.cpu_count()} cores; load average before / after: {' '.join(f'{x:.1f}' for x in load_before)} / "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}; render --rate {args.rate}\n")
    def grown(one_figure: float, many_figure: float, count: int) -> float:
        """Linear in the leaflets from one leaflet to ``count``, out to ``args.extrapolate_to``."""
        return one_figure + (many_figure - one_figure) * (args.extrapolate_to - 1) / max(1, count - 1)

    target = args.extrapolate_to
    rows = [
        ("cold render, s", one.cold_s, many.cold_s, ""),
        ("  files made", one.files, many.files, ""),
        ("  files a second", one.files / one.cold_s, many.files / many.cold_s, ""),
        ("warm render, nothing to do, s", one.warm_s, many.warm_s, "< 2 s"),
        (f"ivr check --calls, s ({check_count} leaflets)", one.check_s, many.check_s,
         "< 10 s (1), < 300 s (100)"),
        ("  its peak memory, MB", one.check_mb, many.check_mb, ""),
        ("serve start-up to /healthz, s", one.start_s, many.start_s, "< 3 s"),
        ("largest worker RSS, MB", max(one.rss_mb), max(many.rss_mb), "< 100 MB"),
    ]
    if target > args.leaflets:
        rows += [
            (f"cold render, s, {target} leaflets (extrapolated)", one.cold_s, grown(one.cold_s, many.cold_s,
                                                                                    args.leaflets), ""),
            (f"ivr check --calls, s, {target} leaflets (extrapolated)", one.check_s,
             grown(one.check_s, many.check_s, check_count), "< 300 s"),
            (f"largest worker RSS, MB, {target} leaflets (extrapolated)", max(one.rss_mb),
             grown(max(one.rss_mb), max(many.rss_mb), args.leaflets), "< 100 MB"),
        ]
    print(f"{'':48} {'1 leaflet':>10} {f'{args.leaflets} leaflets':>13} {'ratio':>7}  goal")
    for name, a, b, goal in rows:
        print(f"{name:48} {a:10.2f} {b:13.2f} {b / a if a else 0:6.1f}x  {goal}")
    print(f"\n1 leaflet:  {one.cold_summary}\n            {one.check_summary}")
    print(f"{args.leaflets} leaflets: {many.cold_summary}\n            {many.check_summary}")


if __name__ == "__main__":
    main()
