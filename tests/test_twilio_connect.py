"""``ivr twilio connect`` / ``status`` against a fake Twilio API over real HTTP (tests/fake_twilio.py).

The commands run through click (in-process, and once as the installed ``ivr`` script) with
Twilio's real REST client talking HTTP to the fake on 127.0.0.1; what the fake holds afterwards
is what Twilio would hold.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ivr.cli import main
from ivr.config import load_settings
from ivr.errors import ConfigError
from ivr.number.webhooks import check_public_url

from .conftest import PROJECT, free_port
from .fake_twilio import ACCOUNT_SID, AUTH_TOKEN, DEMO_VOICE_URL, FakeTwilio, fake_twilio

FIXTURES = (fake_twilio,)  # pytest finds fixtures by their names in this module

NUMBER = "+441632960001"
PUBLIC = "https://ivr.example.org"
WANTED = {
    "voice_url": f"{PUBLIC}/voice", "voice_method": "POST",
    "voice_fallback_url": f"{PUBLIC}/voice/fallback", "voice_fallback_method": "POST",
    "status_callback": f"{PUBLIC}/voice/status", "status_callback_method": "POST",
}


def _env(fake: FakeTwilio, tmp_path: Path, **overrides: str | None) -> dict[str, str | None]:
    env: dict[str, str | None] = {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "IVR_PUBLIC_URL": PUBLIC,
        "TWILIO_API_BASE_URL": fake.url, "IVR_INSTANCE_DIR": str(tmp_path / "instance"),
        "TWILIO_EDGE": None, "TWILIO_REGION": None,
    }
    env.update(overrides)
    return env


def run(fake: FakeTwilio, tmp_path: Path, *args: str, **env: str | None):
    return CliRunner().invoke(main, ["twilio", *args], env=_env(fake, tmp_path, **env))


def _voice_settings(record: dict) -> dict:
    return {key: record[key] for key in WANTED}


def test_connect_sets_voice_url_fallback_and_status_callback(fake_twilio: FakeTwilio, tmp_path: Path):
    sid = fake_twilio.add_number(NUMBER, friendly_name="Patient line")
    result = run(fake_twilio, tmp_path, "connect", "--number", NUMBER)
    assert result.exit_code == 0, result.output
    assert _voice_settings(fake_twilio.number(NUMBER)) == WANTED
    # Only what differed from a new number's settings was sent, in one update.
    assert fake_twilio.changes == [(sid, {"VoiceUrl": f"{PUBLIC}/voice", "VoiceFallbackUrl": f"{PUBLIC}/voice/fallback",
                                          "StatusCallback": f"{PUBLIC}/voice/status"})]
    assert all(authorised for _, authorised in fake_twilio.requests)
    assert f"VoiceUrl              {DEMO_VOICE_URL} -> {PUBLIC}/voice" in result.output
    assert f"Connected: calls to {NUMBER} now come to {PUBLIC}/voice (3 setting(s) changed)." in result.output
    assert "ivr serve" in result.output


def test_connect_takes_the_number_off_an_application_and_sets_post(fake_twilio: FakeTwilio, tmp_path: Path):
    """A voice application makes Twilio ignore the voice URL; GET webhooks would not be signed as the line checks."""
    fake_twilio.add_number(NUMBER, voice_application_sid="AP" + "1" * 32, voice_method="GET",
                           voice_fallback_method="GET", status_callback_method="GET")
    status = run(fake_twilio, tmp_path, "status", "--number", NUMBER)
    assert status.exit_code == 1
    assert re.search(r"VoiceApplicationSid +AP1{32} +differs: connect clears it", status.output), status.output
    assert re.search(r"VoiceMethod +GET +differs: connect sets POST", status.output), status.output
    result = run(fake_twilio, tmp_path, "connect", "--number", NUMBER)
    assert result.exit_code == 0, result.output
    record = fake_twilio.number(NUMBER)
    assert _voice_settings(record) == WANTED
    assert not record["voice_application_sid"]
    assert f"VoiceApplicationSid   AP{'1' * 32} -> (none)" in result.output


def test_dry_run_shows_each_change_and_changes_nothing(fake_twilio: FakeTwilio, tmp_path: Path):
    fake_twilio.add_number(NUMBER, voice_url="https://old.example.org/calls")
    before = dict(fake_twilio.number(NUMBER))
    result = run(fake_twilio, tmp_path, "connect", "--number", NUMBER, "--dry-run")
    assert result.exit_code == 0, result.output
    assert fake_twilio.changes == []
    assert fake_twilio.number(NUMBER) == before
    assert "VoiceUrl              https://old.example.org/calls -> https://ivr.example.org/voice" in result.output
    assert "VoiceFallbackUrl      (none) -> https://ivr.example.org/voice/fallback" in result.output
    assert "VoiceMethod           POST (unchanged)" in result.output
    assert "Dry run: nothing changed." in result.output


def test_status_before_and_after_connect(fake_twilio: FakeTwilio, tmp_path: Path):
    fake_twilio.add_number(NUMBER)
    before = run(fake_twilio, tmp_path, "status", "--number", NUMBER)
    assert before.exit_code == 1, before.output
    assert f"VoiceUrl              {DEMO_VOICE_URL}" in before.output
    assert f"differs: connect sets {PUBLIC}/voice" in before.output
    assert f"(3 field(s) differ): run `ivr twilio connect --number {NUMBER}`" in before.output
    assert fake_twilio.changes == []  # status only reads

    assert run(fake_twilio, tmp_path, "connect", "--number", NUMBER).exit_code == 0
    after = run(fake_twilio, tmp_path, "status", "--number", NUMBER)
    assert after.exit_code == 0, after.output
    assert "differs" not in after.output
    assert f"Matches IVR_PUBLIC_URL {PUBLIC}: calls to {NUMBER} come to this line." in after.output

    # Someone changes the number in the console: status notices.
    fake_twilio.number(NUMBER)["voice_url"] = "https://elsewhere.example.org/voice"
    changed = run(fake_twilio, tmp_path, "status", "--number", NUMBER)
    assert changed.exit_code == 1
    assert "(1 field(s) differ)" in changed.output


def test_a_second_connect_changes_nothing(fake_twilio: FakeTwilio, tmp_path: Path):
    fake_twilio.add_number(NUMBER)
    assert run(fake_twilio, tmp_path, "connect", "--number", NUMBER).exit_code == 0
    asked = len(fake_twilio.requests)
    again = run(fake_twilio, tmp_path, "connect", "--number", NUMBER)
    assert again.exit_code == 0, again.output
    assert len(fake_twilio.changes) == 1  # the first connect's only
    assert all("IncomingPhoneNumbers.json" in path for path, _ in fake_twilio.requests[asked:])  # reads only
    assert f"Already connected: calls to {NUMBER} come to {PUBLIC}/voice. Nothing changed." in again.output


def test_a_number_on_a_sip_trunk_is_refused(fake_twilio: FakeTwilio, tmp_path: Path):
    fake_twilio.add_number(NUMBER, trunk_sid="TK" + "2" * 32)
    status = run(fake_twilio, tmp_path, "status", "--number", NUMBER)
    assert status.exit_code == 1
    assert "differs: Twilio ignores the voice URLs while the number is on a SIP trunk" in status.output
    assert "remove the number from its SIP trunk in the Twilio console, then run `ivr twilio connect" in status.output
    result = run(fake_twilio, tmp_path, "connect", "--number", NUMBER)
    assert result.exit_code == 1
    assert f"is on SIP trunk TK{'2' * 32}, so Twilio ignores its voice URLs" in result.output
    assert fake_twilio.changes == []


def test_wrong_credentials_are_refused_by_name(fake_twilio: FakeTwilio, tmp_path: Path):
    fake_twilio.add_number(NUMBER)
    result = run(fake_twilio, tmp_path, "connect", "--number", NUMBER, TWILIO_AUTH_TOKEN="not-the-token")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1, result.output  # one line, no traceback
    assert f"Error: Twilio refused the credentials for account {ACCOUNT_SID} (HTTP 401)" in result.output
    assert "TWILIO_AUTH_TOKEN" in result.output and "not-the-token" not in result.output
    assert fake_twilio.requests and not any(authorised for _, authorised in fake_twilio.requests)
    assert fake_twilio.changes == []


@pytest.mark.parametrize("on_account", [None, "+4416329600019"], ids=["none", "longer-number-matching-partially"])
def test_a_number_not_on_the_account_is_refused(fake_twilio: FakeTwilio, tmp_path: Path, on_account: str | None):
    """Twilio's PhoneNumber filter matches partial numbers: only the exact number counts."""
    if on_account:
        fake_twilio.add_number(on_account)
    for command in ("connect", "status"):
        result = run(fake_twilio, tmp_path, command, "--number", NUMBER)
        assert result.exit_code == 1
        assert f"Error: The number {NUMBER} is not on Twilio account {ACCOUNT_SID}." in result.output
        assert "Active numbers" in result.output
    assert fake_twilio.changes == []


