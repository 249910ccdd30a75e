"""The nurse line's rules, pure: opening hours (:mod:`hours`), telephone numbers (:mod:`numbers`)
and the phrases that say when the nurses open (:mod:`phrases`). The nurse line itself is part of
the call engine (:mod:`ivr.dialogue.nurse`).

``check_settings`` reports the nurse-line settings' problems for ``ivr check``.
"""

from __future__ import annotations

from ivr.config import Settings
from ivr.errors import ConfigError
from ivr.findings import Finding
from ivr.nurse.hours import load_opening_hours, parse_closed_dates, parse_hours
from ivr.nurse.numbers import check_e164, uk_callback_number

__all__ = ["check_settings"]


def check_settings(settings: Settings) -> list[Finding]:
    """Nurse-line settings problems: the nurse number and caller ID, hours, closed dates,
    holiday region, the call-back number, text messages, IVR_CLOCK. Errors stop the line starting; warnings do not."""
    findings: list[Finding] = []
    problem = check_e164(settings.nurse_number)
    if problem:
        findings.append(Finding("error", f"IVR_NURSE_NUMBER {problem}: expected E.164 like '+441632960001', "
                                         f"got '{settings.nurse_number}'."))
    elif uk_callback_number(settings.nurse_number) is None:
        findings.append(Finding("warning", f"IVR_NURSE_NUMBER '{settings.nurse_number}' is not a UK number in "
                                           "service (a drama or test range?): transfers will fail."))
    if settings.nurse_caller_id and (problem := check_e164(settings.nurse_caller_id)):
        findings.append(Finding("error", f"IVR_NURSE_CALLER_ID {problem}: expected E.164 like '+441632960000', "
                                         f"got '{settings.nurse_caller_id}'."))
    for check in (
        lambda: parse_hours(settings.nurse_hours),
        lambda: parse_closed_dates(settings.closed_dates),
        lambda: load_opening_hours("never", settings.holidays_region, ""),
    ):
        try:
            check()
        except ConfigError as exc:
            findings.append(Finding("error", str(exc)))
    if not settings.callback_from:
        findings.append(Finding("warning", "IVR_CALLBACK_FROM is not set: callers who leave a message or ask for a "
                                           "call-back are not told which number the nurses will ring from."))
    if settings.sms_from and not settings.can_send_texts:
        missing = [name for name, given in (("TWILIO_ACCOUNT_SID", settings.account_sid),
                                            ("TWILIO_AUTH_TOKEN", not settings.auth_token_is_local),
                                            ("IVR_PUBLIC_URL", settings.public_url)) if not given]
        findings.append(Finding("warning", f"IVR_SMS_FROM is set but {', '.join(missing)} not: callers are not "
                                           "offered a link to the leaflet by text message."))
    if settings.clock is not None:
        findings.append(Finding("warning", "IVR_CLOCK is set: the line ignores the real time (tests only)."))
    return findings
