"""Benchmark what a text message costs the webhook (not a test): prints figures, asserts nothing.

    .venv/bin/python scripts/bench_texts.py [--requests 300]

In process (Flask's test client, signed requests, SQLite with FULL sync as in service), on the
test leaflet, measured in the same run:

- the greeting with texts on (its TwiML offers the text) against texts off: the offer's cost;
- pressing 7 (the text is committed to the database, the sender woken) against pressing 1 (a
  section starts; no database write): what the caller waits for the queueing. Each press is a new
  call from a new number, so every one is queued. The sender's sends fail at once (nothing
  listens at the API address), so its thread writes too, as it would in service.

Prints the median and 90th percentile of each, and the ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from twilio.request_validator import RequestValidator

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from ivr import create_app  # noqa: E402

TOKEN = "bench-token"
SLUG = "cryotherapy-for-kidney-cancer"


def app_for(folder: Path, *, texts: bool):  # type: ignore[no-untyped-def]
    folder.mkdir(parents=True)
    config: dict[str, object] = {
        "TESTING": True, "IVR_INSTANCE_DIR": str(folder), "TWILIO_AUTH_TOKEN": TOKEN,
        "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": "always", "IVR_SPEECH": "say",
        "IVR_SPEECH_INPUT": "off", "IVR_LEAFLETS_DIR": str(PROJECT / "tests" / "fixtures" / "leaflets-one"),
        "IVR_PUBLIC_URL": "http://localhost", "IVR_LOG_LEVEL": "WARNING", "IVR_TEXTS_PER_HOUR": "10000",
    }
    if texts:
        config |= {"IVR_SMS_FROM": "+447700900000", "TWILIO_ACCOUNT_SID": "AC" + "5e" * 16,
                   "TWILIO_API_BASE_URL": "http://127.0.0.1:9"}
    return create_app(config).test_client()


def timed(client, path: str, params: dict[str, str]) -> float:  # type: ignore[no-untyped-def]
    signature = RequestValidator(TOKEN).compute_signature("http://localhost" + path, params)
    start = time.perf_counter()
    response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    elapsed = time.perf_counter() - start
    assert response.status_code == 200, response.text
    return elapsed * 1000


def summary(name: str, times: list[float]) -> float:
    ordered = sorted(times)
    median = statistics.median(ordered)
    print(f"{name:<44} median {median:6.2f} ms   p90 {ordered[int(len(ordered) * 0.9)]:6.2f} ms")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    n = parser.parse_args().requests
    with tempfile.TemporaryDirectory() as tmp:
        on, off = app_for(Path(tmp) / "on", texts=True), app_for(Path(tmp) / "off", texts=False)

        def call(i: int) -> dict[str, str]:
            return {"CallSid": f"CA{i:032x}", "From": f"+447900{i % 1000000:06d}", "To": "+441632960000"}

        for client in (on, off):  # warm up: first requests build the engine's steps and answers
            for i in range(20):
                timed(client, "/voice", call(i))
        greet_on, greet_off, text, section = [], [], [], []
        for i in range(100, 100 + n):  # interleaved, so that the machine's other work falls on both alike
            greet_on.append(timed(on, "/voice", call(i)))
            greet_off.append(timed(off, "/voice", call(i)))
            text.append(timed(on, f"/voice/key?k=sections&l={SLUG}", call(i) | {"Digits": "7"}))
            section.append(timed(on, f"/voice/key?k=sections&l={SLUG}", call(i) | {"Digits": "1"}))
        a = summary("greeting, texts on", greet_on)
        b = summary("greeting, texts off (baseline)", greet_off)
        c = summary("key 7: a text queued (durable commit)", text)
        d = summary("key 1: a section starts (baseline)", section)
        print(f"ratios: greeting on/off {a / b:.2f}x; text queued / section {c / d:.2f}x")


if __name__ == "__main__":
    main()