@pytest.mark.parametrize(("public_url", "expected"), [
    ("http://ivr.example.org", "Expected an https:// address in IVR_PUBLIC_URL, got 'http://ivr.example.org'."),
    ("https://ivr.example.org/line", "Expected no path after the host in IVR_PUBLIC_URL, got 'https://ivr.example.org/line'."),
    ("", "IVR_PUBLIC_URL is not set"),
])
def test_a_public_url_twilio_cannot_sign_is_refused_before_asking_twilio(
        fake_twilio: FakeTwilio, tmp_path: Path, public_url: str, expected: str):
    fake_twilio.add_number(NUMBER)
    for command in ("connect", "status"):
        result = run(fake_twilio, tmp_path, command, "--number", NUMBER, IVR_PUBLIC_URL=public_url)
        assert result.exit_code == 1
        assert result.output.startswith(f"Error: {expected}"), result.output
        assert "Hint: " in result.output
    assert fake_twilio.requests == []


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"TWILIO_ACCOUNT_SID": None}, "TWILIO_ACCOUNT_SID is not set"),
    ({"TWILIO_ACCOUNT_SID": "ACnot-a-sid"}, "in TWILIO_ACCOUNT_SID, got 'ACnot-a-sid'."),
    ({"TWILIO_AUTH_TOKEN": None}, "TWILIO_AUTH_TOKEN is not set"),
])
def test_missing_credentials_are_refused_before_asking_twilio(fake_twilio: FakeTwilio, tmp_path: Path, overrides, expected):
    result = run(fake_twilio, tmp_path, "connect", "--number", NUMBER, **overrides)
    assert result.exit_code == 1
    assert expected in result.output
    assert fake_twilio.requests == []


