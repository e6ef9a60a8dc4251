"""Results read back from the folders that ``--out`` writes, for ``spamsim plot`` and notebooks.

Only data formats are read (JSON, YAML via the safe loader, Parquet, ``.npz`` without
pickle): a results folder, like a scenario file, is data and never code. Every reader first
checks the folder's ``manifest.json`` (:func:`spamsim.folder.read_manifest`): a folder that
is incomplete, of another kind, or changed after it was written is refused.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .analysis.effects import Comparison
from .analysis.result import Result
from .folder import read_manifest
from .model.ledger import Ledger
from .runner.replications import Replications
from .scenario.errors import Problem, ScenarioError
from .scenario.loader import load


def _need(folder: Path, name: str, what: str) -> Path:
    path = folder / name
    if not path.exists():
        raise ScenarioError([Problem(str(folder), None, None, "", f"no {name} here: not the output of {what}")])
    return path


def load_result(folder: str | Path) -> Result:
    """The :class:`Result` saved by ``spamsim run --out FOLDER``."""
    folder = Path(folder)
    read_manifest(folder, "run")
    scenario = load(_need(folder, "scenario.resolved.yaml", "spamsim run --out"))
    provenance = json.loads(_need(folder, "provenance.json", "spamsim run --out").read_text(encoding="utf-8"))
    with np.load(_need(folder, "ledger.npz", "spamsim run --out"), allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    spammers = [str(s) for s in arrays.pop("names/spammers")]
    channels = [str(c) for c in arrays.pop("names/channels")]
    n_steps, size = arrays["world/legit"].shape
    ledger = Ledger(n_steps, spammers, channels, size)
    for key, array in arrays.items():
        group, name = key.split("/", 1)
        {"flows": ledger.flows, "blocked_by": ledger.blocked_by, "spammer": ledger.spammer, "world": ledger.world}[
            group
        ][name] = array
    return Result(Replications(scenario, int(provenance["seed_entropy"]), int(provenance["reps"]), ledger))


def load_comparison(folder: str | Path) -> Comparison:
    """The :class:`Comparison` saved by ``spamsim compare --out FOLDER``."""
    folder = Path(folder)
    what = "spamsim compare --out"
    read_manifest(folder, "compare")
    scenario = load(_need(folder, "scenario.resolved.yaml", what))
    payload = json.loads(_need(folder, "comparison.json", what).read_text(encoding="utf-8"))
    variants = pd.read_parquet(_need(folder, "variants.parquet", what))
    return Comparison.from_frames(scenario, payload, variants)


@dataclass
class StoredSensitivity:
    """What ``spamsim sensitivity --out`` saved: indices, method and metric."""

    indices: pd.DataFrame
    method: str
    metric: str


def load_sensitivity(folder: str | Path) -> StoredSensitivity:
    """The indices saved by ``spamsim sensitivity --out FOLDER``."""
    folder = Path(folder)
    what = "spamsim sensitivity --out"
    read_manifest(folder, "sensitivity")
    payload: dict[str, Any] = json.loads(_need(folder, "indices.json", what).read_text(encoding="utf-8"))
    indices = pd.read_parquet(_need(folder, "indices.parquet", what)).set_index("parameter")
    return StoredSensitivity(indices, payload["method"], payload["metric"])


def load_sweep_summary(folder: str | Path) -> pd.DataFrame:
    """The per-point summary saved by ``spamsim sweep --out FOLDER``."""
    read_manifest(folder, "sweep")
    return pd.read_parquet(_need(Path(folder), "summary.parquet", "spamsim sweep --out"))


def load_fit(folder: str | Path) -> pd.DataFrame:
    """Observed vs fitted counts saved by ``spamsim calibrate --out FOLDER``."""
    read_manifest(folder, "calibrate")
    return pd.read_parquet(_need(Path(folder), "fit.parquet", "spamsim calibrate --out"))


def load_scenario(folder: str | Path) -> Any:
    """The resolved scenario saved by ``spamsim run`` or ``spamsim compare --out FOLDER``."""
    folder = Path(folder)
    read_manifest(folder, ("run", "compare"))
    return load(_need(folder, "scenario.resolved.yaml", "spamsim run --out"))
