"""``ivr check --calls``'s walk of real calls: the real app, in-process, through real signed HTTP
requests and real TwiML run as Twilio runs it (the states themselves are all checked as data by
:mod:`ivr.dialogue.contract`; this proves the web layer, the TwiML and the audio serve them).

Each walk is a call a caller could make, with the nurses open or closed, the nurse answering or
busy. A walk fails on an HTTP error, invalid TwiML, audio that is not telephone audio, an apology
for a fault, or a call the line ends without its goodbye.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from ivr.findings import Finding
from ivr.simulator.caller import NurseMode, simulate_call
from ivr.simulator.speech_index import SpeechIndex

__all__ = ["WALKS", "Walk", "smoke_walk"]

OPEN = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.UTC)  # a Monday morning (for Mon-Fri 09:00-17:00)
CLOSED = dt.datetime(2026, 12, 24, 18, 0, tzinfo=dt.UTC)  # Christmas Eve evening


@dataclass(frozen=True)
class Walk:
    name: str
    keys: tuple[str | None, ...]  # one entry per question (None: silence); then the caller hangs up
    nurse: NurseMode = "answer"
    when: dt.datetime = OPEN
    caller: str = "+447900123456"  # a UK mobile the nurses could ring back (never rung: it is a simulation)


WALKS: tuple[Walk, ...] = (
    Walk("the first section, two paragraphs, then a nurse who answers", ("1", None, None, "0")),
    Walk("the whole leaflet, to its end", ("5", *([None] * 40))),
    Walk("nurses busy: a call-back on the caller's own number", ("0", "1", "1", None), nurse="busy"),
    Walk("nurses not answering: a message", ("0", "2", None, None), nurse="no-answer"),
    Walk("closed: a call-back on a number keyed in", ("0", "1", "2", "07900123457#", "1", None), when=CLOSED),
    Walk("closed: a caller who says nothing leaves a message", (None, None, None, None, None, None), when=CLOSED),
    Walk("open: a caller who says nothing is put through", (None, None, None, None)),
    Walk("wrong keys, help, back and slower speech", ("#", "9", "8", "2", "*", "*", "4")),
)


def smoke_walk(echo: Callable[[str], None]) -> list[Finding]:
    """Ring the real app (this environment's settings, a throw-away database) along WALKS."""
    from ivr import create_app
    from ivr.config import load_settings
    from ivr.speech.sources import leaflet_utterances

    settings = load_settings()
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="ivr-check-calls-") as scratch:
        app = create_app({"IVR_DATABASE_URL": f"sqlite:///{scratch}/calls.sqlite3", "IVR_LOG_LEVEL": "ERROR"})
        runtime = app.extensions["ivr.runtime"]
        index = SpeechIndex.build(leaflet_utterances(runtime.catalogue), runtime.manifest, runtime.prompts)
        url = (settings.public_url or "http://localhost") + "/voice"
        transport = httpx.WSGITransport(app=app)
        for walk in WALKS:
            moment = walk.when
            app.extensions["ivr.clock"] = lambda moment=moment: moment
            transcript = simulate_call(url, token=runtime.settings.auth_token, keys=list(walk.keys), nurse=walk.nurse,
                                       transport=transport, index=index, from_number=walk.caller)
            heard = transcript.heard()
            problems = [e.text for e in transcript.errors]
            if any(e.id == "errors.apology" for e in heard):
                problems.append("the line apologised for a fault")
            if transcript.ended_by == "hangup" and not (heard and heard[-1].id == "call.goodbye"):
                problems.append("the line hung up without its goodbye")
            for problem in problems[:3]:
                findings.append(Finding("error", f"calls: walking '{walk.name}': {problem}"))
        echo(f"calls: walked {len(WALKS)} real calls through the app over HTTP "
             f"({sum(1 for f in findings if f.level == 'error')} failure(s))")
    return findings
