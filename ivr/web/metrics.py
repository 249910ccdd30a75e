"""``GET /metrics``: the line's figures in Prometheus' text format (``prometheus-client``).

Counters: calls, key presses by menu, nurse requests (open / closed), transfers by outcome,
messages and call-backs left, calls ended by Twilio's final status, answers of the fallback; a
histogram of webhook latency by endpoint, and of call length (Twilio's CallDuration); a gauge of
leaflet parts that have no rendered audio (a failed or missing ``ivr render``: callers hear <Say>);
and the listening analytics over the last 7, 30 and 90 days, from the call log
(:mod:`ivr.web.metrics_listening`).

Several gunicorn workers each count their own calls, so the counters use prometheus-client's
multiprocess mode: each worker writes to files in ``PROMETHEUS_MULTIPROC_DIR`` and a scrape adds
them up. When that variable is not set and the app runs under gunicorn, a folder per server run
is made under the instance folder (named after the gunicorn master's pid and start time) and
folders of server runs that have ended are removed, so counters start at zero with each server
start as Prometheus expects. Outside gunicorn (one process) the counters live in memory.

Who may read it is :data:`IVR_METRICS`: ``staff`` (a staff login, or ``Authorization: Bearer
<IVR_METRICS_TOKEN>``; others get 401) or ``open``.
"""

from __future__ import annotations

import hmac
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request

from ivr.calllog.facts import Facts
from ivr.calllog.status import CallEnd
from ivr.dialogue.steps import KINDS
from ivr.runtime import Runtime
from ivr.speech.manifest import RATES
from ivr.speech.sources import leaflet_utterances

__all__ = ["init_app", "observe_call_end", "observe_facts", "observe_fallback", "observe_latency"]

log = logging.getLogger(__name__)
MENUS = frozenset(KINDS)  # every position kind a key can be pressed at
OUTCOMES = frozenset({"answered", "busy", "no-answer", "failed", "canceled", "not-bridged"})
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
CALL_BUCKETS = (15, 30, 60, 120, 180, 300, 600, 900, 1800, 3600)  # seconds: most calls are a few minutes
STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
FALLBACK_DOCUMENTS = frozenset({"open", "closed", "dialled-answered", "dialled-busy", "dialled-no-answer", "recorded",
                                "nothing-recorded"})


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), so a reused pid is not mistaken."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "0"


def _multiprocess_dir(instance_dir: Path) -> str | None:
    """The folder for multiprocess counters, or None to count in memory (see the module doc)."""
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        Path(configured).mkdir(parents=True, exist_ok=True)
        return configured
    if not os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
        return None
    master = os.getppid()
    root = instance_dir / "metrics"
    run = root / f"{master}-{_start_time(master)}"
    run.mkdir(parents=True, exist_ok=True)
    for old in root.iterdir():
        pid = old.name.split("-", 1)[0]
        if old != run and pid.isdigit() and old.name != f"{pid}-{_start_time(int(pid))}":
            shutil.rmtree(old, ignore_errors=True)  # that server run has ended
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(run)  # read by prometheus_client when first imported
    return str(run)


@dataclass
class _Metrics:
    registry: Any  # in-memory registry, or None in multiprocess mode
    path: str | None  # the multiprocess folder
    calls: Any
    keys: Any
    nurse: Any
    transfers: Any
    left: Any
    latency: Any
    call_ends: Any
    call_seconds: Any
    fallback: Any
    missing_audio: int
    listening: Any = None  # the collector of the listening figures (from the database)
    latencies: dict[str, Any] = field(default_factory=dict)  # the latency histogram by endpoint, looked up once


def _build(instance_dir: Path, runtime: Runtime) -> _Metrics:
    path = _multiprocess_dir(instance_dir)
    import prometheus_client
    from prometheus_client import CollectorRegistry, Counter, Histogram

    if path is not None and not getattr(prometheus_client.values.ValueClass, "_multiprocess", False):
        log.warning("prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set: counting in memory")
        path = None
    prometheus_client.disable_created_metrics()  # the *_created series only add noise here
    registry = CollectorRegistry() if path is None else None
    missing = sum(
        runtime.manifest.find(item.text, rate) is None for item in leaflet_utterances(runtime.catalogue) for rate in RATES
    )
    return _Metrics(
        registry=registry, path=path,
        calls=Counter("ivr_calls", "Calls answered.", registry=registry),
        keys=Counter("ivr_key_presses", "Keys pressed, by menu.", ["menu"], registry=registry),
        nurse=Counter("ivr_nurse_requests", "Callers who asked for a nurse, by whether the nurses were open.",
                      ["hours"], registry=registry),
        transfers=Counter("ivr_transfers", "Transfers to the nurses, by outcome (answered, busy, no-answer...).",
                          ["outcome"], registry=registry),
        left=Counter("ivr_messages", "Messages and call-back requests left.", ["kind"], registry=registry),
        latency=Histogram("ivr_webhook_seconds", "Time to answer a Twilio webhook, by endpoint.", ["endpoint"],
                          buckets=LATENCY_BUCKETS, registry=registry),
        call_ends=Counter("ivr_call_ends", "Calls ended, by Twilio's final CallStatus (from the status callback).",
                          ["status"], registry=registry),
        call_seconds=Histogram("ivr_call_duration_seconds", "Length of calls (Twilio's CallDuration, from the status "
                               "callback): the average over any period is rate(_sum) / rate(_count).",
                               buckets=CALL_BUCKETS, registry=registry),
        fallback=Counter("ivr_fallback_answers", "Answers from /voice/fallback (Twilio could not get TwiML from the "
                         "line), by document: open, closed, dialled-..., recorded.", ["document"], registry=registry),
        missing_audio=missing,
    )


