"""Durable storage of voicemail messages and call-back requests (SQLAlchemy 2 + Alembic).

``Store(url)`` is the one entry point; see :mod:`ivr.store.store` for the guarantees.
"""

from __future__ import annotations

from ivr.errors import StoreError
from ivr.store.models import CallbackRequest, Message
from ivr.store.store import Store

__all__ = ["CallbackRequest", "Message", "Store", "StoreError"]
