"""The staff pages through real HTTP after a real simulated call: dashboard, queue, done, audio, content."""

from __future__ import annotations

import re
import sqlite3
from html.parser import HTMLParser

import pytest

from ivr.simulator import simulate_call
from tests.staff_client import USER, StaffSession

TO_NURSE = ["1", None, "6", "0"]  # the first section, two parts, then 0


@pytest.fixture
def staff(staff_server):
    session = StaffSession(staff_server)
    session.login()
    yield session
    session.close()


def call(server, keys, **options):
    transcript = simulate_call(server.url + "/voice", token=server.token, keys=keys, **options)
    assert not transcript.failed, transcript
    return transcript


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.slow
def test_a_simulated_call_appears_on_the_dashboard_with_its_section(staff, staff_server):
    before = text_of(staff.get("/staff/").text)
    assert "Today 0" in before and "No leaflet has been listened to" in before
    call(staff_server, [*TO_NURSE, "1", "07900123456#", "1"], nurse="busy")  # busy, then a call-back on a number keyed in, confirmed
    page = text_of(staff.get("/staff/").text)
    assert "Today 1" in page and "This week (since Monday) 1" in page
    assert "Cryotherapy for kidney cancer What it is 1" in page  # leaflet, section, calls
    assert "After leaving a message or call-back 1" in page  # where the call ended
    assert re.search(r"\d\d:00–\d\d:59 0 1", page)  # a missed transfer in this hour


@pytest.mark.slow
def test_marking_a_call_back_done_records_who_and_when(staff, staff_server, instance_dir):
    call(staff_server, [*TO_NURSE, "1", "07900123456#", "1"], nurse="no-answer")
    queue = staff.get("/staff/queue").text
    assert "07900123456" in queue or "+447900123456" in queue
    (row_id,) = re.findall(r'action="/staff/callbacks/(\d+)/done"', queue)
    done = staff.post_form(f"/staff/callbacks/{row_id}/done", token_from="/staff/queue")
    assert done.status_code == 302
    with sqlite3.connect(instance_dir / "ivr.sqlite3") as db:
        done_by, done_at = db.execute("SELECT done_by, done_at FROM callback_requests WHERE id = ?", (row_id,)).fetchone()
    assert done_by == USER and done_at
    after = text_of(staff.get("/staff/queue").text)
    assert "No call-backs waiting" in after
    assert f"marked done by {USER}" in after and "Recently done" in after


@pytest.mark.slow
def test_the_queue_shows_the_callers_number_and_when_each_request_is_due(staff, staff_server, instance_dir):
    call(staff_server, [*TO_NURSE, "2"], nurse="busy", from_number="+447900123456")
    queue = text_of(staff.get("/staff/queue").text)
    assert "Due by" in queue and "+447900123456" in queue  # a message can be returned: its caller's number
    assert "Overdue" not in queue  # due two hours of opening time from now
    with sqlite3.connect(instance_dir / "ivr.sqlite3") as db:  # a request whose promised time has passed
        db.execute("UPDATE messages SET due_at = '2026-01-05 11:00:00.000000'")
    assert "Overdue" in text_of(staff.get("/staff/queue").text)


@pytest.mark.slow
def test_a_simulated_message_is_listed_and_its_recording_is_not_available_here(staff, staff_server):
    call(staff_server, [*TO_NURSE, "2"], nurse="busy")
    queue = staff.get("/staff/queue").text
    (row_id,) = re.findall(r'action="/staff/messages/(\d+)/done"', queue)
    assert "Recording not available" in queue and "TWILIO_ACCOUNT_SID" in queue
    assert "api.twilio.com" not in queue  # never a link to the recording itself
    audio = staff.get(f"/staff/messages/{row_id}/audio")
    assert audio.status_code == 404 and audio.text.startswith("Recording not available.")
    missing = staff.get("/staff/messages/999/audio")
    assert missing.status_code == 404


@pytest.mark.slow
def test_content_lists_leaflets_with_review_dates_overdue_ones_marked_and_audio(staff, staff_server, rendered_audio_dir):
    listing = staff.get("/staff/content").text
    assert "Cryotherapy for kidney cancer" in listing and "17 January 2019" in listing
    assert "Review overdue" in listing and "17 January 2022" in listing and "Not approved" in listing
    page = staff.get("/staff/content/cryotherapy-for-kidney-cancer").text
    sources = re.findall(r'<audio controls preload="none" src="(/audio/[0-9a-f]{32}\.wav)"', page)
    assert len(sources) >= 10
    played = staff.http.get(sources[0])
    assert played.status_code == 200 and played.content[:4] == b"RIFF"


class _Structure(HTMLParser):
    """Collects what an accessibility check needs: headings, tables, labels, ids, landmarks."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/staff/login", "/staff/", "/staff/queue", "/staff/content",
                                  "/staff/content/cryotherapy-for-kidney-cancer"])
def test_pages_have_an_accessible_structure(staff, staff_server, path):
    call(staff_server, [*TO_NURSE, "2"], nurse="busy")  # so that the tables have rows
    html = (staff.get(path) if path != "/staff/login" else StaffSession(staff_server).get(path)).text
    parsed = _Structure()
    parsed.feed(html)
    tags = parsed.tags
    names = [tag for tag, _ in tags]
    assert dict(tags)["html"].get("lang") == "en-GB"
    assert names.count("h1") == 1 and names.count("main") == 1
    skip = next(attrs for tag, attrs in tags if tag == "a")
    assert skip["href"] == "#main" and any(attrs.get("id") == "main" for _, attrs in tags)
    assert names.count("table") == names.count("caption")
    assert all(attrs.get("scope") in ("col", "row") for tag, attrs in tags if tag == "th")
    ids = {attrs.get("id") for _, attrs in tags}
    labelled = {attrs.get("for") for tag, attrs in tags if tag == "label"}
    for tag, attrs in tags:
        if tag == "input" and attrs.get("type") != "hidden":
            assert attrs.get("id") in labelled and attrs.get("id") in ids
        if tag == "form" and attrs.get("method") == "post":
            assert 'name="csrf_token"' in html
