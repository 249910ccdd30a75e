"""The browser phone is a practice line (issue 19), through a real gunicorn server and real HTTP:
its calls leave the nurses' queue, the call log and /metrics untouched; its JSON endpoint
refuses a huge body, an expired state, a DNS-rebinding Origin, and too many steps at once."""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from ivr.simulator import simulate_call
from tests.conftest import LiveServer, start_server

pytestmark = pytest.mark.slow

SECRET_KEY = "practice-line-test-secret-key-0123456789"
TOKEN_RE = re.compile(r'<meta name="phone-token" content="([^"]+)">')
CALL_BACK_NUMBER = "02079460123"


def serve(tmp: Path, **settings: str) -> Iterator[LiveServer]:
    (tmp / "instance").mkdir()
    server = start_server({
        "IVR_INSTANCE_DIR": str(tmp / "instance"), "TWILIO_AUTH_TOKEN": "test-auth-token",
        "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": "always", "IVR_SPEECH": "say",
        "IVR_PHONE": "open", "IVR_METRICS": "open", "IVR_SECRET_KEY": SECRET_KEY, **settings,
    }, tmp)
    yield server
    if server.process.poll() is None:
        server.process.terminate()
        server.process.wait(timeout=20)


@pytest.fixture
def server(tmp_path) -> Iterator[LiveServer]:
    yield from serve(tmp_path)


class Phone:
    """The phone page's part of the conversation: its token, its Origin, one JSON step at a time."""

    def __init__(self, server: LiveServer, *, origin: str | None = None, local_address: str | None = None) -> None:
        transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
        self.http = httpx.Client(base_url=server.url, timeout=30, transport=transport)
        found = TOKEN_RE.search(self.http.get("/phone").text)
        assert found, "the phone page has no token"
        self.headers = {"X-Phone-Token": found.group(1), "Origin": origin or server.url}

    def step(self, state: str | None, keys: str | None, nurse: str = "busy", **headers: str) -> httpx.Response:
        body = {"state": state, "keys": keys, "nurse": nurse}
        return self.http.post("/phone/step", json=body, headers=self.headers | headers)

    def call(self, keys: list[str], nurse: str = "busy") -> list[str]:
        """Ring, press ``keys`` one step each; the prompt ids heard."""
        answer = self.step(None, None, nurse)
        heard = []
        for key in [None, *keys]:
            if key is not None:
                answer = self.step(answer.json()["state"], key, nurse)
            assert answer.status_code == 200, answer.text
            heard += [event["id"] for event in answer.json()["events"] if event["id"]]
        return heard

    def close(self) -> None:
        self.http.close()


def rows(server: LiveServer, table: str) -> list[tuple]:
    instance = Path(server.log_path).parent / "instance"
    with sqlite3.connect(instance / "ivr.sqlite3") as db:
        return db.execute(f"SELECT * FROM {table}").fetchall()


def metric(page: str, sample: str) -> float:
    found = re.search(rf"^{re.escape(sample)} ([0-9.e+]+)$", page, re.M)
    return float(found.group(1)) if found else 0.0


def test_practice_calls_leave_the_queue_call_log_and_metrics_untouched(server):
    phone = Phone(server)
    try:
        # a message and a call-back, left through the browser phone: the line says both are saved
        assert "nurse.message.saved" in phone.call(["0", "2"])
        assert "nurse.callback.saved" in phone.call(["0", "1", CALL_BACK_NUMBER + "#", "1"])
    finally:
        phone.close()
    # one real call (signed, to /voice) as a control: the call log and metrics do see that one
    real = simulate_call(server.url + "/voice", token=server.token, keys=["1"])
    assert not real.failed, real
    page = httpx.get(server.url + "/metrics", timeout=20).text
    assert metric(page, "ivr_calls_total") == 1
    assert metric(page, 'ivr_messages_total{kind="message"}') == 0
    assert metric(page, 'ivr_messages_total{kind="callback"}') == 0
    assert metric(page, 'ivr_transfers_total{outcome="busy"}') == 0
    assert metric(page, 'ivr_nurse_requests_total{hours="open"}') == 0

    server.process.terminate()  # SIGTERM: the call log's writer writes what it holds on the way out
    assert server.process.wait(timeout=20) == 0
    assert rows(server, "messages") == [] and rows(server, "callback_requests") == []
    calls = rows(server, "calls")
    assert len(calls) == 1 and not any(row[9] for row in calls)  # only the real call; no nurse request
    assert {row[3] for row in rows(server, "call_events")} <= {"read", "key"}  # the real call's events only
    assert "practice line: call-back request 1 saved" in server.log()  # the practice line's own, marked


