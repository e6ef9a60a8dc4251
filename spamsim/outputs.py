"""The files a run or comparison writes into ``--out``: summary, replications, time series, provenance.

The folder as a whole is one transaction (:mod:`spamsim.folder`); the ``write_*_files``
functions fill its staging folder.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from . import __version__
from .analysis.effects import Comparison
from .analysis.result import Result
from .atomic import write_atomic, write_text_atomic
from .folder import Identity, ResultsFolder, scenario_digest
from .scenario.loader import scenario_data


def provenance(entropy: int, reps: int, workers: int = 1, command: list[str] | None = None) -> dict[str, Any]:
    """Everything needed to repeat a run: versions, seed entropy, command line, time, commit."""
    return {
        "spamsim_version": __version__,
        "seed_entropy": entropy,
        "reps": reps,
        "workers": workers,
        "command": command if command is not None else list(sys.argv),
        "timestamp_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def git_commit() -> str | None:
    """The commit of the source tree spamsim runs from, if it is a git checkout."""
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    return commit if out.returncode == 0 and commit else None


def scenario_yaml(result: Result) -> str:
    """The scenario as run (defaults filled in, overrides applied), as YAML."""
    data = scenario_data(result.scenario)
    header = f"# {result.scenario.name}: the scenario as run by spamsim {__version__}\n"
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def dump_json(data: Any) -> str:
    """JSON with NaN/inf refused (they are not JSON) and stable formatting."""
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def run_identity(result: Result) -> Identity:
    """Whose results a run folder holds: the resolved scenario and the seed entropy."""
    return Identity("run", scenario_digest(result.scenario), result.entropy, result.scenario.name)


def save_run(
    result: Result,
    out: str | os.PathLike[str],
    *,
    workers: int = 1,
    command: list[str] | None = None,
    timeseries: bool = True,
    force: bool = False,
) -> list[Path]:
    """Write a run's results folder ``out`` as one transaction and return the paths written.

    For notebooks; ``spamsim run --out`` does the same through :class:`ResultsFolder`, opened
    before it simulates. ``out`` holding other results is refused unless ``force``.
    """
    with ResultsFolder(out, run_identity(result), force=force) as folder:
        names = write_run_files(result, folder.path, workers=workers, command=command, timeseries=timeseries)
        folder.commit()
    return [Path(out) / name for name in names]


def write_run_files(
    result: Result,
    folder: Path,
    *,
    workers: int = 1,
    command: list[str] | None = None,
    timeseries: bool = True,
) -> list[str]:
    """Write a run's files into ``folder`` (a results folder's staging folder) and return their names.

    Files: ``summary.json``, ``replications.parquet``, ``timeseries.parquet`` (unless
    ``timeseries`` is false), ``ledger.npz`` (the raw ledger, for ``spamsim plot``),
    ``scenario.resolved.yaml`` and ``provenance.json``.
    """
    write_text_atomic(folder / "summary.json", dump_json(result.to_json()))
    write_atomic(folder / "replications.parquet", lambda tmp: result.replications.to_parquet(tmp, index=False))
    names = ["summary.json", "replications.parquet"]
    if timeseries:
        write_atomic(folder / "timeseries.parquet", lambda tmp: result.timeseries.to_parquet(tmp, index=False))
        names.append("timeseries.parquet")
    write_atomic(folder / "ledger.npz", lambda tmp: _save_ledger(result, tmp))
    write_text_atomic(folder / "scenario.resolved.yaml", scenario_yaml(result))
    write_text_atomic(folder / "provenance.json", dump_json(provenance(result.entropy, result.reps, workers, command)))
    return [*names, "ledger.npz", "scenario.resolved.yaml", "provenance.json"]


def _save_ledger(result: Result, tmp: Path) -> None:
    """The raw ledger as plain numeric arrays (``.npz``, read back without pickle)."""
    lg = result.ledger
    arrays: dict[str, np.ndarray] = {}
    arrays.update({f"flows/{k}": v for k, v in lg.flows.items()})
    arrays.update({f"blocked_by/{k}": v for k, v in lg.blocked_by.items()})
    arrays.update({f"spammer/{k}": v for k, v in lg.spammer.items()})
    arrays.update({f"world/{k}": v for k, v in lg.world.items()})
    arrays["names/spammers"] = np.array(lg.spammers, dtype=np.str_)
    arrays["names/channels"] = np.array(lg.channels, dtype=np.str_)
    with open(tmp, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def comparison_identity(comparison: Comparison) -> Identity:
    """Whose results a compare folder holds: the resolved scenario and the shared seed."""
    return Identity("compare", scenario_digest(comparison.scenario), comparison.entropy, comparison.scenario.name)


def save_comparison(
    comparison: Comparison,
    out: str | os.PathLike[str],
    *,
    workers: int = 1,
    command: list[str] | None = None,
    force: bool = False,
) -> list[Path]:
    """Write a comparison's results folder ``out`` as one transaction and return the paths written."""
    with ResultsFolder(out, comparison_identity(comparison), force=force) as folder:
        names = write_comparison_files(comparison, folder.path, workers=workers, command=command)
        folder.commit()
    return [Path(out) / name for name in names]


def write_comparison_files(
    comparison: Comparison,
    folder: Path,
    *,
    workers: int = 1,
    command: list[str] | None = None,
) -> list[str]:
    """Write a comparison's files into ``folder`` and return their names.

    Files: ``comparison.json`` (what ``compare --json`` prints), ``effects.parquet``,
    ``costs.parquet`` (defenders' cost and cost-effectiveness per countermeasure and context),
    ``variants.parquet`` (every variant's replications, to plot or re-analyse later),
    ``shapley.parquet`` (with ``--shapley``), ``scenario.resolved.yaml``, ``provenance.json``.
    """
    write_text_atomic(folder / "comparison.json", dump_json(comparison.to_json()))
    write_atomic(folder / "effects.parquet", lambda tmp: comparison.effects_frame.to_parquet(tmp, index=False))
    write_atomic(folder / "variants.parquet", lambda tmp: comparison.variants_frame().to_parquet(tmp, index=False))
    write_atomic(folder / "costs.parquet", lambda tmp: comparison.cost_frame.to_parquet(tmp, index=False))
    names = ["comparison.json", "effects.parquet", "costs.parquet", "variants.parquet"]
    if comparison.shapley_computed:
        write_atomic(
            folder / "shapley.parquet",
            lambda tmp: comparison.shapley_frame.reset_index().to_parquet(tmp, index=False),
        )
        names.append("shapley.parquet")
    data = scenario_data(comparison.scenario)
    write_text_atomic(folder / "scenario.resolved.yaml", yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    write_text_atomic(
        folder / "provenance.json", dump_json(provenance(comparison.entropy, comparison.reps, workers, command))
    )
    return [*names, "scenario.resolved.yaml", "provenance.json"]
