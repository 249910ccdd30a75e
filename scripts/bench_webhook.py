"""Benchmark the voice webhooks under load (not a test): prints figures, asserts nothing.

    .venv/bin/python scripts/bench_webhook.py [--workers 2] [--duration 15] [--rate 170]
                                               [--connections 16] [--calls 200] [--rounds 1]
                                               [--no-render] [--profile FILE] [--baseline-spin-ms 0]

Renders any missing audio (``ivr render``), then starts on 127.0.0.1 the line under ``ivr serve
--no-render`` and a baseline (``scripts/bench_baseline_app.py``: a Flask app returning one
constant TwiML document) on the same gunicorn with the same workers and logging, and runs each
phase on one, then the other. Each is driven by ``wrk`` with a generated Lua script replaying
realistic call paths recorded from the line itself (answer, menu, section parts, keys 4 6 7 9,
0 for the nurses and /nurse), ``--calls`` calls each under its own CallSid, every request signed
like Twilio's (signature check, call log and metrics all on). Two phases per server, each bounded:

- fixed rate: ``--rate`` requests a second in total, paced per connection by Lua ``delay()``
  (wrk2's -R is not in Debian): what the line sees in service;
- saturation: ``--connections`` connections with no pause: the most it can answer.

Prints throughput, p50/p99/p99.9 latency, errors (socket errors and non-2xx), the workers' CPU
time a request (steadier than latency when other work shares the machine), worker RSS, the
line/baseline ratios (medians over ``--rounds``), and the goals: p99 <= 1.3x baseline at the fixed
rate; >= 170 req/s at p99 < 50 ms; <= 100 MB RSS a worker; at saturation, throughput >= 0.7x and
p99 <= 1.5x the baseline's (issue 18); and that the call log holds every webhook answered (a
writer that fell behind and dropped facts would look faster: see the README). wrk shares the 2
cores with the servers, as a load balancer would not; the machine's other work makes single
figures noisy: compare the ratios.

``--profile FILE`` then records the line's workers at saturation with py-spy (a phase of its own,
not counted), writes the collapsed stacks to FILE (for flamegraph.pl or speedscope) and prints
the frames with the most samples.

``--baseline-spin-ms N`` (diagnosis) makes the baseline burn N ms of CPU a request: set it to the
line's CPU a request minus the baseline's, and the latency ratios show what the line costs
beyond its CPU time (November 2026: p99 1.17x, p50 0.97x at equal CPU: the line's tail is its CPU).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

PROJECT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
TOKEN = "bench-auth-token"
SLUG = "cryotherapy-for-kidney-cancer"
CALL = {"AccountSid": "ACbench", "From": "+447700900123", "To": "+441632960000",
        "CallStatus": "in-progress", "Direction": "inbound"}
# Each call: keys pressed in turn ("-" = no key: follow the <Redirect>, i.e. the next part or
# the no-input path; "/path" = Twilio arriving there directly). Every call ends by pressing 0
# (the transfer to the nurses), then Twilio reaching /nurse as after a second fault.
CALLS = [
    ["1", "-", "-", "6", "4", "9", "-", "7", "0", "/nurse"],
    ["-", "/voice/menu", "2", "-", "9", "-", "6", "0", "/nurse"],
    ["3", "2", "-", "-", "4", "6", "*", "#", "1", "0", "/nurse"],
    ["/voice/menu", "5", "-", "-", "-", "9", "7", "0", "/nurse"],
]
LUA = """
local reqs = {
%(requests)s
}
local n = #reqs
local pause = %(pause)d
local i = 0
local threads = 0
function setup(thread)
  thread:set("first", threads * 7)
  threads = threads + 1
end
function init(args)
  i = first or 0
end
function request()
  i = i %% n + 1
  local r = reqs[i]
  return wrk.format("POST", r[1], {["Content-Type"] = "application/x-www-form-urlencoded",
                                   ["X-Twilio-Signature"] = r[3]}, r[2])
end
if pause > 0 then
  function delay() return pause end
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %%d, "duration_us": %%d, "p50": %%d, "p99": %%d, "p999": %%d, "max": %%d, ' ..
    '"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


@dataclass(frozen=True)
class Result:
    rate: float  # requests a second
    p50: float  # milliseconds
    p99: float
    p999: float
    errors: float
    error_kinds: str  # e.g. "status 3, timeout 1"
    cpu_ms: float  # worker CPU time a request (user + system): steady even when the machine is busy
    rss_mb: list[float]
    p99_rounds: tuple[float, ...] = ()  # of a median over rounds: each round's p99, in order


