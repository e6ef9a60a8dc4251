"""The Python API for notebooks and scripts: ``load`` a scenario, ``run`` it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis.result import Result
from .runner.backends import make_backend
from .runner.preflight import preflight
from .runner.replications import replicate
from .runner.seeding import SeedLike
from .scenario.loader import load
from .scenario.schema import Scenario

if TYPE_CHECKING:
    from .exploration import Exploration
    from .runner.sweep import SweepResult


def check_overrides(overrides: object) -> list[str]:
    """``overrides`` as a list, refusing a single string (it would be split per character).

    Raises
    ------
    TypeError
        ``overrides`` is a string, not iterable, or holds something other than strings.
    """
    if isinstance(overrides, str | bytes):
        raise TypeError(
            f"overrides must be a list of 'dotted.path=value' strings, got the single string {overrides!r}; "
            f"write overrides=[{overrides!r}]"
        )
    if not isinstance(overrides, Iterable):
        raise TypeError(f"overrides must be a list of 'dotted.path=value' strings, got {overrides!r}")
    items = list(overrides)
    wrong = [item for item in items if not isinstance(item, str)]
    if wrong:
        raise TypeError(
            f"overrides must hold 'dotted.path=value' strings, got {wrong[0]!r} ({type(wrong[0]).__name__})"
        )
    return items


def run(
    scenario: Scenario | str | os.PathLike[str] | Mapping[str, Any],
    reps: int = 1000,
    seed: SeedLike = None,
    workers: int = 1,
    overrides: Iterable[str] = (),
    progress: Callable[[int], None] | None = None,
) -> Result:
    """Run a scenario for ``reps`` replications.

    Parameters
    ----------
    scenario
        A :class:`Scenario`, a path to a scenario YAML file, or a mapping.
    reps
        Number of Monte Carlo replications.
    seed
        Integer seed for an exactly repeatable run; ``None`` draws fresh entropy, reported
        as ``Result.entropy``.
    workers
        Local worker processes, at most the cores this machine gives the process. The
        numbers do not depend on it.
    overrides
        ``dotted.path=value`` edits, as with ``spamsim run --set``.
    progress
        Called with the number of replications finished as blocks complete.

    Returns
    -------
    Result
        With ``.summary``, ``.replications`` and ``.timeseries`` DataFrames.

    Raises
    ------
    TypeError, ValueError
        An argument of the wrong type or range (``reps=2.5``, ``workers=0``,
        ``overrides="a=b"``); the message names it.
    spamsim.runner.RefusedError
        Work this machine could not do in reasonable time or memory (a ``ValueError``).

    Examples
    --------
    >>> import spamsim as ss
    >>> res = ss.run("scenarios/lecture.yaml", reps=200, seed=1)
    >>> round(res.summary.loc["revenue", "mean"], -5)
    5000000.0
    """
    loaded = load(scenario, check_overrides(overrides))
    return Result(replicate(loaded, reps=reps, seed=seed, workers=workers, progress=progress))


def sweep(
    file: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    workers: int | None = 1,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    force: bool = False,
) -> SweepResult:
    """Run a sweep file (see :mod:`spamsim.scenario.sweep`) and return its results.

    Parameters
    ----------
    file
        Sweep YAML file.
    out
        Results folder (written whole when the sweep is done, with ``manifest.json``); None
        keeps the results in memory only.
    workers, backend, scheduler
        Where points run: local processes (default 1: this process), ``backend="dask"``
        for a LocalCluster, or ``scheduler="tcp://host:port"`` for an existing cluster.
    resume
        Continue an interrupted sweep in ``out`` (its points wait in ``.OUT.partial`` next to it).
    force
        Replace ``out`` if it holds other spamsim results, and discard an unfinished sweep
        waiting there; ``out`` is always written whole, as one transaction.

    Returns
    -------
    SweepResult
        ``.replications`` (one row per point x replication) and ``.summary`` (per point).
    """
    preflight(workers, backend, scheduler, cli=False)
    from .runner.sweep import run_sweep
    from .scenario.sweep import load_sweep

    spec, base_path = load_sweep(file)
    with make_backend(workers, backend, scheduler) as engine:
        return run_sweep(spec, load(base_path), engine, Path(out) if out is not None else None, resume, force=force)


def explore(
    file: str | os.PathLike[str],
    out: str | os.PathLike[str] | None = None,
    workers: int | None = 1,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    force: bool = False,
    portfolio: str | None = None,
    discover: bool = True,
) -> Exploration:
    """Run an exploration file (see :mod:`spamsim.scenario.explore`): robust portfolios and where spam still pays.

    Parameters
    ----------
    file
        Exploration YAML file.
    out
        Results folder (outcomes, robustness table, PRIM/CART boxes, figures; written whole);
        None keeps the results in memory only.
    workers, backend, scheduler, resume, force
        As for :func:`sweep`: the same engine runs both.
    portfolio
        The portfolio whose profitable worlds PRIM and CART describe (default: the most
        robust portfolio that some world still defeats).
    discover
        Run PRIM and CART (needs ``pip install 'spamsim[explore]'``).

    Returns
    -------
    Exploration
        ``.robustness`` (per portfolio), ``.boxes`` (PRIM), ``.cart``, and ``.result.outcomes``
        (one row per world x portfolio).
    """
    preflight(workers, backend, scheduler, cli=False)
    from .exploration import explore as run_exploration
    from .scenario.explore import load_explore

    spec, base_path = load_explore(file)
    with make_backend(workers, backend, scheduler) as engine:
        return run_exploration(
            spec,
            load(base_path),
            engine,
            Path(out) if out is not None else None,
            resume=resume,
            force=force,
            portfolio=portfolio,
            discover=discover,
        )
