"""A sign-in lock-out nobody can turn into a weapon (issue 19): someone guessing alice's password
from another address never stops alice signing in; the guesser is slowed down; behind a
configured proxy the real client address is used (and X-Forwarded-For is never trusted
otherwise); staff see the failures; the name typed is never logged or stored as typed.

Different client addresses are real ones: the test binds its connections to 127.0.0.2,
127.0.0.3... (all loopback on Linux), so the server sees them in ``REMOTE_ADDR``."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterator

import httpx
import pytest

from ivr.store import Store
from tests.conftest import LiveServer, start_server
from tests.staff_client import PASSWORD, USER, StaffSession, add_user_cli

ATTACKER, STAFF_PC = "127.0.0.2", "127.0.0.3"


class From(StaffSession):
    """A staff-page session whose connections come from ``address`` (and send ``headers``)."""

    def __init__(self, server: LiveServer, address: str = "127.0.0.1", **headers: str) -> None:
        self.server = server
        self.http = httpx.Client(base_url=server.url, timeout=20, headers=headers,
                                 transport=httpx.HTTPTransport(local_address=address))


def serve(app_config, tmp_path, **settings) -> Iterator[LiveServer]:
    app_config.update(settings)
    add_user_cli(app_config, USER, PASSWORD)
    server = start_server(app_config, tmp_path)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def guess(client: From, times: int) -> list[httpx.Response]:
    return [client.login(password=f"guess number {n}") for n in range(times)]


@pytest.mark.slow
def test_the_right_password_works_while_someone_else_guesses(app_config, tmp_path):
    for server in serve(app_config, tmp_path):
        # the guesser also claims to be alice's computer: X-Forwarded-For is not trusted by default
        attacker = From(server, ATTACKER, **{"X-Forwarded-For": STAFF_PC})
        tries = guess(attacker, 25)  # more than any limit per name (5) or per address (20) a minute
        assert [r.status_code for r in tries[:5]] == [401] * 5
        assert {r.status_code for r in tries[5:]} == {429}  # then slowed down: not even checked
        assert int(tries[5].headers["Retry-After"]) >= 1
        assert "Too many failed sign-ins from this computer. Wait" in text_of(tries[5].text)

        alice = From(server, STAFF_PC)
        signed_in = alice.login()
        assert signed_in.status_code == 302 and signed_in.headers["location"] == "/staff/"
        dashboard = text_of(alice.get("/staff/").text)
        assert "Failed sign-ins for your user name since you last signed in: 5." in dashboard
        assert f"{USER} 5 1" in dashboard  # the failures table: 5 failed, from 1 address

        log = server.log()
        assert f"staff sign-in failed for '{USER}' from {ATTACKER}" in log  # the real address
        assert f"staff user {USER} signed in from {STAFF_PC}" in log
        assert "X-Forwarded-For, which is not trusted" in log  # a hint for a missing setting


@pytest.mark.slow
def test_behind_a_configured_proxy_the_forwarded_address_is_used(app_config, tmp_path):
    for server in serve(app_config, tmp_path, IVR_TRUSTED_PROXIES="1"):
        # every request comes from the proxy (127.0.0.1); the client is the last forwarded address
        attacker = From(server, **{"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})  # first entry forged
        tries = guess(attacker, 6)
        assert [r.status_code for r in tries] == [401] * 5 + [429]
        alice = From(server, **{"X-Forwarded-For": "192.0.2.44"})
        assert alice.login().status_code == 302
        log = server.log()
        assert f"staff sign-in failed for '{USER}' from 203.0.113.9" in log
        assert f"staff user {USER} signed in from 192.0.2.44" in log
        assert "198.51.100.1" not in log


@pytest.mark.slow
def test_a_password_typed_as_the_name_is_neither_logged_nor_stored(app_config, tmp_path, instance_dir):
    for server in serve(app_config, tmp_path):
        mistaken = From(server)
        assert mistaken.login(name=PASSWORD, password="").status_code == 401
        assert mistaken.login(name="someone-else", password=PASSWORD).status_code == 401
        log = server.log()
        assert PASSWORD not in log and "someone-else" not in log
        assert "staff sign-in failed for a name that is no staff user's from 127.0.0.1" in log
        with sqlite3.connect(instance_dir / "ivr.sqlite3") as db:
            stored = db.execute("SELECT * FROM login_failures").fetchall()
        assert len(stored) == 2 and PASSWORD not in repr(stored) and "someone-else" not in repr(stored)


# --- the back-off itself, on the store (the time is given: no waiting) ---


def test_back_off_doubles_per_name_and_address_and_never_refuses_elsewhere(database_url):
    from ivr.staff import add_user, check_login

    store = Store(database_url)
    store.migrate()
    add_user(store, USER, PASSWORD)
    key = b"test-secret"
    t0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    def attempt(seconds: float, password: str = "wrong password", address: str = ATTACKER, name: str = USER):
        return check_login(store, name, password, address, secret=key, now=t0 + dt.timedelta(seconds=seconds))

    assert [attempt(n).result for n in range(5)] == ["wrong"] * 5
    waiting = attempt(5)
    assert (waiting.result, waiting.retry_after) == ("wait", 5)  # 5 s after the 5th failure (at 4 s)
    assert attempt(8.9, password=PASSWORD).result == "wait"  # even the right password waits here
    assert attempt(9.5, password=PASSWORD, address=STAFF_PC).result == "ok"  # but not from alice's own PC
    assert attempt(9.5).result == "wrong"  # the wait is over: one more try, then twice as long
    assert attempt(19).retry_after == 1 and attempt(20).result == "wrong"
    assert attempt(20.5).retry_after == 20  # 5, 10, 20... up to 15 minutes
    late = attempt(3 * 3600, password=PASSWORD)  # failures an hour old slow nobody down
    assert (late.result, late.failures_before) == ("ok", 1)  # alice is told of the one since her sign-in at 9.5 s


def test_one_address_trying_many_names_is_slowed_down(database_url):
    from ivr.staff import add_user, check_login

    store = Store(database_url)
    store.migrate()
    add_user(store, USER, PASSWORD)
    t0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    results = [check_login(store, f"name{n}", "pw", ATTACKER, secret=b"k", now=t0 + dt.timedelta(seconds=n)).result
               for n in range(21)]
    assert results == ["wrong"] * 20 + ["wait"]
    assert check_login(store, USER, PASSWORD, STAFF_PC, secret=b"k", now=t0 + dt.timedelta(seconds=21)).result == "ok"


def test_trusted_proxies_is_a_setting_trusting_none_by_default(tmp_path):
    from ivr.config import load_settings
    from ivr.errors import ConfigError

    base = {"TWILIO_AUTH_TOKEN": "t", "IVR_INSTANCE_DIR": str(tmp_path)}
    assert load_settings(base).trusted_proxies == 0
    assert load_settings(base | {"IVR_TRUSTED_PROXIES": "2"}).trusted_proxies == 2
    with pytest.raises(ConfigError, match=r"Expected a whole number from 0 to 5 in IVR_TRUSTED_PROXIES, got 'yes'"):
        load_settings(base | {"IVR_TRUSTED_PROXIES": "yes"})
