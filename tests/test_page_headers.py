"""Every HTML page carries a Content-Security-Policy and refuses to be framed (issue 19): checked
on the headers over real HTTP, and in a real headless Chromium, which must refuse to show a staff
page inside another site's frame and must not run a script injected into a page, while the
browser phone's own script still works and the dashboard still draws its bars."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from ivr.simulator import simulate_call
from tests.browser import screenshot
from tests.staff_client import PASSWORD, USER, StaffSession

pytestmark = pytest.mark.slow

INJECT = """() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';
                    document.body.appendChild(s); return window.injected === 1; }"""


@pytest.fixture
def app_config(app_config):
    app_config["IVR_PHONE"] = "open"
    return app_config


@pytest.fixture
def staff(staff_server):
    session = StaffSession(staff_server)
    yield session
    session.close()


def test_every_html_page_has_a_policy_and_refuses_frames(staff, staff_server):
    pages = {path: staff.get(path) for path in ("/staff/login", "/no-such-page", "/staff/logout")}
    assert staff.login().status_code == 302
    pages |= {path: staff.get(path) for path in ("/staff/", "/staff/queue", "/staff/content", "/phone")}
    assert [pages[p].status_code for p in pages] == [200, 404, 405, 200, 200, 200, 200]
    for path, response in pages.items():
        assert response.headers["content-type"].startswith("text/html"), path
        policy = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy, path
        assert response.headers["x-frame-options"] == "DENY", path
        expected = f"script-src {staff_server.url}/phone/static/phone.js;" if path == "/phone" else "script-src 'none';"
        assert expected in policy, (path, policy)


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/staff/login")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()


@contextmanager
def another_site(html: str) -> Iterator[str]:
    """A real web server of another origin (127.0.0.1, another port) serving ``html``; its URL."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_staff_page_will_not_show_in_another_sites_frame(page, staff_server):
    target = staff_server.url + "/staff/login"
    html = f'<h1>Another site</h1><iframe id="f" src="{target}" onload="this.dataset.loaded = 1"></iframe>'
    with another_site(html) as url:
        page.goto(url)
        page.wait_for_selector("#f[data-loaded='1']", state="attached")
        (frame,) = [f for f in page.frames if f is not page.main_frame]
        assert frame.url == "chrome-error://chromewebdata/"  # Chromium showed its own error page instead
        assert frame.locator("form.login").count() == 0
        screenshot(page, "staff-login-refused-in-a-frame")


def test_injected_scripts_do_not_run_but_the_phones_own_script_does(page, staff_server):
    page.goto(staff_server.url + "/staff/login")
    assert page.evaluate(INJECT) is False
    page.goto(staff_server.url + "/phone")
    assert page.evaluate(INJECT) is False
    page.get_by_role("button", name="Call").click()  # phone.js runs under the page's policy
    expect(page.locator("#transcript li").first).to_have_attribute("data-id", re.compile(r"^call\.greeting"))


def test_the_dashboard_draws_its_bars_without_inline_styles(page, staff_server):
    transcript = simulate_call(staff_server.url + "/voice", token=staff_server.token, keys=["1", None])
    assert not transcript.failed
    sign_in(page, staff_server.url)
    # The call heard one section: its bar is drawn by the stylesheet's classes (others may be 0 wide).
    bars = page.locator("#sections-title + table rect.bar")
    widths = [box["width"] for box in (bars.nth(n).bounding_box() for n in range(bars.count())) if box is not None]
    assert widths and max(widths) > 20, widths
    screenshot(page, "staff-dashboard-bars")
