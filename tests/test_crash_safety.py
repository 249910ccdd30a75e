"""Crash safety: the server is killed (SIGKILL) while messages and call-back requests arrive.

A real gunicorn server (two workers) on a real database (a SQLite file, and PostgreSQL when
scripts/postgres.sh started one) takes voicemail messages (the <Record> action) and call-back
requests (the caller confirms their number) from a few client threads at once. Once enough of
them were acknowledged to the caller (a 200 whose TwiML says the "saved" prompt), the master and
its workers are killed with SIGKILL, mid-flight. The server is started again on the same
database, and:

- every acknowledged request is in the database, exactly once;
- no request is there twice;
- after re-sending every request (as Twilio retries), each is acknowledged and still there once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from ivr.prompts import load_prompts
from ivr.store import CallbackRequest, Message

from .conftest import DATABASE_BACKENDS, LiveServer, fresh_database, start_server

SLUG = "cryotherapy-for-kidney-cancer"
CALLER = "+447900123456"
THREADS = 4
PER_THREAD = 30  # requests each client thread has to send
KILL_AFTER = 24  # acknowledged responses before the SIGKILL
PROMPTS = load_prompts("en-GB")
MESSAGE_SAVED = PROMPTS.say("nurse.message.saved").text
CALLBACK_SAVED = PROMPTS.say("nurse.callback.saved").text


@dataclass(frozen=True)
class Webhook:
    kind: str  # "message" or "callback"
    key: str  # RecordingSid or CallSid: what makes the row unique
    path: str
    params: dict[str, str]

    @property
    def saved_prompt(self) -> str:
        return MESSAGE_SAVED if self.kind == "message" else CALLBACK_SAVED


def webhooks(thread: int) -> list[Webhook]:
    """Half messages, half call-back requests, each from its own call."""
    state = f"l={SLUG}&s=2&p=3&o=read&y=busy&t=1"
    out = []
    for number in range(PER_THREAD):
        call_sid = f"CA-crash-{thread}-{number}"
        base = {"CallSid": call_sid, "From": CALLER, "To": "+441632960000", "AccountSid": "AC" + "0" * 32}
        if number % 2 == 0:
            sid = f"RE{thread:016x}{number:016x}"
            url = f"https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/{sid}"
            out.append(Webhook("message", sid, f"/voice/record?k=nurse-message&{state}",
                               base | {"RecordingSid": sid, "RecordingUrl": url, "RecordingDuration": "9", "Digits": "#"}))
        else:
            out.append(Webhook("callback", call_sid, f"/voice/key?k=nurse-callback&{state}", base | {"Digits": "1"}))
    return out


def acknowledged(server: LiveServer, client: httpx.Client, hook: Webhook) -> bool:
    """POST ``hook``, signed as Twilio would. True when the caller was told it is saved; False
    for any other answer or no answer. (One client per thread: a new one per request costs more
    than the request.)"""
    url = server.url + hook.path
    try:
        response = client.post(url, data=hook.params, headers={"X-Twilio-Signature": server.sign(url, hook.params)})
    except httpx.HTTPError:  # the server died under this request
        return False
    if response.status_code != 200:
        return False
    spoken = [say.text or "" for say in ET.fromstring(response.text).iter("Say")]
    return hook.saved_prompt in spoken


def kill_server(server: LiveServer) -> None:
    """SIGKILL the gunicorn master and every worker at once, as a power cut would. The master is
    stopped first so that it cannot start new workers while they are being killed."""
    master = server.process.pid
    os.kill(master, signal.SIGSTOP)
    workers = [int(stat.split()[0]) for stat in _proc_stats() if int(stat.rsplit(")", 1)[1].split()[1]) == master]
    for pid in [*workers, master]:
        os.kill(pid, signal.SIGKILL)
    server.process.wait(timeout=10)


def _proc_stats() -> list[str]:
    stats = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):  # the process ended meanwhile
                stats.append((entry / "stat").read_text())
    return stats


def saved_keys(url: str) -> tuple[list[str], list[str]]:
    """RecordingSids of the messages and CallSids of the call-backs in the database (with repeats)."""
    engine = create_engine(url)
    with Session(engine) as session:
        messages = list(session.scalars(select(Message.recording_sid).where(Message.call_sid.like("CA-crash-%"))))
        callbacks = list(session.scalars(select(CallbackRequest.call_sid).where(CallbackRequest.call_sid.like("CA-crash-%"))))
        assert session.scalar(select(func.count()).select_from(Message)) == len(messages)
    engine.dispose()
    return messages, callbacks


@pytest.mark.parametrize("backend", DATABASE_BACKENDS)
def test_acknowledged_requests_survive_sigkill_once_each(backend, tmp_path):
    with fresh_database(backend, tmp_path) as url:
        config = {
            "IVR_INSTANCE_DIR": str(tmp_path), "TWILIO_AUTH_TOKEN": "crash-test-token",
            "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": "always", "IVR_SPEECH": "say",
            "IVR_DATABASE_URL": url, "IVR_CLOCK": "", "IVR_CLOSED_DATES": "",
        }
        server = start_server(config, tmp_path, workers=2)
        acked: list[Webhook] = []
        enough, killed = threading.Condition(), threading.Event()

        def caller(thread: int) -> None:
            with httpx.Client(timeout=20) as client:
                for hook in webhooks(thread):
                    if killed.is_set():
                        return
                    if acknowledged(server, client, hook):
                        with enough:
                            acked.append(hook)
                            enough.notify_all()

        threads = [threading.Thread(target=caller, args=(number,)) for number in range(THREADS)]
        try:
            for thread in threads:
                thread.start()
            with enough:
                assert enough.wait_for(lambda: len(acked) >= KILL_AFTER, timeout=60), "too few acknowledged"
                killed.set()
                kill_server(server)  # while the other threads' requests are in flight
            for thread in threads:
                thread.join(timeout=60)
        finally:
            killed.set()
            if server.process.poll() is None:
                server.process.kill()
        acked_keys = {(hook.kind, hook.key) for hook in acked}

        server = start_server(config, tmp_path, workers=2)  # restarted on the same database
        try:
            messages, callbacks = saved_keys(url)
            found = {("message", key) for key in messages} | {("callback", key) for key in callbacks}
            duplicates = len(messages) - len(set(messages)) + len(callbacks) - len(set(callbacks))
            print(f"\n[{backend}] acknowledged {len(acked_keys)} before the SIGKILL; in the database "
                  f"{len(found)} ({len(found & acked_keys)} of the acknowledged, "
                  f"{len(found - acked_keys)} saved but never acknowledged); duplicates {duplicates}")
            assert acked_keys <= found, f"acknowledged but lost: {sorted(acked_keys - found)}"
            assert duplicates == 0

            # Twilio retries every webhook it sent: each is acknowledged now, and saved once.
            everything = [hook for thread in range(THREADS) for hook in webhooks(thread)]
            with httpx.Client(timeout=20) as client:
                for hook in everything:
                    assert acknowledged(server, client, hook), hook
            messages, callbacks = saved_keys(url)
            print(f"[{backend}] after re-sending all {len(everything)}: {len(messages) + len(callbacks)} rows, "
                  f"duplicates {len(messages) - len(set(messages)) + len(callbacks) - len(set(callbacks))}")
            assert sorted(messages) == sorted({hook.key for hook in everything if hook.kind == "message"})
            assert sorted(callbacks) == sorted({hook.key for hook in everything if hook.kind == "callback"})
            assert "Traceback" not in server.log()
        finally:
            server.process.terminate()
            server.process.wait(timeout=10)
