"""Sweeps: many scenario variants, replicated, in parallel, resumable.

Every point is an independent task with its own seed (the sweep's seed, and with
``common_random_numbers: false`` a key derived from the point's values), so the numbers do
not depend on the backend, the worker count or the order in which points finish. Each
finished point is written atomically to ``.OUT.partial/points/point-NNNNNN.parquet`` (a
working folder next to ``OUT``); a resumed sweep skips the points whose files are readable,
so an interrupted sweep loses nothing it finished and redoes nothing. The finished sweep is
swapped into ``OUT`` whole, with its manifest (:mod:`spamsim.folder`).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.result import Result
from ..analysis.summary import mean_ci
from ..atomic import write_atomic, write_text_atomic
from ..folder import MANIFEST, Identity, ResultsFolder, read_manifest
from ..model.streams import ENGINE_REVISION, stable_key
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
    # The engine's revision too: blocks drawn by another revision must not be resumed into this run.
    data = {"spec": spec.model_dump(mode="json"), "base": scenario_data(base), "engine": ENGINE_REVISION}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _point_file(work: Path, index: int) -> Path:
    return work / "points" / f"point-{index:06d}.parquet"


def partial_folder(out: Path) -> Path:
    """The stable working folder of an unfinished sweep into ``out``: ``.NAME.partial`` next to it."""
    target = Path(os.path.abspath(out))
    return target.parent / f".{target.name}.partial"


def run_sweep(
    spec: SweepSpec,
    base: Scenario,
    backend: Backend,
    out: Path | None = None,
    resume: bool = False,
    progress: Callable[[int, int], None] | None = None,
    force: bool = False,
    finish: Callable[[SweepResult, Path], None] | None = None,
) -> SweepResult:
    """Run every point of ``spec`` on ``backend``; with ``out``, store and resume.

    With ``out``, finished points go to the working folder ``.OUT.partial/points`` (see
    :func:`partial_folder`), where ``resume`` finds them; at the end the points, ``sweep.json``,
    ``replications.parquet``, ``summary.parquet`` and whatever ``finish(result, folder)`` draws
    are written into ``out`` as one transaction (:class:`spamsim.folder.ResultsFolder`).

    Raises
    ------
    RefusedError
        If ``out`` holds other results (unless ``force``), another writer holds it, or an
        unfinished sweep waits in the working folder and neither ``resume`` nor ``force`` is given.
    """
    base = load(base, spec.set)
    points = spec.expand()
    check_points(base, points)
    check_sweep_feasible(spec, base, points, backend, out)
    if out is None:
        return _compute(spec, base, points, backend, {}, None, progress)
    digest = _spec_hash(spec, base)
    with ResultsFolder(out, Identity("sweep", digest, spec.seed, spec.name), force=force) as folder:
        work = partial_folder(folder.target)
        done = _open_work(work, Path(out), spec, digest, points, resume, force)
        if resume and not done:
            done = _adopt_finished(folder.target, Path(out), work, digest, spec, points)
        result = _compute(spec, base, points, backend, done, work, progress)
        _link_tree(work, folder.path)
        write_atomic(folder.path / "replications.parquet", lambda tmp: result.replications.to_parquet(tmp, index=False))
        write_atomic(folder.path / "summary.parquet", lambda tmp: result.summary.to_parquet(tmp, index=False))
        if finish is not None:
            finish(result, folder.path)
        folder.remove_after_commit(work)
        folder.commit()
    return result


def _open_work(
    work: Path, out: Path, spec: SweepSpec, digest: str, points: list[dict[str, Any]], resume: bool, force: bool
) -> dict[int, pd.DataFrame]:
    """Prepare the working folder (called with the lock held) and return the finished points it holds."""
    header = {"hash": digest, "spec": spec.model_dump(mode="json"), "points": points}

    def usable(key: str, frame: pd.DataFrame) -> int | None:
        index = int(key)
        ok = 0 <= index < len(points) and len(frame) == spec.reps and (frame["point"] == index).all()
        return index if ok else None

    return open_work(work, out, digest, header, usable, resume, force)


def open_work(
    work: Path,
    out: Path,
    digest: str,
    header: dict[str, Any],
    usable: Callable[[str, pd.DataFrame], Any],
    resume: bool,
    force: bool,
    kind: str = "sweep",
    unit: str = "point",
) -> dict[Any, pd.DataFrame]:
    """Prepare the working folder of a resumable run and return the finished pieces it holds.

    Shared by sweeps and explorations (:mod:`spamsim.runner.explore`): pieces are the files
    ``work/{unit}s/{unit}-KEY.parquet``; ``usable(KEY, frame)`` returns the piece's key, or
    None for a piece that must be computed again. ``header`` (with ``hash``: ``digest``) is
    written to ``work/{kind}.json`` and tells a resumed run whether the work is its own.
    Called with the results folder's lock held.
    """
    pieces = work / f"{unit}s"
    what = {"explore": "exploration"}.get(kind, kind)
    if work.exists():
        try:
            previous = json.loads((work / f"{kind}.json").read_text(encoding="utf-8")).get("hash")
        except (OSError, ValueError, AttributeError):
            previous = None
        finished = sorted(pieces.glob(f"{unit}-*.parquet"))
        if previous != digest and not force:
            raise RefusedError(
                f"{out} has an unfinished different {what} waiting in {work}; --force discards it, "
                "or pick another --out"
            )
        if previous == digest and finished and not resume and not force:
            raise RefusedError(
                f"{out} has an unfinished run of this {what} with {len(finished)} finished {unit}s (in {work}); "
                "add --resume to continue, or --force to start over"
            )
        if previous != digest or not resume:
            shutil.rmtree(work)
    if not work.exists():
        pieces.mkdir(parents=True)
        write_text_atomic(work / f"{kind}.json", json.dumps(header, indent=2) + "\n")
        return {}
    # Temporary files of a killed writer are never results (finished files are renamed into place).
    for stale in work.rglob(".*.tmp"):
        stale.unlink(missing_ok=True)
    done: dict[Any, pd.DataFrame] = {}
    for path in pieces.glob(f"{unit}-*.parquet"):
        try:
            frame = pd.read_parquet(path)
            key = usable(path.stem.split("-", 1)[1], frame)
        except Exception:  # noqa: BLE001 - any unreadable piece (0 bytes, corrupt) is simply computed again
            key = None
        if key is not None:
            done[key] = frame
        else:
            path.unlink(missing_ok=True)
    return done


def _adopt_finished(
    target: Path, out: Path, work: Path, digest: str, spec: SweepSpec, points: list[dict[str, Any]]
) -> dict[int, pd.DataFrame]:
    """On ``--resume`` with no unfinished work: the points of ``out`` if it holds this very sweep, checked."""
    if not adopt_finished(target, out, work, digest, "sweep", "point"):
        return {}
    return _open_work(work, out, spec, digest, points, resume=True, force=False)


def adopt_finished(target: Path, out: Path, work: Path, digest: str, kind: str, unit: str) -> bool:
    """On ``--resume`` with no unfinished work: link the pieces of ``out`` into ``work`` if ``out``
    holds this very run (same kind and digest); return whether it did.

    So resuming a finished run (``make figures`` does) recomputes nothing. ``out`` is read
    only through its manifest (:func:`spamsim.folder.read_manifest`): a changed file is refused.
    The caller then reopens ``work`` with :func:`open_work` (``resume=True``).
    """
    try:
        manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or manifest.get("kind") != kind or manifest.get("scenario_digest") != digest:
        return False
    read_manifest(out, kind)
    _link_tree(target / f"{unit}s", work / f"{unit}s")
    return True


def _compute(
    spec: SweepSpec,
    base: Scenario,
    points: list[dict[str, Any]],
    backend: Backend,
    done: dict[int, pd.DataFrame],
    work: Path | None,
    progress: Callable[[int, int], None] | None,
) -> SweepResult:
    todo = [i for i in range(len(points)) if i not in done]
    tasks = [
        (
            i,
            evaluate_point,
            (base, points[i], spec.reps, point_entropy(spec.seed, points[i], spec.common_random_numbers), spec.metrics),
        )
        for i in todo
    ]
    frames: dict[int, pd.DataFrame] = dict(done)
    if progress:
        progress(len(done), len(points))
    for index, frame in backend.run(tasks):
        frame = _label(frame, index, points[index])
        if work is not None:
            write_atomic(_point_file(work, index), lambda tmp, f=frame: f.to_parquet(tmp, index=False))
        frames[index] = frame
        if progress:
            progress(len(frames), len(points))
    replications = pd.concat([frames[i] for i in sorted(frames)], ignore_index=True)
    return SweepResult(spec, points, replications, computed=len(todo))


def _link_tree(source: Path, target: Path) -> None:
    """Hard-link (or copy) every file of ``source`` into ``target``: the working folder stays whole until the swap."""
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.endswith(".tmp"):
            continue
        dest = target / path.relative_to(source)
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, dest)
        except OSError:
            shutil.copy2(path, dest)


def _label(frame: pd.DataFrame, index: int, params: dict[str, Any]) -> pd.DataFrame:
    frame = frame.copy()
    frame.insert(0, "point", index)
    for j, (path, value) in enumerate(params.items()):
        frame.insert(1 + j, path, value if not isinstance(value, dict | list) else json.dumps(value))
    return frame
