"""What every request needs, loaded once per process: settings, leaflets, prompts, audio manifest."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from ivr.config import Settings
from ivr.content.catalogue import Catalogue, load_catalogue
from ivr.prompts import Prompts, load_prompts
from ivr.speech.manifest import Manifest, load_manifest

__all__ = ["Runtime", "current_runtime", "load_runtime"]


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    catalogue: Catalogue
    prompts: Prompts
    manifest: Manifest


def load_runtime(settings: Settings) -> Runtime:
    """Load content; raises the ContentError of the first bad file (the line refuses to start)."""
    return Runtime(
        settings=settings,
        catalogue=load_catalogue(settings.leaflets_dir, review_period_months=settings.review_period_months),
        prompts=load_prompts(settings.locale),
        manifest=load_manifest(settings.audio_dir),
    )


def current_runtime() -> Runtime:
    return current_app.extensions["ivr.runtime"]
