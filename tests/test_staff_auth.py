"""Staff sign-in through real HTTP: refusals when signed out, passwords, CSRF, rate limit, cookies, users."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from ivr.cli import main
from ivr.staff.users import FREE_FAILURES_PER_NAME_AND_ADDRESS
from ivr.store import Store
from ivr.store.models import StaffUser
from tests.conftest import start_server
from tests.staff_client import PASSWORD, USER, StaffSession, add_user_cli


@pytest.fixture
def staff(staff_server):
    session = StaffSession(staff_server)
    yield session
    session.close()


@pytest.mark.slow
@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/staff/", 302),
    ("GET", "/staff/queue", 302),
    ("GET", "/staff/content", 302),
    ("GET", "/staff/messages/1/audio", 401),
    ("GET", "/metrics", 401),
    ("POST", "/staff/callbacks/1/done", 302),
    ("POST", "/staff/messages/1/done", 302),
])
def test_signed_out_visitors_are_refused(staff, method, path, status):
    response = staff.http.request(method, path)
    assert response.status_code == status
    if status == 302:
        assert response.headers["location"].startswith("/staff/login?next=")
    else:
        assert "callback" not in response.text.lower()


@pytest.mark.slow
def test_wrong_password_is_refused_and_right_one_signs_in(staff):
    wrong = staff.login(password="not the password")
    assert wrong.status_code == 401
    assert "do not match" in wrong.text
    assert staff.get("/staff/").status_code == 302
    right = staff.login()
    assert right.status_code == 302 and right.headers["location"] == "/staff/"
    page = staff.get("/staff/")
    assert page.status_code == 200 and f"Signed in as <strong>{USER}</strong>" in page.text


@pytest.mark.slow
def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(staff):
    token_page = staff.get("/staff/login?next=/staff/queue")
    from tests.staff_client import csrf_from

    data = {"name": USER, "password": PASSWORD, "csrf_token": csrf_from(token_page.text)}
    assert staff.http.post("/staff/login?next=/staff/queue", data=data).headers["location"] == "/staff/queue"
    staff.post_form("/staff/logout", token_from="/staff/")
    data["csrf_token"] = csrf_from(staff.get("/staff/login").text)
    assert staff.http.post("/staff/login?next=//evil.example/", data=data).headers["location"] == "/staff/"


@pytest.mark.slow
@pytest.mark.parametrize("token", [None, "", "forged-token-0123456789abcdef0123456789"])
def test_posts_without_the_csrf_token_are_refused(staff, staff_server, token):
    staff.login()
    data = {} if token is None else {"csrf_token": token}
    for path in ("/staff/callbacks/1/done", "/staff/messages/1/done", "/staff/logout"):
        assert staff.http.post(path, data=data).status_code == 400
    assert staff.get("/staff/").status_code == 200  # still signed in: the logout was refused too
    login = staff.http.post("/staff/login", data={"name": USER, "password": PASSWORD, **data})
    assert login.status_code == 400


@pytest.mark.slow
def test_logout_needs_a_post_and_ends_the_session(staff):
    staff.login()
    assert staff.get("/staff/logout").status_code == 405
    response = staff.post_form("/staff/logout", token_from="/staff/")
    assert response.status_code == 302
    assert staff.get("/staff/").status_code == 302


@pytest.mark.slow
def test_failed_sign_ins_slow_down_this_name_from_this_address_across_workers(app_config, tmp_path):
    add_user_cli(app_config, USER, PASSWORD)
    server = start_server(app_config, tmp_path, workers=2)
    staff = StaffSession(server)
    try:
        for _ in range(FREE_FAILURES_PER_NAME_AND_ADDRESS):
            assert staff.login(password="guess").status_code == 401
        limited = staff.login()  # from this address, even the right password waits now
        assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1
        assert "Too many failed sign-ins" in limited.text
        assert staff.get("/staff/").status_code == 302
        # Another name from the same address is not blocked by alice's failures.
        assert staff.login(name="bob", password="whatever-it-is").status_code == 401
    finally:
        staff.close()
        server.process.terminate()
        server.process.wait(timeout=10)


@pytest.mark.slow
@pytest.mark.parametrize(("public_url", "secure"), [("", False), ("https://ivr.example.org", True)])
def test_session_cookie_flags(app_config, tmp_path, public_url, secure):
    app_config["IVR_PUBLIC_URL"] = public_url
    add_user_cli(app_config, USER, PASSWORD)
    server = start_server(app_config, tmp_path)
    staff = StaffSession(server)
    try:
        cookie = staff.get("/staff/login").headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert ("Secure" in cookie) is secure
    finally:
        staff.close()
        server.process.terminate()
        server.process.wait(timeout=10)


@pytest.mark.slow
def test_a_removed_user_is_signed_out_at_the_next_page(staff, app_config):
    staff.login()
    assert staff.get("/staff/queue").status_code == 200
    env = {k: str(v) for k, v in app_config.items() if k.startswith(("IVR_", "TWILIO_"))}
    result = CliRunner().invoke(main, ["users", "remove", USER], env=env)
    assert result.exit_code == 0, result.output
    assert staff.get("/staff/queue").status_code == 302


def test_users_commands_store_only_a_password_hash(app_config, instance_dir):
    env = {k: str(v) for k, v in app_config.items() if k.startswith(("IVR_", "TWILIO_"))}
    runner = CliRunner()
    added = runner.invoke(main, ["users", "add", "J.Smith"], input=f"{PASSWORD}\n{PASSWORD}\n", env=env)
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["users", "list"], env=env)
    assert "j.smith\tlast signed in: never" in listed.output
    with Store(f"sqlite:///{instance_dir / 'ivr.sqlite3'}").transaction() as session:
        stored = session.scalars(select(StaffUser)).one()
        assert PASSWORD not in stored.password_hash and stored.password_hash.startswith("scrypt:")
    removed = runner.invoke(main, ["users", "remove", "j.smith"], env=env)
    assert removed.exit_code == 0
    assert "no staff users yet" in runner.invoke(main, ["users", "list"], env=env).output


@pytest.mark.parametrize(("args", "stdin", "message"), [
    (["users", "add", "alice", "--password-stdin"], "short\n", "at least 10 characters"),
    (["users", "add", "al ice", "--password-stdin"], f"{PASSWORD}\n", "Expected a user name of letters"),
    (["users", "add", "alice"], f"{PASSWORD}\nsomething else entirely\n", "do not match"),
    (["users", "remove", "nobody"], "", "There is no staff user 'nobody'"),
])
def test_users_command_errors(app_config, args, stdin, message):
    env = {k: str(v) for k, v in app_config.items() if k.startswith(("IVR_", "TWILIO_"))}
    result = CliRunner().invoke(main, args, input=stdin, env=env)
    assert message in result.output
    assert "Traceback" not in result.output
