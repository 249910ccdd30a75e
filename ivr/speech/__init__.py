"""Speech: speech text -> telephone audio files + manifest (``synth``, ``render``, ``manifest``)."""
