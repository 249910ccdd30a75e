"""Speech input through a real gunicorn server: signed requests carrying ``SpeechResult`` and
``Confidence`` as Twilio sends them after ``<Gather input="dtmf speech">`` (no recognition engine
is needed: Twilio does that). What the line says back is asserted by prompt id or leaflet part.

A caller who never presses a key reaches every section (by its title, its spoken label, a
``say:`` word, and a misheard variant), the whole leaflet and a nurse, and the ``ivr call``
transcript shows it end to end.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from ivr.content.catalogue import load_catalogue

from .conftest import PROJECT, TEST_LEAFLETS, LiveServer, start_server
from .test_nurse_line import CALLER, LINE, NURSE, OPEN, call, ids, twiml

SEED = "cryotherapy-for-kidney-cancer"
SECTIONS = f"/voice/key?k=sections&l={SEED}"
LEAFLET = load_catalogue(TEST_LEAFLETS).by_slug(SEED)
TOKEN = "speech-test-token"
# Recognition slips a phone line really produces (homophones, a dropped or swapped sound), one for
# each section of the fixture leaflet, in its order.
MISHEARD = ["what cryo therapy is", "who can half it", "what happens during the treat meant", "side affects"]


@pytest.fixture(scope="module")
def line(tmp_path_factory) -> Iterator[tuple[LiveServer, Path]]:
    """The line with speech input on, the nurses open (a Monday morning), its call log in SQLite."""
    tmp = tmp_path_factory.mktemp("speech")
    database = tmp / "ivr.sqlite3"
    server = start_server({
        "IVR_INSTANCE_DIR": str(tmp), "TWILIO_AUTH_TOKEN": TOKEN, "IVR_NURSE_NUMBER": NURSE,
        "IVR_NURSE_HOURS": "Mon-Fri 09:00-17:00", "IVR_CLOCK": OPEN, "IVR_SPEECH": "say",
        "IVR_SPEECH_INPUT": "on", "IVR_DATABASE_URL": f"sqlite:///{database}", "IVR_CALLBACK_FROM": "",
        "IVR_AUDIO_DIR": str(tmp / "no-audio"),
    }, tmp)
    yield server, database
    server.process.terminate()
    server.process.wait(timeout=10)


def say(server: LiveServer, path: str, words: str, confidence: str = "0.9", sid: str = "CAspeech") -> ET.Element:
    return twiml(server, path, call(sid, SpeechResult=words, Confidence=confidence))


def gather_action(root: ET.Element) -> str:
    gather = root.find("Gather")
    assert gather is not None, ET.tostring(root, encoding="unicode")
    action = gather.get("action")
    assert action
    return action


def first_part(section: int) -> str:
    return f"leaflet/{SEED}/{section}/1"


@pytest.mark.parametrize("number", range(1, len(LEAFLET.sections) + 1))
def test_every_section_by_its_title_label_say_words_and_a_misheard_variant(line, number):
    server, _ = line
    source = load_catalogue(TEST_LEAFLETS).sources[0].sections[number - 1]
    for phrase in filter(None, [source.title, source.label, *source.phrases]):  # acted on at once
        said = ids(say(server, SECTIONS, phrase))
        assert first_part(number) in said, (phrase, said)
    heard = say(server, SECTIONS, MISHEARD[number - 1])  # acted on, or asked about first
    if "speech.did_you_mean" in ids(heard):
        heard = say(server, gather_action(heard), "yes")
    assert first_part(number) in ids(heard), (MISHEARD[number - 1], ids(heard))


@pytest.mark.parametrize("words", ["everything", "all of it", "read it all"])
def test_the_whole_leaflet_by_saying_so(line, words):
    said = ids(say(line[0], SECTIONS, words))
    assert f"leaflet/{SEED}/0/1" in said, said  # the whole leaflet starts with its introduction


def test_unsure_recognition_asks_first_and_yes_or_no_both_work(line):
    server, _ = line
    asked = say(server, SECTIONS, "side effects", confidence="0.3")
    assert "speech.did_you_mean" in ids(asked) and not any(i.startswith("leaflet/") for i in ids(asked))
    answer = gather_action(asked)
    assert first_part(4) in ids(say(server, answer, "yes"))
    declined = say(server, answer, "no thanks")
    assert not any(i.startswith("leaflet/") for i in ids(declined)), ids(declined)
    assert say(server, gather_action(declined), "side effects").find("Gather") is not None  # asked again


@pytest.mark.parametrize("words", ["purple elephant", "", "   ", "side effects " * 2000, "\u0000\ufffd\u202e"])
def test_junk_empty_and_very_long_words_are_answered_and_count_toward_a_person(line, words):
    """Three times not understood in a row, in hours, puts the caller through to a nurse."""
    server, _ = line
    path, dialled = SECTIONS, None
    for _attempt in range(4):
        root = say(server, path, words)
        dialled = root.find("Dial")
        if dialled is not None:
            break
        path = gather_action(root)
    assert dialled is not None and "".join(dialled.itertext()).strip() == NURSE


@pytest.mark.parametrize("words", ["nurse", "speak to someone", "a real person", "nurse please"])
def test_the_nurse_is_reached_by_saying_so_from_the_greeting_the_leaflet_menu_and_the_end(line, words):
    server, _ = line
    greeting = say(server, "/voice", "")  # the call's first request: its <Gather> leads on
    end = say(server, f"/voice/at?k=end&l={SEED}&s=4&p=1", "")  # the end of the leaflet's menu
    for path in (gather_action(greeting), SECTIONS, gather_action(end)):
        dialled = say(server, path, words).find("Dial")
        assert dialled is not None and "".join(dialled.itertext()).strip() == NURSE, path


def test_the_call_log_keeps_what_words_chose_never_the_words(line):
    server, database = line
    say(server, SECTIONS, "side effects of cryotherapy for Margaret Thatcher", sid="CAprivacy")
    say(server, SECTIONS, "Margaret", sid="CAprivacy")
    server.post("/voice/status", {"CallSid": "CAprivacy", "CallStatus": "completed", "CallDuration": "30",
                                  "From": CALLER, "To": LINE, "AccountSid": "AC" + "0" * 32})
    rows: list[tuple[str, float]] = []
    deadline = time.monotonic() + 15
    while len(rows) < 2 and time.monotonic() < deadline:  # the writer commits a batch a second
        with sqlite3.connect(database) as db:
            try:
                rows = db.execute("SELECT detail, confidence FROM call_events "
                                  "WHERE call_sid = 'CAprivacy' AND kind = 'said'").fetchall()
            except sqlite3.OperationalError:  # the table is made by the server's first write
                rows = []
        time.sleep(0.05)  # polling the real database file for the writer's commit, as conftest polls a socket
    assert sorted(detail for detail, _ in rows) == ["not-understood", "section:4"]
    assert {confidence for _, confidence in rows} == {0.9}
    everything = database.read_bytes() + server.log().encode()
    assert b"Margaret" not in everything and b"Thatcher" not in everything


def test_a_caller_who_never_presses_a_key_hears_the_leaflet_and_reaches_a_nurse(line):
    server, _ = line
    # Side effects chosen by (misheard) words at the greeting, its parts heard through in silence
    # (no words are listened for while a paragraph is read), then a nurse asked for at the end.
    silences = "," * len(LEAFLET.sections[3].parts)
    keys = f"say:side affects{silences},say:speak to a nurse"
    env = {"TWILIO_AUTH_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ivr"), "call", "--url", server.url + "/voice", "--from", CALLER,
         "--keys", keys],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    heard = [line.rsplit(", ", 1)[-1].rstrip(")") for line in result.stdout.splitlines() if "line: " in line]
    assert [f"leaflet/{SEED}/4/{n}" for n in range(1, len(LEAFLET.sections[3].parts) + 1)] == \
        [i for i in heard if i.startswith("leaflet/")], result.stdout
    assert "nurse.connecting" in heard and "you talk to the nurse" in result.stdout, result.stdout
