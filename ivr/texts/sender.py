"""The sender: a background thread in each server process that sends the queued text messages.

The webhook only commits a row (:func:`ivr.texts.queue.queue_text`) and wakes this thread, so a
slow or failing Twilio never keeps a caller waiting. The thread claims one queued row at a time
(``queued`` -> ``sending``, an UPDATE only one process can win, so with several workers and
servers each message is sent once), sends it through Twilio's REST API, and records the outcome
on the row (the full number is then forgotten) and as a ``text`` event in the call log. Rows
queued by another process, or left queued by one that stopped, are picked up within
:data:`POLL_SECONDS`. A row left ``sending`` by a process killed mid-send is not sent again (it
may have gone): after :data:`STUCK_AFTER` it is marked failed ("interrupted"), so that staff see it.

As the call log's writer, the thread starts in the process that uses it first, so each gunicorn
worker forked after start-up gets its own.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update

from ivr.errors import IvrError, StoreError
from ivr.nurse.numbers import mask_number
from ivr.store import Store
from ivr.store.models import CallEvent, TextMessage, utcnow
from ivr.store.store import rows_changed

__all__ = ["POLL_SECONDS", "STUCK_AFTER", "SendText", "TextSender"]

log = logging.getLogger(__name__)
POLL_SECONDS = 5.0  # how soon a row another process queued (or one left over) is picked up
STUCK_AFTER = dt.timedelta(minutes=10)  # far beyond a send's time (the API timeout is 15 s)

SendText = Callable[[str, str], str]
"""Send (to, body): the message's SID, or IvrError (``twilio_code`` when Twilio gave one)."""


_NUMBER_RE = re.compile(r"\+?\d[\d ]{5,}\d")


def _masked(text: str) -> str:
    """``text`` (an error from Twilio, which may quote the number) with every number masked."""
    return _NUMBER_RE.sub(lambda found: mask_number(found.group()), text)


@dataclass(frozen=True)
class _Claimed:
    id: int
    call_sid: str
    leaflet: str
    number: str
    number_masked: str
    body: str


class TextSender:
    """Sends the queued text messages of ``store`` with ``send``, from a thread of its own."""

    def __init__(self, store: Store, send: SendText, *, poll: float = POLL_SECONDS) -> None:
        self.store, self._send, self._poll = store, send, poll
        self._pid = 0
        self._start_lock = threading.Lock()
        self._wake = threading.Event()

    def wake(self) -> None:
        """A row was queued: send it now (starting this process's thread if need be). Never blocks."""
        self.start()
        self._wake.set()

    def start(self) -> None:
        """Start this process's thread, once (cheap to call on every request)."""
        if self._pid == os.getpid():
            return
        with self._start_lock:
            if self._pid == os.getpid():
                return
            self._wake = threading.Event()
            threading.Thread(target=self._run, name="text-sender", daemon=True).start()
            self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            self._wake.wait(self._poll)
            self._wake.clear()
            try:
                self.give_up_stuck()
                while (claimed := self._claim()) is not None:
                    self._deliver(claimed)
            except StoreError as exc:
                log.warning("text messages: the database failed (%s); trying again in %g s", exc, self._poll)
            except Exception:  # never let the sender kill its own thread
                log.exception("text messages: unexpected fault")

    def give_up_stuck(self, now: dt.datetime | None = None) -> int:
        """Mark failed ("interrupted") the rows a process claimed and never finished (killed while
        sending): they may have been sent, so they are never sent again. How many there were."""
        now = now or utcnow()
        given_up = []
        with self.store.transaction() as session:
            stuck = list(session.scalars(select(TextMessage).where(
                TextMessage.status == "sending", TextMessage.claimed_at < now - STUCK_AFTER)))
            for row in stuck:  # another process may be doing the same: one of them marks each row
                changed = session.execute(update(TextMessage).where(
                    TextMessage.id == row.id, TextMessage.status == "sending").values(
                    status="failed", finished_at=now, number=None, error_code="interrupted",
                    error_message="The server stopped while sending it: it may not have been sent."))
                if rows_changed(changed) == 1:
                    given_up.append(row)
                    session.add(CallEvent(call_sid=row.call_sid, at=now, kind="text", leaflet=row.leaflet,
                                          detail="failed interrupted"))
        for row in given_up:
            log.error("text message %d to %s: the server stopped while sending it; not sent again", row.id,
                      row.number_masked)
        return len(given_up)

    def _claim(self) -> _Claimed | None:
        """The oldest queued row, now ours (``sending``); None when none is queued."""
        while True:
            with self.store.transaction() as session:
                row = session.scalars(select(TextMessage).where(TextMessage.status == "queued")
                                      .order_by(TextMessage.id).limit(1)).first()
                if row is None:
                    return None
                taken = session.execute(update(TextMessage).where(TextMessage.id == row.id, TextMessage.status == "queued")
                                        .values(status="sending", claimed_at=utcnow()))
                if rows_changed(taken) == 1:
                    return _Claimed(row.id, row.call_sid, row.leaflet, row.number or "", row.number_masked, row.body)
            # another process took it first: look again

    def _deliver(self, claimed: _Claimed) -> None:
        sid: str | None = None
        code: str | None = None
        error: str | None = None
        try:
            if not claimed.number:
                raise IvrError("no number to send to")
            sid = self._send(claimed.number, claimed.body)[:64]
        except IvrError as exc:
            code = getattr(exc, "twilio_code", None) or "not-sent"
            error = _masked(getattr(exc, "twilio_message", None) or exc.message)[:200]
        except Exception as exc:  # a fault of Twilio's client: recorded like a refusal
            code, error = "error", _masked(f"{type(exc).__name__}: {exc}")[:200]
        status = "sent" if code is None else "failed"
        now = utcnow()
        with self.store.transaction() as session:
            session.execute(update(TextMessage).where(TextMessage.id == claimed.id).values(
                status=status, finished_at=now, twilio_sid=sid, error_code=code, error_message=error, number=None))
            session.add(CallEvent(call_sid=claimed.call_sid, at=now, kind="text", leaflet=claimed.leaflet,
                                  detail=status if code is None else f"failed {code}"[:32]))
        if code is None:
            log.info("text message %d sent to %s (%s)", claimed.id, claimed.number_masked, sid)
        else:
            log.error("text message %d to %s failed (error code %s): %s", claimed.id, claimed.number_masked, code,
                      error)
