"""The whole call as data: where a call is, what the caller did, and what the line does next.

One engine for every part of a call (menus, reading, the nurse line, messages and call-backs):

- :mod:`ivr.dialogue.steps`: the vocabulary: :class:`~ivr.dialogue.steps.Position` (where a call
  is, and its URL codec), the events a caller or Twilio causes, :class:`~ivr.dialogue.steps.Step`
  (what to say, what to listen for, what happens next) and the save requests;
- :mod:`ivr.dialogue.leaflets`: the leaflet menus and the talking-book reading;
- :mod:`ivr.dialogue.nurse`: the nurse line: transfers, messages, call-backs and their promises;
- :mod:`ivr.dialogue.engine`: :class:`~ivr.dialogue.engine.CallEngine`, which joins them and keeps
  the rules every state shares (the keys that work everywhere, silence and wrong keys, goodbyes);
- :mod:`ivr.dialogue.explore`: every state walked as data, for rendering and ``ivr check --calls``;
- :mod:`ivr.dialogue.contract`: the promises the line keeps to every caller, checked over every state.

No Flask, no Twilio, no database here: ``ivr.twiml`` renders a step, ``ivr.web.voice`` parses the
request, stores what must be stored and renders.
"""
