"""Edges an attacker pokes at (issue 19): ids too big for the database, a ``next`` page with a
CR/LF, control characters in logged request values, and the secret files' permissions. Real
server and real HTTP where a request is involved; the real logging machinery for log lines."""

from __future__ import annotations

import io
import logging
import os
import re
import stat
from pathlib import Path

import pytest

from tests.staff_client import PASSWORD, USER, StaffSession, csrf_from

HUGE_ID = "9" * 23  # past any database's integer: SQLite raised OverflowError, a 500


@pytest.fixture
def staff(staff_server):
    session = StaffSession(staff_server)
    assert session.login().status_code == 302
    yield session
    session.close()


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path"), [
    ("GET", f"/staff/messages/{HUGE_ID}/audio"),
    ("POST", f"/staff/messages/{HUGE_ID}/done"),
    ("POST", f"/staff/callbacks/{HUGE_ID}/done"),
])
def test_ids_too_big_for_the_database_are_not_found(staff, method, path):
    data = {"csrf_token": csrf_from(staff.get("/staff/queue").text)} if method == "POST" else None
    assert staff.http.request(method, path, data=data).status_code == 404


@pytest.mark.slow
@pytest.mark.parametrize("target", ["/staff/queue\r\nSet-Cookie: planted=1", "/staff/\nx", "/staff/\x00", "/staff/\x7f"])
def test_a_next_page_with_control_characters_goes_to_the_dashboard(staff_server, target):
    session = StaffSession(staff_server)
    try:
        token = csrf_from(session.get("/staff/login").text)
        response = session.http.post("/staff/login", params={"next": target},
                                     data={"name": USER, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302 and response.headers["location"] == "/staff/"
        assert "planted" not in response.headers.get("set-cookie", "")
        assert session.get("/staff/").status_code == 200  # signed in all the same
    finally:
        session.close()


@pytest.mark.slow
def test_a_cr_lf_in_a_signed_call_sid_cannot_forge_a_log_line(live_server):
    forged = "2030-01-01 00:00:00,000 INFO ivr.web.nurse: call-back request 99 saved for +44 7*** ***999"
    call_sid = "CA0123\r\n" + forged
    answered = live_server.post("/voice", {"CallSid": call_sid, "From": "+447700900123", "To": "+441632960000"})
    assert answered.status_code == 200
    lines = live_server.log().splitlines()
    assert not any(line.startswith(forged) for line in lines)
    assert any("CA0123\\r\\n2030-01-01" in line for line in lines)  # logged, escaped, on one line


def test_every_record_is_one_line_and_tracebacks_are_indented():
    from ivr.logs import FORMAT, SafeLogRecord

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(FORMAT))
    logger = logging.getLogger("tests.edges")
    logger.addHandler(handler)
    logger.propagate = False
    old_factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(SafeLogRecord)
    try:
        logger.warning("user %s\x1b[2J from %s", "x\r\nFAKE record", "a\u2028b")
        try:
            raise ValueError("bad value\nFAKE traceback line")
        except ValueError:
            logger.exception("failed for %s", "y\nFAKE")
    finally:
        logging.setLogRecordFactory(old_factory)
        logger.removeHandler(handler)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("user x\\r\\nFAKE record\\x1b[2J from a\\u2028b")
    assert lines[1].endswith("failed for y\\nFAKE")
    assert all(line.startswith("    ") for line in lines[2:]) and "    FAKE traceback line" in lines


def test_secret_files_are_private_from_the_moment_they_exist(tmp_path, monkeypatch):
    """Made with every file open to all (umask 0) and nothing allowed to change a file's mode
    afterwards (as if the process had died right after writing it): still owner-only."""
    from ivr.config import instance_secret

    def no_chmod(*args: object, **kwargs: object) -> None:
        raise OSError("no chmod: the file must be made private when it is created")

    monkeypatch.setattr(os, "chmod", no_chmod)
    monkeypatch.setattr(Path, "chmod", no_chmod)
    folder = tmp_path / "instance"
    old_umask = os.umask(0)
    try:
        try:
            secret = instance_secret(folder, "secret-key", 32)
        except OSError:
            secret = None
    finally:
        os.umask(old_umask)
    made = list(folder.iterdir()) if folder.exists() else []
    assert made, "no secret file was made"
    for path in made:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert secret is not None and re.fullmatch(r"[0-9a-f]{64}", secret)
    assert instance_secret(folder, "secret-key", 32) == secret  # the same one at every start
