"""The staff pages in a real headless Chromium: sign in, see a simulated call, mark a call-back done,
play audio. Screenshots of each page go to /tmp/screens/ for a person to look at."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from ivr.simulator import simulate_call
from tests.browser import screenshot
from tests.staff_client import PASSWORD, USER

TO_NURSE = ["1", None, "6", "0"]


@pytest.fixture(autouse=True)
def _screens(monkeypatch):
    monkeypatch.setenv("IVR_SCREENSHOT_DIR", "/tmp/screens")


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/staff/")
    expect(page.get_by_role("heading", name="Sign in", level=1)).to_be_visible()
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()


@pytest.mark.slow
def test_sign_in_and_see_a_simulated_call_on_the_dashboard(page, staff_server):
    page.goto(staff_server.url + "/staff/login")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    screenshot(page, "staff-login-error")
    transcript = simulate_call(staff_server.url + "/voice", token=staff_server.token,
                               keys=[*TO_NURSE, "1", "07900123456#", "1"], nurse="busy")
    assert not transcript.failed
    sign_in(page, staff_server.url)
    sections = page.get_by_role("table", name="Leaflet sections by plays")
    expect(sections.get_by_role("row", name="Cryotherapy for kidney cancer What it is")).to_be_visible()
    expect(page.get_by_role("table", name="Transfers answered and missed")).to_be_visible()
    screenshot(page, "staff-dashboard")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You have signed out")


@pytest.mark.slow
def test_mark_a_call_back_done_and_see_a_message(page, staff_server):
    for keys in ([*TO_NURSE, "1", "07900123456#", "1"], [*TO_NURSE, "2"]):
        assert not simulate_call(staff_server.url + "/voice", token=staff_server.token, keys=keys, nurse="busy").failed
    sign_in(page, staff_server.url)
    page.get_by_role("link", name="Messages and call-backs").click()
    callbacks = page.get_by_role("table", name="Open call-back requests")
    expect(callbacks.get_by_role("row")).to_have_count(2)  # header and one request
    expect(page.get_by_role("table", name="Open voicemail messages")).to_contain_text("Recording not available")
    screenshot(page, "staff-queue")
    callbacks.get_by_role("button", name="Mark done").click()
    expect(page.get_by_role("status")).to_contain_text(f"marked done by {USER}")
    expect(page.get_by_text("No call-backs waiting.")).to_be_visible()
    expect(page.get_by_role("table", name="messages and call-backs marked done")).to_contain_text(USER)
    screenshot(page, "staff-queue-after-done")


@pytest.mark.slow
def test_content_page_plays_a_section(page, staff_server, rendered_audio_dir):
    sign_in(page, staff_server.url)
    page.get_by_role("link", name="Leaflets").click()
    expect(page.get_by_role("row", name="Cryotherapy for kidney cancer")).to_contain_text("Review overdue")
    page.get_by_role("link", name="Cryotherapy for kidney cancer", exact=True).click()
    page.locator("summary", has_text="What it is").first.click()
    audio = page.locator("details[open] audio").first
    expect(audio).to_be_visible()
    screenshot(page, "staff-content")
    audio.evaluate("element => element.play()")
    page.wait_for_function(
        "element => element.currentTime > 0.2 && element.error === null", arg=audio.element_handle())
    assert audio.evaluate("element => element.duration") > 1
