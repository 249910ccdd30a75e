"""Logging where one record is one line: values from requests cannot forge a record.

A request can carry control characters in anything the line logs (a signed ``CallSid`` with a
CR/LF, a user name, a path). Every record's message is made with those escaped (``\\n`` becomes
the two characters ``\\n``), whichever handler writes it: the record class itself does it, so
gunicorn's, Flask's and the tests' handlers all get the escaped form. A traceback keeps its
lines, each indented, so that nothing in it can pass for the start of a record.

:data:`log_prefix` marks the records of one context (the practice line's "practice line: ").
"""

from __future__ import annotations

import logging
import re
import traceback
from contextvars import ContextVar

__all__ = ["FORMAT", "SafeLogRecord", "configure_logging", "escape_controls", "log_prefix"]

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Put before every message logged in this context (the practice line marks its records with it).
log_prefix: ContextVar[str] = ContextVar("ivr_log_prefix", default="")


def _escape(found: re.Match[str]) -> str:
    character = found.group()
    code = ord(character)
    return _NAMED.get(character) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape_controls(text: str) -> str:
    """``text`` with control characters (C0, DEL, C1, Unicode line separators) written as escapes."""
    return _CONTROLS.sub(_escape, text)


class SafeLogRecord(logging.LogRecord):
    """A log record whose message has its control characters escaped, and whose traceback (if
    any) has every line indented and its control characters other than line breaks escaped."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.prefix = log_prefix.get()
        if self.exc_info and self.exc_info[0] is not None:
            text = "".join(traceback.format_exception(*self.exc_info)).rstrip("\n")
            self.exc_text = "\n".join("    " + escape_controls(line) for line in text.split("\n"))

    def getMessage(self) -> str:
        return self.prefix + escape_controls(super().getMessage())


def configure_logging(level: str) -> None:
    """Log at ``level`` to standard error (unless the root logger already has a handler), with
    :class:`SafeLogRecord` for every record of the process."""
    logging.setLogRecordFactory(SafeLogRecord)
    logging.basicConfig(level=level, format=FORMAT)
    # Twilio's REST client logs every request it makes at INFO, URL and headers, a dozen lines a
    # text message; a query can hold a phone number (IncomingPhoneNumbers?PhoneNumber=...). Its
    # warnings and errors still come through; the line logs each outcome itself, masked.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