def recorded_calls(env: dict[str, str]) -> list[tuple[str, dict[str, str]]]:
    """(path, form) of every request of CALLS, recorded by following the line's own TwiML."""
    from ivr import create_app

    app = create_app({k: v for k, v in env.items() if k.startswith(("IVR_", "TWILIO_"))})
    client = app.test_client()
    validator = RequestValidator(TOKEN)
    out: list[tuple[str, dict[str, str]]] = []

    def post(path: str, form: dict[str, str]) -> ET.Element:
        headers = {"X-Twilio-Signature": validator.compute_signature("http://localhost" + path, form)}
        response = client.post(path, data=form, headers=headers)
        if response.status_code != 200:
            raise SystemExit(f"recording the calls: {path} answered {response.status_code}")
        out.append((path, form))
        return ET.fromstring(response.data)

    for number, keys in enumerate(CALLS):
        base = {"CallSid": f"CA{number:032x}", **CALL}
        doc = post("/voice", base)
        for key in keys:
            if key.startswith("/"):
                doc = post(key, base)
            elif key == "-":
                redirect = doc.find("Redirect")
                if redirect is None or not redirect.text:
                    raise SystemExit(f"recording the calls: no <Redirect> to follow in {ET.tostring(doc)!r}")
                doc = post(redirect.text, base)
            else:
                gather = doc.find("Gather")
                if gather is None:
                    raise SystemExit(f"recording the calls: no <Gather> for key {key} in {ET.tostring(doc)!r}")
                doc = post(gather.attrib["action"], {**base, "Digits": key})
    return out


def as_many_calls(recorded: list[tuple[str, dict[str, str]]], count: int) -> list[tuple[str, dict[str, str]]]:
    """``count`` calls, one after another, each the requests of one recorded call in turn under a
    CallSid and a caller's number of its own: as in service, where a second's webhooks come from
    many calls of many callers (the call log writes each call's row once a batch; a few calls
    replayed thousands of times would make it write the same rows over and over, and one number
    making every call would make each call's welcome-back look-up that of a caller with dozens
    of calls, which ``scripts/bench_welcome_back.py`` measures on its own)."""
    by_call: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for path, form in recorded:
        by_call.setdefault(form["CallSid"], []).append((path, form))
    paths = list(by_call.values())
    return [(path, {**form, "CallSid": f"CA{number:032x}", "From": f"+447700900{number % 1000:03d}"})  # a drama range
            for number in range(count) for path, form in paths[number % len(paths)]]


def lua_string(text: str) -> str:
    """A Lua string literal: printable ASCII kept, everything else as decimal byte escapes."""
    parts = []
    for byte in text.encode():
        char = chr(byte)
        parts.append(char if 32 <= byte < 127 and char not in '"\\' else f"\\{byte:03d}")
    return '"' + "".join(parts) + '"'


