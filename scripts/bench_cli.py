"""Benchmark the command line's start (not a test): prints figures, asserts nothing.

    .venv/bin/python scripts/bench_cli.py [--runs 7]

Times whole commands as an operator runs them (wall clock, from start to exit), each run in
turn with two baselines measured in the same run, so a busy machine slows all of them alike:
``python -c pass`` (the interpreter alone) and ``python -c "import flask"``. Commands:

- ``ivr --help``;
- ``ivr call`` until it is ready to dial (against a port nobody listens on: it builds its
  speech index, dials, finds nobody and exits);
- ``ivr render`` with nothing to do (run once first, so the audio is current; ``--rate`` picks
  the rates it is given).

Prints the median and the range over ``--runs`` and the median's ratio to the interpreter,
against the goals: ``--help`` < 0.3 s, ``call`` ready < 0.5 s, ``render`` with nothing to do < 1 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
IVR = str(VENV_BIN / "ivr")


def commands(rate: str) -> dict[str, tuple[list[str], float | None]]:
    """name: (command, goal in seconds)."""
    return {
        "python -c pass": ([sys.executable, "-c", "pass"], None),
        "python -c 'import flask'": ([sys.executable, "-c", "import flask"], None),
        "ivr --help": ([IVR, "--help"], 0.3),
        "ivr call (ready to dial)": ([IVR, "call", "--url", "http://127.0.0.1:9/voice", "--keys", ""], 0.5),
        f"ivr render --rate {rate} (nothing to do)": ([IVR, "render", "--rate", rate], 1.0),
    }


def wall(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="counted runs of each command")
    parser.add_argument("--rate", choices=["normal", "slow", "all"], default="all",
                        help="the rate `ivr render` is given (all: as an operator runs it)")
    args = parser.parse_args()
    env = {**os.environ, "IVR_NURSE_NUMBER": os.environ.get("IVR_NURSE_NUMBER", "+441632960001")}
    table = commands(args.rate)
    render = next(command for name, (command, _) in table.items() if name.startswith("ivr render"))
    first = subprocess.run(render, cwd=PROJECT, env=env, capture_output=True, text=True, check=False)
    print(f"audio made current first: {first.stdout.strip() or first.stderr.strip()}")
    if first.returncode != 0:
        print("  (render failed: the 'nothing to do' run below retries what failed, so it is not a no-op)")
    times: dict[str, list[float]] = {name: [] for name in table}
    for command, _ in table.values():  # warm-up: the disk cache and .pyc files
        wall(command, env)
    for _ in range(args.runs):
        for name, (command, _) in table.items():
            times[name].append(wall(command, env))
    interpreter = statistics.median(times["python -c pass"])
    print(f"\n{args.runs} runs each, interleaved; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print(f"{'command':44} {'median':>8} {'min-max':>15} {'vs python':>10}  goal")
    for name, (_, goal) in table.items():
        found = times[name]
        median = statistics.median(found)
        verdict = "" if goal is None else f"< {goal:g} s: {'met' if median < goal else 'MISSED'}"
        print(f"{name:44} {median:7.3f}s {min(found):6.3f}-{max(found):6.3f}s {median / interpreter:9.1f}x  {verdict}")


if __name__ == "__main__":
    main()
