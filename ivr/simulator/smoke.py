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
    offered: bool = False  # the caller rang before: the line must offer to carry on where they left off


RETURNING = "+447900123456"  # the first walk's caller, who rings again (a UK mobile, never rung)
FIRST_SECTION = "first section"  # the keys to the first leaflet's first section: 1, or 1 then 1 with several leaflets

# Each walk its own caller, but the last: a caller who rings again is offered to carry on where
# they left off (the first walk heard the first section to its end: the second follows).
WALKS: tuple[Walk, ...] = (
    Walk("the first section, two paragraphs, then a nurse who answers", (FIRST_SECTION, None, None, "0"),
         caller=RETURNING),
    Walk("the whole leaflet, to its end", ("5", *([None] * 40)), caller="+447900123460"),
    Walk("nurses busy: a call-back on the caller's own number", ("0", "1", "1", None), nurse="busy",
         caller="+447900123461"),
    Walk("nurses not answering: a message", ("0", "2", None, None), nurse="no-answer", caller="+447900123462"),
    Walk("closed: a call-back on a number keyed in", ("0", "1", "2", "07900123457#", "1", None), when=CLOSED,
         caller="+447900123463"),
    Walk("closed: a caller who says nothing leaves a message", (None, None, None, None, None, None), when=CLOSED,
         caller="+447900123464"),
    Walk("open: a caller who says nothing is put through", (None, None, None, None), caller="+447900123465"),
    Walk("wrong keys, help, back and slower speech", ("#", "9", "8", "2", "*", "*", "4"), caller="+447900123466"),
    Walk("a caller who rings again carries on where they left off", ("1", None, None), caller=RETURNING,
         offered=True),  # key 1 here: carry on (the offer comes before any menu)
)


def smoke_walk(echo: Callable[[str], None]) -> list[Finding]:
    """Ring the real app (this environment's settings, a throw-away database) along WALKS."""
    from ivr import create_app
    from ivr.config import load_settings
    from ivr.speech.sources import leaflet_utterances

    settings = load_settings()
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="ivr-check-calls-") as scratch:
        # The walks prove the web layer and TwiML; the look-up's 20 ms budget is measured apart
        # (scripts/bench_welcome_back.py), so a busy machine does not fail the returning caller's walk.
        app = create_app({"IVR_DATABASE_URL": f"sqlite:///{scratch}/calls.sqlite3", "IVR_LOG_LEVEL": "ERROR",
                          "IVR_WELCOME_BACK_WAIT_MS": "1000"})
        runtime = app.extensions["ivr.runtime"]
        index = SpeechIndex.build(leaflet_utterances(runtime.catalogue), runtime.manifest, runtime.prompts)
        url = (settings.public_url or "http://localhost") + "/voice"
        transport = httpx.WSGITransport(app=app)
        first_section = ["1"] if len(runtime.catalogue.leaflets) == 1 else ["1", "1"]  # the leaflet, then its section
        for walk in WALKS:
            keys = [key for entry in walk.keys for key in (first_section if entry == FIRST_SECTION else [entry])]
            app.extensions["ivr.calllog"].flush()  # the calls before this one are in the call log
            moment = walk.when
            app.extensions["ivr.clock"] = lambda moment=moment: moment
            transcript = simulate_call(url, token=runtime.settings.auth_token, keys=keys, nurse=walk.nurse,
                                       transport=transport, index=index, from_number=walk.caller)
            heard = transcript.heard()
            problems = [e.text for e in transcript.errors]
            if any(e.id == "errors.apology" for e in heard):
                problems.append("the line apologised for a fault")
            if transcript.ended_by == "hangup" and not (heard and heard[-1].id == "call.goodbye"):
                problems.append("the line hung up without its goodbye")
            offered = any(e.id in ("call.welcome_back", "call.welcome_back_say") for e in heard)
            if offered != (walk.offered and runtime.settings.welcome_back_days > 0):
                problems.append("the line offered to carry on to a first call" if offered
                                else "the line did not offer to carry on to a caller who rang again")
            for problem in problems[:3]:
                findings.append(Finding("error", f"calls: walking '{walk.name}': {problem}"))
        echo(f"calls: walked {len(WALKS)} real calls through the app over HTTP "
             f"({sum(1 for f in findings if f.level == 'error')} failure(s))")
    return findings
