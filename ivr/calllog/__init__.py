"""The call log: what each call did (sections heard, keys, transfers, messages), for the staff pages.

Built best effort from the webhooks (``ivr.web.calllog`` hooks them): :mod:`facts` reads one
webhook's request and TwiML answer, :mod:`writer` hands it to a background thread that
writes batches with :mod:`record`, :mod:`stats` sums it up.
"""

from __future__ import annotations

from ivr.calllog.facts import Facts, webhook_facts
from ivr.calllog.record import caller_hash, record_batch
from ivr.calllog.writer import CallLogWriter

__all__ = ["CallLogWriter", "Facts", "caller_hash", "record_batch", "webhook_facts"]
