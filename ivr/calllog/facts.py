"""What one webhook tells about its call, read from the request and the TwiML sent back. Pure.

The phone tree's answer names where the caller now is: a <Gather>'s action URL carries the
position whose speech it wraps (``/voice/key?k=read&l=..&s=..&p=..``), a <Redirect> to
``/nurse`` means a transfer is asked for, a <Hangup> the goodbye. Reading the answer (rather
than the request) catches every way of arriving at a part: a key, the next part, a redirect.

A key pressed while keying in a call-back number is never recorded: those digits are a number.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

__all__ = ["LOGGED_ENDPOINTS", "Facts", "Key", "Read", "webhook_facts"]

# The webhooks of the caller's own leg. The whisper is the nurse's leg (another CallSid), and the
# recording status callback may come after the call has ended: neither moves the call on.
LOGGED_ENDPOINTS = frozenset({
    "voice.answer", "voice.menu", "voice.read", "voice.at", "voice.key",
    "nurse.start", "nurse.after_dial", "nurse.menu", "nurse.choice", "nurse.message_saved",
    "nurse.callback", "nurse.callback_number",
})


@dataclass(frozen=True)
class Read:
    """A leaflet part the caller was sent to hear."""

    leaflet: str
    section: int
    part: int
    rate: str


@dataclass(frozen=True)
class Key:
    menu: str  # the position kind (leaflets, sections, read, ...) or "nurse-<menu>"
    digits: str


@dataclass(frozen=True)
class Facts:
    call_sid: str
    caller: str  # the full number: hashed before it is stored, never logged
    at: dt.datetime
    endpoint: str
    stage: str  # where the caller is now
    leaflet: str | None = None
    section: int | None = None
    part: int | None = None
    started: bool = False
    key: Key | None = None
    read: Read | None = None
    nurse_requested: bool = False
    nurse_closed: bool = False
    transfer_status: str | None = None
    message_left: bool = False
    callback_left: bool = False


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isascii() and text.isdigit() and len(text) < 6 else None  # not "²"


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


@dataclass(frozen=True)
class _Answer:
    gather_path: str = ""  # the first <Gather>'s action path, "" without one
    gather: dict[str, str] | None = None  # and its query
    redirect: str = ""
    hangs_up: bool = False
    records: bool = False


def _answer(body: bytes) -> _Answer:
    """The parts of a TwiML answer that say where the call went; empty for a body that is not XML."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return _Answer()
    gather = root.find("Gather")
    redirect = root.find("Redirect")
    action = gather.get("action", "") if gather is not None else ""
    return _Answer(
        gather_path=urlsplit(action).path, gather=_query(action) if gather is not None else None,
        redirect=(redirect.text or "").strip() if redirect is not None else "",
        hangs_up=root.find("Hangup") is not None, records=root.find("Record") is not None,
    )


def webhook_facts(
    endpoint: str, args: Mapping[str, str], form: Mapping[str, str], body: bytes, at: dt.datetime,
) -> Facts | None:
    """The facts of one answered webhook, or None for one that is not logged (not a caller's leg,
    no CallSid). Never raises: odd input gives fewer facts."""
    call_sid = form.get("CallSid", "")[:64]
    if endpoint not in LOGGED_ENDPOINTS or not call_sid:
        return None
    answer = _answer(body)
    base = {"call_sid": call_sid, "caller": form.get("From", ""), "at": at, "endpoint": endpoint}
    if endpoint.startswith("voice."):
        return _voice(endpoint, args, form, answer, base)
    return _nurse(endpoint, args, form, answer, base)


def _voice(
    endpoint: str, args: Mapping[str, str], form: Mapping[str, str], answer: _Answer, base: dict[str, object],
) -> Facts:
    key = None
    digits = form.get("Digits", "")
    if endpoint == "voice.key" and digits:
        key = Key(args.get("k", "read")[:16], digits[:8])
    action = answer.gather
    if action is not None:
        kind = action.get("k", "leaflets")
        slug = action.get("l") or None
        section, part = _int(action.get("s")), _int(action.get("p"))
        read = None
        if kind == "read" and slug and section is not None and part is not None:
            read = Read(slug, section, part, "slow" if action.get("r") == "slow" else "normal")
        return Facts(**base, stage=kind[:24], leaflet=slug, section=section, part=part,  # type: ignore[arg-type]
                     started=endpoint == "voice.answer", key=key, read=read)
    stage = "to-nurse" if "/nurse" in answer.redirect else "goodbye" if answer.hangs_up else "unknown"
    return Facts(**base, stage=stage, started=endpoint == "voice.answer", key=key)  # type: ignore[arg-type]


def _nurse(
    endpoint: str, args: Mapping[str, str], form: Mapping[str, str], answer: _Answer, base: dict[str, object],
) -> Facts:
    action = answer.gather or {}
    menu = action.get("m", "")
    facts: dict[str, object] = {
        "leaflet": args.get("l") or None, "section": _int(args.get("s")), "part": _int(args.get("p")),
    }
    if endpoint == "nurse.start":
        facts["nurse_requested"] = True
        facts["nurse_closed"] = action.get("w") == "closed"
    if endpoint == "nurse.after_dial":
        status = form.get("DialCallStatus", "")[:20] or "unknown"
        bridged = form.get("DialBridged", "").lower() != "false"
        facts["transfer_status"] = "answered" if status == "completed" and bridged else (
            "not-bridged" if status == "completed" else status)
    if endpoint == "nurse.choice" and form.get("Digits"):
        facts["key"] = Key(f"nurse-{args.get('m', 'options')}"[:24], form.get("Digits", "")[:8])
    if menu == "saved":
        facts["message_left"] = endpoint == "nurse.message_saved" or (
            endpoint == "nurse.choice" and args.get("m") == "message_failed")
        facts["callback_left"] = endpoint == "nurse.callback_number"
    if answer.hangs_up:
        stage = "goodbye"
    elif answer.records:
        stage = "nurse-message"
    elif answer.gather_path.endswith("/callback/number"):
        stage = "nurse-callback"
    elif answer.gather is None:
        stage = "nurse-ringing" if endpoint == "nurse.start" else "nurse"
    else:
        stage = f"nurse-{menu or 'options'}"
    return Facts(**base, stage=stage[:24], **facts)  # type: ignore[arg-type]
