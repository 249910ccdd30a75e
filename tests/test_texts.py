"""A link to the leaflet by text message (issue 17).

The engine alone, by prompt ids: the offer only when the call can text, the key and the words,
each :data:`TextOutcome` answered and back to the menu. Then the whole way through a real gunicorn
server against the fake Twilio API over real HTTP (``tests/fake_twilio.py``): sent once to the
caller's own number with the right body and link; a landline, a foreign number and a withheld one
never offered (and the key refused); a second request in the same call; over the daily limit; a
Twilio refusal recorded and shown on the staff dashboard; the caller answered while Twilio holds
the send; and no offer at all without the settings.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from ivr.content.links import short_code
from ivr.dialogue.steps import TEXT_OUTCOMES, CallContext, Heard, Keys, Position, SendText, Step
from ivr.nurse.numbers import uk_mobile_number
from ivr.store import Store
from ivr.store.models import CallEvent, TextMessage
from ivr.texts import TextLimits, queue_text

from .conftest import DATABASE_BACKENDS, LiveServer, fresh_database, start_server
from .fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, running_fake
from .staff_client import PASSWORD, USER, StaffSession, add_user_cli
from .test_dialogue import CALLER, OPEN, SLUG, ids, make_engine
from .test_nurse_line import ids as said_ids

PUBLIC = "http://ivr.example.org"  # http: the staff cookie is Secure behind https, and the tests speak http
SENDER = "+447700900000"
TITLE = "Cryotherapy for kidney cancer"
LEAFLETS = Path(__file__).resolve().parent / "fixtures" / "leaflets-one"
MENU = f"/voice/key?k=sections&l={SLUG}"
LANDLINE = "+442079460000"
FOREIGN_MOBILE = "+33612345678"


# --- the engine alone ---------------------------------------------------------------------------


def texting(engine, *, can_text: bool = True, caller: str | None = CALLER) -> CallContext:
    return CallContext(engine.rules.moment(OPEN), caller, can_text)


def test_the_offer_is_made_only_when_the_call_can_text():
    engine = make_engine()
    assert "menu.text" in ids(engine.answer(texting(engine)))
    assert "menu.text" not in ids(engine.answer(texting(engine, can_text=False)))
    no_text = engine.respond(Position("sections", SLUG), Keys("7"), texting(engine, can_text=False))
    assert isinstance(no_text, Step) and ids(no_text)[0] == "errors.wrong_key"


def test_key_7_asks_for_a_text_of_this_leaflet_and_each_outcome_is_said_then_the_menu_again():
    engine = make_engine()
    context = texting(engine)
    menu = Position("sections", SLUG)
    asked = engine.respond(menu, Keys("7"), context)
    assert asked == SendText(menu, SLUG)
    for outcome in TEXT_OUTCOMES:
        step = engine.after_text(asked, outcome, context)
        assert ids(step)[0] == "texts." + outcome.replace("-", "_")
        assert step.position == menu and step.listen is not None
        assert "menu.sections" not in ids(step)  # the menu again, without its heading


def test_the_end_of_a_leaflet_offers_it_but_the_end_of_an_earlier_section_does_not():
    engine = make_engine()
    context = texting(engine)
    last = engine.enter(Position("end", SLUG, 4, 99), context)
    assert "menu.text" in ids(last) and last.listen is not None and last.listen.choice("7") is not None
    earlier = engine.enter(Position("end", SLUG, 1, 99), context)
    assert "menu.text" not in ids(earlier)
    assert isinstance(engine.respond(last.position, Keys("7"), context), SendText)


def test_saying_text_me_asks_for_the_text_and_the_words_are_in_the_words_file():
    engine = make_engine(speech=True)
    context = texting(engine)
    step = engine.answer(context)
    assert "menu.text_say" in ids(step)
    for words in ("text me", "send me a link"):
        assert engine.respond(step.position, Heard(words, 0.9), context) == SendText(Position("sections", SLUG), SLUG)
    assert {"text me", "send me a link"} <= set(engine.words.phrases["text"])


def test_more_sections_is_a_numbered_choice_so_that_7_is_always_the_text():
    engine = make_engine(Path(__file__).resolve().parent / "fixtures" / "leaflets-many")
    context = texting(engine)
    menu = engine.enter(Position("sections", "c-charlie-care"), context)  # six sections: two pages
    keys = {c.action: c.key for c in menu.listen.choices}
    assert keys["more"] == "5" and keys["text"] == "7"
    assert engine.respond(menu.position, Keys("5"), context).position.page == 1


@pytest.mark.parametrize(("number", "mobile"), [
    ("+447900123456", True), ("+447624123456", True),  # a UK mobile; an Isle of Man one
    (LANDLINE, False), ("+447600123456", False), ("+447010000000", False),  # landline, pager, personal number
    ("+449098790000", False), (FOREIGN_MOBILE, False), ("", False), ("anonymous", False),
])
def test_only_a_uk_mobile_can_be_texted(number, mobile):
    assert (uk_mobile_number(number) is not None) is mobile


# --- through a real server, against the fake Twilio API -----------------------------------------


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeTwilio]:
    """The fake Twilio API for the whole module (tests use numbers and CallSids of their own)."""
    with running_fake() as running:
        yield running


@pytest.fixture(autouse=True)
def _fake_answers(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "fake" in request.fixturenames:
        fake = request.getfixturevalue("fake")
        fake.refusal = None
        fake.release()


def config(tmp: Path, fake: FakeTwilio | None, **extra: str) -> dict[str, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    settings = {
        "IVR_INSTANCE_DIR": str(tmp), "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_NURSE_NUMBER": "+441632960001",
        "IVR_NURSE_HOURS": "always", "IVR_SPEECH": "say", "IVR_SPEECH_INPUT": "off", "IVR_CLOCK": "",
        "IVR_LEAFLETS_DIR": str(LEAFLETS), "IVR_DATABASE_URL": f"sqlite:///{tmp / 'ivr.sqlite3'}",
        "IVR_PUBLIC_URL": PUBLIC, "IVR_SMS_FROM": "", "TWILIO_ACCOUNT_SID": "", "IVR_CALLBACK_FROM": "",
        "IVR_TEXTS_PER_NUMBER_PER_DAY": "3", "IVR_TEXTS_PER_HOUR": "100",
    }
    if fake is not None:
        settings |= {"IVR_SMS_FROM": SENDER, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_API_BASE_URL": fake.url}
    return settings | extra


@pytest.fixture(scope="module")
def line(fake: FakeTwilio, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("texts")
    settings = config(tmp, fake)
    add_user_cli(settings, USER, PASSWORD)
    server = start_server(settings, tmp)
    yield server, settings
    server.process.terminate()
    server.process.wait(timeout=10)


def post(server: LiveServer, path: str, params: dict[str, str]) -> ET.Element:
    """A webhook as Twilio sends it: to this server, signed for the public URL it was given."""
    response = server.post(server.url + path, params, signature=server.sign(PUBLIC + path, params))
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.text)
    assert root.tag == "Response"
    return root


def call(sid: str, caller: str) -> dict[str, str]:
    return {"CallSid": sid, "From": caller, "To": "+441632960000", "AccountSid": ACCOUNT_SID}


def press_7(server: LiveServer, sid: str, caller: str) -> list[str]:
    """Answer the call (the leaflet's menu), press 7 there: what the caller hears."""
    greeting = post(server, "/voice", call(sid, caller))
    action = greeting.find("Gather").get("action")
    return said_ids(post(server, action, call(sid, caller) | {"Digits": "7"}))


def rows(settings: dict[str, str], model: type, **where: object) -> list:
    engine = create_engine(settings["IVR_DATABASE_URL"])
    with Session(engine) as session:
        query = select(model).filter_by(**where).order_by(model.id)
        found = list(session.scalars(query))
    engine.dispose()
    return found


def eventually(check: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll the database until ``check`` holds (the sender writes its outcome after Twilio
    answers, in its own thread); a readiness poll with a deadline, not a sleep standing in for it."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_a_link_is_sent_once_to_the_callers_own_mobile_with_the_title_and_short_link(line, fake):
    server, settings = line
    before = len(fake.texts)
    heard = press_7(server, "CA-sent-once", CALLER)
    assert heard[0] == "texts.queued" and "menu.text" in heard
    assert fake.wait_for_texts(before + 1)
    sent = fake.texts[before]
    link = f"{PUBLIC}/l/{short_code(SLUG)}"
    assert sent["To"] == CALLER and sent["From"] == SENDER
    assert sent["Body"] == f"{TITLE}: the leaflet from our phone line, to read or listen to again: {link}"
    assert len(sent["Body"]) <= 160
    assert eventually(lambda: rows(settings, TextMessage, call_sid="CA-sent-once")[0].status == "sent")
    row = rows(settings, TextMessage, call_sid="CA-sent-once")[0]
    assert row.twilio_sid.startswith("SM") and row.number is None and row.number_masked == "+44 7*** ***456"
    events = rows(settings, CallEvent, call_sid="CA-sent-once", kind="text")
    assert [(e.leaflet, e.detail) for e in events] == [(SLUG, "sent")]
    # the short link (on the public host; the same path here) opens the leaflet's web copy
    opened = httpx.get(server.url + f"/l/{short_code(SLUG)}", follow_redirects=True, timeout=20)
    assert opened.status_code == 200 and TITLE in opened.text
    # asked again in the same call: told it is on its way, and nothing more is sent
    again = said_ids(post(server, MENU, call("CA-sent-once", CALLER) | {"Digits": "7"}))
    assert again[0] == "texts.already"
    assert len(rows(settings, TextMessage, call_sid="CA-sent-once")) == 1
    assert CALLER not in server.log() and "7900123456" not in server.log()
    assert "twilio.http_client" not in server.log()  # the REST client's request dumps stay out of the log


@pytest.mark.parametrize("caller", [LANDLINE, FOREIGN_MOBILE, "anonymous"])
def test_a_landline_a_foreign_number_or_a_withheld_one_is_never_offered_a_text(line, fake, caller):
    server, settings = line
    attempts = len(fake.texts) + len(fake.refused)
    sid = f"CA-no-mobile-{caller[-4:]}"
    greeting = said_ids(post(server, "/voice", call(sid, caller)))
    assert greeting[:2] == ["call.greeting_one", "safety.emergency"] and "menu.text" not in greeting
    heard = said_ids(post(server, MENU, call(sid, caller) | {"Digits": "7"}))  # pressed anyway
    assert heard[0] == "errors.wrong_key"
    assert rows(settings, TextMessage, call_sid=sid) == []
    assert len(fake.texts) + len(fake.refused) == attempts


def test_over_the_daily_limit_a_number_gets_no_more_texts(line, fake):
    server, settings = line
    caller = "+447900555001"
    heard = [press_7(server, f"CA-limit-{n}", caller)[0] for n in range(4)]
    assert heard == ["texts.queued"] * 3 + ["texts.over_limit"]
    assert len(rows(settings, TextMessage, number_masked="+44 7*** ***001")) == 3
    assert press_7(server, "CA-limit-other", "+447900555002")[0] == "texts.queued"  # another number still can
    assert eventually(lambda: all(r.status == "sent" for r in rows(settings, TextMessage)))  # before the next test


def test_twilio_refusing_a_text_is_recorded_in_the_call_log_and_shown_to_staff(line, fake):
    server, settings = line
    fake.refuse(400, 21610, "Attempt to send to unsubscribed recipient +447900555003")
    refused = len(fake.refused)
    assert press_7(server, "CA-refused", "+447900555003")[0] == "texts.queued"  # the caller is not kept waiting
    assert fake.wait_for_attempts(len(fake.texts) + refused + 1)
    assert eventually(lambda: rows(settings, TextMessage, call_sid="CA-refused")[0].status == "failed")
    row = rows(settings, TextMessage, call_sid="CA-refused")[0]
    assert row.error_code == "21610" and row.number is None
    assert "unsubscribed recipient" in row.error_message and "555003" not in row.error_message
    assert [e.detail for e in rows(settings, CallEvent, call_sid="CA-refused", kind="text")] == ["failed 21610"]
    assert "21610" in server.log() and "7900555003" not in server.log()
    staff = StaffSession(server)
    try:
        assert staff.login().status_code == 302
        page = staff.get("/staff/").text
    finally:
        staff.close()
    assert "Text messages with a link to a leaflet" in page
    assert "21610" in page and "+44 7*** ***003" in page and "Attempt to send to unsubscribed recipient" in page
    failed = page.split("<dt>Failed, last 30 days</dt><dd>", 1)[1].split("<", 1)[0]
    assert int(failed) >= 1


def test_the_caller_is_answered_while_twilio_holds_the_send(line, fake):
    server, settings = line
    fake.hold()
    arrived = len(fake.texts) + len(fake.refused)
    taken = len(fake.texts)
    assert press_7(server, "CA-held", "+447900555004")[0] == "texts.queued"
    assert fake.wait_for_attempts(arrived + 1)  # the send is at Twilio now, and kept waiting there
    row = rows(settings, TextMessage, call_sid="CA-held")[0]
    assert row.status == "sending" and len(fake.texts) == taken
    # the line goes on answering, this caller and others, while the send waits
    assert said_ids(post(server, MENU, call("CA-held", "+447900555004") | {"Digits": "1"}))
    assert "menu.text" in said_ids(post(server, "/voice", call("CA-held-other", CALLER)))
    fake.release()
    assert fake.wait_for_texts(taken + 1)
    assert eventually(lambda: rows(settings, TextMessage, call_sid="CA-held")[0].status == "sent")


def test_without_text_settings_the_option_is_not_offered(tmp_path):
    settings = config(tmp_path, None)  # no IVR_SMS_FROM, no account
    server = start_server(settings, tmp_path)
    try:
        greeting = post(server, "/voice", call("CA-no-settings", CALLER))
        assert "menu.text" not in said_ids(greeting) and "text message" not in ET.tostring(greeting, encoding="unicode")
        assert said_ids(post(server, MENU, call("CA-no-settings", CALLER) | {"Digits": "7"}))[0] == "errors.wrong_key"
    finally:
        server.process.terminate()
        server.process.wait(timeout=10)


def test_a_database_that_cannot_be_written_is_said_and_the_call_goes_on(line, fake):
    server, settings = line
    greeting = post(server, "/voice", call("CA-locked", "+447900555005"))
    holder = sqlite3.connect(settings["IVR_DATABASE_URL"].removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the busy timeout
    try:
        root = post(server, greeting.find("Gather").get("action"), call("CA-locked", "+447900555005") | {"Digits": "7"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    heard = said_ids(root)
    assert heard[0] == "texts.not_possible" and root.find("Gather") is not None
    assert "could not queue a text message for +44 7*** ***005 (CallSid CA-locked)" in server.log()
    assert rows(settings, TextMessage, call_sid="CA-locked") == []


def test_the_whole_line_sends_at_most_its_hourly_limit(tmp_path):
    """IVR_TEXTS_PER_HOUR, on the store itself: a burst from many numbers (pumping) stops at the
    limit, and the hour after it sends again."""
    store = Store(f"sqlite:///{tmp_path / 'texts.sqlite3'}")
    limits = TextLimits(per_number_per_day=3, per_hour=5)
    start = dt.datetime(2026, 12, 2, 10, 0, tzinfo=dt.UTC)

    def ask(n: int, at: dt.datetime) -> str:
        return queue_text(store, call_sid=f"CA-burst-{n}", leaflet=SLUG, number=f"+4479005560{n:02d}", body="b",
                          secret="s" * 32, limits=limits, now=at)

    burst = [ask(n, start + dt.timedelta(minutes=n)) for n in range(7)]
    assert burst == ["queued"] * 5 + ["over-limit"] * 2
    assert ask(8, start + dt.timedelta(minutes=61)) == "queued"  # the first has left the hour


@pytest.mark.parametrize(("value", "accepted"), [
    ("+447700900000", True), ("MG" + "0123456789abcdef" * 2, True), ("", True),
    ("07700900000", False), ("MG123", False), ("MG" + "X" * 32, False), ("sender", False),
])
def test_ivr_sms_from_takes_a_number_or_a_messaging_service(value, accepted):
    from ivr.config import load_settings
    from ivr.errors import ConfigError

    overrides = {"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_SMS_FROM": value}
    if accepted:
        assert load_settings(overrides).sms_from == value
    else:
        with pytest.raises(ConfigError, match="IVR_SMS_FROM"):
            load_settings(overrides)


def test_ivr_check_says_which_settings_a_text_still_needs():
    from ivr.config import load_settings
    from ivr.nurse import check_settings

    settings = load_settings({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_SMS_FROM": SENDER, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                              "IVR_PUBLIC_URL": ""})
    warnings = [f.message for f in check_settings(settings) if "IVR_SMS_FROM" in f.message]
    assert warnings == ["IVR_SMS_FROM is set but IVR_PUBLIC_URL not: callers are not offered a link to the leaflet "
                        "by text message."]
    assert not settings.can_send_texts
    assert load_settings({"TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_SMS_FROM": SENDER, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                          "IVR_PUBLIC_URL": PUBLIC}).can_send_texts


def test_the_practice_line_never_offers_a_text(tmp_path):
    """The browser phone's practice line shares the runtime but never sends: no offer, 7 a wrong key."""
    from twilio.request_validator import RequestValidator

    from ivr import create_app
    from ivr.web.practice import practice_app

    settings = config(tmp_path, None) | {"IVR_SMS_FROM": SENDER, "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                                         "TWILIO_API_BASE_URL": "http://127.0.0.1:9", "IVR_PUBLIC_URL": "http://localhost"}
    app = create_app(settings | {"TESTING": True})
    with app.app_context():
        practice = practice_app()
    assert "ivr.texts" in app.extensions and "ivr.texts" not in practice.extensions

    def heard(client, path: str, params: dict[str, str]) -> list[str]:
        signature = RequestValidator(AUTH_TOKEN).compute_signature("http://localhost" + path, params)
        response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200
        return said_ids(ET.fromstring(response.text))

    assert "menu.text" in heard(app.test_client(), "/voice", call("CA-real", CALLER))
    practising = practice.test_client()
    assert "menu.text" not in heard(practising, "/voice", call("CA-practice", CALLER))
    assert heard(practising, MENU, call("CA-practice", CALLER) | {"Digits": "7"})[0] == "errors.wrong_key"


def test_a_text_left_sending_by_a_stopped_server_is_shown_failed_and_never_sent_again(tmp_path):
    """A process killed mid-send leaves its row claimed: after STUCK_AFTER it is marked failed
    ("interrupted": it may have gone), never sent a second time. The send given here is Twilio's
    side of the boundary: it records what would be sent."""
    from ivr.texts import TextSender
    from ivr.texts.sender import STUCK_AFTER

    store = Store(f"sqlite:///{tmp_path / 'texts.sqlite3'}")
    now = dt.datetime.now(dt.UTC)
    assert queue_text(store, call_sid="CA-stuck", leaflet=SLUG, number="+447900555006", body="b", secret="s" * 32,
                      limits=TextLimits(), now=now - STUCK_AFTER * 2) == "queued"
    with store.transaction() as session:
        row = session.scalars(select(TextMessage)).one()
        row.status, row.claimed_at = "sending", now - STUCK_AFTER - dt.timedelta(seconds=1)
    sent: list[tuple[str, str]] = []
    sender = TextSender(store, lambda to, body: sent.append((to, body)) or "SM1")
    assert sender.give_up_stuck(now) == 1 and sender.give_up_stuck(now) == 0
    with store.transaction() as session:
        row = session.scalars(select(TextMessage)).one()
        assert (row.status, row.error_code, row.number) == ("failed", "interrupted", None)
        assert [e.detail for e in session.scalars(select(CallEvent))] == ["failed interrupted"]
    assert sender._claim() is None and sent == []


@pytest.mark.slow
def test_staff_see_texts_sent_and_failed_on_the_dashboard_in_a_browser(line, fake, page, monkeypatch):
    from playwright.sync_api import expect

    from tests.browser import screenshot

    from .test_staff_browser import sign_in

    monkeypatch.setenv("IVR_SCREENSHOT_DIR", "/tmp/screens")
    server, settings = line
    fake.refuse(400, 21612, "The 'To' phone number is not currently reachable via SMS")
    assert press_7(server, "CA-browser", "+447900555007")[0] == "texts.queued"
    assert eventually(lambda: rows(settings, TextMessage, call_sid="CA-browser")[0].status == "failed")
    sign_in(page, server.url)
    section = page.get_by_role("region", name="Text messages with a link to a leaflet")
    expect(section).to_be_visible()
    failures = section.get_by_role("table", name="Text messages that failed")
    expect(failures.get_by_role("row").filter(has_text="21612")).to_contain_text("+44 7*** ***007")
    expect(failures.get_by_role("row").filter(has_text="21612")).to_contain_text(TITLE)
    section.scroll_into_view_if_needed()
    screenshot(page, "staff-dashboard-texts")


@pytest.mark.parametrize("backend", DATABASE_BACKENDS)
def test_requests_at_the_same_moment_cannot_all_take_the_last_place(backend, tmp_path):
    """Eight workers asking at once for one number with one text left: exactly one is queued (on
    PostgreSQL too, where each transaction would otherwise count before any of them inserts)."""
    with fresh_database(backend, tmp_path) as url:
        store = Store(url)
        limits = TextLimits(per_number_per_day=1, per_hour=100)
        start = threading.Barrier(8)

        def ask(n: int) -> str:
            start.wait()
            return queue_text(store, call_sid=f"CA-race-{n}", leaflet=SLUG, number="+447900555099", body="b",
                              secret="s" * 32, limits=limits)

        with ThreadPoolExecutor(8) as pool:
            outcomes = sorted(pool.map(ask, range(8)))
        store.engine.dispose()  # before the PostgreSQL database is dropped
    assert outcomes == ["over-limit"] * 7 + ["queued"], outcomes
