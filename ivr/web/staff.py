"""The staff pages (``/staff``): sign-in, dashboard, message and call-back queue, content.

Server-rendered HTML with no script, for call-centre staff and screen-reader users. Every page
and every recording needs a signed-in staff user (:mod:`ivr.web.staff_auth`): pages redirect to
the sign-in page, recordings answer 401. Every form carries a CSRF token.

    GET  /staff/?days=7|30|90          dashboard, over the last 7, 30 (the default) or 90 days
    GET  /staff/export/sections.csv?days=N   listening by leaflet section over the period, as CSV
    GET  /staff/export/calls.csv?days=N      one row per call of the period, as CSV
    GET  /staff/login, POST            sign in (back-off after failures per name and address, and per address)
    POST /staff/logout                 sign out
    GET  /staff/queue                  open call-backs and messages, newest first
    POST /staff/callbacks/<id>/done    mark done (who and when are recorded)
    POST /staff/messages/<id>/done
    GET  /staff/messages/<id>/audio    the recording (WAV), fetched from Twilio through the app
    GET  /staff/content                leaflets: review due (overdue first), sign-off, prompts' sign-off
    GET  /staff/content/<slug>         one leaflet: changes since approval, sections with their audio
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup, escape
from sqlalchemy import select
from werkzeug.wrappers import Response as WebResponse

from ivr.calllog.export import calls_csv, sections_csv
from ivr.calllog.stats import PERIOD_DAYS, PERIODS, Dashboard, Period, dashboard
from ivr.content.links import leaflet_path
from ivr.errors import StoreError
from ivr.nurse.hours import LONDON
from ivr.nurse.numbers import mask_number
from ivr.runtime import current_runtime
from ivr.staff import LoginOutcome, check_login, failed_sign_ins
from ivr.staff.leaflets import leaflet_statuses, prompts_status
from ivr.staff.recordings import RecordingUnavailable, fetch_recording, recording_problem
from ivr.store import Store
from ivr.store.models import CallbackRequest, Message, utcnow
from ivr.texts import text_counts
from ivr.web import calllog
from ivr.web.database import current_store
from ivr.web.staff_auth import check_csrf, configure_sessions, csrf_token, current_staff, sign_in, sign_out
from ivr.web.texts import texts_for

__all__ = ["bp", "init_app"]

log = logging.getLogger(__name__)
bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates", static_folder="static",
               static_url_path="/static")
OPEN_ENDPOINTS = {"staff.login", "staff.static"}
MAX_ID = 2**31 - 1  # the largest id a row can have (PostgreSQL's integer): larger ones are not found
FAILURES_SHOWN = dt.timedelta(hours=24)


def _store() -> Store:
    return current_store()


def _when(moment: dt.datetime | None) -> str:
    return moment.astimezone(LONDON).strftime("%a %d %b %Y, %H:%M") if moment else ""


def _where(leaflet: str | None, section: int | None) -> str:
    from ivr.calllog.stats import place_name

    if leaflet is None:
        return "Main menu"
    return place_name(current_runtime().catalogue, "read", leaflet, section).removeprefix("Reading: ")


@bp.before_request
def _guard() -> WebResponse | None:
    if request.endpoint in OPEN_ENDPOINTS:
        if request.method == "POST":
            check_csrf()
        return None
    if current_staff() is None:
        if request.endpoint == "staff.message_audio":
            abort(401)
        return redirect(url_for("staff.login", next=request.full_path if request.query_string else request.path))
    if request.method == "POST":
        check_csrf()
    return None


def _day(date: dt.date) -> str:
    return f"{date.day} {date:%B %Y}"  # "2 December 2026"


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"csrf_token": csrf_token, "current_staff": current_staff, "when": _when, "where": _where, "day": _day,
            "short_path": leaflet_path}


@bp.after_request
def _no_store(response: Response) -> Response:
    # Staff pages hold call-back numbers: never kept by a shared browser's cache or a proxy.
    if request.endpoint != "staff.static":
        response.headers["Cache-Control"] = "no-store"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def _safe_next(target: str | None) -> str:
    """Only a path inside the staff pages (never another site, never a control character that
    could split the redirect's header) after signing in; else the dashboard."""
    if target and target.startswith("/staff/") and not target.startswith("//") and "\\" not in target \
            and target.isascii() and target.isprintable():
        return target
    if target:
        log.info("staff sign-in: ignored a next page that is not a staff page: %r", target[:200])
    return url_for("staff.dashboard_page")


@bp.route("/login", methods=["GET", "POST"])
def login() -> WebResponse | str:
    status = 200
    error = None
    name = ""
    headers: dict[str, str] = {}
    if request.method == "POST":
        name = request.form.get("name", "")[:200]
        password = request.form.get("password", "")[:1000]
        address = request.remote_addr or "unknown"
        try:
            outcome = check_login(_store(), name, password, address, secret=str(current_app.secret_key).encode())
            if outcome.result == "ok":
                sign_in(outcome.name)
        except StoreError as exc:
            log.error("staff sign-in: database unavailable: %s", exc)
            outcome = None
            status, error = 503, "Signing in is not possible right now: the database cannot be reached."
        # The name is logged only when it is a staff user's: a password typed into the name box is never logged.
        if outcome is None:
            pass
        elif outcome.result == "ok":
            log.info("staff user %s signed in from %s", outcome.name, address)
            if outcome.failures_before:
                flash(f"Failed sign-ins for your user name since you last signed in: {outcome.failures_before}. "
                      "If that was not you, tell the administrator of the line.")
            return redirect(_safe_next(request.args.get("next")))
        elif outcome.result == "wait":
            status, headers["Retry-After"] = 429, str(outcome.retry_after)
            error = f"Too many failed sign-ins from this computer. Wait {_duration(outcome.retry_after)}, then try again."
            log.warning("staff sign-in not tried (backing off %d s) for %s from %s", outcome.retry_after,
                        _logged_name(outcome), address)
        else:
            status = 401
            error = "That user name and password do not match. Check them and try again."
            log.warning("staff sign-in failed for %s from %s", _logged_name(outcome), address)
    html = render_template("staff/login.html", error=error, name=name)
    return Response(html, status=status, headers=headers)


def _logged_name(outcome: LoginOutcome) -> str:
    """A staff user's name as it is; anything else typed as the name is not written down."""
    return repr(outcome.name) if outcome.known_user else "a name that is no staff user's"


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{round(seconds / 60)} minutes"


@bp.post("/logout")
def logout() -> WebResponse:
    try:
        sign_out()
    except StoreError as exc:
        log.error("staff sign-out: could not end the session in the database: %s", exc)
    flash("You have signed out.")
    return redirect(url_for("staff.login"))


def _days() -> int:
    """The period chosen (``?days=``): one of PERIODS, else the default."""
    days = request.args.get("days", "")
    return int(days) if days in {str(d) for d in PERIODS} else PERIOD_DAYS


def _figures(days: int) -> tuple[Dashboard, Period, dt.datetime]:
    """(the figures, the call log they come from, now). StoreError if the database fails."""
    calllog.flush()  # this worker's last moments of calls, so a call just made counts
    now = utcnow()
    figures, period = dashboard(_store(), current_runtime().catalogue, now, lengths=calllog.current_lengths(),
                                days=days)
    return figures, period, now


@bp.get("/")
def dashboard_page() -> str:
    days = _days()
    figures, _period, now = _figures(days)
    transfer_top = max((answered + missed for _, answered, missed in figures.transfers_by_hour), default=0)
    texts = text_counts(_store(), now - dt.timedelta(days=days)) if texts_for() is not None else None
    return render_template("staff/dashboard.html", d=figures, period=days, periods=PERIODS, transfer_top=transfer_top,
                           failures=failed_sign_ins(_store(), now - FAILURES_SHOWN), texts=texts,
                           titles={leaflet.slug: leaflet.title for leaflet in current_runtime().catalogue.leaflets})


def _csv_download(text: str, name: str, days: int, now: dt.datetime) -> Response:
    filename = f"{name}-last-{days}-days-to-{now.astimezone(LONDON).date().isoformat()}.csv"
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/export/sections.csv")
def sections_export() -> Response:
    days = _days()
    figures, _period, now = _figures(days)
    return _csv_download(sections_csv(figures, now), "listening-by-section", days, now)


@bp.get("/export/calls.csv")
def calls_export() -> Response:
    days = _days()
    figures, period, now = _figures(days)
    calls = [c for c in period.calls if c.started_at >= figures.since]
    return _csv_download(calls_csv(calls, current_runtime().catalogue), "calls", days, now)


@bp.get("/queue")
def queue_page() -> str:
    store = _store()
    settings = current_runtime().settings
    callbacks = store.callbacks()
    messages = store.messages()
    return render_template(
        "staff/queue.html",
        callbacks=sorted((c for c in callbacks if c.done_at is None), key=_due_order),
        messages=sorted((m for m in messages if m.done_at is None), key=_due_order),
        due=lambda moment: _due(moment, utcnow()),
        reasons={"closed": "Nurses closed", "busy": "Nurses busy", "no-answer": "No nurse answered"},
        problems={m.id: recording_problem(settings, m.recording_url) for m in messages},
        done=sorted(_done(callbacks, messages), key=_done_at, reverse=True)[:10],
    )


@bp.post(f"/callbacks/<int(max={MAX_ID}):row_id>/done")
def callback_done(row_id: int) -> WebResponse:
    row = _store().mark_callback_done(row_id, by=current_staff() or "?")
    if row is None:
        abort(404)
    flash(f"Call-back to {mask_number(row.number)} marked done by {row.done_by} at {_when(row.done_at)}.")
    return redirect(url_for("staff.queue_page"))


@bp.post(f"/messages/<int(max={MAX_ID}):row_id>/done")
def message_done(row_id: int) -> WebResponse:
    row = _store().mark_message_done(row_id, by=current_staff() or "?")
    if row is None:
        abort(404)
    flash(f"Message from {row.caller_masked} marked done by {row.done_by} at {_when(row.done_at)}.")
    return redirect(url_for("staff.queue_page"))


@bp.get(f"/messages/<int(max={MAX_ID}):row_id>/audio")
def message_audio(row_id: int) -> WebResponse:
    settings = current_runtime().settings
    with _store().transaction() as session:
        row = session.scalars(select(Message).where(Message.id == row_id)).one_or_none()
        url = row.recording_url if row is not None else None
    if row is None:
        abort(404)
    problem = recording_problem(settings, url)
    if problem is not None or url is None:
        return Response(f"Recording not available. {problem}\n", status=404, mimetype="text/plain")
    try:
        fetched = fetch_recording(settings, url)
    except RecordingUnavailable as exc:
        log.error("could not fetch recording of message %d from Twilio: %s", row_id, exc.reason)
        return Response(f"Recording not available. {exc.reason}\n", status=exc.status, mimetype="text/plain")
    response = Response(fetched.content, mimetype=fetched.mimetype, headers={"Cache-Control": "private, no-store"})
    # Byte ranges let the player seek; each range is fetched afresh (nothing is kept on the server).
    return response.make_conditional(request, accept_ranges=True, complete_length=len(fetched.content))


def _due_order(row: CallbackRequest | Message) -> tuple[bool, dt.datetime]:
    """Soonest due first; requests made before due times were kept (none) last, oldest first."""
    return (row.due_at is None, row.due_at or row.created_at)


def _due(moment: dt.datetime | None, now: dt.datetime) -> Markup:
    """The due time, marked OVERDUE once it has passed."""
    if moment is None:
        return Markup("Not recorded")
    text = escape(_when(moment))
    return Markup(f'{text} <strong class="tag overdue">Overdue</strong>') if moment < now else Markup(text)


def _done(callbacks: list[CallbackRequest], messages: list[Message]) -> list[CallbackRequest | Message]:
    return [*(c for c in callbacks if c.done_at), *(m for m in messages if m.done_at)]


def _done_at(row: CallbackRequest | Message) -> dt.datetime:
    return row.done_at or dt.datetime.min.replace(tzinfo=dt.UTC)


def _today() -> dt.date:
    return dt.datetime.now(LONDON).date()


@bp.get("/content")
def content_page() -> str:
    runtime = current_runtime()
    return render_template("staff/leaflets.html", statuses=leaflet_statuses(runtime.catalogue, _today()),
                           prompts=prompts_status(runtime.prompts), locale=Path(runtime.prompts.locale).name,
                           period=runtime.settings.review_period_months)


@bp.get("/content/<slug>")
def leaflet_page(slug: str) -> str:
    """One leaflet: its review date, its sign-off and the spoken text changed since, and every
    part with its audio. 404 if there is no leaflet with that slug."""
    runtime = current_runtime()
    status = next((s for s in leaflet_statuses(runtime.catalogue, _today()) if s.speech.slug == slug), None)
    if status is None:
        abort(404)
    sections = []
    for section in (status.speech.intro, *status.speech.sections):
        parts: list[dict[str, Any]] = []
        for number, text in enumerate(section.parts, start=1):
            entry = runtime.manifest.find(text, "normal")
            parts.append({"number": number, "text": text, "file": entry.file if entry else None,
                          "seconds": entry.duration if entry else None})
        sections.append({"section": section, "title": "Introduction" if section.number == 0 else section.title,
                         "parts": parts, "seconds": sum(p["seconds"] or 0 for p in parts)})
    return render_template("staff/leaflet.html", status=status, sections=sections,
                           period=runtime.settings.review_period_months)


def init_app(app: Flask) -> None:
    """Register the staff pages; sessions get their cookie settings here."""
    configure_sessions(app)
    app.register_blueprint(bp)
