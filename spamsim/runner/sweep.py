"""Sweeps: many scenario variants, replicated, in parallel, resumable.

Every point is an independent task with its own seed (the sweep's seed, and with
``common_random_numbers: false`` a key derived from the point's values), so the numbers do
not depend on the backend, the worker count or the order in which points finish. Each
finished point is written atomically to ``OUT/points/point-NNNNNN.parquet``; a resumed sweep
skips the points whose files exist, so an interrupted sweep loses nothing it finished and
redoes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.result import Result
from ..analysis.summary import mean_ci
from ..atomic import write_atomic, write_text_atomic
from ..model.streams import stable_key
from ..scenario.errors import ScenarioError
from ..scenario.loader import load, scenario_data
from ..scenario.schema import Scenario
from ..scenario.sweep import SweepSpec
from .backends import Backend
from .replications import RefusedError, check_sweep_feasible, replicate


def point_overrides(params: dict[str, Any]) -> list[str]:
    """``--set`` strings for a point (JSON is YAML, so any value round-trips)."""
    return [f"{path}={json.dumps(value)}" for path, value in params.items()]


def point_entropy(seed: int, params: dict[str, Any], common_random_numbers: bool) -> int:
    """The seed of one point: the sweep's, or one derived from it and the point's values."""
    if common_random_numbers:
        return seed
    key = stable_key(json.dumps(params, sort_keys=True))
    return int(np.random.SeedSequence(seed, spawn_key=key).generate_state(4, np.uint32).view(np.uint64)[0])


def evaluate_point(base: Scenario, params: dict[str, Any], reps: int, entropy: int, metrics: list[str]) -> pd.DataFrame:
    """Run one point and return one row per replication with the kept metrics."""
    scenario = load(base, point_overrides(params))
    frame = Result(replicate(scenario, reps=reps, seed=entropy)).replications
    missing = [m for m in metrics if m not in frame.columns]
    if missing:
        raise RefusedError(
            f"unknown metric(s) {', '.join(missing)}; available: {', '.join(c for c in frame.columns if c != 'rep')}"
        )
    return frame[["rep", *metrics]].copy()


def check_points(base: Scenario, points: list[dict[str, Any]], limit: int = 2000) -> None:
    """Validate point overrides before running anything, so typos fail fast."""
    problems = []
    for params in points[:limit]:
        try:
            load(base, point_overrides(params))
        except ScenarioError as exc:
            problems.extend(exc.problems)
            if len(problems) > 20:
                break
    if problems:
        raise ScenarioError(problems)


@dataclass
class SweepResult:
    """A finished (or resumed) sweep: per-replication rows and per-point summaries."""

    spec: SweepSpec
    points: list[dict[str, Any]]
    replications: pd.DataFrame
    computed: int
    """Points computed in this call (the others were read from a previous run)."""

    @property
    def summary(self) -> pd.DataFrame:
        """One row per point: its parameters, then mean, se and 95 % CI of every metric."""
        return summarize_points(self.replications, self.spec.metrics, list(self.points[0]) if self.points else [])


def summarize_points(frame: pd.DataFrame, metrics: list[str], params: list[str]) -> pd.DataFrame:
    """Per-point mean, standard error and 95 % CI of ``metrics``."""
    rows = []
    for point, group in frame.groupby("point", sort=True):
        row: dict[str, Any] = {"point": point}
        for p in params:
            row[p] = group[p].iloc[0]
        for metric in metrics:
            mean, se, lo, hi = mean_ci(group[metric].to_numpy(dtype=float))
            row.update(
                {f"{metric}.mean": mean, f"{metric}.se": se, f"{metric}.ci95_low": lo, f"{metric}.ci95_high": hi}
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _spec_hash(spec: SweepSpec, base: Scenario) -> str:
    data = {"spec": spec.model_dump(mode="json"), "base": scenario_data(base)}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _point_file(out: Path, index: int) -> Path:
    return out / "points" / f"point-{index:06d}.parquet"


def run_sweep(
    spec: SweepSpec,
    base: Scenario,
    backend: Backend,
    out: Path | None = None,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SweepResult:
    """Run every point of ``spec`` on ``backend``; with ``out``, store and resume.

    Raises
    ------
    RefusedError
        If ``out`` holds another sweep's results, or results without ``resume``.
    """
    base = load(base, spec.set)
    points = spec.expand()
    check_points(base, points)
    check_sweep_feasible(spec, base, points, backend, out)
    done: set[int] = set()
    if out is not None:
        manifest = out / "sweep.json"
        digest = _spec_hash(spec, base)
        if manifest.exists():
            previous = json.loads(manifest.read_text(encoding="utf-8"))
            if previous.get("hash") != digest:
                raise RefusedError(f"{out} holds results of a different sweep; use another --out")
            existing = {int(p.stem.split("-")[1]) for p in (out / "points").glob("point-*.parquet")}
            if existing and not resume:
                raise RefusedError(
                    f"{out} already holds {len(existing)} finished points; add --resume to "
                    "continue, or use another --out"
                )
            done = existing
            # A killed run can leave temporary files of unfinished writes; they are never
            # results (finished files are renamed into place), so clear them.
            for stale in out.rglob(".*.tmp"):
                stale.unlink(missing_ok=True)
        else:
            write_text_atomic(
                manifest,
                json.dumps({"hash": digest, "spec": spec.model_dump(mode="json"), "points": points}, indent=2) + "\n",
            )
    todo = [i for i in range(len(points)) if i not in done]
    tasks = [
        (
            i,
            evaluate_point,
            (base, points[i], spec.reps, point_entropy(spec.seed, points[i], spec.common_random_numbers), spec.metrics),
        )
        for i in todo
    ]
    frames: dict[int, pd.DataFrame] = {}
    if progress:
        progress(len(done), len(points))
    for index, frame in backend.run(tasks):
        frame = _label(frame, index, points[index])
        if out is not None:
            write_atomic(_point_file(out, index), lambda tmp, f=frame: f.to_parquet(tmp, index=False))
        frames[index] = frame
        if progress:
            progress(len(done) + len(frames), len(points))
    for index in sorted(done):
        frames[index] = pd.read_parquet(_point_file(out, index))  # type: ignore[arg-type]
    replications = pd.concat([frames[i] for i in sorted(frames)], ignore_index=True)
    result = SweepResult(spec, points, replications, computed=len(todo))
    if out is not None:
        write_atomic(out / "replications.parquet", lambda tmp: replications.to_parquet(tmp, index=False))
        write_atomic(out / "summary.parquet", lambda tmp: result.summary.to_parquet(tmp, index=False))
    return result


def _label(frame: pd.DataFrame, index: int, params: dict[str, Any]) -> pd.DataFrame:
    frame = frame.copy()
    frame.insert(0, "point", index)
    for j, (path, value) in enumerate(params.items()):
        frame.insert(1 + j, path, value if not isinstance(value, dict | list) else json.dumps(value))
    return frame
