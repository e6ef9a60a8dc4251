"""The scenarios the lecture app starts from: the shipped ones under ``scenarios/``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..i18n import N_


@dataclass(frozen=True)
class Preset:
    """A scenario the app offers: its key, file name and the label shown (a catalogue msgid)."""

    key: str
    file: str
    label: str


PRESETS = (
    Preset("lecture", "lecture.yaml", N_("The lecture's arithmetic")),
    Preset("open-relay-era", "open-relay-era.yaml", N_("Open relay era")),
    Preset("relay-prevention", "relay-prevention.yaml", N_("Relay prevention")),
    Preset("spambot-era", "spambot-era.yaml", N_("Spambot era")),
    Preset("smtp-auth", "smtp-auth.yaml", N_("SMTP AUTH")),
    Preset("japan-2011", "japan-2011.yaml", N_("Japan 2011")),
)
"""The presets, in the lecture's order: its arithmetic, then each era, then Japan in 2011."""

TIMELINE = Preset("timeline", "timeline.yaml", N_("History 1998-2012"))
"""The history the app plays step by step."""


def scenarios_dir() -> Path:
    """Where the shipped scenarios are: ``$SPAMSIM_SCENARIOS``, else the repository's ``scenarios/``.

    The scenarios live beside the package in the repository (the app is run from a clone, as
    ``make app`` does); the current directory's ``scenarios/`` is the fallback.
    """
    env = os.environ.get("SPAMSIM_SCENARIOS")
    if env:
        return Path(env)
    beside = Path(__file__).resolve().parents[2] / "scenarios"
    return beside if beside.is_dir() else Path.cwd() / "scenarios"


USER_PRESETS: list[tuple[Preset, Path]] = []
"""Scenario files given on the command line (``spamsim app FILE``), offered first."""


def add_file(path: str | os.PathLike[str]) -> Preset:
    """Offer the scenario file ``path`` as a preset (its file name is its label)."""
    file = Path(path).resolve()
    preset = Preset(f"file:{file.name}", file.name, file.name)
    USER_PRESETS[:] = [(p, f) for p, f in USER_PRESETS if p.key != preset.key] + [(preset, file)]
    return preset


def available() -> list[Preset]:
    """Presets the page offers: files given on the command line, then the shipped ones."""
    return [p for p, _ in USER_PRESETS] + list(PRESETS)


def preset_path(key: str) -> Path:
    """File of the preset ``key`` (``KeyError`` for an unknown key)."""
    for preset, file in USER_PRESETS:
        if preset.key == key:
            return file
    for preset in (*PRESETS, TIMELINE):
        if preset.key == key:
            return scenarios_dir() / preset.file
    raise KeyError(key)
