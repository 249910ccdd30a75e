"""A real headless Chromium for page tests: Debian's /usr/bin/chromium driven by Playwright.

Fixtures (imported into ``tests/conftest.py``):
- ``browser``: one Chromium per test session (starting it takes a second or two).
- ``page``: a fresh browser context (own cookies, storage, cache) and page per test. Uncaught
  JavaScript errors on the page fail the test at teardown, naming them.

``screenshot(page, name)`` saves a PNG into ``$IVR_SCREENSHOT_DIR`` (default /tmp/ivr-screens) so a
person can look at what the page showed. Playwright never downloads a browser here: we point it at
the system Chromium (``scripts/setup.sh --dev`` installs it; never run ``playwright install``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "browser", "page", "screenshot", "screenshot_dir"]

CHROMIUM = Path(os.environ.get("IVR_CHROMIUM", "/usr/bin/chromium"))

# Playwright adds --headless and a fresh temporary --user-data-dir (a new profile per launch) itself.
CHROMIUM_ARGS = [
    "--no-sandbox",  # root in CI containers; the sandbox needs user namespaces we do not have
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # no calls home: the machine has no internet
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",  # let <audio> play without a real user gesture
]


def screenshot_dir() -> Path:
    path = Path(os.environ.get("IVR_SCREENSHOT_DIR", "/tmp/ivr-screens"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG of ``page`` as ``<screenshot_dir>/<name>.png`` and return its path.

    ``name`` is reduced to letters, digits, ``-`` and ``_``. Raises Playwright's Error when the
    page is closed.
    """
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-") or "page"
    path = screenshot_dir() / f"{safe}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the whole session. Fails (never skips) when Chromium is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} not found: run scripts/setup.sh --dev (it apt-installs chromium).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context; 10 s default wait for each expectation and action."""
    context = browser.new_context(viewport={"width": 1000, "height": 900}, locale="en-GB")
    context.set_default_timeout(10_000)
    expect.set_options(timeout=10_000)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
