"""Exceptions raised by the line's core; only ``ivr.cli`` turns them into click errors.

::

    IvrError                      anything the line itself reports
    ├── ConfigError               a setting in the environment is missing or malformed
    ├── ContentError              a content file (leaflet, prompts, lexicon, rules) is wrong
    │   ├── LeafletFormatError    a leaflet's front matter or body breaks the format
    │   ├── SourceNotUnderstood   ``ivr import`` cannot read a source (empty, binary, no sections)
    │   └── PromptError           a prompt id is missing or its placeholders do not match
    ├── ApprovalError             an approval cannot be recorded (no real name or role, content
    │                             with errors) or the content is not approved for service
    ├── RenderError               speech synthesis failed for one or more parts
    ├── StoreError                the message / call-back database could not be reached or written
    └── TwilioNumberError         ``ivr twilio``: the number is malformed or not on the account, or
                                  Twilio's API could not be reached or would not make the change

Every error carries a human message and, where it helps, the file, line and a hint, so that
operators see "leaflets/x.md:12: ... Hint: ..." rather than a traceback.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ApprovalError",
    "ConfigError",
    "ContentError",
    "IvrError",
    "LeafletFormatError",
    "PromptError",
    "RenderError",
    "SourceNotUnderstood",
    "StoreError",
    "TwilioNumberError",
]


class IvrError(Exception):
    """Base of every error the line reports; ``str()`` gives the operator-facing message."""

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        hint = f" Hint: {self.hint}" if self.hint else ""
        return f"{where}{self.message}{hint}"


class ConfigError(IvrError):
    """A setting (environment variable) is missing or malformed; raised at start-up."""


class ContentError(IvrError):
    """A reviewed content file cannot be used as it stands."""


class LeafletFormatError(ContentError):
    """A leaflet file breaks the leaflet format (front matter, sections, markup)."""


class SourceNotUnderstood(ContentError):
    """``ivr import`` was given input it cannot turn into a leaflet."""


class PromptError(ContentError):
    """A prompt id is not in the prompts files, or its placeholders do not match."""


class ApprovalError(IvrError):
    """``ivr approve`` cannot record a sign-off: the name or role is not a real one, the content
    has errors or unresolved spelling suggestions, or there is nothing to approve."""


class RenderError(IvrError):
    """Speech synthesis failed for one or more parts, named in the message."""


class StoreError(IvrError):
    """The database for messages and call-backs could not be reached or written."""


class TwilioNumberError(IvrError):
    """``ivr twilio connect`` / ``status`` cannot read or set the line's Twilio number: the number
    given is not in E.164 form or not on the account, or Twilio's API is unreachable or fails
    (also when it refuses a text message). (Wrong or missing credentials are a
    :class:`ConfigError`: the fix is a setting.) ``twilio_code`` is Twilio's own error code when
    it answered with one (21610: the recipient has opted out ...)."""

    twilio_code: str | None = None
    twilio_message: str | None = None  # what Twilio said, with its code ("... (Twilio error 21610)")
