"""The public leaflet pages in a real headless Chromium, served by a real gunicorn: axe-core finds no
WCAG 2.2 A/AA violations, the pages reflow at 320 CSS px (a phone, and 1280 px at 400% zoom),
read without JavaScript, print without the players, and both speeds of audio play. Screenshots go
to ``$IVR_SCREENSHOT_DIR`` for a person to look at."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from ivr.content.catalogue import load_catalogue
from ivr.content.links import short_code
from tests.browser import screenshot
from tests.conftest import TEST_LEAFLETS, start_server

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SLUGS = [leaflet.slug for leaflet in load_catalogue(TEST_LEAFLETS).sources]
SEED = "cryotherapy-for-kidney-cancer"


@pytest.fixture(scope="module")
def web_server(tmp_path_factory, seed_audio):
    """One gunicorn for the module: the project's leaflets, the seed leaflet's audio at both rates,
    a public URL (so the page shows its short link), and a review date long past (the caveat shows)."""
    folder = tmp_path_factory.mktemp("leaflet-web")
    (folder / "instance").mkdir()
    server = start_server({
        "IVR_INSTANCE_DIR": str(folder / "instance"), "TWILIO_AUTH_TOKEN": "test-auth-token",
        "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": "Mon-Fri 09:00-17:00; Sat 10:00-13:00",
        "IVR_AUDIO_DIR": str(seed_audio.audio_dir), "IVR_PUBLIC_URL": "https://ivr.example.org",
    }, folder)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def pages(url: str) -> list[tuple[str, str]]:
    return [("index", f"{url}/leaflets/"), *((slug, f"{url}/leaflets/{slug}") for slug in SLUGS),
            ("not-found", f"{url}/leaflets/no-such-leaflet")]


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.2 A/AA violations on the page, one line each. Fails if axe ran no rule
    that matters here (a page it could not check must not pass)."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    passed = {rule["id"] for rule in results.response["passes"]}
    assert {"color-contrast", "html-has-lang", "bypass", "link-name"} <= passed | {
        v["id"] for v in results.response["violations"]}, f"axe did not check the page: passed only {passed}"
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
            for v in results.response["violations"]]


@pytest.mark.slow
@pytest.mark.parametrize("width", [1000, 320])
def test_axe_finds_no_wcag_22_a_or_aa_violations(browser: Browser, web_server, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="en-GB")
    page = context.new_page()
    checked = []
    try:
        for name, url in pages(web_server.url):
            page.goto(url)
            assert page.locator("h1").count() == 1
            violations = axe_violations(page)
            assert not violations, f"{name} at {width} px: {violations}"
            checked.append(name)
            screenshot(page, f"leaflets-{name}-{width}px")
    finally:
        context.close()
    assert checked == ["index", *SLUGS, "not-found"]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "viewport", "scale"), [
    ("phone-320px", {"width": 320, "height": 640}, 2),
    ("zoom-400pc", {"width": 320, "height": 256}, 4),  # 1280 x 1024 at 400%: 320 x 256 CSS px
])
def test_reflows_without_sideways_scrolling(browser: Browser, web_server, name, viewport, scale):
    context = browser.new_context(viewport=viewport, device_scale_factor=scale, locale="en-GB")
    page = context.new_page()
    try:
        for page_name, url in pages(web_server.url)[:-1]:
            page.goto(url)
            overflow = page.evaluate(
                "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]")
            assert overflow[0] <= overflow[1], f"{page_name} scrolls sideways at {name}: {overflow}"
            wide = page.evaluate("""() => [...document.querySelectorAll('main *')]
                .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                .map(e => e.tagName + '.' + e.className)""")
            assert not wide, f"{page_name} at {name}: elements past the right edge: {wide[:5]}"
            screenshot(page, f"leaflets-{page_name}-{name}", full_page=False)
        page.goto(f"{web_server.url}/leaflets/{SEED}#section-4")
        screenshot(page, f"leaflets-{SEED}-{name}-section", full_page=False)
    finally:
        context.close()


@pytest.mark.slow
def test_both_speeds_of_a_section_play(page: Page, web_server):
    page.goto(f"{web_server.url}/leaflets/{SEED}")
    section = page.get_by_role("region", name="Side effects")
    normal = section.get_by_role("group", name="Listen to this section").locator("audio[data-rate=normal]")
    slow = section.locator("audio[data-rate=slow]")
    durations = []
    for player in (normal, slow):
        expect(player).to_be_visible()
        player.evaluate("element => element.play()")
        page.wait_for_function(
            "element => element.currentTime > 0.3 && element.error === null", arg=player.element_handle())
        durations.append(player.evaluate("element => element.duration"))
        player.evaluate("element => element.pause()")
    assert 35 < durations[0] < durations[1] < 65  # the section is about 40 s at normal speed, 55 s slower
    screenshot(page, "leaflets-playing")


@pytest.mark.slow
def test_reads_and_offers_players_without_javascript(browser: Browser, web_server):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1000, "height": 900})
    page = context.new_page()
    try:
        page.goto(f"{web_server.url}/leaflets/{SEED}")
        expect(page.get_by_role("heading", level=1)).to_have_text("Cryotherapy for kidney cancer")
        for title in ("Not for emergencies", "What it is", "Side effects", "References", "Talk to a nurse"):
            expect(page.get_by_role("heading", name=title, level=2)).to_be_visible()
        expect(page.locator("audio[controls]")).to_have_count(10)
        expect(page.get_by_text("Review overdue").first).to_be_visible()
        expect(page.get_by_role("link", name="01632 960001")).to_have_attribute("href", "tel:+441632960001")
        screenshot(page, "leaflets-no-javascript")
    finally:
        context.close()


@pytest.mark.slow
def test_skip_link_moves_to_the_main_content(page: Page, web_server):
    page.goto(f"{web_server.url}/leaflets/{SEED}")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    screenshot(page, "leaflets-skip-link", full_page=False)
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


@pytest.mark.slow
def test_print_leaves_out_the_players_and_keeps_the_numbers(page: Page, web_server, tmp_path):
    page.goto(f"{web_server.url}/leaflets/{SEED}")
    page.emulate_media(media="print")
    expect(page.locator("audio").first).to_be_hidden()
    expect(page.get_by_role("navigation", name="On this page")).to_be_hidden()
    expect(page.get_by_role("heading", name="Not for emergencies")).to_be_visible()
    expect(page.get_by_text("Short link to this page: https://ivr.example.org/l/")).to_be_visible()
    screenshot(page, "leaflets-print")
    pdf = tmp_path / "leaflet.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert pdf.read_bytes().startswith(b"%PDF")


@pytest.mark.slow
def test_the_short_link_opens_the_leaflet(page: Page, web_server):
    page.goto(f"{web_server.url}/l/{short_code(SEED)}")
    assert page.url == f"{web_server.url}/leaflets/{SEED}"
    expect(page.get_by_role("heading", level=1)).to_have_text("Cryotherapy for kidney cancer")
    expect(page.locator("html")).to_have_attribute("lang", "en-GB")
