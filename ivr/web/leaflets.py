"""The public web copy of the leaflets: to read, listen to, print, or show a relative. No login.

    GET /leaflets/                     every leaflet, with its review date
    GET /leaflets/<slug>               one leaflet: written text, a player a section (two speeds),
                                       references, the nurse line, emergency signposting
    GET /leaflets/audio/<name>.wav     a section's parts joined into one browser-playable file
    GET /l/<code>                      the short link (for a text message): 301 to the leaflet

Pages are rendered once per process and day (the day decides the "overdue for review" caveat)
and sent with a strong ETag, the hash of the page itself, so it covers the leaflet file, the
audio manifest, the settings shown and the wording; a conditional GET is answered 304. They
hold no script, and the Content-Security-Policy allows none. Audio files are named by their
content's hash, so they are cached for a year; each is joined on first request and kept in
``<IVR_INSTANCE_DIR>/leaflet-audio/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from markupsafe import Markup
from werkzeug.wrappers import Response as WebResponse

from ivr.content.leaflet import Leaflet
from ivr.content.links import SHORT_CODE_LENGTH, SHORT_PREFIX, leaflet_url
from ivr.nurse.hours import LONDON
from ivr.runtime import current_runtime
from ivr.speech.audio import AudioError
from ivr.speech.joined import join_parts
from ivr.speech.manifest import RATES
from ivr.web.audio import MAX_AGE
from ivr.web.copy import Copy, load_copy
from ivr.web.leaflet_pages import (
    LeafletPage,
    NurseLine,
    SectionAudio,
    build_pages,
    date_words,
    length_words,
    nurse_line,
    review_overdue,
)

__all__ = ["PAGE_MAX_AGE", "bp", "init_app"]

log = logging.getLogger(__name__)
bp = Blueprint("leaflets", __name__, template_folder="templates", static_folder="static",
               static_url_path="/leaflets/static")

PAGE_MAX_AGE = 300  # seconds a browser may show a page without asking again (then a 304 is cheap)
# No script at all; styles, audio and images only from this server; never framed.
CSP = ("default-src 'none'; style-src 'self'; media-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_AUDIO_NAME = re.compile(r"[0-9a-f]{32}\.wav")
_SHORT = re.compile(rf"[0-9a-z]{{{SHORT_CODE_LENGTH}}}")


@dataclass
class WebCopy:
    """Everything the pages need, built at start-up; ``rendered`` fills as pages are asked for."""

    copy: Copy
    pages: dict[str, LeafletPage]
    nurse: NurseLine | None
    audio: dict[str, SectionAudio]  # joined file name -> its parts
    audio_cache: Path
    rendered: dict[tuple[str, dt.date], tuple[bytes, str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _web() -> WebCopy:
    return current_app.extensions["ivr.leaflets"]


def _today() -> dt.date:
    clock = current_runtime().settings.clock  # IVR_CLOCK, for tests
    return (clock or dt.datetime.now(LONDON)).astimezone(LONDON).date()


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # which leaflet someone reads is their business
    return response


@bp.context_processor
def _helpers() -> dict[str, object]:
    web, settings = _web(), current_runtime().settings
    return {
        "t": web.copy.html,
        "lang": web.copy.locale,
        "date_words": lambda date: date_words(date, web.copy),
        "length_words": lambda seconds: length_words(seconds, web.copy),
        "link": lambda href, text: Markup('<a href="{}">{}</a>').format(href, text),
        "nurse": web.nurse,
        "public_url": settings.public_url,
        "short_url": lambda slug: leaflet_url(settings, slug),
    }


def _page(name: str, template: str, **context: object) -> WebResponse:
    """The page, rendered on its first request of the day in this process, with a content-hash
    ETag; 304 when the browser already has it."""
    web, today = _web(), _today()
    with web.lock:
        cached = web.rendered.get((name, today))
    if cached is None:
        body = render_template(template, today=today, **context).encode("utf-8")
        cached = (body, hashlib.sha256(body).hexdigest()[:32])
        with web.lock:
            for stale in [key for key in web.rendered if key[1] != today]:
                del web.rendered[stale]
            web.rendered[(name, today)] = cached
    response = Response(cached[0], mimetype="text/html")
    response.set_etag(cached[1])
    response.cache_control.public = True
    response.cache_control.max_age = PAGE_MAX_AGE
    return response.make_conditional(request)


@bp.get("/leaflets/")
def index() -> WebResponse:
    """Every leaflet, in the phone menu's order."""
    return _page("index", "leaflets/index.html", pages=list(_web().pages.values()), overdue=_overdue)


