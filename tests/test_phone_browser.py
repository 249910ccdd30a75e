"""The browser phone in a real headless Chromium against a real gunicorn server: the line's real
audio plays, keys barge in, 0 reaches the simulated nurse. Screenshots go to $IVR_SCREENSHOT_DIR."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import httpx
import pytest
import soundfile
from playwright.sync_api import Page, expect

from tests.browser import screenshot
from tests.conftest import LiveServer, start_server

AUDIO_URL = re.compile(r"/audio/[0-9a-f]{32}\.wav$")
PLAYING = "id => { const a = document.getElementById('line-audio');" \
          " return a.dataset.id === id && !a.paused && a.currentTime > 0.2; }"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live_server(rendered_audio_dir, tmp_path_factory) -> Iterator[LiveServer]:
    """One real server for this module (each test has its own browser context and call): the
    line with its real rendered audio, nurses always open, and the browser phone open."""
    tmp = tmp_path_factory.mktemp("phone")
    (tmp / "instance").mkdir()
    server = start_server({
        "IVR_INSTANCE_DIR": str(tmp / "instance"), "TWILIO_AUTH_TOKEN": "test-auth-token",
        "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": "always",
        "IVR_AUDIO_DIR": str(rendered_audio_dir), "IVR_PHONE": "open",
    }, tmp)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


def is_step(keys):
    def check(request) -> bool:
        return request.url.endswith("/phone/step") and json.loads(request.post_data or "{}").get("keys") == keys
    return check


def open_phone(page: Page, live_server, nurse: str = "answer") -> None:
    response = page.goto(live_server.url + "/phone")
    assert response is not None and response.status == 200
    page.select_option("#nurse", nurse)


def call_and_hear_greeting(page: Page) -> str:
    """Press Call; wait until the greeting's audio is really playing; its prompt id."""
    page.get_by_role("button", name="Call").click()
    greeting = page.locator("#transcript li").first
    expect(greeting).to_have_attribute("data-id", re.compile(r"^call\.greeting"))
    prompt_id = greeting.get_attribute("data-id")
    page.wait_for_function(PLAYING, arg=prompt_id)
    return prompt_id


def wait_for_the_choices(page: Page) -> None:
    """The greeting and the emergency sentence cannot be skipped: keys work from the first choice."""
    page.wait_for_function(PLAYING, arg="menu.section_option_say", timeout=30_000)


def test_call_plays_the_real_greeting_audio(live_server, page):
    open_phone(page, live_server)
    screenshot(page, "phone-1-ready")
    expect(page.get_by_role("status")).to_contain_text("Press Call")

    call_and_hear_greeting(page)
    source = page.evaluate("document.getElementById('line-audio').currentSrc")
    assert source.startswith(live_server.url) and AUDIO_URL.search(source), source
    # the file the browser is playing is the line's real telephone audio
    data = httpx.get(source, timeout=10).content
    info = soundfile.info(io.BytesIO(data))
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "ULAW") and info.duration > 1
    first = page.locator("#transcript li").first
    expect(first).to_have_attribute("data-kind", "play")
    expect(first).to_have_attribute("data-audio", AUDIO_URL)
    expect(first).to_contain_text("Patient information line")
    page.keyboard.press("4")  # during the greeting: no key skips it (nor the emergency sentence)
    expect(page.get_by_role("status")).not_to_contain_text("press a key")
    wait_for_the_choices(page)
    expect(page.get_by_role("status")).to_contain_text("press a key")
    screenshot(page, "phone-2-greeting")


def test_key_during_the_choices_barges_in_and_reaches_a_section(live_server, page):
    open_phone(page, live_server)
    greeting = call_and_hear_greeting(page)
    wait_for_the_choices(page)

    with page.expect_request(is_step("1")):
        page.get_by_role("button", name="1", exact=True).click()
    # the choices stopped at once: the next audio is the section, the rest of the menu never played
    section = page.locator("#transcript li[data-id='reading.section_start']")
    expect(section).to_have_text("What it is.")
    page.wait_for_function(PLAYING, arg="leaflet/cryotherapy-for-kidney-cancer/1/1")
    heard = page.locator("#transcript li").evaluate_all("items => items.map(i => i.dataset.id || i.className)")
    assert heard[:2] == [greeting, "safety.emergency"]
    assert "menu.whole_say" not in heard and "menu.repeat" not in heard, heard
    assert heard.index("you") < heard.index("reading.section_start")
    expect(page.locator("#transcript li.you")).to_have_text("You pressed 1")
    screenshot(page, "phone-3-section")