def lua_script(folder: Path, url: str, calls: list[tuple[str, dict[str, str]]], pause_ms: int) -> Path:
    """The wrk script cycling through ``calls``, each signed for ``url`` (the server's base URL)."""
    validator = RequestValidator(TOKEN)
    rows = []
    for path, form in calls:
        signature = validator.compute_signature(url + path, form)
        rows.append(f"  {{{lua_string(path)}, {lua_string(urlencode(form))}, {lua_string(signature)}}},")
    path = folder / f"calls-{url.rsplit(':', 1)[1]}-{pause_ms}.lua"  # one per server: signed for its URL
    path.write_text(LUA % {"requests": "\n".join(rows), "pause": pause_ms})
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(command: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    """Start a server and wait until it accepts connections (fails after 60 s)."""
    process = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None:
            raise SystemExit(f"{command[0]} exited at start:\n{log.read_text()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                raise SystemExit(f"{command} did not start:\n{log.read_text()}") from None
            time.sleep(0.1)


def logged_webhooks(env: dict[str, str]) -> int:
    """Webhooks the call log of the line started with ``env`` holds, once its workers have stopped
    (a graceful stop writes what is pending). wrk does not count the requests still in flight when
    a phase ends, so a complete log holds a few more than were counted as answered, never fewer."""
    from sqlalchemy import func, select

    from ivr.config import load_settings
    from ivr.store import Store
    from ivr.store.models import CallRecord

    store = Store(load_settings({k: v for k, v in env.items() if k.startswith(("IVR_", "TWILIO_"))}).database_url)
    try:
        with store.reading() as connection:
            return int(connection.execute(select(func.coalesce(func.sum(CallRecord.webhooks), 0))).scalar_one())
    finally:
        store.engine.dispose()


def worker_rss_mb(master: int) -> list[float]:
    """VmRSS of each gunicorn worker (the master's children), in MB."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def workers_cpu_seconds(master: int) -> float:
    """User + system CPU time of all gunicorn workers so far."""
    total = 0
    for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def run_wrk(server: Server, script: Path, connections: int, seconds: float) -> dict[str, int]:
    """wrk's figures for one phase on ``server``; its 2xx answers are added to ``server.answered``."""
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds:g}s", "--timeout", "5s",
               "-s", str(script), server.url + "/"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next((x for x in output.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no figures:\n{output}")
    figures: dict[str, int] = json.loads(line.removeprefix("BENCH "))
    server.answered += figures["requests"] - figures["status"]
    return figures


def measure(server: Server, script: Path, connections: int, seconds: float) -> Result:
    master = server.process.pid
    cpu_before = workers_cpu_seconds(master)
    figures = run_wrk(server, script, connections, seconds)
    cpu_ms = (workers_cpu_seconds(master) - cpu_before) * 1000 / max(1, figures["requests"])
    kinds = {k: figures[k] for k in ("connect", "read", "write", "status", "timeout") if figures[k]}
    return Result(figures["requests"] / (figures["duration_us"] / 1e6), figures["p50"] / 1000,
                  figures["p99"] / 1000, figures["p999"] / 1000, sum(kinds.values()),
                  ", ".join(f"{k} {n}" for k, n in kinds.items()), cpu_ms, worker_rss_mb(master))


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen
    paced: Path  # wrk script with the per-connection pause
    flat_out: Path  # wrk script without it
    answered: int = 0  # webhooks answered with 200 (by hand and counted by wrk): each should be in the call log


def serve(name: str, command: list[str], env: dict[str, str], port: int, folder: Path,
          calls: list[tuple[str, dict[str, str]]], args: argparse.Namespace) -> Server:
    """Start a server, and warm it up: every worker has answered every kind of request."""
    url = f"http://127.0.0.1:{port}"
    process = start(command, env, port, folder / f"{name}.log")
    server = Server(name, url, process, lua_script(folder, url, calls, args.pause), lua_script(folder, url, calls, 0))
    validator = RequestValidator(TOKEN)
    for path, form in calls:  # each request once, by hand: a refusal here would make the load meaningless
        answer = httpx.post(url + path, data=form, timeout=10,
                            headers={"X-Twilio-Signature": validator.compute_signature(url + path, form)})
        if answer.status_code != 200:
            print(f"WARNING: {name} answered {answer.status_code} to {path} {form.get('Digits', '')}")
        server.answered += answer.status_code == 200
    run_wrk(server, server.flat_out, 4, 2)
    return server


def phases(servers: list[Server], args: argparse.Namespace) -> dict[str, dict[str, Result]]:
    """Both phases, each run on every server in turn (so background load hits them alike),
    ``args.rounds`` times; each figure is the median over the rounds (RSS: the largest)."""
    runs: dict[tuple[str, str], list[Result]] = {}
    for _ in range(args.rounds):
        for phase in ("fixed rate", "saturation"):
            for server in servers:
                script, connections = ((server.paced, paced_connection_count(args)) if phase == "fixed rate"
                                       else (server.flat_out, args.connections))
                result = measure(server, script, connections, args.duration)
                runs.setdefault((server.name, phase), []).append(result)
    results: dict[str, dict[str, Result]] = {s.name: {} for s in servers}
    for (name, phase), found in runs.items():
        results[name][phase] = Result(
            *(statistics.median(getattr(r, f) for r in found) for f in ("rate", "p50", "p99", "p999", "errors")),
            "; ".join(r.error_kinds for r in found if r.error_kinds),
            statistics.median(r.cpu_ms for r in found),
            [max(sizes) for sizes in zip(*(r.rss_mb for r in found), strict=True)],
            tuple(r.p99 for r in found),
        )
    return results


def start_py_spy(master: int, output: Path, seconds: float) -> subprocess.Popen:
    """py-spy sampling the gunicorn workers (the master's subprocesses) for ``seconds``; it pauses
    them at each sample (200 a second), so no figure is taken while it runs."""
    py_spy = VENV_BIN / "py-spy"
    if not py_spy.exists():
        raise SystemExit("py-spy is not installed: scripts/setup.sh --dev installs it")
    return subprocess.Popen([str(py_spy), "record", "--pid", str(master), "--subprocesses", "--rate", "200",
                             "--duration", f"{math.ceil(seconds)}", "--format", "raw", "--output", str(output)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def profile_summary(collapsed: Path, top: int = 15) -> str:
    """The frames with the most samples of their own (self), and the project's frames with the most
    samples under them (inclusive), from py-spy's collapsed stacks."""
    own: dict[str, int] = {}
    under: dict[str, int] = {}
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        count = int(count_text)
        frames = [frame.split(" (")[0] + " (" + frame.split(" (")[1].split(":")[0].rsplit("/", 1)[-1] + ")"
                  if " (" in frame else frame for frame in stack.split(";")[1:]]  # [0]: the process
        if not frames:
            continue
        total += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            if "ivr/" in stack and any(part in frame for part in ("(voice.py)", "(twilio_hooks.py)", "(calllog.py)", "(kept_answers.py)",
                                                                  "(metrics.py)", "(twiml.py)", "(security.py)")):
                under[frame] = under.get(frame, 0) + count
    lines = [f"py-spy: {total} samples of the line's workers at saturation ({collapsed})", "  self:"]
    lines += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in sorted(own.items(), key=lambda x: -x[1])[:top]]
    lines.append("  inclusive (the line's web layer):")
    lines += [f"    {100 * n / total:5.1f}%  {frame}" for frame, n in sorted(under.items(), key=lambda x: -x[1])[:top]]
    return "\n".join(lines)


def paced_connection_count(args: argparse.Namespace) -> int:
    """Connections for the fixed rate: enough for at least ``args.rate`` requests a second, as
    each connection also waits to connect (gunicorn's sync workers close every connection) and
    for the answer: up to 20 ms a request is allowed for, so the rate is a little over."""
    return math.ceil(args.rate * (args.pause + 20) / 1000)


def show(name: str, phase: str, r: Result) -> None:
    rss = ", ".join(f"{x:.0f}" for x in r.rss_mb)
    print(f"{name:8} {phase:10} {r.rate:8.0f} req/s  p50 {r.p50:6.2f} ms  p99 {r.p99:6.2f} ms  "
          f"p99.9 {r.p999:6.2f} ms  errors {r.errors:3.0f}  CPU {r.cpu_ms:5.2f} ms/req  RSS {rss} MB"
          + (f"\n{'':20}errors: {r.error_kinds}" if r.errors else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers for both servers")
    parser.add_argument("--duration", type=float, default=15, help="seconds per phase")
    parser.add_argument("--rate", type=float, default=170, help="fixed-rate phase: requests a second in total")
    parser.add_argument("--pause", type=int, default=100, help="fixed-rate phase: ms each connection waits")
    parser.add_argument("--connections", type=int, default=16, help="saturation phase: connections")
    parser.add_argument("--calls", type=int, default=200, help="distinct calls replayed (CallSids)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat both phases; report the medians")
    parser.add_argument("--no-render", action="store_true", help="do not render missing audio first")
    parser.add_argument("--profile", type=Path, default=None, metavar="FILE",
                        help="after the figures, record the line's workers with py-spy at saturation into FILE "
                             "(collapsed stacks, for flamegraph.pl or speedscope) and print the top frames")
    parser.add_argument("--baseline-spin-ms", type=float, default=0,
                        help="diagnosis: the baseline spins the CPU this long a request (see bench_baseline_app)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: scripts/setup.sh --dev installs it (apt-get install wrk)")

    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ivr-bench-") as temp:
        folder = Path(temp)
        (folder / "instance").mkdir()
        env = {**os.environ, "TWILIO_AUTH_TOKEN": TOKEN, "IVR_INSTANCE_DIR": str(folder / "instance"),
               "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": "always",
               "IVR_DATABASE_URL": ""}  # SQLite in the instance folder: the call log holds this run alone
        if not args.no_render:
            subprocess.run([str(VENV_BIN / "ivr"), "render"], cwd=PROJECT, env=env, check=True)
        (folder / "recording").mkdir()  # its own call log: the line's holds the benchmark's webhooks alone
        calls = as_many_calls(recorded_calls({**env, "IVR_LOG_LEVEL": "WARNING",
                                              "IVR_INSTANCE_DIR": str(folder / "recording")}), args.calls)
        kinds = sorted({path.split("?")[0] + (f" Digits={form['Digits']}" if "Digits" in form else "")
                        for path, form in calls})
        print(f"{len(calls)} signed requests of {args.calls} calls (each one of {len(CALLS)} recorded paths under "
              f"its own CallSid), cycled: {', '.join(kinds)}")
        print(f"{args.workers} workers each; {args.duration:g} s a phase; fixed rate >= {args.rate:g} req/s "
              f"({paced_connection_count(args)} connections, {args.pause} ms pause); "
              f"saturation {args.connections} connections; wrk 2 threads on the same 2 cores"
              + (f"; baseline spins {args.baseline_spin_ms:g} ms a request" if args.baseline_spin_ms else "") + "\n")
        servers: list[Server] = []
        try:
            port = free_port()
            servers.append(serve("line", [str(VENV_BIN / "ivr"), "serve", "--port", str(port), "--workers",
                                          str(args.workers), "--no-render", "--allow-unapproved"], env, port, folder, calls, args))
            port = free_port()
            servers.append(serve("baseline", [sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                                              "--workers", str(args.workers), "--timeout", "30", "--access-logfile",
                                              "-", "--error-logfile", "-", "--pythonpath", "scripts",
                                              "bench_baseline_app:app"],
                                  {**env, "BENCH_BASELINE_SPIN_MS": str(args.baseline_spin_ms)}, port, folder, calls, args))
            results = phases(servers, args)
            if args.profile is not None:  # a phase of its own: py-spy's pauses would lower the figures
                spy = start_py_spy(servers[0].process.pid, args.profile, args.duration)
                run_wrk(servers[0], servers[0].flat_out, args.connections, args.duration)
                spy.wait(timeout=60)
        finally:
            for server in servers:
                server.process.send_signal(signal.SIGTERM)
                server.process.wait(timeout=30)
        logged = logged_webhooks(env)
    line, baseline = results["line"], results["baseline"]
    print(f"load average before / after: {' '.join(f'{x:.1f}' for x in load_before)} / "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} (other work on the machine skews the latencies)\n")

    for phase in line:
        show("line", phase, line[phase])
        show("baseline", phase, baseline[phase])
        a, b = line[phase], baseline[phase]
        print(f"{'ratio':8} {phase:10} {a.rate / b.rate:8.2f} x      p50 {a.p50 / b.p50:6.2f} x   "
              f"p99 {a.p99 / b.p99:6.2f} x   p99.9 {a.p999 / b.p999:6.2f} x   CPU {a.cpu_ms / b.cpu_ms:5.2f} x")
        if len(a.p99_rounds) > 1:  # how far one run's p99 ratio can be trusted: it moves from round to round
            print(f"{'':19} p99 ratio by round: "
                  f"{', '.join(f'{x / y:.2f}' for x, y in zip(a.p99_rounds, b.p99_rounds, strict=True))} x")
        print()
    fixed, peak = line["fixed rate"], line["saturation"]
    ratio = fixed.p99 / baseline["fixed rate"].p99
    rss = max(x for r in line.values() for x in r.rss_mb)
    print("goals:")
    if args.baseline_spin_ms:  # the goal is against the plain baseline: this run only diagnoses
        print(f"  p99 against a baseline spinning {args.baseline_spin_ms:g} ms a request: {ratio:.2f}x "
              "(not the goal: run without --baseline-spin-ms for that)")
    else:
        print(f"  p99 <= 1.3x baseline at the fixed rate: {ratio:.2f}x -> {'met' if ratio <= 1.3 else 'MISSED'}")
    ok = fixed.rate >= 170 and fixed.p99 < 50 and fixed.errors == 0 and peak.rate >= 170
    print(f"  >= 170 req/s at p99 < 50 ms: {fixed.rate:.0f} req/s at p99 {fixed.p99:.2f} ms "
          f"(paced), {peak.rate:.0f} req/s at saturation -> {'met' if ok else 'MISSED'}")
    print(f"  <= 100 MB RSS a worker: largest {rss:.0f} MB -> {'met' if rss <= 100 else 'MISSED'}")
    rate_ratio, p99_ratio = peak.rate / baseline["saturation"].rate, peak.p99 / baseline["saturation"].p99
    print(f"  saturation throughput >= 0.7x baseline (aim 0.8x): {rate_ratio:.2f}x -> "
          f"{'met' if rate_ratio >= 0.7 else 'MISSED'}")
    print(f"  saturation p99 <= 1.5x baseline (aim 1.2x): {p99_ratio:.2f}x -> {'met' if p99_ratio <= 1.5 else 'MISSED'}")
    answered = servers[0].answered
    print(f"  every webhook in the call log: {answered:,} answered, {logged:,} logged -> "
          f"{'met' if logged >= answered else 'MISSED: facts were dropped'}")
    print(f"  CPU a request at saturation: line {peak.cpu_ms:.2f} ms, baseline {baseline['saturation'].cpu_ms:.2f} ms "
          f"({peak.cpu_ms / baseline['saturation'].cpu_ms:.2f}x)")
    if args.profile is not None and args.profile.exists():
        print("\n" + profile_summary(args.profile))


if __name__ == "__main__":
    main()
