"""Listening analytics: what callers heard of each section, with answers computed by hand.

First the rules on hand-written event sequences (``ivr.calllog.listening``), then a scripted set of
simulated calls against a real server whose figures (staff CSV exports, the dashboard, /metrics)
must match the ones worked out by hand below.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from email.utils import format_datetime

import httpx
import pytest

from ivr.calllog.listening import EventRow, plays
from ivr.simulator import simulate_call
from tests.conftest import PROJECT, start_server
from tests.staff_client import PASSWORD, USER, StaffSession, add_user_cli

T0 = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.UTC)
PARTS = (8.0, 4.0, 8.0, 12.0)  # a section of 32 s: half is 16 s, the end 31 s or more (1 s allowed)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def read(seconds: float, part: int, section: int = 1) -> EventRow:
    return EventRow("CA1", at(seconds), "read", leaflet="a", section=section, part=part, rate="normal",
                    seconds=PARTS[part - 1])


def key(seconds: float, menu: str = "read") -> EventRow:
    return EventRow("CA1", at(seconds), "key", menu=menu)


def end(seconds: float) -> EventRow:
    return EventRow("CA1", at(seconds), "end", leaflet="a", section=1, part=4)


def lengths(slug: str, section: int, rate: str) -> tuple[float, ...] | None:
    return PARTS if (slug, section) == ("a", 1) else None


def play_of(events: list[EventRow], hung_up: float | None = None):
    found = plays(events, {"CA1": at(hung_up)} if hung_up is not None else {}, lengths)
    assert len(found) == 1, found
    return found[0]


def test_parts_the_line_moved_on_from_by_itself_were_heard_whole():
    # Twilio asks for the next part, then the end of the section, only once each part has played out.
    play = play_of([read(0, 1), read(9, 2), read(14, 3), read(23, 4), end(36)])
    assert (play.heard, play.to_half, play.to_end) == (32.0, True, True)


def test_a_part_cut_short_by_a_key_counts_until_the_key():
    # Part 3 from 14 s; "6" (forward) at 17 s skips the rest of it; part 4 then plays out.
    play = play_of([read(0, 1), read(9, 2), read(14, 3), key(17), read(17, 4), end(30)])
    assert play.heard == 8 + 4 + 3 + 12  # 27 s of 32: half, not the end
    assert (play.to_half, play.to_end) == (True, False)


def test_the_final_status_closes_the_last_part():
    events = [read(0, 1), read(9, 2), read(14, 3)]
    assert play_of(events, hung_up=16.5).heard == 8 + 4 + 2.5  # hung up 2.5 s into part 3: 14.5 s, under half
    assert play_of(events, hung_up=30).heard == 8 + 4 + 8  # never more than the part: 20 s, half
    assert play_of(events).heard == 8 + 4  # no status: nothing of the last part is counted


def test_the_last_second_counts_as_the_end():
    events = [read(0, 1), read(9, 2), read(14, 3), read(23, 4)]
    assert play_of(events, hung_up=34.0).to_end  # 11 of part 4's 12 s: Twilio's timestamps are whole seconds
    assert not play_of(events, hung_up=33.9).to_end


def test_a_part_heard_twice_counts_once_but_listening_time_counts_both():
    # "4" (back a paragraph) after part 2 played out: part 1 again, then the caller hangs up in part 2.
    play = play_of([read(0, 1), read(9, 2), key(13), read(13, 1), read(22, 2)], hung_up=22)
    assert play.heard == 12.0 and play.listened == 8 + 4 + 8
    assert not play.to_half


def test_a_menu_starts_another_play_of_the_same_section():
    events = [read(0, 1), read(9, 2), key(10, menu="end"), read(10, 1)]
    found = plays(events, {"CA1": at(11)}, lengths)
    assert [(p.heard, p.started_at) for p in found] == [(9.0, at(0)), (1.0, at(10))]


def test_a_section_no_longer_in_the_content_uses_the_lengths_the_log_recorded():
    gone = [EventRow("CA1", at(0), "read", leaflet="gone", section=1, part=1, rate="normal", seconds=5.0),
            EventRow("CA1", at(6), "end", leaflet="gone", section=1, part=1)]
    (play,) = plays(gone, {}, lengths)
    assert (play.length, play.to_end) == (5.0, True)


# --- A scripted set of calls through a real server, and the figures worked out by hand ---------

LEAFLETS = PROJECT / "tests" / "fixtures" / "leaflets-listening"
# Their parts, at the 2.5 words a second the line estimates when no audio is rendered:
#   Listening A (key 1), Long section (key 1): 20, 10, 20, 30 words = 8, 4, 8, 12 s (32 s; half 16 s)
#   Listening A, Short section (key 2): 20, 10 words = 8, 4 s (12 s; half 6 s)
#   Listening B (key 2), First (key 1): 20 words = 8 s
# Keys: one entry a question (None: let it play); when they run out the caller hangs up, at once.
OTHER_CALLER = "+447700900999"
CALLS = [  # (keys, caller, CallDuration the status callback reports)
    (["1", "1", None, None, None, None], None, 60),  # 1: long section to its end, hangs up at the end menu
    (["1", "1", None, None], None, 30),  # 2: parts 1-2 (12 s), hangs up as part 3 starts: under half
    (["1", "1", None, None, None], None, 45),  # 3: parts 1-3 (20 s), hangs up as part 4 starts: half, not the end
    (["1", "2", "6", None], None, 40),  # 4: short section, skips part 1, hears part 2 (4 of 12 s): under half
    (["2", "1", None], None, 25),  # 5: Listening B, First, heard whole (8 s), hangs up at the end menu
    (["4"], None, 10),  # 6: a wrong key at the main menu, hangs up there
    ([], None, 5),  # 7: hangs up during the greeting's menu
    (["1", "1", "0"], OTHER_CALLER, 105),  # 8: long section, 0 at once: the nurse answers, then goodbye
]
# By hand: Long section: 4 plays (calls 1, 2, 3, 8); heard to half 2 (calls 1, 3); to the end 1 (call 1).
# Short section: 1 play, none to half. B/First: 1 play, to half and to the end.
# 8 calls; 2 never got past the main menu (6, 7): 25%. Average length (60+30+45+40+25+10+5+105)/8 = 40 s.
# Callers: 2; one rang more than once (7 calls). Hung up in a menu: the main menu 2 (6, 7), the end of
# a section 3 (1: A Long, 4: A Short, 5: B First).
EXPECTED_SECTIONS = [  # leaflet, section, plays, to half, share, to the end, share
    ("Listening A", "Long section", "4", "2", "0.500", "1", "0.250"),
    ("Listening B", "First", "1", "1", "1.000", "1", "1.000"),
    ("Listening A", "Short section", "1", "0", "0.000", "0", "0.000"),
]


def _status(server, call_sid: str, caller: str, seconds: int) -> None:
    """Twilio's call status callback, as it comes once a call is over."""
    response = server.post("/voice/status", {
        "AccountSid": "AC" + "0" * 32, "CallSid": call_sid, "From": caller, "To": "+441632960000",
        "CallStatus": "completed", "CallDuration": str(seconds), "Direction": "inbound",
        "Timestamp": format_datetime(dt.datetime.now(dt.UTC)), "CallbackSource": "call-progress-events",
    })
    assert response.status_code == 200 and response.text.strip().endswith("<Response />")


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith('attachment; filename="')
    return list(csv.DictReader(io.StringIO(response.text)))


