"""The benchmark's baseline (not part of the line): the least a Flask webhook on gunicorn can do.

    gunicorn --pythonpath scripts bench_baseline_app:app

Answers every POST with one constant TwiML document of about the size of the line's answers (a
<Gather> around a <Play>, then a <Redirect>), built once at import with the same library the
line uses. No signature check, no phone tree: whatever the line costs above this is ours.

``BENCH_BASELINE_SPIN_MS=N`` makes it spin the CPU N ms a request first (``bench_webhook.py
--baseline-spin-ms``): a constant app as costly as the line, which tells apart latency that
any webhook of that CPU cost has on the machine from latency the line adds in other ways.
"""

from __future__ import annotations

import os
import time

from flask import Flask, Response
from twilio.twiml.voice_response import VoiceResponse

__all__ = ["app"]


def _document() -> str:
    response = VoiceResponse()
    gather = response.gather(input="dtmf", action="/voice/key?k=read&l=baseline&s=1&p=2&r=normal",
                             method="POST", timeout=1, finish_on_key="", num_digits=1)
    gather.play("http://127.0.0.1/audio/00000000000000000000000000000000.wav")
    response.redirect("/voice/read?l=baseline&s=1&p=3&r=normal", method="POST")
    return str(response)


DOCUMENT = _document()
SPIN_SECONDS = float(os.environ.get("BENCH_BASELINE_SPIN_MS", "0")) / 1000
app = Flask(__name__)


@app.post("/", defaults={"path": ""})
@app.post("/<path:path>")
def constant(path: str) -> Response:
    until = time.thread_time() + SPIN_SECONDS
    while time.thread_time() < until:  # CPU time, not wall time: waiting for a core does not count
        pass
    return Response(DOCUMENT, status=200, mimetype="text/xml")
