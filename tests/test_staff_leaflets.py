"""The staff leaflets pages: reviews overdue first with the days overdue, who approved what and
when, and the spoken text changed since, through real HTTP and in a real headless Chromium.
Approvals are made with the real command in a temporary leaflets folder. Screenshots go to
/tmp/screens/ for a person to look at."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from html import unescape

import pytest
from click.testing import CliRunner
from playwright.sync_api import Page, expect

from ivr.cli import main
from ivr.content.review import add_months
from ivr.nurse.hours import LONDON
from tests.browser import screenshot
from tests.conftest import PROJECT
from tests.staff_client import PASSWORD, USER, StaffSession

SEED = "cryotherapy-for-kidney-cancer"
APPROVER = ("Dr Jane Smith", "Consultant urologist")


def _leaflet(slug: str, title: str, reviewed: dt.date) -> str:
    return (f"---\ntitle: {title}\nslug: {slug}\nlast_reviewed: {reviewed.isoformat()}\nsource: A test\n---\n\n"
            f"About {title.lower()}.\n\n## What to do\n\nDrink plenty of water every day.\n")


def _approve(config: dict[str, object], slug: str) -> None:
    env = {k: str(v) for k, v in config.items() if k.startswith(("IVR_", "TWILIO_"))}
    result = CliRunner().invoke(main, ["approve", slug, "--by", APPROVER[0], "--role", APPROVER[1]], env=env)
    assert result.exit_code == 0, result.output


@pytest.fixture
def review_set(app_config, tmp_path):
    """Three leaflets: one never approved and the most overdue; the seed, approved and then a
    word changed (overdue since 2022); one approved as it is and not yet due."""
    today = dt.datetime.now(LONDON).date()
    folder = tmp_path / "leaflets"
    folder.mkdir()
    app_config["IVR_LEAFLETS_DIR"] = str(folder)
    (folder / "bladder-care.md").write_text(_leaflet("bladder-care", "Bladder care", today - dt.timedelta(days=8 * 366)))
    (folder / "stent-care.md").write_text(_leaflet("stent-care", "Stent care", today - dt.timedelta(days=100)))
    shutil.copy(PROJECT / "leaflets" / f"{SEED}.md", folder)
    shutil.copytree(PROJECT / "leaflets" / "sources", folder / "sources")
    _approve(app_config, SEED)
    _approve(app_config, "stent-care")
    seed = folder / f"{SEED}.md"
    seed.write_text(seed.read_text().replace("less than 4cm across", "less than 3cm across"))
    return {"today": today, "bladder_due": add_months(today - dt.timedelta(days=8 * 366), 36)}


@pytest.fixture
def staff(review_set, staff_server):
    session = StaffSession(staff_server)
    session.login()
    yield session
    session.close()


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


@pytest.mark.slow
def test_leaflets_list_overdue_first_with_days_and_approvals(staff, review_set):
    html = staff.get("/staff/content").text
    order = re.findall(r'<th scope="row"><a href="/staff/content/([a-z-]+)">', html)
    assert order == ["bladder-care", SEED, "stent-care"]  # most overdue first; not due last
    rows = [text_of(row) for row in re.findall(r"<tr.*?</tr>", html, re.S)[1:]]
    days = (review_set["today"] - review_set["bladder_due"]).days
    assert f"Review overdue {days} days overdue" in rows[0] and "Not approved" in rows[0]
    assert "Changed since approval approved by Dr Jane Smith (Consultant urologist)" in rows[1]
    assert "1 spoken change since" in rows[1] and "17 January 2022" in rows[1]
    assert "Approved by Dr Jane Smith (Consultant urologist) on " in rows[2] and "overdue" not in rows[2]
    assert "Nobody has approved the wording of the en-GB prompts" in text_of(html)


@pytest.mark.slow
def test_a_leaflet_shows_the_spoken_words_changed_since_approval(staff):
    html = staff.get(f"/staff/content/{SEED}").text
    assert '<del><span class="visually-hidden">removed: </span>4</del>' in html
    assert '<ins><span class="visually-hidden">added: </span>3</ins>' in html
    page = text_of(html)
    assert "'Who has it', part 1 , changed" in page
    assert "Menus call it: “what cryotherapy is”" in page  # the section label, from the front matter
    assert "Callers may also say: risks; complications" in page
    assert staff.get("/staff/content/no-such-leaflet").status_code == 404


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/staff/content")
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture(autouse=True)
def _screens(monkeypatch):
    monkeypatch.setenv("IVR_SCREENSHOT_DIR", "/tmp/screens")


@pytest.mark.slow
def test_leaflets_pages_in_a_browser(page, review_set, staff_server):
    sign_in(page, staff_server.url)
    expect(page.get_by_role("heading", name="Leaflets", level=1)).to_be_visible()
    table = page.get_by_role("table", name="Leaflets, reviews and approvals")
    rows = table.get_by_role("row")
    expect(rows.nth(1)).to_contain_text("Bladder care")
    expect(rows.nth(1)).to_contain_text("days overdue")
    expect(rows.nth(2)).to_contain_text("Changed since approval")
    expect(rows.nth(3)).to_contain_text("Approved by Dr Jane Smith")
    screenshot(page, "staff-leaflets-review")
    web_copy = table.get_by_role("link", name="Web copy of Cryotherapy for kidney cancer")
    expect(web_copy).to_have_attribute("href", "/leaflets/cryotherapy-for-kidney-cancer")
    table.get_by_role("link", name="Cryotherapy for kidney cancer", exact=True).click()
    expect(page.get_by_role("heading", name="What changed since it was approved")).to_be_visible()
    expect(page.locator("ol.changes del")).to_have_text("removed: 4")
    expect(page.locator("ol.changes ins")).to_have_text("added: 3")
    screenshot(page, "staff-leaflet-changed")
