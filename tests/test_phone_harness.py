"""The browser harness itself: a real Chromium loads a page from a real server."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser import screenshot


def test_chromium_loads_a_page_from_live_server(live_server, page):
    response = page.goto(live_server.url + "/no-such-page")
    assert response is not None and response.status == 404
    path = screenshot(page, "harness-404")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    expect(page.locator("body")).to_contain_text("Not Found")