@pytest.fixture
def listening_server(app_config, tmp_path):
    app_config.update(IVR_LEAFLETS_DIR=str(LEAFLETS), IVR_AUDIO_DIR=str(tmp_path / "no-audio"), IVR_SPEECH="say",
                      IVR_METRICS_TOKEN="scrape-token-0123456789")
    add_user_cli(app_config, USER, PASSWORD)
    server = start_server(app_config, tmp_path)
    for number, (keys, caller, seconds) in enumerate(CALLS, start=1):
        sid, caller = f"CA{number:032d}", caller or "+447700900123"
        transcript = simulate_call(server.url + "/voice", token=server.token, keys=keys, from_number=caller,
                                   call_sid=sid)
        assert not transcript.failed, transcript.text(urls=True)
        _status(server, sid, caller, seconds)
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.mark.slow
def test_the_figures_of_scripted_calls_match_the_hand_computed_ones(listening_server):
    staff = StaffSession(listening_server)
    try:
        assert staff.get("/staff/export/sections.csv").status_code == 302  # staff only
        staff.login()
        sections = _csv(staff.get("/staff/export/sections.csv?days=7"))
        calls = _csv(staff.get("/staff/export/calls.csv?days=7"))
        page = staff.get("/staff/?days=7").text
    finally:
        staff.close()
    shown = [(r["leaflet"], r["section"], r["plays_started"], r["heard_to_half"], r["heard_to_half_share"],
              r["heard_to_end"], r["heard_to_end_share"]) for r in sections]
    assert shown == EXPECTED_SECTIONS
    minutes = {r["section"]: float(r["minutes_listened"]) for r in sections}
    assert minutes["First"] == pytest.approx(8 / 60, abs=0.05)
    assert 64 / 60 - 0.05 <= minutes["Long section"] <= 67 / 60 + 0.05  # 64 s whole parts, under a second more each

    assert [int(r["length_seconds"]) for r in calls] == [seconds for _, _, seconds in CALLS]
    assert [r["got_past_main_menu"] for r in calls] == ["yes"] * 5 + ["no", "no", "yes"]
    assert [r["where_it_ended"] for r in calls] == [
        "End of a section: Listening A, Long section", "Reading: Listening A, Long section",
        "Reading: Listening A, Long section", "End of a section: Listening A, Short section",
        "End of a section: Listening B, First", "Main menu", "Main menu", "The line said goodbye"]
    assert [r["calls_from_this_caller"] for r in calls] == ["7"] * 7 + ["1"]
    assert {r["final_status"] for r in calls} == {"completed"} and all(r["hung_up"] for r in calls)

    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Average call, last 7 days 0 min 40 s Length from Twilio, over 8 calls" in text
    assert "Never got past the main menu 25% 2 of 8 calls" in text
    assert "Callers who rang more than once 1 of 2 callers" in text
    assert "2 of 8 calls (25%) in the last 7 days never got past the main menu" in text
    assert "Main menu 2 25%" in text


