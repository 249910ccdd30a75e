"""Staff sessions that can be ended (issue 19): a copy of the cookie, taken while signed in, opens
nothing after signing out, a new password, removing the user, or an administrator ending the
sessions; sessions time out when idle and at the end of a shift. Real server, real HTTP, the
real ``ivr users`` commands; the timeouts on the store (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import httpx
import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.store import Store
from tests.staff_client import PASSWORD, USER, StaffSession

QUEUE = "/staff/queue"


def users(app_config, *args: str, stdin: str = "") -> str:
    env = {k: str(v) for k, v in app_config.items() if k.startswith(("IVR_", "TWILIO_"))}
    result = CliRunner().invoke(main, ["users", *args], input=stdin, env=env)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def signed_in(staff_server):
    """A signed-in staff session, and a second client holding a copy of its cookie."""
    staff = StaffSession(staff_server)
    assert staff.login().status_code == 302
    copy = httpx.Client(base_url=staff_server.url, cookies=dict(staff.http.cookies), timeout=20)
    assert copy.get(QUEUE).status_code == 200  # the copy works while the session lasts
    yield staff, copy
    staff.close()
    copy.close()


def refused(response: httpx.Response) -> bool:
    return response.status_code == 302 and response.headers["location"].startswith("/staff/login")


@pytest.mark.slow
def test_a_copied_cookie_is_refused_after_signing_out(signed_in):
    staff, copy = signed_in
    assert staff.post_form("/staff/logout", token_from="/staff/").status_code == 302
    assert refused(copy.get(QUEUE))
    assert copy.get("/staff/messages/1/audio").status_code == 401


@pytest.mark.slow
def test_a_copied_cookie_is_refused_after_a_new_password(signed_in, app_config):
    staff, copy = signed_in
    output = users(app_config, "add", USER, "--password-stdin", stdin="a brand new password\n")
    assert "1 open session ended" in output
    assert refused(copy.get(QUEUE)) and refused(staff.get(QUEUE))
    assert staff.login(password="a brand new password").status_code == 302  # the new one works


@pytest.mark.slow
def test_a_copied_cookie_is_refused_after_removal_even_when_the_name_is_added_again(signed_in, app_config):
    _staff, copy = signed_in
    assert "1 open session ended" in users(app_config, "remove", USER)
    users(app_config, "add", USER, "--password-stdin", stdin=PASSWORD + "\n")  # the same name again
    assert refused(copy.get(QUEUE))


@pytest.mark.slow
def test_an_administrator_lists_and_ends_a_users_sessions(signed_in, app_config):
    staff, copy = signed_in
    listed = users(app_config, "sessions", USER)
    assert listed.count("signed in ") == 1 and "from 127.0.0.1" in listed
    assert users(app_config, "sessions", USER, "--end") == f"ended 1 session of {USER}\n"
    assert refused(copy.get(QUEUE)) and refused(staff.get(QUEUE))
    assert users(app_config, "sessions", USER) == f"{USER} has no open sessions\n"


# --- timeouts, on the store itself (no waiting: the time is given) ---


def test_sessions_end_when_idle_and_at_the_end_of_a_shift(database_url):
    from ivr.staff import add_user
    from ivr.staff.sessions import SessionLimits, list_sessions, session_user, start_session

    store = Store(database_url)
    store.migrate()
    add_user(store, USER, PASSWORD)
    limits = SessionLimits(idle=dt.timedelta(minutes=30), lifetime=dt.timedelta(hours=10))
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)
    minutes = [start + dt.timedelta(minutes=m) for m in range(0, 11 * 60, 29)]  # a page every 29 minutes

    busy = start_session(store, USER, "192.0.2.1", limits, now=start)
    for now in minutes[1:]:
        if now - start < limits.lifetime:
            assert session_user(store, busy, limits, now=now) == USER
        else:  # however busy, the shift is over
            assert session_user(store, busy, limits, now=now) is None
            break
    assert session_user(store, busy, limits, now=start + dt.timedelta(hours=9)) is None  # ended for good

    idle = start_session(store, USER, "192.0.2.1", limits, now=start)
    assert session_user(store, idle, limits, now=start + dt.timedelta(minutes=29)) == USER
    assert [s.address for s in list_sessions(store, USER, limits, now=start + dt.timedelta(minutes=29))] == ["192.0.2.1"]
    assert session_user(store, idle, limits, now=start + dt.timedelta(minutes=60)) is None  # 31 idle minutes
    assert list_sessions(store, USER, limits, now=start + dt.timedelta(minutes=60)) == []


def test_session_timeouts_are_settings(tmp_path):
    from ivr.config import load_settings
    from ivr.errors import ConfigError

    settings = load_settings({"IVR_STAFF_IDLE_MINUTES": "15", "IVR_STAFF_SESSION_HOURS": "8",
                              "TWILIO_AUTH_TOKEN": "t", "IVR_INSTANCE_DIR": str(tmp_path)})
    assert (settings.staff_idle_minutes, settings.staff_session_hours) == (15, 8)
    with pytest.raises(ConfigError, match=r"Expected a whole number from 1 to 24 in IVR_STAFF_SESSION_HOURS, got '0'"):
        load_settings({"IVR_STAFF_SESSION_HOURS": "0", "TWILIO_AUTH_TOKEN": "t", "IVR_INSTANCE_DIR": str(tmp_path)})
