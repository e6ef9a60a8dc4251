"""Global sensitivity analysis with SALib: which uncertain parameter matters most?

The model is evaluated at SALib's sample points (each point: the mean of ``metric`` over
``reps`` replications, all points on common random numbers so that differences between
points reflect the parameters, not noise) through the same parallel backends as sweeps.

* ``sobol``: first-order (S1) and total-order (ST) indices with bootstrap confidence
  intervals (Saltelli sampling; ``n`` base samples, ``n * (d + 2)`` model runs).
* ``morris``: elementary effects, ``mu_star`` (importance, with CI) and ``sigma``
  (non-linearity / interactions); ``n`` trajectories, ``n * (d + 1)`` runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..runner.backends import Backend
from ..runner.replications import RefusedError
from ..runner.seeding import seed_sequence
from ..runner.sweep import SweepResult, run_sweep
from ..scenario.errors import Problem, ScenarioError
from ..scenario.loader import load
from ..scenario.schema import Scenario
from ..scenario.sweep import Design, SweepSpec

Method = Literal["sobol", "morris"]

_SALIB_STAGES = ("sample", "analyze")
"""The SALib calls of a sensitivity analysis, each seeded from its own child of the run's seed."""
_SALIB_SPAWN_KEY = 0x5A11B
"""Tags the children of the run's ``SeedSequence`` that seed SALib."""


def salib_seed(seed: int, stage: Literal["sample", "analyze"]) -> int:
    """A positive integer seed for one SALib call, derived from the run's ``seed``.

    SALib's Sobol analyser (checked in 1.6) seeds its bootstrap only ``if seed:``, so seed 0
    falls back to NumPy's global generator and the confidence intervals change on every call.
    Every seed, 0 included, is therefore turned into a child ``SeedSequence`` per stage and
    from that into a seed of at least 1.

    Parameters
    ----------
    seed
        The analysis's seed (any non-negative integer).
    stage
        ``sample`` or ``analyze``.

    Returns
    -------
    int
        A seed in ``[1, 2**32]``, the same for the same ``seed`` and ``stage``.
    """
    root = seed_sequence(seed)
    child = np.random.SeedSequence(root.entropy, spawn_key=(_SALIB_SPAWN_KEY, _SALIB_STAGES.index(stage)))
    return int(child.generate_state(1)[0]) + 1


@dataclass
class SensitivityResult:
    """Indices per parameter (``indices``) and the evaluated points (``sweep``)."""

    method: str
    metric: str
    indices: pd.DataFrame
    sweep: SweepResult

    def to_json(self) -> dict[str, Any]:
        rows = {}
        for name, row in self.indices.iterrows():
            rows[str(name)] = {k: (None if pd.isna(v) else float(v)) for k, v in row.items()}
        return {"method": self.method, "metric": self.metric, "runs": len(self.sweep.points), "indices": rows}


def parse_param(text: str) -> tuple[str, float, float]:
    """``PATH=LOW:HIGH`` → ``(path, low, high)``."""
    try:
        path, bounds = text.split("=", 1)
        low, high = (float(v) for v in bounds.split(":"))
    except ValueError:
        raise RefusedError(f"--param {text!r}: expected PATH=LOW:HIGH, e.g. market.success_rate=0.001:0.02") from None
    if not low < high:
        raise RefusedError(f"--param {text!r}: LOW must be below HIGH")
    return path.strip(), low, high


def check_params(base: Scenario, params: dict[str, tuple[float, float]]) -> None:
    """Refuse a parameter the scenario cannot take, once, in the user's own words.

    Each parameter is tried at both ends of its range before anything is sampled, so a
    typo is reported as the ``--param`` the user typed, not as hundreds of ``--set`` edits
    with sampled values they never wrote.

    Raises
    ------
    ScenarioError
        One problem per bad parameter, named ``--param PATH=LOW:HIGH``.
    """
    problems: list[Problem] = []
    for path, (low, high) in params.items():
        shown = f"--param {path}={low:g}:{high:g}"
        for value in (low, high):
            try:
                load(base, [f"{path}={value!r}"])
            except ScenarioError as exc:
                first = exc.problems[0]
                problems.append(Problem(shown, None, None, first.path, first.message))
                break
    if problems:
        raise ScenarioError(problems)


