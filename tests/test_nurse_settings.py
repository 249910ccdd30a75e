"""Nurse-line settings: start-up errors, `ivr check` findings, the injected clock, what is pre-rendered."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from twilio.request_validator import RequestValidator

from ivr import create_app, nurse
from ivr.config import load_settings
from ivr.content.catalogue import load_catalogue
from ivr.errors import ConfigError
from ivr.prompts import load_prompts

from .conftest import PROJECT


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("IVR_NURSE_NUMBER", "", "Expected the nurses' number in E.164 form like '+441632960001', got '' "
                                 "in IVR_NURSE_NUMBER, which is not set."),
        ("IVR_NURSE_NUMBER", "01632 960001", "got '01632 960001' in IVR_NURSE_NUMBER, which is not in E.164 form"),
        ("IVR_NURSE_HOURS", "9am-5pm", "Expected opening hours like 'Mon-Fri 09:00-17:00; Sat 10:00-13:00', "
                                       "or 'always' or 'never', got '9am-5pm' in IVR_NURSE_HOURS. Hint: "),
        ("IVR_CLOSED_DATES", "Christmas", "got 'Christmas' in IVR_CLOSED_DATES"),
        ("IVR_HOLIDAYS_REGION", "UK", "Expected one of ENG, NIR, SCT, WLS, got 'UK' in IVR_HOLIDAYS_REGION."),
        ("IVR_DATABASE_URL", "not a url", "got 'not a url' in IVR_DATABASE_URL"),
        ("IVR_CLOCK", "tomorrow", "got 'tomorrow' in IVR_CLOCK"),
    ],
)
def test_bad_settings_stop_the_line_starting(app_config, setting, value, message):
    app_config[setting] = value
    with pytest.raises(ConfigError) as caught:
        create_app(app_config)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("setting", "value", "level", "message"),
    [
        ("IVR_NURSE_NUMBER", "", "error", "IVR_NURSE_NUMBER is not set"),
        ("IVR_NURSE_NUMBER", "+4416329", "error", "has the wrong number of digits"),
        ("IVR_NURSE_NUMBER", "+441632960001", "warning", "not a UK number in service"),
        ("IVR_NURSE_CALLER_ID", "0163296", "error", "IVR_NURSE_CALLER_ID is not in E.164 form"),
        ("IVR_NURSE_HOURS", "Mon-Fri 09:00-17", "error", "got 'Mon-Fri 09:00-17' in IVR_NURSE_HOURS"),
        ("IVR_CLOSED_DATES", "2026-02-30", "error", "got '2026-02-30' in IVR_CLOSED_DATES"),
        ("IVR_HOLIDAYS_REGION", "XX", "error", "got 'XX' in IVR_HOLIDAYS_REGION"),
        ("IVR_CLOCK", "2026-12-24T18:00:00+00:00", "warning", "IVR_CLOCK is set"),
        ("IVR_CALLBACK_FROM", "", "warning", "IVR_CALLBACK_FROM is not set: callers"),
    ],
)
def test_check_reports_each_setting(tmp_path, setting, value, level, message):
    base = {"IVR_INSTANCE_DIR": str(tmp_path), "IVR_NURSE_NUMBER": "+442079460123",
            "IVR_NURSE_HOURS": "Mon-Fri 09:00-17:00", "IVR_CLOSED_DATES": "", "IVR_HOLIDAYS_REGION": "ENG",
            "IVR_NURSE_CALLER_ID": "", "IVR_CLOCK": "", "IVR_DATABASE_URL": "", "IVR_CALLBACK_FROM": "+442079460000"}
    findings = nurse.check_settings(load_settings(base | {setting: value}))
    assert [(f.level, message in f.message) for f in findings] == [(level, True)]


def test_check_reports_a_bad_database_url(tmp_path, monkeypatch):
    from ivr.checks import run_checks

    monkeypatch.setenv("IVR_DATABASE_URL", "nonsense")
    monkeypatch.setenv("IVR_INSTANCE_DIR", str(tmp_path))
    findings = run_checks()
    assert any(f.level == "error" and "IVR_DATABASE_URL is not a database URL: got 'nonsense'" in f.message
               for f in findings)


def test_good_settings_have_no_findings(tmp_path):
    settings = load_settings({"IVR_INSTANCE_DIR": str(tmp_path), "IVR_NURSE_NUMBER": "+442079460123",
                              "IVR_NURSE_HOURS": "Mon-Fri 09:00-17:00; Sat 10:00-13:00", "IVR_CLOSED_DATES": "",
                              "IVR_HOLIDAYS_REGION": "ENG", "IVR_NURSE_CALLER_ID": "", "IVR_CLOCK": "",
                              "IVR_DATABASE_URL": "", "IVR_CALLBACK_FROM": "+442079460000"})
    assert nurse.check_settings(settings) == []


def test_clock_injected_through_the_app_config(app_config):
    app_config["IVR_NURSE_HOURS"] = "Mon-Fri 09:00-17:00"
    app_config["IVR_SPEECH"] = "say"
    app_config["CLOCK"] = lambda: dt.datetime(2026, 11, 27, 18, 0, tzinfo=dt.UTC)  # a Friday evening
    client = create_app(app_config).test_client()
    params = {"CallSid": "CA-clock", "From": "+447900123456"}
    url = "http://localhost/nurse"
    signature = RequestValidator("test-auth-token").compute_signature(url, params)
    response = client.post("/nurse", data=params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    says = [say.text for say in ET.fromstring(response.data).iter("Say")]
    assert says[0] == "The nurse helpline is closed at the moment. It opens again on Monday at 9 am."


def test_everything_spoken_is_listed_for_rendering(tmp_path):
    from ivr.speech.sources import speech_items

    settings = load_settings({"IVR_INSTANCE_DIR": str(tmp_path), "IVR_NURSE_HOURS": "Mon-Fri 09:00-17:00; Sat 10:00-13:00",
                              "IVR_CALLBACK_WITHIN_MINUTES": "120"})
    catalogue = load_catalogue(PROJECT / "tests" / "fixtures" / "leaflets-one")
    texts = [u.text for u in speech_items(catalogue, load_prompts("en-GB"), settings)]
    assert len(texts) == len(set(texts)) < 2000  # finite
    assert "The nurse helpline is closed at the moment. It opens again on Monday at 9 am." in texts
    assert "The nurse helpline is closed at the moment. It opens again tomorrow at 10 am." in texts
    assert "A caller from the information line. They were listening to Cryotherapy for kidney cancer, Side effects." in texts
    assert "We aim to call you after we open tomorrow, usually by 11 am." in texts
    assert {"Putting you through to a nurse. Please hold.", "4", "Press 1 to accept the call."} <= set(texts)
