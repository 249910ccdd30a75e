"""The dashboard's listening figures in a real headless Chromium: a period chosen, the tables read
as a screen reader would find them, the CSV downloaded. Screenshots go to $IVR_SCREENSHOT_DIR."""

from __future__ import annotations

import csv
import io
import re

import pytest
from playwright.sync_api import Page, expect

from ivr.simulator import simulate_call
from tests.browser import screenshot
from tests.conftest import PROJECT, start_server
from tests.staff_client import PASSWORD, USER, add_user_cli

LEAFLETS = PROJECT / "tests" / "fixtures" / "leaflets-listening"
# Long section (32 s): heard whole; then parts 1-2 only (12 s, under half). A wrong key at the main menu.
CALLS = [["1", "1", None, None, None, None], ["1", "1", None, None], ["4"]]


@pytest.fixture
def server(app_config, tmp_path):
    app_config.update(IVR_LEAFLETS_DIR=str(LEAFLETS), IVR_AUDIO_DIR=str(tmp_path / "no-audio"), IVR_SPEECH="say")
    add_user_cli(app_config, USER, PASSWORD)
    live = start_server(app_config, tmp_path)
    for keys in CALLS:
        transcript = simulate_call(live.url + "/voice", token=live.token, keys=keys,
                                   status_callback=live.url + "/voice/status")
        assert not transcript.failed, transcript.text(urls=True)
    yield live
    live.process.terminate()
    live.process.wait(timeout=10)


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/staff/")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()


@pytest.mark.slow
def test_listening_figures_on_the_dashboard(page: Page, server):
    sign_in(page, server.url)
    period = page.get_by_role("navigation", name="Period")
    expect(period.get_by_role("link", name="last 30 days")).to_have_attribute("aria-current", "page")
    period.get_by_role("link", name="last 7 days").click()
    expect(page).to_have_url(server.url + "/staff/?days=7")
    expect(period.get_by_role("link", name="last 7 days")).to_have_attribute("aria-current", "page")

    listening = page.get_by_role("table", name="Leaflet sections by plays, last 7 days")
    row = listening.get_by_role("row", name="Listening A Long section")
    expect(row.get_by_role("cell")).to_have_text(["Listening A", "2", "1 (50%)", "1 (50%)", "0 min 44 s", ""])
    figures = page.locator(".figures > div")
    expect(figures.filter(has_text="Never got past the main menu")).to_contain_text(re.compile(r"33%\s+1 of 3 calls"))
    expect(figures.filter(has_text="Average call")).to_contain_text("Length from Twilio, over 3 calls")
    expect(figures.filter(has_text="Callers who rang more than once")).to_contain_text(re.compile(r"1\s+of 1 caller"))
    menus = page.get_by_role("table", name="Calls that ended while the line waited for a choice")
    expect(menus.get_by_role("row", name="Main menu")).to_contain_text("1")
    expect(page.get_by_role("table", name="Twilio's final status of each call").get_by_role("row", name="completed"))\
        .to_contain_text("3")
    screenshot(page, "staff-dashboard-listening")

    with page.expect_download() as downloading:
        period.get_by_role("link", name="listening by section").click()
    download = downloading.value
    assert download.suggested_filename.startswith("listening-by-section-last-7-days-to-")
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    assert [(r["section"], r["plays_started"], r["heard_to_half"], r["heard_to_end"]) for r in rows] == [
        ("Long section", "2", "1", "1")]
