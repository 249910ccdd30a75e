"""The public web copy of the leaflets (``/leaflets/``, ``/l/<code>``): content, wording, caching,
headers and the joined section audio, through the real app. The browser and axe-core checks are in
``test_leaflet_pages_browser.py``."""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import soundfile
from flask import template_rendered

from ivr import create_app
from ivr.config import load_settings
from ivr.content.catalogue import load_catalogue
from ivr.content.leaflet import load_leaflet
from ivr.content.links import leaflet_url, short_code
from ivr.errors import ConfigError, LeafletFormatError
from ivr.nurse.hours import parse_hours
from ivr.speech.joined import PART_GAP_S, joined_seconds
from ivr.speech.manifest import load_manifest
from ivr.web.copy import COPY_DIR, load_copy
from ivr.web.leaflet_pages import build_pages, hours_in_words, length_words, review_overdue

from .conftest import PROJECT, TEST_LEAFLETS

SLUG = "cryotherapy-for-kidney-cancer"
PAGE = f"/leaflets/{SLUG}"
SECTION_TITLES = ["What it is", "Who has it", "What happens", "Side effects"]


class Html(HTMLParser):
    """The parts of a page the tests look at: elements in order with their attributes and text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.elements: list[dict] = []
        self.open: list[dict] = []
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        element = {"tag": tag, "attrs": dict(attrs), "text": ""}
        self.elements.append(element)
        if tag not in ("meta", "link", "br", "img", "input", "source"):
            self.open.append(element)

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()["tag"] == tag:
                break

    def handle_data(self, data):
        for element in self.open:
            element["text"] += data

    def all(self, tag: str) -> list[dict]:
        return [e for e in self.elements if e["tag"] == tag]

    def texts(self, tag: str) -> list[str]:
        return [" ".join(e["text"].split()) for e in self.all(tag)]


@pytest.fixture
def seeded_config(app_config, seed_audio):
    return {**app_config, "IVR_AUDIO_DIR": str(seed_audio.audio_dir)}


@pytest.fixture
def web(seeded_config):
    return create_app(seeded_config).test_client()


def page_html(client, path: str = PAGE) -> Html:
    response = client.get(path)
    assert response.status_code == 200, response.status
    return Html(response.get_data(as_text=True))


# --- What the pages show ---


def test_index_lists_every_leaflet_with_its_review_date(web):
    html = page_html(web, "/leaflets/")
    assert html.texts("h1") == ["Patient information leaflets"]
    links = {e["attrs"]["href"]: " ".join(e["text"].split()) for e in html.all("a")}
    for leaflet in load_catalogue(TEST_LEAFLETS).sources:
        assert links[f"/leaflets/{leaflet.slug}"] == leaflet.title
    assert any("Last reviewed 17 January 2019" in text for text in html.texts("li"))


def test_leaflet_page_shows_the_written_text_not_the_speech_text(web):
    html = page_html(web)
    assert html.all("html")[0]["attrs"]["lang"] == "en-GB"
    assert html.texts("h1") == ["Cryotherapy for kidney cancer"]
    assert html.texts("title") == ["Cryotherapy for kidney cancer – Patient information line"]
    section_headings = [e for e in html.all("h2") if e["attrs"].get("id", "").startswith("section-")]
    assert [" ".join(e["text"].split()) for e in section_headings] == SECTION_TITLES
    paragraphs = " ".join(html.texts("p"))
    assert "less than 4cm across" in paragraphs  # as written; the phone says "4 centimetres"
    assert "a camera (laparoscope) to see" in paragraphs
    assert "centimetres" not in paragraphs
    assert "urine leakage" in html.texts("li")
    assert "Last reviewed 17 January 2019." in html.texts("p")
    assert "Source: Copied from a cancer charity's patient information web page." in html.texts("p")
    references = load_leaflet(TEST_LEAFLETS / f"{SLUG}.md").references
    ordered = next(e for e in html.all("ol"))
    assert all(reference in " ".join(ordered["text"].split()) for reference in references)


def test_emergency_signposting_comes_before_the_leaflet_text(web):
    for path in ("/leaflets/", PAGE):
        text = web.get(path).get_data(as_text=True)
        html = Html(text)
        hrefs = [e["attrs"]["href"] for e in html.all("a")]
        assert {"tel:999", "tel:111", "https://111.nhs.uk"} <= set(hrefs)
        assert "Not for emergencies" in html.texts("h2")
        first_text = text.index('<ul class="leaflet-list">') if path == "/leaflets/" else text.index("Cryotherapy kills")
        assert text.index('href="tel:999"') < first_text


def test_nurse_line_shows_the_number_in_national_format_and_the_hours_in_words(seeded_config):
    html = page_html(create_app({**seeded_config, "IVR_NURSE_HOURS": "Mon-Fri 09:00-17:00; Sat 10:00-13:00"}).test_client())
    call = next(e for e in html.all("a") if e["attrs"]["href"].startswith("tel:+44"))
    assert call["attrs"]["href"] == "tel:+441632960001"
    assert call["text"] == "01632 960001"
    assert "Call our nurse helpline on 01632 960001." in html.texts("p")
    assert {"Monday to Friday, 9am to 5pm", "Saturday, 10am to 1pm"} <= set(html.texts("li"))
    assert "The helpline is closed on bank holidays." in html.texts("p")


def test_nurse_line_always_open_and_never_open(seeded_config):
    always = page_html(create_app({**seeded_config, "IVR_NURSE_HOURS": "always"}).test_client())
    assert "Nurses answer the helpline at any time, day and night." in always.texts("p")
    assert "The helpline is closed on bank holidays." not in always.texts("p")
    never = page_html(create_app({**seeded_config, "IVR_NURSE_HOURS": "never"}).test_client())
    assert "Talk to a nurse" not in never.texts("h2")
    assert not [e for e in never.all("a") if e["attrs"]["href"].startswith("tel:+44")]


@pytest.mark.parametrize(("hours", "words"), [
    ("Mon-Fri 09:00-17:00", ["Monday to Friday, 9am to 5pm"]),
    ("Mon-Fri 09:00-17:00; Sat 10:00-13:00", ["Monday to Friday, 9am to 5pm", "Saturday, 10am to 1pm"]),
    ("Mon,Wed 09:00-12:30,13:30-17:00", ["Monday and Wednesday, 9am to 12:30pm and 1:30pm to 5pm"]),
    ("Mon-Wed,Fri 08:00-12:00", ["Monday to Wednesday and Friday, 8am to midday"]),
    ("Mon,Tue,Thu,Fri 09:00-17:00", ["Monday, Tuesday, Thursday and Friday, 9am to 5pm"]),
    ("Sat-Sun 00:00-24:00", ["Saturday and Sunday, midnight to midnight"]),
    ("Sun 18:00-22:15; Mon 09:00-17:00", ["Monday, 9am to 5pm", "Sunday, 6pm to 10:15pm"]),
])
def test_opening_hours_in_words(hours, words):
    assert list(hours_in_words(parse_hours(hours), load_copy("en-GB"))) == words


@pytest.mark.parametrize(("seconds", "words"), [
    (0.4, "5 seconds"), (8.9, "10 seconds"), (42.5, "40 seconds"), (58, "1 minute"),
    (64, "1 minute 5 seconds"), (120, "2 minutes"), (186, "3 minutes 5 seconds"),
])
def test_lengths_in_words(seconds, words):
    assert length_words(seconds, load_copy("en-GB")) == words


def test_overdue_for_review_after_three_years():
    leaflet = load_leaflet(TEST_LEAFLETS / f"{SLUG}.md")  # last reviewed 17 January 2019
    assert not review_overdue(leaflet, dt.date(2022, 1, 17))  # three years to the day
    assert review_overdue(leaflet, dt.date(2022, 1, 18))


@pytest.mark.parametrize(("clock", "overdue"), [("2020-06-01T12:00:00+01:00", False), ("2026-06-01T12:00:00+01:00", True)])
def test_the_page_warns_when_the_leaflet_is_overdue_for_review(seeded_config, clock, overdue):
    client = create_app({**seeded_config, "IVR_CLOCK": clock}).test_client()
    for path in ("/leaflets/", PAGE):
        text = client.get(path).get_data(as_text=True)
        assert ("Review overdue" in text) is overdue
    assert ("This leaflet is overdue for review" in text) is overdue


def test_every_section_has_a_player_at_each_speed(web, seed_audio):
    html = page_html(web)
    players = html.all("audio")
    assert len(players) == 2 * (1 + len(SECTION_TITLES))  # the introduction and each section
    assert [p["attrs"]["data-rate"] for p in players] == ["normal", "slow"] * (1 + len(SECTION_TITLES))
    assert all(p["attrs"]["src"].startswith("/leaflets/audio/") and "controls" in p["attrs"] for p in players)
    assert len({p["attrs"]["src"] for p in players}) == len(players)
    intro = load_catalogue(TEST_LEAFLETS).by_slug(SLUG).intro
    manifest, copy = load_manifest(seed_audio.audio_dir), load_copy("en-GB")
    lengths = [length_words(joined_seconds([manifest.find(text, rate).duration for text in intro.parts]), copy)
               for rate in ("normal", "slow")]
    labels = [text for text in html.texts("span") if "speed (" in text]
    assert labels[:2] == [f"Normal speed ({lengths[0]})", f"Slower speed ({lengths[1]})"]


def test_without_rendered_audio_the_page_says_so(app_config, tmp_path):
    client = create_app({**app_config, "IVR_AUDIO_DIR": str(tmp_path / "no-audio")}).test_client()
    html = page_html(client)
    assert not html.all("audio")
    assert html.texts("p").count("There is no recording of this section yet.") == 1 + len(SECTION_TITLES)


def test_unknown_leaflet_is_a_404_page_that_points_to_all_leaflets(web):
    response = web.get("/leaflets/no-such-leaflet")
    assert response.status_code == 404
    html = Html(response.get_data(as_text=True))
    assert html.texts("h1") == ["Page not found"]
    assert any(e["attrs"]["href"] == "/leaflets/" for e in html.all("a"))
    assert "Content-Security-Policy" in response.headers


# --- Headers, caching, speed ---


def test_no_script_allowed_or_used(web):
    for path in ("/leaflets/", PAGE, "/leaflets/nope"):
        response = web.get(path)
        directives = dict(
            (part.split()[0], part.split()[1:]) for part in response.headers["Content-Security-Policy"].split(";")
        )
        assert directives["default-src"] == ["'none'"]
        assert "script-src" not in directives and "script-src-elem" not in directives
        assert directives["frame-ancestors"] == ["'none'"]
        assert "<script" not in response.get_data(as_text=True)
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_pages_carry_a_content_etag_and_answer_304(web):
    for path in ("/leaflets/", PAGE):
        first = web.get(path)
        etag = first.headers["ETag"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag)
        assert first.headers["Cache-Control"] == "public, max-age=300"
        again = web.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b""
        assert web.get(path, headers={"If-None-Match": '"something-else"'}).status_code == 200
        assert web.head(path).headers["ETag"] == etag


def test_the_etag_changes_with_the_leaflet_the_audio_and_the_settings_shown(seeded_config, tmp_path, app_config):
    def etag(config):
        return create_app(config).test_client().get(PAGE).headers["ETag"]

    base = etag(seeded_config)
    assert etag(seeded_config) == base  # the same content, another process: the same ETag
    assert etag({**seeded_config, "IVR_NURSE_NUMBER": "+441632960002"}) != base
    assert etag({**seeded_config, "IVR_NURSE_HOURS": "Mon-Fri 08:00-17:00"}) != base
    assert etag({**app_config, "IVR_AUDIO_DIR": str(tmp_path / "no-audio")}) != base
    leaflets = tmp_path / "leaflets"
    shutil.copytree(TEST_LEAFLETS, leaflets)
    source = leaflets / f"{SLUG}.md"
    source.write_text(source.read_text().replace("urine leakage", "leakage of urine"))
    assert etag({**seeded_config, "IVR_LEAFLETS_DIR": str(leaflets)}) != base


def test_each_page_is_rendered_once_per_process(web):
    app = web.application
    rendered: list[str] = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(record, app)
    try:
        for _ in range(3):
            assert web.get(PAGE).status_code == 200
            assert web.get("/leaflets/").status_code == 200
    finally:
        template_rendered.disconnect(record, app)
    assert sorted(rendered) == ["leaflets/index.html", "leaflets/leaflet.html"]


# --- The joined section audio ---


def audio_sources(client) -> list[str]:
    return [e["attrs"]["src"] for e in page_html(client).all("audio")]


def test_section_audio_is_its_parts_joined_as_16_bit_pcm(web, seed_audio):
    catalogue = load_catalogue(TEST_LEAFLETS)
    manifest = load_manifest(seed_audio.audio_dir)
    section = catalogue.by_slug(SLUG).sections[3]  # "Side effects": four parts
    response = web.get(audio_sources(web)[2 + 2 * 3 + 1])  # that section's slow player
    assert response.status_code == 200
    assert response.mimetype == "audio/wav"
    info = soundfile.info(io.BytesIO(response.data))
    assert (info.samplerate, info.channels, info.subtype) == (8000, 1, "PCM_16")
    joined, _ = soundfile.read(io.BytesIO(response.data), dtype="int16")
    gap = np.zeros(round(PART_GAP_S * 8000), dtype=np.int16)
    expected = []
    for number, text in enumerate(section.parts):
        part, _ = soundfile.read(seed_audio.audio_dir / manifest.find(text, "slow").file, dtype="int16")
        expected += [gap, part] if number else [part]
    assert np.array_equal(joined, np.concatenate(expected))


def test_section_audio_is_cached_immutable_and_answers_ranges(web, instance_dir):
    source = audio_sources(web)[0]
    name = source.rsplit("/", 1)[1]
    first = web.get(source)
    assert first.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert (instance_dir / "leaflet-audio" / name).is_file()
    part = web.get(source, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100 and part.data == first.data[:100]
    assert web.get(source, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("name", [
    "0" * 32 + ".wav",  # the right form, but no section's
    "../secret-key", "..%2Fsecret-key", "ABCDEF0123456789ABCDEF0123456789.wav", "x.wav",
])
def test_unknown_audio_names_are_404(web, name):
    assert web.get(f"/leaflets/audio/{name}").status_code == 404


def test_a_missing_part_file_is_a_503_and_logged(seeded_config, seed_audio, tmp_path, caplog):
    audio_dir = tmp_path / "audio"
    shutil.copytree(seed_audio.audio_dir, audio_dir)
    client = create_app({**seeded_config, "IVR_AUDIO_DIR": str(audio_dir)}).test_client()
    name = audio_sources(client)[0].rsplit("/", 1)[1]
    part = client.application.extensions["ivr.leaflets"].audio[name].parts[0]
    (audio_dir / part).unlink()
    assert client.get(f"/leaflets/audio/{name}").status_code == 503
    assert f"cannot make the web audio {name}" in caplog.text


def test_a_part_missing_at_start_leaves_that_player_out_and_is_logged(seeded_config, seed_audio, tmp_path, caplog):
    audio_dir = tmp_path / "audio"
    shutil.copytree(seed_audio.audio_dir, audio_dir)
    speech = load_catalogue(TEST_LEAFLETS).by_slug(SLUG)
    (audio_dir / load_manifest(audio_dir).find(speech.sections[0].parts[1], "normal").file).unlink()
    html = page_html(create_app({**seeded_config, "IVR_AUDIO_DIR": str(audio_dir)}).test_client())
    section_1 = [p["attrs"]["data-rate"] for p in html.all("audio") if "section-1-" in p["attrs"]["aria-labelledby"]]
    assert section_1 == ["slow"]
    assert len(html.all("audio")) == 2 * (1 + len(SECTION_TITLES)) - 1
    assert "the web copy has 9 of 10 section recordings" in caplog.text


# --- Short links for text messages ---


def test_short_link_is_stable_short_and_redirects(web):
    code = short_code(SLUG)
    assert code == "v40w8e"  # pinned: links already sent by text message must keep working
    for typed in (code, code.upper()):
        response = web.get(f"/l/{typed}")
        assert response.status_code == 301
        assert response.headers["Location"] == PAGE
    assert web.get("/l/zzzzzz").status_code == 404
    assert web.get("/l/v40w8").status_code == 404


def test_leaflet_url_for_a_text_message():
    settings = load_settings({"TWILIO_AUTH_TOKEN": "t", "IVR_PUBLIC_URL": "https://ivr.example.org/"})
    url = leaflet_url(settings, SLUG)
    assert url == "https://ivr.example.org/l/v40w8e"
    assert len(url) <= 40
    with pytest.raises(ConfigError, match="IVR_PUBLIC_URL"):
        leaflet_url(load_settings({"TWILIO_AUTH_TOKEN": "t", "IVR_PUBLIC_URL": ""}), SLUG)


def test_the_page_shows_its_short_link_when_the_public_url_is_set(seeded_config):
    html = page_html(create_app({**seeded_config, "IVR_PUBLIC_URL": "https://ivr.example.org"}).test_client())
    assert "Short link to this page: https://ivr.example.org/l/v40w8e" in html.texts("p")
    without = page_html(create_app(seeded_config).test_client())
    assert not [text for text in without.texts("p") if text.startswith("Short link")]


def test_two_slugs_with_one_short_code_stop_the_line(tmp_path):
    seen: dict[str, str] = {}
    number = 0
    while True:  # about 40,000 slugs before two share a code (the birthday bound of 32**6)
        slug = f"leaflet-{number}"
        if (code := short_code(slug)) in seen:
            break
        seen[code] = slug
        number += 1
    seed = (TEST_LEAFLETS / f"{SLUG}.md").read_text()
    for name in (seen[code], slug):
        (tmp_path / f"{name}.md").write_text(seed.replace(f"slug: {SLUG}", f"slug: {name}"))
    with pytest.raises(LeafletFormatError, match=f"same short link /l/{code}"):
        build_pages(load_catalogue(tmp_path), load_manifest(tmp_path), tmp_path)


# --- The wording lives in the copy file ---

TEMPLATES = PROJECT / "ivr" / "web" / "templates" / "leaflets"
CODE = [PROJECT / "ivr" / "web" / "leaflet_pages.py", PROJECT / "ivr" / "web" / "leaflets.py"]
FAMILIES = {"web.months": range(1, 13), "web.days": range(7)}  # ids the code builds from a number


def used_ids() -> set[str]:
    text = "\n".join(path.read_text() for path in [*TEMPLATES.glob("*.html"), *CODE])
    return set(re.findall(r"""["'](web\.[a-z0-9_.]+[a-z0-9_])["']""", text))


def test_every_id_the_pages_use_is_in_the_copy_file_and_every_id_there_is_used():
    copy = load_copy("en-GB")
    used = used_ids()
    assert used, "no copy ids found in the templates: has the t('web.…') form changed?"
    missing = used - set(copy.prompts.templates)
    assert not missing, f"ids used but not in {COPY_DIR}/en-GB: {sorted(missing)}"
    families = {f"{family}.{n}" for family, numbers in FAMILIES.items() for n in numbers}
    assert families <= set(copy.prompts.templates)
    unused = {i for i in copy.prompts.templates if i.startswith("web.")} - used - families  # text_message: tests/test_texts.py
    assert not unused, f"ids in the copy file that no page uses: {sorted(unused)}"


def test_templates_hold_no_words_of_their_own():
    for path in TEMPLATES.glob("*.html"):
        text = re.sub(r"{#.*?#}|{{.*?}}|{%.*?%}|<[^>]+>", " ", path.read_text(), flags=re.S)
        words = re.findall(r"[A-Za-z]{2,}", text)
        assert not words, f"{path.name} has words outside the copy file: {words[:10]}"


def test_a_copy_sentence_with_a_link_escapes_everything_else():
    copy = load_copy("en-GB")
    html = copy.html("web.leaflet.source", source="<b>Tom & Jerry's</b>")
    assert html == "Source: &lt;b&gt;Tom &amp; Jerry&#39;s&lt;/b&gt;."
    assert Path(COPY_DIR / "en-GB" / "web.yaml").is_file()
