"""The practice line: the browser phone's calls run here, never on the line nurses work from.

:func:`practice_app` is a second Flask app of the same process, made on first use by the app
factory with ``PRACTICE_LINE`` set. It shares the loaded runtime (settings, leaflets, prompts,
audio manifest: nothing is loaded twice) and has the same voice and nurse webhooks and audio
files (the simulator fetches what it plays), but a store of its own: an SQLite database in this
process's memory (never a file, never the real database), whose messages and call-backs are
dropped after :data:`PRACTICE_KEEP` and with the process. It has no call log, no metrics and
no staff pages. So a practice call cannot reach the nurses' queue, the call log or
``/metrics``, and the webhooks need not know they are practising: they find this store with
``current_store()`` as usual. Its log lines start "practice line: ".
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
import uuid

from flask import Flask, current_app, g, request
from sqlalchemy import delete

from ivr.errors import StoreError
from ivr.logs import log_prefix
from ivr.store import Store
from ivr.store.models import CallbackRequest, Message, utcnow

__all__ = ["PRACTICE_KEEP", "init_app", "practice_app"]

log = logging.getLogger(__name__)
PRACTICE_KEEP = dt.timedelta(hours=1)
_lock = threading.Lock()


def _memory_store() -> tuple[Store, sqlite3.Connection]:
    """A migrated store in an SQLite database held in memory, and the connection that keeps that
    database alive (an in-memory database ends with its last connection)."""
    name = f"file:ivr-practice-{uuid.uuid4().hex}?mode=memory&cache=shared"
    keeper = sqlite3.connect(name, uri=True, check_same_thread=False)
    store = Store(f"sqlite:///{name}&uri=true")
    store.migrate()
    return store, keeper


def init_app(app: Flask) -> None:
    """Give ``app`` (the practice line) its own store, and tidy it as each practice call starts."""
    store, keeper = _memory_store()
    app.extensions["ivr.store"] = store
    app.extensions["ivr.practice.keeper"] = keeper

    @app.before_request
    def _practice() -> None:
        g.ivr_log_prefix = log_prefix.set("practice line: ")
        if request.endpoint == "voice.answer":
            since = utcnow() - PRACTICE_KEEP
            try:
                with store.transaction() as session:
                    session.execute(delete(Message).where(Message.created_at < since))
                    session.execute(delete(CallbackRequest).where(CallbackRequest.created_at < since))
            except StoreError as exc:  # old practice rows stay a little longer; the call goes on
                log.error("could not drop old practice messages: %s", exc)

    @app.teardown_request
    def _done(_exc: BaseException | None) -> None:
        token = g.pop("ivr_log_prefix", None)
        if token is not None:
            log_prefix.reset(token)


def practice_app() -> Flask:
    """The practice line of the current app, made when first asked for (then kept)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    with _lock:
        practice = app.extensions.get("ivr.practice")
        if practice is None:
            from ivr import create_app

            practice = create_app({"PRACTICE_LINE": True, "SECRET_KEY": app.secret_key},
                                  runtime=app.extensions["ivr.runtime"])
            app.extensions["ivr.practice"] = practice
    return practice