def test_the_page_says_calls_are_practice_calls(server):
    page = httpx.get(server.url + "/phone", timeout=20).text
    assert "Calls here are practice calls." in page
    assert "not sent to the nurses' queue" in page


def test_a_body_over_the_limit_is_refused_unread(server):
    phone = Phone(server)
    try:
        padding = "x" * (2 * 1024 * 1024)
        refused = phone.http.post("/phone/step", json={"state": None, "keys": None, "nurse": "busy", "pad": padding},
                                  headers=phone.headers)
        assert refused.status_code == 413
        assert refused.json()["error"] == "a step is at most 65536 bytes"
        assert phone.step(None, None).status_code == 200  # the worker is fine
    finally:
        phone.close()


def resigned(state: str, age_seconds: int) -> str:
    """The same state, signed with the server's key as if ``age_seconds`` ago."""
    payload = URLSafeTimedSerializer(SECRET_KEY, salt="ivr-phone-state").loads(state)

    class Then(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - age_seconds

    return URLSafeTimedSerializer(SECRET_KEY, salt="ivr-phone-state", signer=Then).dumps(payload)


def test_an_expired_state_is_refused(server):
    phone = Phone(server)
    try:
        state = phone.step(None, None).json()["state"]
        assert phone.step(resigned(state, 60), "1").status_code == 200  # a minute old: fine
        expired = phone.step(resigned(state, 3600), "1")  # an hour old: a replay, refused
        assert expired.status_code == 400
        assert expired.json()["error"] == "this practice call has expired: press Call to ring again"
    finally:
        phone.close()


def test_the_origin_must_be_the_page_itself_not_whatever_the_host_header_says(server):
    port = server.url.rsplit(":", 1)[1]
    phone = Phone(server)
    try:
        assert phone.step(None, None).status_code == 200
        # a DNS-rebinding page: evil.example now resolves here, so Host and Origin agree
        rebound = phone.step(None, None, Origin=f"http://evil.example:{port}", Host=f"evil.example:{port}")
        assert rebound.status_code == 403
        assert rebound.json()["error"].startswith(f"cross-site request from http://evil.example:{port}")
        missing = phone.http.post("/phone/step", json={"state": None, "keys": None},
                                  headers={"X-Phone-Token": phone.headers["X-Phone-Token"]})
        assert missing.status_code == 403
    finally:
        phone.close()


def test_with_a_public_url_only_that_origin_may_step(tmp_path):
    public = "https://ivr.example.org"
    for server in serve(tmp_path, IVR_PUBLIC_URL=public):
        phone = Phone(server, origin=public)
        try:
            assert phone.step(None, None).status_code == 200
            local = phone.step(None, None, Origin=server.url)  # the Host header's origin: not enough now
            assert local.status_code == 403
            assert local.json()["error"].endswith(f"open the phone at {public}/phone")
        finally:
            phone.close()


def test_steps_are_rate_limited_per_address(server):
    busy, other = Phone(server, local_address="127.0.0.5"), Phone(server, local_address="127.0.0.6")
    try:
        statuses = []
        for _ in range(40):
            answer = busy.step(None, None)
            statuses.append(answer.status_code)
            if answer.status_code == 429:
                break
        assert statuses[-1] == 429, statuses
        assert statuses.count(200) >= 20  # a burst of key presses is fine
        assert int(answer.headers["Retry-After"]) >= 1
        assert answer.json()["error"].startswith("Too many steps at once")
        assert other.step(None, None).status_code == 200  # another address is not held up
    finally:
        busy.close()
        other.close()