def _metrics() -> _Metrics | None:
    return current_app.extensions.get("ivr.metrics")


def observe_facts(app: Flask, facts: Facts) -> None:
    """Count one webhook's facts (from the call log's note of it). Never raises."""
    metrics: _Metrics | None = app.extensions.get("ivr.metrics")
    if metrics is None:
        return
    try:
        if facts.started:
            metrics.calls.inc()
        if facts.key is not None:
            metrics.keys.labels(facts.key.menu if facts.key.menu in MENUS else "other").inc()
        if facts.nurse_requested:
            metrics.nurse.labels("closed" if facts.nurse_closed else "open").inc()
        if facts.transfer_status is not None:
            status = facts.transfer_status
            metrics.transfers.labels(status if status in OUTCOMES else "other").inc()
        if facts.message_left:
            metrics.left.labels("message").inc()
        if facts.callback_left:
            metrics.left.labels("callback").inc()
    except Exception:
        log.exception("metrics: could not count %s", facts.endpoint)


def observe_latency(app: Flask, endpoint: str, seconds: float) -> None:
    """Time one answered webhook (nothing when ``app`` counts nothing: the practice line)."""
    metrics: _Metrics | None = app.extensions.get("ivr.metrics")
    if metrics is not None:
        timer = metrics.latencies.get(endpoint)
        if timer is None:
            timer = metrics.latencies[endpoint] = metrics.latency.labels(endpoint)
        timer.observe(seconds)


def observe_call_end(end: CallEnd) -> None:
    """Count a call's end (from the status callback). Never raises."""
    metrics = _metrics()
    if metrics is None:
        return
    try:
        metrics.call_ends.labels(end.status if end.status in STATUSES else "other").inc()
        if end.duration_seconds is not None:
            metrics.call_seconds.observe(end.duration_seconds)
    except Exception:
        log.exception("metrics: could not count the end of a call")


def observe_fallback(document: str) -> None:
    """Count one answer of the fallback (which document). Never raises."""
    metrics = _metrics()
    if metrics is None:
        return
    try:
        metrics.fallback.labels(document if document in FALLBACK_DOCUMENTS else "other").inc()
    except Exception:
        log.exception("metrics: could not count a fallback answer")


def _allowed(mode: str, token: str) -> bool:
    if mode == "open":
        return True
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].strip().encode(), token.encode()):
        return True
    from ivr.web.staff_auth import current_staff

    return current_staff() is not None


def _exposition(metrics: _Metrics) -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.multiprocess import MultiProcessCollector

    class _Audio:
        def collect(self) -> Any:
            yield GaugeMetricFamily("ivr_speech_parts_without_audio",
                                    "Leaflet parts (at each rate) with no rendered audio: render failures or "
                                    "an `ivr render` not yet run; callers hear <Say> for these.",
                                    value=metrics.missing_audio)

    registry = CollectorRegistry()
    if metrics.path is not None:
        MultiProcessCollector(registry, path=metrics.path)
    else:
        registry.register(_Collect(metrics.registry))
    registry.register(_Audio())
    if metrics.listening is not None:
        registry.register(metrics.listening)
    return generate_latest(registry)


class _Collect:
    """Another registry's metrics, so the in-memory ones and the audio gauge make one page."""

    def __init__(self, registry: Any) -> None:
        self.registry = registry

    def collect(self) -> Any:
        return self.registry.collect()


def init_app(app: Flask) -> None:
    """Count the webhooks and serve ``/metrics`` (to whom IVR_METRICS says)."""
    settings = app.extensions["ivr.runtime"].settings
    mode, token = settings.metrics, settings.metrics_token
    metrics = _build(settings.instance_dir, app.extensions["ivr.runtime"])
    from ivr.web.calllog import flush
    from ivr.web.metrics_listening import ListeningGauges

    metrics.listening = ListeningGauges(app.extensions["ivr.store"], app.extensions["ivr.runtime"].catalogue,
                                        app.extensions["ivr.lengths"], flush)
    app.extensions["ivr.metrics"] = metrics

    @app.before_request
    def _started() -> None:
        g.ivr_started = time.perf_counter()

    @app.after_request
    def _timed(response: Response) -> Response:
        started = g.get("ivr_started")
        if request.blueprint in ("voice", "voice_legacy") and started is not None and request.endpoint:
            observe_latency(app, request.endpoint, time.perf_counter() - started)
        return response

    @app.get("/metrics")
    def metrics_page() -> Response:
        if not _allowed(mode, token):
            return Response("Sign in to the staff pages, or send the metrics bearer token.\n", status=401,
                            mimetype="text/plain", headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(_exposition(metrics), content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
