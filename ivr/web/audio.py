"""``GET/HEAD /audio/<file>``: the rendered speech files, for Twilio's <Play>.

A file's name is the hash of its content's recipe, so a name never changes meaning: responses
are cacheable for a year and ``immutable``, and the hash is a strong ETag (a conditional GET
is answered 304). Twilio caches <Play> media by these standard headers
(https://www.twilio.com/docs/voice/twiml/play; help article "How can I change the cache
behavior of audio files?").

Safety: the name must match :data:`~ivr.speech.manifest.AUDIO_FILE_RE` (32 hex digits +
``.wav``) before anything touches the disk, so ``..``, encoded slashes, absolute paths and
odd characters are all a plain 404. There is no signature check: Twilio fetches media with a
plain GET and no X-Twilio-Signature, and the files hold only public leaflet text.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, abort, send_file

from ivr.runtime import current_runtime
from ivr.speech.manifest import AUDIO_FILE_RE

__all__ = ["MAX_AGE", "init_app"]

log = logging.getLogger(__name__)

MAX_AGE = 31_536_000  # one year, the longest commonly honoured

bp = Blueprint("audio", __name__)


# <path:...> so that every name under /audio/ reaches the check below (and 404s there);
# merge_slashes=False so "//etc/passwd" is not redirected to a "cleaned" URL first.
@bp.route("/audio/<path:name>", methods=["GET"], merge_slashes=False)  # HEAD comes with GET
def audio_file(name: str) -> Response:
    """The file, or 404 for a name that is not a rendered file's (checked before any disk access)."""
    if not AUDIO_FILE_RE.fullmatch(name):
        log.info("refused audio name %r", name[:80])
        abort(404)
    path = current_runtime().settings.audio_dir / name
    try:
        response = send_file(
            path, mimetype="audio/wav", etag=name.removesuffix(".wav"), conditional=True,
            max_age=MAX_AGE,
        )
    except FileNotFoundError:
        abort(404)
    response.cache_control.public = True
    response.cache_control.immutable = True
    response.headers.pop("Expires", None)  # Cache-Control says it all; no clock to disagree with
    return response


def init_app(app: Flask) -> None:
    """Register the audio blueprint on ``app``."""
    app.register_blueprint(bp)