@pytest.mark.slow
def test_the_same_figures_are_in_metrics(listening_server):
    page = httpx.get(listening_server.url + "/metrics",
                     headers={"Authorization": "Bearer scrape-token-0123456789"}).text

    def value(sample: str) -> float:
        found = re.search(rf"^{re.escape(sample)} ([0-9.e+]+)$", page, re.M)
        assert found, f"{sample} not in /metrics"
        return float(found.group(1))

    long_section = 'leaflet="a-listening",period="7d",section="1"'
    assert value(f"ivr_section_plays{{{long_section}}}") == 4
    assert value(f"ivr_section_plays_heard_half{{{long_section}}}") == 2
    assert value(f"ivr_section_plays_heard_end{{{long_section}}}") == 1
    assert value('ivr_section_plays_heard_end{leaflet="b-listening",period="90d",section="1"}') == 1
    assert value('ivr_period_calls{period="30d"}') == 8
    assert value('ivr_period_calls_first_menu_only{period="7d"}') == 2
    assert value('ivr_period_call_seconds_average{period="7d"}') == 40
    assert value('ivr_period_repeat_callers{period="7d"}') == 1
    assert value('ivr_period_menu_hangups{menu="leaflets",period="7d"}') == 2
    assert value('ivr_period_menu_hangups{menu="end",period="7d"}') == 3
    assert value('ivr_call_ends_total{status="completed"}') == 8
    assert value("ivr_call_duration_seconds_sum") == 320


def test_a_call_the_line_never_answered_is_counted_but_not_as_stuck_at_the_main_menu():
    from ivr.calllog.stats import CallRow, Period, summarise
    from ivr.content.catalogue import load_catalogue

    def call(sid: str, stage: str, seconds: int) -> CallRow:
        return CallRow(sid, "hash", T0, T0, stage, None, None, False, False, None, None, False, False, False,
                       "completed", seconds, T0)

    # The first rang off at the main menu; the second is known only from its status callback (the
    # fallback answered it while the line was down).
    period = Period(T0, T0, [call("CA1", "leaflets", 20), call("CA2", "no-webhook", 40)], [])
    figures = summarise(period, load_catalogue(LEAFLETS), lengths, T0, 7)
    assert (figures.calls_period, figures.first_menu_only, figures.average_seconds) == (2, 1, 30.0)
    assert figures.menu_hangups == [("Main menu", 1)]