def sensitivity(
    scenario: Scenario | Any,
    params: dict[str, tuple[float, float]] | Iterable[str],
    metric: str = "net_profit",
    method: Method = "sobol",
    n: int = 64,
    reps: int = 20,
    seed: int = 0,
    backend: Backend | None = None,
    overrides: Iterable[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """Sobol or Morris indices of ``metric`` with respect to ``params``.

    Parameters
    ----------
    scenario
        Scenario, path or mapping.
    params
        ``{dotted.path: (low, high)}`` or ``["path=low:high", ...]``.
    metric
        A column of ``Result.replications`` (e.g. ``net_profit``, ``revenue``).
    method
        ``sobol`` or ``morris``.
    n
        Base samples (Sobol; a power of two) or trajectories (Morris).
    reps
        Replications per point.
    seed
        Seeds SALib's sampler and analyser (:func:`salib_seed`; every integer, 0 included,
        repeats exactly) and every point (common random numbers).
    backend
        Where points run (default: this process).

    Returns
    -------
    SensitivityResult
        ``indices``: one row per parameter with the indices and their 95 % CI bounds.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if not isinstance(params, dict):
        params = {p: (lo, hi) for p, lo, hi in map(parse_param, params)}
    if not params:
        raise RefusedError("give at least one --param PATH=LOW:HIGH")
    base = load(scenario, overrides)
    check_params(base, params)
    names = list(params)
    problem = {"num_vars": len(names), "names": names, "bounds": [list(params[p]) for p in names]}
    if method == "sobol":
        if n & (n - 1):
            raise RefusedError(f"--n {n}: Sobol sampling needs a power of two (e.g. 64, 128, 256)")
        x = sobol_sample.sample(problem, n, calc_second_order=False, seed=salib_seed(seed, "sample"))
    elif method == "morris":
        x = morris_sample.sample(problem, n, num_levels=4, seed=salib_seed(seed, "sample"))
    else:
        raise RefusedError(f"unknown method {method!r}; use sobol or morris")
    points = [{p: float(v) for p, v in zip(names, row, strict=True)} for row in x]
    spec = SweepSpec(
        name=f"{base.name}-{method}",
        base="-",
        design=Design(kind="points", points=points),
        reps=reps,
        seed=seed,
        metrics=[metric],
    )
    sweep = run_sweep(spec, base, backend or Backend(), progress=progress)
    y = sweep.replications.groupby("point", sort=True)[metric].mean().to_numpy(dtype=float)
    if method == "sobol":
        si = sobol_analyze.analyze(
            problem, y, calc_second_order=False, conf_level=0.95, seed=salib_seed(seed, "analyze")
        )
        frame = pd.DataFrame(
            {
                "S1": si["S1"],
                "S1_ci_low": si["S1"] - si["S1_conf"],
                "S1_ci_high": si["S1"] + si["S1_conf"],
                "ST": si["ST"],
                "ST_ci_low": si["ST"] - si["ST_conf"],
                "ST_ci_high": si["ST"] + si["ST_conf"],
            },
            index=pd.Index(names, name="parameter"),
        )
    else:
        si = morris_analyze.analyze(problem, x, y, conf_level=0.95, num_levels=4, seed=salib_seed(seed, "analyze"))
        mu_star = np.asarray(si["mu_star"], dtype=float)
        conf = np.asarray(si["mu_star_conf"], dtype=float)
        frame = pd.DataFrame(
            {
                "mu_star": mu_star,
                "mu_star_ci_low": mu_star - conf,
                "mu_star_ci_high": mu_star + conf,
                "sigma": np.asarray(si["sigma"], dtype=float),
                "mu": np.asarray(si["mu"], dtype=float),
            },
            index=pd.Index(names, name="parameter"),
        )
    return SensitivityResult(method, metric, frame, sweep)
