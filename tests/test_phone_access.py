"""Who may use the browser phone (IVR_PHONE), and its JSON endpoint refusing cross-site use;
real gunicorn servers, real HTTP, and a real Chromium for the pages."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import soundfile
from itsdangerous import URLSafeSerializer

from ivr.config import load_settings
from ivr.errors import ConfigError
from tests.browser import screenshot
from tests.conftest import LiveServer, start_server
from tests.staff_client import add_user_cli

STAFF = ("nurse.jones", "a long enough password")
TOKEN_RE = re.compile(r'<meta name="phone-token" content="([^"]+)">')

pytestmark = pytest.mark.slow


def serve(tmp: Path, audio_dir: Path, mode: str, *, staff_user: tuple[str, str] | None = None) -> Iterator[LiveServer]:
    (tmp / "instance").mkdir()
    config = {
        "IVR_INSTANCE_DIR": str(tmp / "instance"), "TWILIO_AUTH_TOKEN": "test-auth-token",
        "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": "always",
        "IVR_AUDIO_DIR": str(audio_dir), "IVR_PHONE": mode,
    }
    if staff_user is not None:
        add_user_cli(config, *staff_user)  # the real `ivr users add NAME --password-stdin`
    server = start_server(config, tmp)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture(scope="module")
def open_server(rendered_audio_dir, tmp_path_factory) -> Iterator[LiveServer]:
    yield from serve(tmp_path_factory.mktemp("phone-open"), rendered_audio_dir, "open")


def page_token(server: LiveServer, client: httpx.Client) -> str:
    response = client.get(server.url + "/phone")
    assert response.status_code == 200
    match = TOKEN_RE.search(response.text)
    assert match, response.text[:500]
    return match.group(1)


def step(server: LiveServer, client: httpx.Client, body: object, **headers: str) -> httpx.Response:
    """POST a step as the phone page does: JSON, its token (in ``headers``) and its own Origin."""
    return client.post(server.url + "/phone/step", json=body, headers={"Origin": server.url, **headers})


# --- the setting ---


@pytest.mark.parametrize(("token", "value", "mode"), [
    ("", "", "open"),  # a local start with the development token: try the line at once
    ("real-twilio-token", "", "staff"),  # in service: staff only unless said otherwise
    ("real-twilio-token", "open", "open"),
    ("", "staff", "staff"),
    ("real-twilio-token", " OFF ", "off"),
])
def test_phone_mode_default_and_values(tmp_path, token, value, mode):
    settings = load_settings({"TWILIO_AUTH_TOKEN": token, "IVR_PHONE": value, "IVR_INSTANCE_DIR": str(tmp_path)})
    assert settings.phone == mode


def test_phone_mode_refuses_an_unknown_value(tmp_path):
    with pytest.raises(ConfigError) as error:
        load_settings({"TWILIO_AUTH_TOKEN": "t", "IVR_PHONE": "public", "IVR_INSTANCE_DIR": str(tmp_path)})
    assert str(error.value).startswith("Expected `open`, `staff` or `off` in IVR_PHONE, got 'public'.")


# --- the JSON endpoint ---


def test_a_step_returns_the_greeting_with_real_audio_and_a_signed_state(open_server):
    with httpx.Client(timeout=20) as client:
        token = page_token(open_server, client)
        response = step(open_server, client, {"state": None, "keys": None, "nurse": "answer"}, **{"X-Phone-Token": token})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["listen"] == {"numDigits": 1, "finishOnKey": "", "timeout": 8.0, "speech": True}
        assert answer["ended"] is None and answer["state"]
        first = answer["events"][0]
        assert first["kind"] == "play" and first["id"].startswith("call.greeting") and not first["barge"]  # no key skips it
        options = [e for e in answer["events"] if e["id"] and e["id"].startswith("menu.section_option")]
        assert options and all(e["barge"] for e in options)
        assert re.fullmatch(r"/audio/[0-9a-f]{32}\.wav", first["audio"])
        audio = client.get(open_server.url + first["audio"])
        assert soundfile.info(io.BytesIO(audio.content)).samplerate == 8000

        # the state comes back with a key: the line's own answer to "1"
        response = step(open_server, client, {"state": answer["state"], "keys": "1", "nurse": "answer"},
                        **{"X-Phone-Token": token})
        events = response.json()["events"]
        assert [e["kind"] for e in events[:2]] == ["keys", "play"]
        assert events[1]["id"] == "reading.section_start"


@pytest.mark.parametrize(("case", "status", "message"), [
    ("no page token", 403, "missing or expired page token"),
    ("forged page token", 403, "missing or expired page token"),
    ("another site's origin", 403, "cross-site request from https://evil.example"),
    ("a plain form post", 403, "expected a JSON body"),
    ("tampered state", 400, "the call's state is not one this line gave out"),
    ("bad keys", 400, "keys must be 1 to 20 of 0-9, * and #"),
    ("bad nurse", 400, "nurse must be one of answer, busy, no-answer, voicemail"),
    ("words too long", 400, "say must be 1 to 200 characters of words"),
    ("words and keys", 400, "say must be 1 to 200 characters of words"),
])
def test_the_step_endpoint_refuses(open_server, case, status, message):
    with httpx.Client(timeout=20) as client:
        token = page_token(open_server, client)
        headers = {"X-Phone-Token": token, "Origin": open_server.url}
        body: dict[str, object] = {"state": None, "keys": None, "nurse": "answer"}
        url = open_server.url + "/phone/step"
        if case == "no page token":
            response = client.post(url, json=body, headers={"Origin": open_server.url})
        elif case == "forged page token":
            forged = URLSafeSerializer("guessed-secret", salt="ivr-phone-page").dumps("phone")
            response = client.post(url, json=body, headers={"X-Phone-Token": forged, "Origin": open_server.url})
        elif case == "another site's origin":
            response = client.post(url, json=body, headers=headers | {"Origin": "https://evil.example"})
        elif case == "a plain form post":  # what a cross-site <form> can send without a preflight
            response = client.post(url, data={"state": "", "keys": "1"}, headers=headers)
        elif case == "tampered state":
            given = step(open_server, client, body, **headers).json()["state"]
            body["state"] = given[:-4] + ("AAAA" if not given.endswith("AAAA") else "BBBB")
            response = client.post(url, json=body, headers=headers)
        elif case == "bad keys":
            response = client.post(url, json=body | {"keys": "1; drop"}, headers=headers)
        elif case == "words too long":
            response = client.post(url, json=body | {"say": "side effects " * 20}, headers=headers)
        elif case == "words and keys":
            response = client.post(url, json=body | {"say": "nurse", "keys": "1"}, headers=headers)
        else:
            response = client.post(url, json=body | {"nurse": "everyone"}, headers=headers)
    assert response.status_code == status
    assert response.json()["error"].startswith(message)


def test_a_cross_site_page_cannot_call_the_step_endpoint(open_server, page):
    """From another origin, Chromium's CORS preflight is never granted: the request fails."""
    with httpx.Client(timeout=20) as client:
        token = page_token(open_server, client)
    other_origin = open_server.url.replace("127.0.0.1", "localhost")  # same server, another site
    page.goto(other_origin + "/phone")
    outcome = page.evaluate(
        """async ([url, token]) => {
             try {
               const r = await fetch(url, {method: 'POST', credentials: 'include',
                 headers: {'Content-Type': 'application/json', 'X-Phone-Token': token},
                 body: JSON.stringify({state: null, keys: null, nurse: 'answer'})});
               return 'answered ' + r.status;
             } catch (e) { return 'blocked'; }
           }""",
        [open_server.url + "/phone/step", token],
    )
    assert outcome == "blocked"


