"""The line's own CPU a webhook, without sockets or gunicorn (not a test): prints figures.

    .venv/bin/python scripts/bench_webhook_inprocess.py [--requests 20000] [--profile FILE]

Replays the signed requests of ``scripts/bench_webhook.py``'s recorded calls (every request
signed, call log and metrics on) straight into each app's WSGI callable, the line's and the
baseline's (``bench_baseline_app``: constant TwiML), interleaved in rounds, and prints the
microseconds of CPU a request of each and their difference: what the line adds to a request,
which ``bench_webhook.py``'s figures under gunicorn bury in the socket work both servers share.
The metrics count in prometheus-client's multiprocess mode, as under gunicorn.
``--profile FILE`` writes a cProfile of the line's part (``python -m pstats FILE``, snakeviz)
and prints its top functions. Renders missing audio first, as the served line would have it.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_webhook
from twilio.request_validator import RequestValidator

Environ = dict[str, Any]


def environs(calls: list[tuple[str, dict[str, str]]]) -> list[tuple[Environ, bytes]]:
    """A WSGI environ (without its body stream) and body for each request, signed for localhost."""
    validator = RequestValidator(bench_webhook.TOKEN)
    out = []
    for path, form in calls:
        body = urlencode(form).encode()
        route, _, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": "POST", "SCRIPT_NAME": "", "PATH_INFO": route, "QUERY_STRING": query,
            "SERVER_NAME": "localhost", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "localhost", "CONTENT_TYPE": "application/x-www-form-urlencoded",
            "CONTENT_LENGTH": str(len(body)), "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http",
            "wsgi.version": (1, 0), "wsgi.errors": sys.stderr, "wsgi.multithread": False,
            "wsgi.multiprocess": True, "wsgi.run_once": False,
            "HTTP_X_TWILIO_SIGNATURE": validator.compute_signature("http://localhost" + path, form),
        }
        out.append((environ, body))
    return out


FLUSH_EVERY = 200  # requests between waits for the call log's writer


def replay(app: Callable[..., Any], requests: list[tuple[Environ, bytes]], count: int,
           flush: Callable[[], object] | None = None) -> float:
    """CPU seconds of the process (all its threads) for ``count`` requests (cycling), each
    answered 200 and read to the end. ``flush``, called every :data:`FLUSH_EVERY` requests and at
    the end, waits for the call log's writer: the loop never waits on a socket as a served worker
    does, so without it the writer's thread hardly gets the GIL, its queue fills and facts are
    dropped (unwritten, uncounted)."""
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
        statuses.append(status)

    started = time.process_time()
    for index in range(count):
        environ, body = requests[index % len(requests)]
        answer = app({**environ, "wsgi.input": io.BytesIO(body)}, start_response)
        for _chunk in answer:
            pass
        if hasattr(answer, "close"):
            answer.close()
        if statuses[-1][:3] != "200":
            raise SystemExit(f"{environ['PATH_INFO']}?{environ['QUERY_STRING']} answered {statuses[-1]}")
        if flush is not None and index % FLUSH_EVERY == FLUSH_EVERY - 1:
            flush()
    if flush is not None:
        flush()
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000, help="requests a server a round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as temp:
        # As under gunicorn: the metrics count in files shared by the workers (set before
        # prometheus_client is first imported).
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(Path(temp) / "metrics")
        env = {"TWILIO_AUTH_TOKEN": bench_webhook.TOKEN, "IVR_INSTANCE_DIR": temp,
               "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": "always", "IVR_LOG_LEVEL": "WARNING"}
        subprocess.run([str(bench_webhook.VENV_BIN / "ivr"), "render"], cwd=bench_webhook.PROJECT,
                       env={**os.environ, **env}, check=True, stdout=subprocess.DEVNULL)
        calls = bench_webhook.as_many_calls(bench_webhook.recorded_calls(env), 200)
        from ivr import create_app

        line_app = create_app({**env, "IVR_ALLOW_UNAPPROVED": "1"})
        line, flush = line_app.wsgi_app, line_app.extensions["ivr.calllog"].flush
        import bench_baseline_app

        baseline = bench_baseline_app.app.wsgi_app
        requests = environs(calls)
        replay(line, requests, len(requests), flush)  # warm: every answer built once
        replay(baseline, requests, 1000)
        figures: dict[str, list[float]] = {"line": [], "baseline": []}
        for _ in range(args.rounds):
            figures["line"].append(replay(line, requests, args.requests, flush) / args.requests * 1e6)
            figures["baseline"].append(replay(baseline, requests, args.requests) / args.requests * 1e6)
        best = {name: min(values) for name, values in figures.items()}
        print(f"{len(requests)} signed requests of {len(bench_webhook.CALLS)} recorded paths, {args.requests} a round, "
              f"best of {args.rounds} rounds (CPU time, in process, no sockets)")
        print(f"  line      {best['line']:7.1f} us/request   (rounds: {', '.join(f'{x:.0f}' for x in figures['line'])})")
        print(f"  baseline  {best['baseline']:7.1f} us/request   "
              f"(rounds: {', '.join(f'{x:.0f}' for x in figures['baseline'])})")
        print(f"  the line adds {best['line'] - best['baseline']:.1f} us a request ({best['line'] / best['baseline']:.1f}x)")
        if args.profile is not None:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.enable()
            replay(line, requests, args.requests, flush)
            profiler.disable()
            profiler.dump_stats(args.profile)
            pstats.Stats(str(args.profile)).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
