"""The line's Twilio account through Twilio's REST client, aimed at TWILIO_API_BASE_URL.

Twilio's client always builds ``https://api.twilio.com/...`` addresses; the documented way to
send its requests elsewhere (a Twilio region, or a test's fake API) is its own ``HttpClient``
(twilio-python's "custom HTTP client"), so :class:`_ApiAt` moves each request to the configured
base, and is also where HTTP failures become the line's errors, whatever call made them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from ivr.config import Settings
from ivr.errors import ConfigError, TwilioNumberError
from ivr.number.webhooks import FIELDS

__all__ = ["API_TIMEOUT", "NumberOnAccount", "TwilioAccount"]

API_TIMEOUT = 15.0  # seconds per request to Twilio's API
_TWILIO_API = "https://api.twilio.com"  # where twilio.rest addresses the 2010 API
_SID_RE = re.compile(r"AC[0-9a-f]{32}")


@dataclass(frozen=True)
class NumberOnAccount:
    sid: str  # PN...
    phone_number: str  # E.164
    friendly_name: str
    settings: dict[str, str]  # each of webhooks.FIELDS, "" when none


class _ApiAt(TwilioHttpClient):
    """Twilio's HTTP client, sending what it addresses to https://api.twilio.com to ``base_url``
    instead. Raises :class:`ConfigError` when Twilio refuses the credentials (401),
    :class:`TwilioNumberError` when it cannot be reached or answers any other error."""

    def __init__(self, base_url: str, account_sid: str) -> None:
        super().__init__(timeout=API_TIMEOUT)
        self.base_url = base_url
        self.account_sid = account_sid

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url == _TWILIO_API or url.startswith(_TWILIO_API + "/"):
            url = self.base_url + url[len(_TWILIO_API):]
        try:
            response = super().request(method, url, *args, **kwargs)
        except requests.RequestException as exc:
            raise TwilioNumberError(f"Could not reach Twilio's API at {self.base_url}: {exc}.",
                                    hint="Check the network (and TWILIO_API_BASE_URL, if set), then try again.") from exc
        status = response.status_code
        if status == 401:
            raise ConfigError(
                f"Twilio refused the credentials for account {self.account_sid} (HTTP 401): check "
                f"TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.",
                hint="Copy both from the Twilio console (Account Info); a subaccount's token works only with its own SID.")
        if status >= 400:
            error = TwilioNumberError(f"Twilio answered {method} {url} with HTTP {status}: {_message(response)}",
                                      hint="Twilio's status page (status.twilio.com) says whether it is Twilio; try again later.")
            error.twilio_code = _code(response) or f"http-{status}"
            error.twilio_message = _message(response)
            raise error
        return response


def _message(response: Response) -> str:
    """Twilio's own error message from an error answer (JSON ``message``), or its first 200 characters."""
    try:
        body = json.loads(response.text)
        return f"{body['message']} (Twilio error {body.get('code', '?')})"
    except (ValueError, TypeError, KeyError):
        return response.text[:200] or "(no message)"


def _code(response: Response) -> str | None:
    """Twilio's error code (JSON ``code``, e.g. 21610), or None when the answer has none."""
    try:
        code = json.loads(response.text).get("code")
    except (ValueError, TypeError, AttributeError):
        return None
    return str(code)[:16] if code is not None else None


def _settings_of(instance: Any) -> dict[str, str]:
    return {name: getattr(instance, keyword) or "" for name, keyword in FIELDS.items()}


class TwilioAccount:
    """The account named by TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN, at TWILIO_API_BASE_URL.

    Raises :class:`ConfigError` at once when either is unset or the SID is malformed (nothing is
    sent); every method raises as :class:`_ApiAt` does.
    """

    def __init__(self, settings: Settings) -> None:
        sid = settings.account_sid
        if not sid:
            raise ConfigError("TWILIO_ACCOUNT_SID is not set: the account that owns the number is needed.",
                              hint="Copy the Account SID (AC followed by 32 characters) from the Twilio console.")
        if not _SID_RE.fullmatch(sid):
            raise ConfigError(f"Expected AC followed by 32 lower-case hexadecimal digits in TWILIO_ACCOUNT_SID, got {sid!r}.",
                              hint="Copy the Account SID from the Twilio console (Account Info).")
        if settings.auth_token_is_local:
            raise ConfigError("TWILIO_AUTH_TOKEN is not set: the account's auth token is needed to change its number.",
                              hint="Copy the Auth Token from the Twilio console (Account Info); the line checks webhooks with it too.")
        # The client reads TWILIO_EDGE / TWILIO_REGION from the environment it is given (os.environ
        # when that is empty), and would move the host again: TWILIO_API_BASE_URL alone says where.
        self._client = Client(sid, settings.auth_token, http_client=_ApiAt(settings.twilio_api_base_url, sid),
                              environment={"TWILIO_ACCOUNT_SID": sid})
        self.account_sid = sid

    def find(self, number: str) -> NumberOnAccount:
        """The number (E.164) among the account's IncomingPhoneNumbers.

        Raises :class:`TwilioNumberError` when it is not on the account."""
        numbers = self._client.api.v2010.account.incoming_phone_numbers
        # Twilio's PhoneNumber filter also matches partial numbers: keep only the exact one.
        found = [n for n in numbers.list(phone_number=number) if n.phone_number == number]
        if not found:
            raise TwilioNumberError(
                f"The number {number} is not on Twilio account {self.account_sid}.",
                hint="Check the number against the console's Phone Numbers > Active numbers, and that "
                     "TWILIO_ACCOUNT_SID is the account (or subaccount) that owns it.")
        return NumberOnAccount(found[0].sid, number, found[0].friendly_name or "", _settings_of(found[0]))

    def update(self, number: NumberOnAccount, changes: Mapping[str, str]) -> NumberOnAccount:
        """Set ``changes`` (Twilio field name -> value, "" for none) on ``number``; the number as
        Twilio then reports it. Raises :class:`TwilioNumberError` if Twilio did not take them all."""
        context = self._client.api.v2010.account.incoming_phone_numbers(number.sid)
        updated = context.update(**{FIELDS[name]: value for name, value in changes.items()})
        settings = _settings_of(updated)
        missed = [name for name, value in changes.items() if settings[name] != value]
        if missed:
            raise TwilioNumberError(f"Twilio did not take {', '.join(missed)} for {number.phone_number}.",
                                    hint="Run `ivr twilio status` to see how it is set now, then try again.")
        return NumberOnAccount(number.sid, number.phone_number, updated.friendly_name or "", settings)

    def send_text(self, to: str, body: str, *, sender: str) -> str:
        """Send ``body`` by text message to ``to`` (E.164) from ``sender`` (IVR_SMS_FROM: a number,
        or a Messaging Service SID MG...); the message's SID (SM...) once Twilio has taken it.
        Raises :class:`TwilioNumberError` (with ``twilio_code``) when Twilio refuses it or cannot
        be reached, :class:`ConfigError` for refused credentials."""
        messages = self._client.api.v2010.account.messages
        if sender.startswith("MG"):
            message = messages.create(to=to, body=body, messaging_service_sid=sender)
        else:
            message = messages.create(to=to, body=body, from_=sender)
        return str(message.sid)
