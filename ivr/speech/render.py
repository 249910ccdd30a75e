"""Render everything the line can say, once, into a content-addressed cache of telephone files.

A file's name is a hash of everything that changes its sound: the text, the eSpeak voice, the
pyttsx3 rate setting, pyttsx3's and eSpeak NG's versions, the output format and the audio
processing version. So an unchanged part is never rendered again, an edited part gets a new
file (and the phone tree, which looks audio up by exact text, never plays the old one), and
a new engine or processing step re-renders everything.

``audio/manifest.json`` always describes every item that has a file, whatever subset a run
rendered (``--leaflet``, ``--rate``). A part that still fails after its retry is reported by
name and the run raises :class:`RenderFailed`; the manifest is written first, without it, so
the phone tree falls back to <Say> for exactly what is missing.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ivr.config import Settings
from ivr.content.catalogue import Catalogue
from ivr.errors import RenderError
from ivr.prompts import Prompts, Utterance
from ivr.speech.audio import OUTPUT_FORMAT, PROCESSING_VERSION
from ivr.speech.manifest import (
    AUDIO_FILE_RE,
    MANIFEST_NAME,
    RATES,
    AudioEntry,
    Rate,
    load_manifest,
    write_manifest,
)
from ivr.speech.pool import Job, Outcome, run_jobs
from ivr.speech.sources import speech_items
from ivr.speech.synth import engine_version, rate_setting

__all__ = [
    "DEFAULT_TIMEOUT",
    "RenderFailed",
    "RenderReport",
    "audio_file_name",
    "render_missing",
    "wanted_utterances",
]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0  # seconds per file; eSpeak renders a long part in well under one


@dataclass(frozen=True)
class RenderReport:
    rendered: int  # files made by this run
    reused: int  # files already in the cache
    failed: tuple[str, ...]  # "<id> (<rate>)" of every part that still has no audio
    seconds: float  # wall-clock time of the run
    audio_seconds: float = 0.0  # total duration of the files this run asked for
    pruned: int = 0  # files removed by prune
    errors: Mapping[str, str] = field(default_factory=dict)  # failed name -> last error


class RenderFailed(RenderError):
    """Some parts could not be rendered after a retry; ``report`` says which and why."""

    def __init__(self, report: RenderReport) -> None:
        self.report = report
        shown = ", ".join(report.failed[:10])
        more = f" and {len(report.failed) - 10} more" if len(report.failed) > 10 else ""
        first = report.errors.get(report.failed[0], "") if report.failed else ""
        super().__init__(
            f"{len(report.failed)} part(s) could not be rendered: {shown}{more}. First error: {first}",
            hint="Callers hear <Say> for these parts. Fix the cause (see the log) and run `ivr render` again.",
        )


def _is_prompt(item: Utterance) -> bool:
    return not item.id.startswith("leaflet/")


def audio_file_name(text: str, voice: str, rate: Rate, *, prompt: bool = False) -> str:
    """The cache file name for saying ``text`` in ``voice`` at ``rate`` (``prompt``: a prompt of the
    line's, spoken at the prompts' setting): 32 hex digits + .wav."""
    key = {
        "text": text,
        "voice": voice,
        "rate": rate_setting(rate, prompt=prompt),
        "engine": engine_version(),
        "format": OUTPUT_FORMAT,
        "processing": PROCESSING_VERSION,
    }
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:32] + ".wav"


def wanted_utterances(settings: Settings, catalogue: Catalogue, prompts: Prompts) -> list[Utterance]:
    """Everything the line can say: :func:`speech_items` (leaflet parts, then every prompt
    instance of the phone tree and nurse line), then every prompt with no placeholders, so
    that prompts are rendered even before their feature lists them. One per distinct text.
    Raises PromptError when a feature asks for a prompt that does not exist.
    """
    seen: set[str] = set()
    items: list[Utterance] = []
    fixed = (
        Utterance(prompt_id, text)
        for prompt_id, text in prompts.templates.items()
        if not prompts.placeholders(prompt_id)
    )
    for item in (*speech_items(catalogue, prompts, settings), *fixed):
        if item.text not in seen:
            seen.add(item.text)
            items.append(item)
    return items


def _check_leaflet(catalogue: Catalogue, only_leaflet: str | None) -> None:
    if only_leaflet is not None and catalogue.by_slug(only_leaflet) is None:
        slugs = ", ".join(leaflet.slug for leaflet in catalogue.leaflets)
        raise RenderError(f"there is no leaflet {only_leaflet!r}.", hint=f"Known leaflets: {slugs}.")


def _selected(items: list[Utterance], only_leaflet: str | None) -> set[str]:
    prefix = f"leaflet/{only_leaflet}/"
    return {item.id for item in items if only_leaflet is None or item.id.startswith(prefix)}


def _duration(path: Path, known: Mapping[str, float]) -> float:
    if path.name in known:
        return known[path.name]
    import soundfile  # with numpy: only when a file's duration is not known yet

    return float(soundfile.info(str(path)).duration)


def _prune(audio_dir: Path, keep: set[str]) -> int:
    """Delete hash-named ``*.wav`` files not in ``keep``; nothing else is ever touched."""
    removed = 0
    for path in audio_dir.iterdir():
        if AUDIO_FILE_RE.fullmatch(path.name) and path.name not in keep and path.is_file():
            path.unlink()
            removed += 1
    return removed


def render_missing(
    settings: Settings,
    catalogue: Catalogue,
    prompts: Prompts,
    *,
    rates: Sequence[Rate] = RATES,
    jobs: int | None = None,
    only_leaflet: str | None = None,
    prune: bool = False,
    progress: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
) -> RenderReport:
    """Render every leaflet part and prompt (at ``rates``) that has no audio yet, in ``jobs``
    worker processes (default: one per core), and rewrite ``audio/manifest.json``.

    ``only_leaflet`` limits rendering to that leaflet's parts (no prompts); ``prune`` then
    deletes rendered files that nothing refers to any more. ``progress`` shows a progress
    bar on stderr when it is a terminal. ``timeout``: seconds a file may take before its retry.

    When nothing that decides what is said or how changed since a run that rendered everything
    (:func:`_inputs_digest`), and its files and manifest are still there, returns at once.

    Raises RenderFailed (a RenderError; ``.report`` has the counts) naming every part that
    still failed after a retry, after writing the manifest for the rest; RenderError for an
    unknown ``only_leaflet``; PromptError if a feature names a missing prompt; OSError if the
    audio folder cannot be written.
    """
    started = time.monotonic()
    try:
        engine_version()
    except (RuntimeError, OSError) as exc:  # libespeak-ng is not installed
        raise RenderError(
            f"cannot load eSpeak NG through pyttsx3 ({exc}).",
            hint="Install it with scripts/setup.sh (apt-get install espeak-ng).",
        ) from exc
    audio_dir = settings.audio_dir
    audio_dir.mkdir(parents=True, exist_ok=True)
    _check_leaflet(catalogue, only_leaflet)
    inputs = _inputs_digest(settings, catalogue, prompts, rates, only_leaflet, prune)
    unchanged = _unchanged_report(audio_dir, inputs, started)
    if unchanged is not None:
        return unchanged
    everything = wanted_utterances(settings, catalogue, prompts)
    selected = _selected(everything, only_leaflet)
    # Keyed by text: one prompt id can have many texts (its placeholders filled differently).
    names = {(item.text, rate): audio_file_name(item.text, settings.voice, rate, prompt=_is_prompt(item))
             for item in everything for rate in RATES}
    todo, reused = _missing_jobs(settings, everything, selected, names, rates)
    outcomes = _run(todo, audio_dir, jobs=jobs, progress=progress, timeout=timeout)
    entries = _write_entries(settings, everything, names, outcomes)
    pruned = _prune(audio_dir, set(names.values())) if prune else 0
    failures = {o.job.name: o.error or "unknown error" for o in outcomes if o.error is not None}
    asked = {names[item.text, rate] for item in everything if item.id in selected for rate in rates}
    report = RenderReport(
        rendered=sum(o.duration is not None for o in outcomes),
        reused=reused,
        failed=tuple(sorted(failures)),
        seconds=time.monotonic() - started,
        audio_seconds=sum(e.duration for e in entries if e.file in asked),
        pruned=pruned,
        errors=failures,
    )
    log.info("speech: %d rendered, %d reused, %d failed in %.1f s",
             report.rendered, report.reused, len(report.failed), report.seconds)
    if report.failed:
        raise RenderFailed(report)  # the caller shows or logs report.errors, one line a part
    _remember(audio_dir, inputs, entries, report)
    return report


def _missing_jobs(
    settings: Settings, everything: list[Utterance], selected: set[str],
    names: Mapping[tuple[str, Rate], str], rates: Sequence[Rate],
) -> tuple[dict[str, Job], int]:
    """A job for each selected file that does not exist yet (one per file name), and how many exist."""
    todo: dict[str, Job] = {}
    reused = 0
    for item in everything:
        for rate in rates:
            if item.id not in selected:
                continue
            target = settings.audio_dir / names[item.text, rate]
            if target.exists():
                reused += 1
            elif target.name not in todo:
                todo[target.name] = Job(
                    f"{item.id} ({rate})", item.text, settings.voice, rate_setting(rate, prompt=_is_prompt(item)),
                    target, Path(),  # scratch: set by _run
                )
    return todo, reused


def _run(todo: Mapping[str, Job], audio_dir: Path, *, jobs: int | None, progress: bool,
         timeout: float) -> list[Outcome]:
    if not todo:
        return []
    from tqdm import tqdm

    outcomes: list[Outcome] = []
    scratch = Path(tempfile.mkdtemp(prefix="ivr-render-"))
    try:
        with tqdm(total=len(todo), desc="rendering speech", unit="file", disable=None if progress else True) as bar:
            outcomes = run_jobs(
                [dataclasses.replace(job, scratch=scratch) for job in todo.values()],
                workers=max(1, jobs or os.cpu_count() or 1),
                timeout=timeout,
                on_outcome=lambda outcome: bar.update(1),
            )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        for job in todo.values():  # a killed worker can leave its half-written file behind
            for partial in audio_dir.glob(f".{job.target.name}.*.part"):
                with contextlib.suppress(FileNotFoundError):
                    partial.unlink()
    return outcomes


def _write_entries(settings: Settings, everything: list[Utterance], names: Mapping[tuple[str, Rate], str],
                   outcomes: list[Outcome]) -> list[AudioEntry]:
    """Write the manifest of every item that has a file; return its entries."""
    audio_dir = settings.audio_dir
    known = load_manifest(audio_dir).durations() if (audio_dir / "manifest.json").exists() else {}
    known.update({o.job.target.name: o.duration for o in outcomes if o.duration is not None})
    entries: list[AudioEntry] = []
    for item in everything:
        for rate in RATES:
            path = audio_dir / names[item.text, rate]
            if path.exists():
                entries.append(AudioEntry(item.id, rate, item.text, path.name, round(_duration(path, known), 3)))
    write_manifest(
        audio_dir, entries,
        {"engine": engine_version(), "voice": settings.voice, "format": OUTPUT_FORMAT,
         "processing": PROCESSING_VERSION},
    )
    return entries


# What the last complete run was given and left, so that a run given the same finds it has nothing
# to do without exploring every state of the line for what it can say (seconds, more with content).
RENDERED_NAME = ".rendered.json"


def _code_digest() -> str:
    """A digest of the line's code and data files: what the line says comes from them too."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*")):
        if path.suffix in {".py", ".yaml", ".txt", ".json"} and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(package)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _inputs_digest(settings: Settings, catalogue: Catalogue, prompts: Prompts, rates: Sequence[Rate],
                   only_leaflet: str | None, prune: bool) -> str:
    """A digest of everything that decides which files a run makes and what they sound like;
    today's date too: what is said about the time (the nurses' next opening, a call-back's day, a
    review falling due) is rendered for the days ahead of it (:func:`ivr.dialogue.explore.wording`)."""
    given = (repr(settings), repr(catalogue), repr(prompts), engine_version(), OUTPUT_FORMAT, PROCESSING_VERSION,
             tuple(rates), only_leaflet, prune, _code_digest(), dt.date.today().isoformat())
    return hashlib.sha256(repr(given).encode("utf-8")).hexdigest()