# --- IVR_PHONE=off and staff ---


@pytest.fixture(scope="module")
def off_server(rendered_audio_dir, tmp_path_factory) -> Iterator[LiveServer]:
    yield from serve(tmp_path_factory.mktemp("phone-off"), rendered_audio_dir, "off")


@pytest.fixture(scope="module")
def staff_server(rendered_audio_dir, tmp_path_factory) -> Iterator[LiveServer]:
    yield from serve(tmp_path_factory.mktemp("phone-staff"), rendered_audio_dir, "staff", staff_user=STAFF)


def test_phone_off_is_not_found(off_server, page):
    response = page.goto(off_server.url + "/phone")
    assert response is not None and response.status == 404
    assert httpx.post(off_server.url + "/phone/step", json={}, timeout=20).status_code == 404


def test_phone_for_staff_refuses_without_a_login(staff_server, page):
    response = page.goto(staff_server.url + "/phone")
    assert response is not None and response.status == 403
    alert = page.get_by_role("alert")
    assert alert.inner_text() == "A staff login is needed to use the browser phone."
    assert page.locator("#call").count() == 0
    screenshot(page, "phone-7-staff-only")
    refused = httpx.post(staff_server.url + "/phone/step", json={"state": None}, timeout=20)
    assert refused.status_code == 403
    assert refused.json()["error"] == "A staff login is needed to use the browser phone."


def test_phone_for_staff_works_once_signed_in(staff_server, page):
    page.goto(staff_server.url + "/staff/login")
    page.fill("input[name=name]", STAFF[0])
    page.fill("input[name=password]", STAFF[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/staff/"))
    response = page.goto(staff_server.url + "/phone")
    assert response is not None and response.status == 200
    page.get_by_role("button", name="Call").click()
    first = page.locator("#transcript li").first
    first.wait_for()
    assert (first.get_attribute("data-id") or "").startswith("call.greeting")
    assert re.fullmatch(r"/audio/[0-9a-f]{32}\.wav", first.get_attribute("data-audio") or "")
