"""Playing a caller's message in the staff queue, in a real headless Chromium: the recording comes
from a fake Twilio (tests/fake_twilio.py) through the app, never from a link to Twilio itself.
The screenshot goes to /tmp/screens/staff-queue-message-playing.png for a person to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ivr.simulator import simulate_call
from tests.browser import screenshot
from tests.fake_twilio import ACCOUNT_SID, fake_twilio
from tests.staff_client import PASSWORD, USER

FIXTURES = (fake_twilio,)  # pytest finds fixtures by their names in this module
TO_MESSAGE = ["1", None, "6", "0", "2"]  # the first section, two parts, 0, nurses busy: 2 = leave a message


@pytest.fixture(autouse=True)
def _screens(monkeypatch):
    monkeypatch.setenv("IVR_SCREENSHOT_DIR", "/tmp/screens")


@pytest.fixture
def line(app_config, fake_twilio, request):
    app_config.update(TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_API_BASE_URL=fake_twilio.url)
    return request.getfixturevalue("staff_server")


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/staff/queue")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Messages and call-backs", level=1)).to_be_visible()


@pytest.mark.slow
def test_staff_play_a_callers_message_in_the_queue(page, line, fake_twilio):
    transcript = simulate_call(line.url + "/voice", token=line.token, keys=TO_MESSAGE, nurse="busy",
                               account_sid=ACCOUNT_SID, api_base_url=fake_twilio.url)
    assert not transcript.failed, transcript
    sign_in(page, line.url)
    messages = page.get_by_role("table", name="Open voicemail messages")
    expect(messages.get_by_role("row")).to_have_count(2)  # header and the message
    expect(messages).not_to_contain_text("Recording not available")
    audio = messages.locator("audio")
    expect(audio).to_have_count(1)
    expect(audio).to_have_attribute("aria-label", "Message from +44 7*** ***123, 8 seconds")
    # Every address the page fetches or links to is the app's own: nothing points at Twilio. The
    # one other link is the caller's number, to ring them back (tel:).
    addresses = page.eval_on_selector_all("[src], [href]", "els => els.map(e => e.src || e.href)")
    web = [a for a in addresses if not a.startswith("tel:")]
    assert web and all(a.startswith(line.url) for a in web), addresses
    assert set(addresses) - set(web) <= {"tel:+447700900123"}, addresses

    audio.evaluate("element => element.play()")
    page.wait_for_function(
        "element => element.currentTime > 1.0 && element.error === null && !element.paused",
        arg=audio.element_handle())
    assert audio.evaluate("element => element.duration") == pytest.approx(8.0, abs=0.05)
    assert audio.evaluate("element => element.error") is None
    # Paused where it got to, so that the player's own clock in the screenshot shows the progress.
    heard = audio.evaluate("element => { element.pause(); return element.currentTime; }")
    assert heard > 1.0
    expect(audio).to_have_js_property("paused", True)
    screenshot(page, "staff-queue-message-playing")
    assert fake_twilio.requests and all(authorised for _, authorised in fake_twilio.requests)