def _manifest_digest(audio_dir: Path) -> str | None:
    try:
        return hashlib.sha256((audio_dir / MANIFEST_NAME).read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _unchanged_report(audio_dir: Path, inputs: str, started: float) -> RenderReport | None:
    """The report of the last complete run if it was given the same ``inputs`` and its manifest
    and every file it names are still there; else None (render as usual)."""
    try:
        last = json.loads((audio_dir / RENDERED_NAME).read_text(encoding="utf-8"))
        if last["inputs"] != inputs or last["manifest"] != _manifest_digest(audio_dir):
            return None
        if not set(last["files"]) <= set(os.listdir(audio_dir)):
            return None
        return RenderReport(rendered=0, reused=int(last["reused"]), failed=(), seconds=time.monotonic() - started,
                            audio_seconds=float(last["audio_seconds"]), pruned=0)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _remember(audio_dir: Path, inputs: str, entries: list[AudioEntry], report: RenderReport) -> None:
    state = {"inputs": inputs, "manifest": _manifest_digest(audio_dir), "files": sorted({e.file for e in entries}),
             "reused": report.rendered + report.reused, "audio_seconds": report.audio_seconds}
    path = audio_dir / RENDERED_NAME
    temp = path.with_name(path.name + ".part")
    temp.write_text(json.dumps(state), encoding="utf-8")
    os.replace(temp, path)
