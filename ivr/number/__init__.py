"""The line's Twilio number: ``ivr twilio connect`` points it at this line, ``ivr twilio status``
says how it is set.

- :mod:`ivr.number.webhooks`: what the number must be set to, from IVR_PUBLIC_URL; the checks on
  that address and on the number (no Twilio API);
- :mod:`ivr.number.account`: the Twilio REST client, aimed at TWILIO_API_BASE_URL;
- :mod:`ivr.number.commands`: the ``ivr twilio`` commands (they import the other two lazily, so
  ``ivr --help`` never loads the Twilio REST client).
"""
