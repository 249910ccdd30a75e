"""The call log: what each call did (sections heard, keys, transfers, messages), for the staff pages.

Built best effort from the webhooks (``ivr.web.calllog`` hooks them): :mod:`facts` reads one
webhook's request and TwiML answer, :mod:`record` writes it, :mod:`stats` sums it up.
"""

from __future__ import annotations

from ivr.calllog.facts import Facts, webhook_facts
from ivr.calllog.record import caller_hash, record_facts

__all__ = ["Facts", "caller_hash", "record_facts", "webhook_facts"]
