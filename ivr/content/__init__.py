"""Content: leaflet files -> :class:`Leaflet` objects -> speech text.

The data path, one module a step: ``importer`` (web text -> leaflet Markdown),
``leaflet`` (Markdown -> Leaflet), ``speech_text`` (Leaflet -> what the synthesiser reads),
``catalogue`` (every leaflet in the folder, ready for the phone tree). Beside them: ``review``
(when a leaflet is due for review), ``approval`` and ``leaflet_approval`` (who approved what
callers hear, and what changed since), ``phone_numbers`` (numbers in the groups people say).
"""
