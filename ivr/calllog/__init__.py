"""The call log: what each call did (sections heard, keys, transfers, messages), for the staff pages.

Built best effort from the webhooks (``ivr.web.calllog`` hooks them): :mod:`facts` reads one
webhook's request and TwiML answer, :mod:`writer` hands it to a background thread that
writes batches with :mod:`record`; :mod:`status` reads Twilio's call status callback (the
call's real end, written at once by ``ivr.web.call_status``); :mod:`listening` works out what
each caller heard of each section, and :mod:`stats` sums it all up for a period.
"""

from __future__ import annotations

from ivr.calllog.facts import Facts, webhook_facts
from ivr.calllog.record import caller_hash, record_batch, record_call_end
from ivr.calllog.status import CallEnd, call_end
from ivr.calllog.writer import CallLogWriter

__all__ = ["CallEnd", "CallLogWriter", "Facts", "call_end", "caller_hash", "record_batch", "record_call_end",
           "webhook_facts"]
