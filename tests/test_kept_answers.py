"""Kept answers given before Flask (ivr.web.kept_answers) are what Flask's views give: the same
documents and headers, the same call-log facts, each transfer naming its own caller; and a
transfer, the one nurse-line step kept, never depends on who is calling, over every state."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from ivr import create_app
from ivr.dialogue.engine import CallEngine
from ivr.dialogue.explore import Exploration, State, Transition, explore
from ivr.dialogue.steps import CallContext, Keys, NoInput, Step, Transfer
from ivr.store.models import CallEvent, CallRecord
from ivr.web.calllog import flush

from .conftest import TEST_LEAFLETS
from .test_dialogue import make_engine

TOKEN = "test-auth-token"
BASE = {"AccountSid": "ACtest", "To": "+441632960000", "CallStatus": "in-progress", "Direction": "inbound"}
# Keys pressed in turn; "-" follows the <Redirect> (silence, or the next part).
CALLS = [["1", "-", "-", "9", "7", "0"], ["-", "2", "-", "4", "6", "*", "0"], ["3", "-", "-", "-", "0"]]
CALLERS = ["+447700900123", "+447700900456", "anonymous"]


def _app(tmp_path: Path, name: str, *, early: bool):
    app = create_app({"TESTING": True, "IVR_INSTANCE_DIR": str(tmp_path / name), "IVR_LEAFLETS_DIR": str(TEST_LEAFLETS),
                      "TWILIO_AUTH_TOKEN": TOKEN, "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": "always",
                      "IVR_WELCOME_BACK_DAYS": "0"})
    if not early:
        app.answer_early = None  # every request through Flask's views
    return app


def _play(app, number: int, keys: list[str], caller: str) -> list[tuple[int, dict[str, str], bytes]]:
    """A call following the line's own TwiML; (status, headers, body) of every answer."""
    client = app.test_client()
    form = {**BASE, "CallSid": f"CA{number:032x}", "From": caller}
    answers = []

    def post(url: str, params: dict[str, str]) -> ET.Element:
        signature = RequestValidator(TOKEN).compute_signature(f"http://localhost{url}", params)
        response = client.post(url, data=params, headers={"X-Twilio-Signature": signature})
        answers.append((response.status_code, dict(response.headers), response.data))
        return ET.fromstring(response.data)

    document = post("/voice", form)
    for key in keys:
        if key == "-":
            document = post(document.findtext("Redirect") or "/voice/menu", form)
        else:
            gather = document.find("Gather")
            assert gather is not None, ET.tostring(document)
            document = post(gather.attrib["action"], {**form, "Digits": key})
    dial = document.find("Dial")
    if dial is not None:
        post(f"/nurse?{dial.attrib['action'].split('?', 1)[1]}", form)  # as after a second fault
    return answers


def _call_log(app) -> list[tuple]:
    flush()
    store = app.extensions["ivr.store"]
    with store.reading() as connection:
        calls = connection.execute(select(CallRecord.call_sid, CallRecord.caller_hash, CallRecord.stage,
                                          CallRecord.leaflet, CallRecord.section, CallRecord.part, CallRecord.webhooks,
                                          CallRecord.nurse_requested, CallRecord.past_first_menu)
                                   .order_by(CallRecord.call_sid)).all()
        events = connection.execute(select(CallEvent.call_sid, CallEvent.kind, CallEvent.menu, CallEvent.digits,
                                           CallEvent.leaflet, CallEvent.section, CallEvent.part, CallEvent.seconds,
                                           CallEvent.detail).order_by(CallEvent.id)).all()
    return [tuple(row) for row in calls + events]


def test_kept_answers_are_the_documents_headers_and_facts_flasks_views_give(tmp_path):
    early, views = _app(tmp_path, "early", early=True), _app(tmp_path, "views", early=False)
    views.secret_key = early.secret_key  # the same caller hashes in both call logs
    for app in (early, views):
        app.extensions["ivr.calllog"]._secret = str(early.secret_key)
    for round_ in range(2):  # the second time round, every answer is kept
        for number, (keys, caller) in enumerate(zip(CALLS, CALLERS, strict=True)):
            ours = _play(early, 10 * round_ + number, keys, caller)
            theirs = _play(views, 10 * round_ + number, keys, caller)
            assert ours == theirs
            assert all(status == 200 for status, _headers, _body in ours)
    assert len(early.extensions["ivr.answers"]) > 10
    with early.app_context():
        ours_logged = _call_log(early)
    with views.app_context():
        assert ours_logged == _call_log(views)
    assert len(ours_logged) > 40


def test_a_kept_transfer_names_each_caller_and_a_withheld_one_the_number_dialled(tmp_path):
    app = _app(tmp_path, "line", early=True)
    dials = []
    for number, caller in enumerate(CALLERS * 2):
        answers = _play(app, number, ["0"], caller)
        dial = ET.fromstring(answers[1][2]).find("Dial")
        assert dial is not None
        dials.append(dial.attrib["callerId"])
    assert dials == ["+447700900123", "+447700900456", "+441632960000"] * 2


def test_a_forged_request_for_a_kept_answer_is_refused(tmp_path):
    app = _app(tmp_path, "line", early=True)
    _play(app, 1, ["1"], CALLERS[0])
    form = {**BASE, "CallSid": "CA1", "From": CALLERS[0]}
    signature = RequestValidator("another-token").compute_signature("http://localhost/voice", form)
    response = app.test_client().post("/voice", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


@pytest.fixture(scope="module")
def engine() -> CallEngine:
    return make_engine()


def test_a_transfer_is_the_same_step_whoever_calls_in_every_state(engine):
    """Every transfer a kept answer can hold (arriving somewhere, a key, silence) is the same step
    whichever number the caller rings from: only its callerId differs, and that is a slot. (Whether
    the number is known at all is part of a kept answer's key: the nurse line asks for one if not.)"""

    class Transfers:
        def __init__(self) -> None:
            self.checked = 0

        def arrived(self, found: Exploration, state: State, step: Step) -> None:
            pass

        def followed(self, found: Exploration, transition: Transition) -> None:
            if transition.state is None or not isinstance(transition.step.then, Transfer):
                return
            position, situation = transition.state
            context = found.situations[situation].context
            if context.caller_number is None:
                return
            other = CallContext(context.moment, "+447700900999", context.can_text)
            assert other.caller_number != context.caller_number
            label = transition.input
            if label == "arrive":
                again = engine.enter(position, other)
            elif label == "silence" or (label.startswith(("key:", "keys:")) and " " not in label):
                event = NoInput() if label == "silence" else Keys(label.split(":", 1)[1])
                again = engine.respond(position, event, other)
            else:
                return  # a transfer's end, or words: never kept
            assert again == transition.step, transition
            self.checked += 1

    transfers = Transfers()
    explore(engine, [transfers])
    assert transfers.checked > 20