@bp.get("/leaflets/<slug>")
def leaflet(slug: str) -> WebResponse:
    """One leaflet's page; 404 (a page pointing to all leaflets) for an unknown slug."""
    page = _web().pages.get(slug)
    if page is None:
        abort(404)
    return _page(f"leaflet/{slug}", "leaflets/leaflet.html", page=page, overdue=_overdue)


@bp.get(SHORT_PREFIX + "<code>")
def short_link(code: str) -> WebResponse:
    """301 to the leaflet with this short code (any letter case: it may be typed from paper); 404 if none."""
    code = code.lower()
    if _SHORT.fullmatch(code):
        for page in _web().pages.values():
            if page.short_code == code:
                response = redirect(url_for("leaflets.leaflet", slug=page.leaflet.slug), 301)
                response.cache_control.public = True
                response.cache_control.max_age = 86_400
                return response
    abort(404)


@bp.get("/leaflets/audio/<name>")
def section_audio(name: str) -> Response:
    """A section's joined audio (16-bit PCM WAV), made on first request; 404 for a name no
    section has (checked before any disk access); 503 if a rendered part is missing or the
    file cannot be written (logged)."""
    web = _web()
    audio = web.audio.get(name) if _AUDIO_NAME.fullmatch(name) else None
    if audio is None:
        abort(404)
    path = web.audio_cache / name
    if not path.is_file():
        audio_dir = current_runtime().settings.audio_dir
        try:
            join_parts([audio_dir / part for part in audio.parts], path)
        except (AudioError, OSError) as exc:
            log.error("cannot make the web audio %s from %s: %s", name, audio_dir, exc)
            abort(503)
    response = send_file(path, mimetype="audio/wav", etag=name.removesuffix(".wav"), conditional=True,
                         max_age=MAX_AGE)
    response.cache_control.public = True
    response.cache_control.immutable = True
    response.headers.pop("Expires", None)
    return response


@bp.errorhandler(404)
def not_found(_error: Exception) -> tuple[str, int]:
    return render_template("leaflets/not_found.html"), 404


def _overdue(leaflet: Leaflet, today: dt.date) -> bool:
    return review_overdue(leaflet, today, current_runtime().settings.review_period_months)


def init_app(app: Flask) -> None:
    """Build every leaflet's page data and register the pages. Raises PromptError when the web
    wording for IVR_LOCALE is missing or incomplete, LeafletFormatError when two leaflets share
    a short link: the line refuses to start."""
    runtime = app.extensions["ivr.runtime"]
    copy = load_copy(runtime.settings.locale)
    pages = build_pages(runtime.catalogue, runtime.manifest, runtime.settings.audio_dir)
    sections = [section for page in pages.values() for section in (page.intro, *page.sections)]
    audio = {item.name: item for section in sections for item in section.audio}
    if len(audio) < len(RATES) * len(sections):
        log.warning(
            "the web copy has %d of %d section recordings: a part's audio is not in %s (run `ivr render`; "
            "with IVR_AUDIO_BASE_URL, keep the .wav files on this server too)",
            len(audio), len(RATES) * len(sections), runtime.settings.audio_dir,
        )
    app.extensions["ivr.leaflets"] = WebCopy(
        copy, pages, nurse_line(runtime.settings, copy), audio, runtime.settings.instance_dir / "leaflet-audio",
    )
    app.register_blueprint(bp)