@pytest.mark.parametrize(("number", "hint"), [
    ("01632 960001", "Write it as +441632960001"),
    ("+44 1632 960001", "Write it as +441632960001"),
    ("tomorrow", "+ then the country code and number"),
])
def test_a_number_not_in_e164_is_refused_with_its_e164_form(fake_twilio: FakeTwilio, tmp_path: Path, number, hint):
    result = run(fake_twilio, tmp_path, "connect", "--number", number)
    assert result.exit_code == 1
    assert f"Error: The number {number!r} is not in E.164 form" in result.output
    assert hint in result.output
    assert fake_twilio.requests == []


def test_twilio_unreachable_is_one_line(fake_twilio: FakeTwilio, tmp_path: Path):
    closed = f"http://127.0.0.1:{free_port()}"
    result = run(fake_twilio, tmp_path, "connect", "--number", NUMBER, TWILIO_API_BASE_URL=closed)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: Could not reach Twilio's API at {closed}:"), result.output


def test_check_refuses_a_public_url_that_does_not_answer(fake_twilio: FakeTwilio, tmp_path: Path):
    fake_twilio.add_number(NUMBER)
    # .invalid never resolves (RFC 2606): the check fails before Twilio is asked.
    result = run(fake_twilio, tmp_path, "connect", "--number", NUMBER, "--check", IVR_PUBLIC_URL="https://ivr.invalid")
    assert result.exit_code == 1
    assert result.output.startswith("Error: Could not reach https://ivr.invalid/healthz (IVR_PUBLIC_URL)"), result.output
    assert fake_twilio.requests == []


