"""Text messages from the call: the sender thread of this process, when the settings allow texts.

Without IVR_SMS_FROM, the account's credentials and IVR_PUBLIC_URL, nothing is registered and
the call engine never offers a text (:func:`texts_for` is None). The practice line never loads
this feature, so its calls never text.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import Flask, current_app

from ivr.config import Settings
from ivr.texts import TextLimits, TextSender
from ivr.web.copy import Copy, load_copy

__all__ = ["Texts", "init_app", "texts_for"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Texts:
    sender: TextSender
    limits: TextLimits
    copy: Copy
    settings: Settings


def texts_for() -> Texts | None:
    """This app's text messages, or None when it does not send any."""
    return current_app.extensions.get("ivr.texts")


def init_app(app: Flask) -> None:
    """Start sending texts when the settings allow. ConfigError for a malformed TWILIO_ACCOUNT_SID;
    PromptError when the message's wording is missing."""
    from ivr.number.account import TwilioAccount

    settings: Settings = app.extensions["ivr.runtime"].settings
    if not settings.can_send_texts:
        if settings.sms_from:
            log.warning("IVR_SMS_FROM is set but text messages need TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and "
                        "IVR_PUBLIC_URL too: callers are not offered a text")
        return
    account = TwilioAccount(settings)

    def send(to: str, body: str) -> str:
        return account.send_text(to, body, sender=settings.sms_from)

    sender = TextSender(app.extensions["ivr.store"], send)
    limits = TextLimits(settings.texts_per_number_per_day, settings.texts_per_hour)
    app.extensions["ivr.texts"] = Texts(sender, limits, load_copy(settings.locale), settings)

    @app.before_request
    def _start_sender() -> None:  # this worker sends what any worker queued, even one that stopped
        sender.start()
