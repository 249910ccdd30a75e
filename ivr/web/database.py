"""The database (messages, call-backs, call log, staff users) as a feature of the app.

One :class:`ivr.store.Store` per app, built at start-up and migrated then; a database that is down
at start-up is logged, not fatal (the store retries when first used: leaflets keep being read).
"""

from __future__ import annotations

import logging

from flask import Flask, current_app

from ivr.store import Store

__all__ = ["current_store", "init_app"]

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Open and migrate the database of IVR_DATABASE_URL. ConfigError for a malformed URL."""
    store = Store(app.extensions["ivr.runtime"].settings.database_url)
    try:
        store.migrate()
    except Exception as exc:  # any failure here must not stop the leaflets being read
        log.error("database unavailable at start-up (will retry on first use): %s", exc)
    app.extensions["ivr.store"] = store


def current_store() -> Store:
    return current_app.extensions["ivr.store"]