def test_keyboard_keys_work_like_the_keypad(live_server, page):
    open_phone(page, live_server)
    call_and_hear_greeting(page)
    wait_for_the_choices(page)
    with page.expect_request(is_step("2")):
        page.keyboard.press("2")
    expect(page.locator("#transcript li[data-id='reading.section_start']")).to_have_text("Who has it.")

    page.keyboard.press("Escape")  # hang up
    expect(page.get_by_role("status")).to_contain_text("The call has ended")
    expect(page.locator("#transcript li").last).to_have_text("You hung up.")
    assert page.evaluate("document.getElementById('line-audio').paused")


def test_zero_reaches_the_simulated_nurse_who_answers(live_server, page):
    open_phone(page, live_server, nurse="answer")
    call_and_hear_greeting(page)
    wait_for_the_choices(page)
    with page.expect_request(is_step("0")):
        page.get_by_role("button", name="0", exact=True).click()
    expect(page.locator("li[data-id='nurse.connecting']")).to_be_visible()
    page.wait_for_function(PLAYING, arg="nurse.connecting")
    screenshot(page, "phone-4-nurse-connecting")
    expect(page.locator("li[data-kind='dial']")).to_contain_text("the nurse answers")
    # the whisper is shown, not played: it is for the nurse's ear
    expect(page.locator("li.nurse-leg").first).to_contain_text("The nurse hears: A caller from the information line")
    expect(page.locator("li[data-kind='talk']")).to_contain_text("you talk to the nurse")
    expect(page.get_by_role("status")).to_contain_text("The call has ended", timeout=30_000)  # after the goodbye
    expect(page.locator("li[data-kind='hangup']")).to_be_visible()
    played = page.locator("li[data-kind='play']").evaluate_all("items => items.map(i => i.dataset.id)")
    assert played[-2:] == ["safety.before_goodbye", "call.goodbye"], played
    screenshot(page, "phone-5-nurse-answered")


def test_zero_with_the_nurses_busy_offers_a_call_back_first_and_takes_a_key(live_server, page):
    open_phone(page, live_server, nurse="busy")
    call_and_hear_greeting(page)
    wait_for_the_choices(page)
    page.get_by_role("button", name="0", exact=True).click()
    expect(page.locator("li[data-kind='dial']")).to_contain_text("engaged (busy)")
    expect(page.locator("li[data-id='nurse.busy']")).to_be_visible()
    expect(page.locator("li[data-id='safety.emergency']")).to_have_count(2)  # again, when nobody could answer
    page.wait_for_function(PLAYING, arg="nurse.options.callback_say", timeout=30_000)
    screenshot(page, "phone-6-nurse-busy")
    with page.expect_request(is_step("*")):
        page.keyboard.press("*")  # back to the main menu, barging in on the options
    expect(page.locator("li[data-id='nurse.options.message_say']")).to_have_count(0)
    expect(page.locator("li[data-id='menu.section_option_say']").nth(1)).to_be_visible()  # the menu again


def test_keys_are_ignored_before_a_call(live_server, page):
    open_phone(page, live_server)
    page.keyboard.press("1")
    expect(page.get_by_role("status")).to_have_text("Press Call first to ring the line.")
    expect(page.locator("#transcript li")).to_have_count(0)


def test_words_typed_in_the_say_box_reach_a_section(live_server, page):
    open_phone(page, live_server)
    call_and_hear_greeting(page)
    wait_for_the_choices(page)
    page.get_by_label("Or say it (type the words)").fill("side affects")  # as speech recognition might hear it
    with page.expect_request(lambda request: request.url.endswith("/phone/step")
                             and json.loads(request.post_data or "{}").get("say") == "side affects"):
        page.get_by_role("button", name="Say", exact=True).click()
    expect(page.locator("#transcript li.you").last).to_have_text("You said: side affects")
    expect(page.locator("#transcript li[data-id='reading.section_start']")).to_have_text("Side effects.")
    screenshot(page, "phone-7-said")
