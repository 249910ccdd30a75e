"""Content: leaflet files -> :class:`Leaflet` objects -> speech text.

The data path, one module a step: ``importer`` (web text -> leaflet Markdown),
``leaflet`` (Markdown -> Leaflet), ``speech_text`` (Leaflet -> what the synthesiser reads),
``catalogue`` (every leaflet in the folder, ready for the phone tree).
"""
