"""A link to a leaflet by text message (issue 17): queued by the call's webhook, sent outside it.

:mod:`queue` writes the request (committed before the caller is told "we'll send it now") and
applies the guards against text-message fraud; :mod:`sender` is the background thread of each
server process that claims queued messages and sends them through Twilio's REST API, recording
the outcome on the row and in the call log; :mod:`body` is the message itself, from reviewed
wording.
"""

from __future__ import annotations

from ivr.texts.body import message_body
from ivr.texts.queue import TextLimits, queue_text, text_counts
from ivr.texts.sender import TextSender

__all__ = ["TextLimits", "TextSender", "message_body", "queue_text", "text_counts"]