@pytest.mark.parametrize(("value", "expected"), [
    ("http://ivr.example.org", "an https:// address"),
    ("https://ivr.example.org/ivr", "no path after the host"),
    ("https://ivr.example.org/?x=1", "no query or fragment"),
    ("https://ivr.example.org#top", "no query or fragment"),
    ("https://ivr.example.org?", "no query or fragment"),
    ("https://ivr.example.org:443", "no default port :443"),
    ("https://IVR.Example.org", "the host in lower case"),
    ("https://ivr.example.org.", "the host in lower case with no final dot"),
    ("https://ivr.example.org:99999", "a port number from 1 to 65535"),
    ("https://ivr.example.org:", "a port number from 1 to 65535"),
    ("https://ivr example.org", "a host name like ivr.example.org"),
    ("https://ivr_line.example.org", "a host name like ivr.example.org"),
    ("https://ivr", "a host name like ivr.example.org"),
    ("https://localhost", "an address Twilio can reach from the internet"),
    ("https://phone.localhost", "an address Twilio can reach from the internet"),
    ("https://127.0.0.1", "an address Twilio can reach from the internet"),
    ("https://192.168.1.20:8443", "an address Twilio can reach from the internet"),
])
def test_public_url_forms_twilio_would_not_sign_as_the_line_checks(value: str, expected: str):
    with pytest.raises(ConfigError) as raised:
        check_public_url(value)
    message = str(raised.value)
    assert f"Expected {expected}" in message and f"in IVR_PUBLIC_URL, got {value!r}." in message
    assert "Hint: " in message


@pytest.mark.parametrize(("value", "hint"), [
    ("https://IVR.Example.org", "set IVR_PUBLIC_URL=https://ivr.example.org"),
    ("https://ivr.example.org:443", "set IVR_PUBLIC_URL=https://ivr.example.org"),
    ("https://ivr.example.org?x=1", "set IVR_PUBLIC_URL=https://ivr.example.org"),
    ("https://ivr.example.org/line", "set IVR_PUBLIC_URL=https://ivr.example.org"),
])
def test_the_hint_gives_the_plain_form(value: str, hint: str):
    with pytest.raises(ConfigError, match=hint):
        check_public_url(value)


def test_user_info_is_refused_without_showing_the_password():
    with pytest.raises(ConfigError) as raised:
        check_public_url("https://twilio:s3cret@ivr.example.org")
    message = str(raised.value)
    assert "no user name or password" in message and "s3cret" not in message
    assert "set IVR_PUBLIC_URL=https://ivr.example.org" in message


@pytest.mark.parametrize(("setting", "expected"), [
    ("https://ivr.example.org", "https://ivr.example.org"),
    ("https://ivr.example.org/", "https://ivr.example.org"),  # load_settings drops the slash everywhere alike
    ("https://ivr-line.nhs-trust.example.co.uk:8443", "https://ivr-line.nhs-trust.example.co.uk:8443"),
    ("https://203.0.113.7", None),  # documentation range: not global, refused
])
def test_plain_public_urls_are_accepted(tmp_path: Path, setting: str, expected: str | None):
    public = load_settings({"IVR_PUBLIC_URL": setting, "IVR_INSTANCE_DIR": str(tmp_path)}).public_url
    if expected is None:
        with pytest.raises(ConfigError):
            check_public_url(public)
    else:
        assert check_public_url(public) == expected


def test_two_commands_against_the_fake_api_as_an_operator_runs_them(fake_twilio: FakeTwilio, tmp_path: Path):
    """The installed ``ivr`` script, in its own process: connect, then status says it matches."""
    fake_twilio.add_number(NUMBER, friendly_name="Patient line")
    env = {key: value for key, value in _env(fake_twilio, tmp_path).items() if value is not None}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "IVR_"))}
    ivr = str(Path(sys.executable).parent / "ivr")

    def ivr_twilio(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([ivr, "twilio", *args, "--number", NUMBER], cwd=PROJECT, env={**base, **env},
                              capture_output=True, text=True, timeout=60)

    connect = ivr_twilio("connect")
    assert connect.returncode == 0, connect.stderr
    status = ivr_twilio("status")
    assert status.returncode == 0, status.stdout + status.stderr
    assert f'{NUMBER} "Patient line" (' in status.stdout
    assert "Matches IVR_PUBLIC_URL" in status.stdout
    assert _voice_settings(fake_twilio.number(NUMBER)) == WANTED
