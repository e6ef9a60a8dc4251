"""Explorations: every world of a design under every portfolio, batched, paired, resumable.

One engine with :mod:`spamsim.runner.sweep`: the same backends (local processes, Dask), the
same resumable working folder (``.OUT.partial``, :func:`~spamsim.runner.sweep.open_work`)
and the same one-transaction results folder.

**Batching.** Worlds are grouped into blocks of :meth:`ExploreSpec.block_worlds` worlds;
a block runs as one vectorised world (:func:`spamsim.model.world.simulate_block`) of
``worlds x reps`` replications, each world's uncertain parameters assigned to its slice of
replications (``np.repeat``). Only parameters that accept a distribution can be assigned
that way; if any uncertainty is another kind of parameter (a duration, a count of
actors, a switch), every world runs alone (a block of one world) with its values as
``--set`` edits.

**Common random numbers.** Block ``g`` of every portfolio draws from the streams of block
``g`` of the exploration's seed, and world ``j`` of the block always uses the same slice, so
the same world under two portfolios sees the same random numbers wherever the portfolios do
not differ (a countermeasure's stream is only drawn where it acts). Blocks and slices are
fixed by the file, never by the worker count: results are identical on 1 or 20 workers.

**Outcomes** per world x portfolio: the mean and standard error over replications of each
spammer's net profit, revenue and messages delivered, of the social cost
(:mod:`spamsim.analysis.externality`: recipients' time, filtering, lost legitimate mail) and
the defenders' cost of the portfolio (:func:`spamsim.analysis.costs.defender_cost`, closed
form, the same in every world).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis.externality import SocialCost
from ..atomic import write_atomic
from ..folder import Identity, ResultsFolder
from ..model.ledger import Ledger
from ..model.sampling import ExactModeTooLarge
from ..model.streams import ENGINE_REVISION
from ..model.world import simulate_block
from ..scenario.distributions import _Dist
from ..scenario.errors import Problem, ScenarioError
from ..scenario.explore import ExploreSpec
from ..scenario.loader import load, scenario_data
from ..scenario.schema import Scenario
from .backends import Backend
from .errors import RefusedError
from .sweep import _link_tree, adopt_finished, open_work, partial_folder, point_overrides

SPAMMER_OUTCOMES = ("net_profit", "revenue", "delivered")
"""Per-spammer outcomes kept per world x portfolio (mean and standard error of each)."""


@dataclass(frozen=True)
class Plan:
    """What an exploration runs: worlds, portfolios (as scenarios) and how worlds are batched."""

    spec: ExploreSpec
    base: Scenario
    worlds: list[dict[str, float]]
    portfolios: dict[str, Scenario]
    stream_paths: dict[str, str]
    """Dotted path -> stream path of the uncertainties assigned per replication (batched)."""
    per_world: list[str]
    """Uncertainties that cannot be batched (set world by world)."""
    block_worlds: int
    defender_costs: dict[str, float]

    @property
    def n_blocks(self) -> int:
        return math.ceil(len(self.worlds) / self.block_worlds)


def _problem(path: str, message: str) -> ScenarioError:
    return ScenarioError([Problem("<explore>", None, None, f"uncertainties.{path}", message)])


def _stream_path(scenario: Scenario, dotted: str) -> tuple[str, Any]:
    """The stream path (list items by name) of a dotted override path, and the value there."""
    node: Any = scenario
    parts: list[str] = []
    for part in dotted.split("."):
        if isinstance(node, list):
            item = node[int(part)]
            name = getattr(item, "name", None)
            parts.append(str(name) if isinstance(name, str) else part)
            node = item
        elif isinstance(node, dict):
            node = node[part]
            parts.append(part)
        else:
            node = getattr(node, part)
            parts.append(part)
    return ".".join(parts), node


def _classify(base: Scenario, path: str, low: float, high: float) -> tuple[str | None, bool]:
    """Check an uncertainty's path and range on the base; return its stream path if it can be
    batched (the field accepts a distribution) and whether its values must be whole numbers."""
    for value in (low, high):
        try:
            load(base, point_overrides({path: value}))
        except ScenarioError as exc:
            raise ScenarioError(
                [Problem("<explore>", None, None, f"uncertainties.{path}", p.message) for p in exc.problems]
            ) from None
    if high <= low:
        return None, False
    try:
        probe = load(base, point_overrides({path: {"dist": "uniform", "low": low, "high": high}}))
    except ScenarioError:
        return None, False  # no distribution accepted here: a duration, a count of actors, a switch
    stream, node = _stream_path(probe, path)
    if not isinstance(node, _Dist):  # pragma: no cover - a field that accepted a dist holds one
        return None, False
    return stream, bool(node._integer)


def plan(spec: ExploreSpec, base: Scenario) -> Plan:
    """Check an exploration against its base scenario and lay out its worlds and portfolios.

    Raises
    ------
    ScenarioError
        An uncertainty's path or range, or a portfolio's edit, that the base does not accept.
    """
    base = load(base, spec.set)
    stream_paths: dict[str, str] = {}
    per_world: list[str] = []
    integer: set[str] = set()
    for path, rng in spec.uncertainties.items():
        stream, whole = _classify(base, path, rng.low, rng.high)
        if stream is None:
            per_world.append(path)
        else:
            stream_paths[path] = stream
        if whole:
            integer.add(path)
    worlds = spec.expand()
    if integer:
        worlds = [{k: float(round(v)) if k in integer else v for k, v in w.items()} for w in worlds]
    portfolios: dict[str, Scenario] = {}
    problems: list[Problem] = []
    for name, edits in spec.portfolios().items():
        try:
            portfolios[name] = load(base, edits)
        except ScenarioError as exc:
            problems.extend(Problem("<explore>", None, None, f"levers.{name}", p.message) for p in exc.problems)
    if problems:
        raise ScenarioError(problems)
    from .replications import memory_estimate

    # An exploration's ledger keeps one row of totals, not one per step (``totals_only``).
    per_rep = memory_estimate(base, 1)["ledger_bytes"] / base.n_steps
    block_worlds = 1 if per_world else spec.block_worlds(per_rep)
    costs = {name: defenders_cost(sc) for name, sc in portfolios.items()}
    return Plan(spec, base, worlds, portfolios, stream_paths, per_world, block_worlds, costs)


def defenders_cost(scenario: Scenario) -> float:
    """The defenders' cost of ``scenario``'s countermeasures over its horizon (NaN until
    :mod:`spamsim.analysis.costs` is available)."""
    try:
        from ..analysis.costs import defender_cost
    except ImportError:
        return math.nan
    return float(defender_cost(scenario).total)


def evaluate_block(
    scenario: Scenario,
    entropy: int,
    block: int,
    worlds: list[dict[str, float]],
    stream_paths: Mapping[str, str],
    reps: int,
) -> pd.DataFrame:
    """Run one block of worlds under one portfolio; one row per world with means and SEs.

    Parameters
    ----------
    scenario
        The portfolio's scenario; uncertainties not in ``stream_paths`` are set on it here
        (the block then holds one world).
    entropy, block
        The exploration's seed and this block's index: its random streams.
    worlds
        The block's worlds (dotted path -> value).
    stream_paths
        Uncertainties assigned per replication, dotted path -> stream path.
    reps
        Replications per world.
    """
    rest = {p: v for p, v in worlds[0].items() if p not in stream_paths}
    if rest:
        scenario = load(scenario, point_overrides(rest))
    assigned = {
        stream: np.repeat(np.array([w[path] for w in worlds], dtype=float), reps)
        for path, stream in stream_paths.items()
    }
    try:
        ledger = simulate_block(scenario, entropy, block, len(worlds) * reps, assigned or None, totals_only=True)
    except ExactModeTooLarge as exc:
        raise RefusedError(str(exc)) from None
    per_rep = replication_outcomes(ledger, scenario)
    rows = []
    for j in range(len(worlds)):
        part = {k: v[j * reps : (j + 1) * reps] for k, v in per_rep.items()}
        row: dict[str, Any] = {"slot": j}
        for name, values in part.items():
            row[f"{name}.mean"] = float(values.mean())
            row[f"{name}.se"] = float(values.std(ddof=1) / math.sqrt(reps))
        rows.append(row)
    return pd.DataFrame(rows)


def replication_outcomes(ledger: Ledger, scenario: Scenario) -> dict[str, np.ndarray]:
    """Per replication: each spammer's net profit, revenue and delivered mail, and the social cost.

    Net profit is revenue minus every cost and fine, as in
    :attr:`spamsim.analysis.result.Result.by_spammer`; the social cost is the externality's
    three terms at the currency's default unit costs (NaN for a currency without defaults).
    """
    flows = {m: ledger.flows[m].sum(axis=(0, 2)) for m in ("revenue", "message_cost", "channel_cost", "delivered")}
    sp = {m: ledger.spammer[m].sum(axis=0) for m in ("send_cost", "fixed_cost", "fines")}
    cost = flows["message_cost"] + flows["channel_cost"] + sp["send_cost"] + sp["fixed_cost"]
    net = flows["revenue"] - cost - sp["fines"]
    out: dict[str, np.ndarray] = {}
    for s, name in enumerate(ledger.spammers):
        out[f"{name}.net_profit"] = net[s].astype(float)
        out[f"{name}.revenue"] = flows["revenue"][s].astype(float)
        out[f"{name}.delivered"] = flows["delivered"][s].astype(float)
    social = SocialCost.for_currency(scenario.market.currency)
    inbox = ledger.flows["inbox"].sum(axis=(0, 1, 2)).astype(float)
    arriving = ledger.flows["arriving"].sum(axis=(0, 1, 2)).astype(float)
    lost = ledger.world["legit_lost"].sum(axis=0).astype(float)
    out["social_cost"] = (
        inbox * social.time_cost_per_inbox_spam
        + arriving * social.filtering_cost_per_spam
        + lost * social.value_of_lost_legit_mail
    )
    return out


@dataclass
class ExploreResult:
    """A finished exploration: one row per world x portfolio (``outcomes``) and the design."""

    spec: ExploreSpec
    worlds: pd.DataFrame
    outcomes: pd.DataFrame
    spammers: list[str]
    defender_costs: dict[str, float]
    currency: str
    computed: int
    """Blocks computed in this call (the others were read from a previous run)."""

    @property
    def portfolios(self) -> list[str]:
        return list(self.defender_costs)

    def net_profit_means(self) -> pd.DataFrame:
        """Expected net profit of each spammer: rows world x portfolio, one column per spammer."""
        frame = self.outcomes.set_index(["world", "portfolio"])
        return frame[[f"{s}.net_profit.mean" for s in self.spammers]].rename(
            columns=lambda c: c.removesuffix(".net_profit.mean")
        )


def _digest(spec: ExploreSpec, base: Scenario, block_worlds: int) -> str:
    # The engine's revision and the block layout too: a block is only resumed into a run
    # that would have drawn exactly it.
    data = {
        "spec": spec.model_dump(mode="json"),
        "base": scenario_data(base),
        "engine": ENGINE_REVISION,
        "block_worlds": block_worlds,
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _key(block: int, portfolio: int) -> str:
    return f"{block:06d}_{portfolio:03d}"


def run_explore(
    spec: ExploreSpec,
    base: Scenario,
    backend: Backend,
    out: Path | None = None,
    resume: bool = False,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
    finish: Callable[[ExploreResult, Path], None] | None = None,
) -> ExploreResult:
    """Run every world of ``spec`` under every portfolio on ``backend``; with ``out``, store and resume.

    Finished blocks go to ``.OUT.partial/blocks/block-GGGGGG_PPP.parquet`` where ``resume``
    finds them; at the end ``worlds.parquet``, ``outcomes.parquet`` and whatever ``finish``
    writes go into ``out`` as one transaction, as for sweeps.

    Raises
    ------
    ScenarioError
        The exploration does not fit its base scenario.
    RefusedError
        As :func:`spamsim.runner.sweep.run_sweep` (``out`` holds other results, unfinished work waits).
    """
    laid = plan(spec, base)
    check_explore_feasible(laid, backend)
    if out is None:
        return _compute(laid, backend, {}, None, progress)
    digest = _digest(spec, laid.base, laid.block_worlds)
    names = list(laid.portfolios)
    with ResultsFolder(out, Identity("explore", digest, spec.seed, spec.name), force=force) as folder:
        work = partial_folder(folder.target)
        header = {"hash": digest, "spec": spec.model_dump(mode="json")}

        def usable(key: str, frame: pd.DataFrame) -> tuple[int, int] | None:
            g, p = (int(x) for x in key.split("_"))
            expected = len(laid.worlds[g * laid.block_worlds : (g + 1) * laid.block_worlds])
            return (g, p) if 0 <= p < len(names) and expected and len(frame) == expected else None

        done = open_work(work, Path(out), digest, header, usable, resume, force, kind="explore", unit="block")
        if resume and not done and adopt_finished(folder.target, Path(out), work, digest, "explore", "block"):
            done = open_work(work, Path(out), digest, header, usable, True, False, kind="explore", unit="block")
        result = _compute(laid, backend, done, work, progress)
        _link_tree(work, folder.path)
        write_atomic(folder.path / "worlds.parquet", lambda tmp: result.worlds.to_parquet(tmp, index=False))
        write_atomic(folder.path / "outcomes.parquet", lambda tmp: result.outcomes.to_parquet(tmp, index=False))
        if finish is not None:
            finish(result, folder.path)
        folder.remove_after_commit(work)
        folder.commit()
    return result


def check_explore_feasible(laid: Plan, backend: Backend) -> None:
    """Refuse, before it starts, an exploration estimated to run past ``SPAMSIM_MAX_SECONDS``.

    As for sweeps (:func:`~spamsim.runner.replications.check_sweep_feasible`): every block of
    worlds under every portfolio is one task of ``block_worlds x reps`` replications, costed
    with :func:`~spamsim.runner.replications.estimate` on the costliest portfolio; the tasks
    share the backend's workers. ``SPAMSIM_ACCEPT_LONG=1`` runs it anyway. A task is costed
    by :func:`~spamsim.runner.replications.block_seconds` (a block's per-event overhead once,
    then each replication's array work), on the costliest portfolio; the message says "up to".

    Raises
    ------
    RefusedError
        With the worlds, portfolios, replications and the estimated duration.
    """
    from .replications import _duration, accept_long, block_seconds, max_seconds

    tasks = laid.n_blocks * len(laid.portfolios)
    workers = max(1, min(int(backend.workers), tasks))
    per_task = max(block_seconds(s, laid.block_worlds * laid.spec.reps) for s in laid.portfolios.values())
    seconds = math.ceil(tasks / workers) * per_task
    if seconds > max_seconds() and not accept_long():
        raise RefusedError(
            f"this exploration would run {len(laid.worlds):,} worlds x {len(laid.portfolios)} portfolios x "
            f"{laid.spec.reps:,} replications, up to about {_duration(seconds)} on {workers} "
            f"worker{'s' if workers != 1 else ''}, beyond the {_duration(max_seconds())} limit (SPAMSIM_MAX_SECONDS); "
            "use fewer worlds or replications, more workers (a Dask cluster with --scheduler), or set "
            "SPAMSIM_ACCEPT_LONG=1 to run it anyway"
        )


def _compute(
    laid: Plan,
    backend: Backend,
    done: dict[tuple[int, int], pd.DataFrame],
    work: Path | None,
    progress: Callable[[int, int], None] | None,
) -> ExploreResult:
    spec, bw = laid.spec, laid.block_worlds
    names = list(laid.portfolios)
    keys = [(g, p) for g in range(laid.n_blocks) for p in range(len(names))]
    tasks = [
        (
            (g, p),
            evaluate_block,
            (
                laid.portfolios[names[p]],
                spec.seed,
                g,
                laid.worlds[g * bw : (g + 1) * bw],
                laid.stream_paths,
                spec.reps,
            ),
        )
        for g, p in keys
        if (g, p) not in done
    ]
    frames = dict(done)
    if progress:
        progress(len(frames), len(keys))
    for (g, p), frame in backend.run(tasks):
        frame = frame.copy()
        frame.insert(0, "world", g * bw + frame.pop("slot"))
        frame.insert(1, "portfolio", names[p])
        if work is not None:
            write_atomic(
                work / "blocks" / f"block-{_key(g, p)}.parquet", lambda tmp, f=frame: f.to_parquet(tmp, index=False)
            )
        frames[(g, p)] = frame
        if progress:
            progress(len(frames), len(keys))
    outcomes = pd.concat([frames[k] for k in keys], ignore_index=True)
    outcomes["portfolio"] = pd.Categorical(outcomes["portfolio"], categories=names)
    outcomes = outcomes.sort_values(["world", "portfolio"], kind="stable").reset_index(drop=True)
    outcomes["portfolio"] = outcomes["portfolio"].astype(str)
    outcomes["defender_cost"] = outcomes["portfolio"].map(laid.defender_costs).astype(float)
    worlds = pd.DataFrame(laid.worlds)
    worlds.insert(0, "world", range(len(laid.worlds)))
    spammers = [s.name for s in laid.base.spammers]
    return ExploreResult(
        spec, worlds, outcomes, spammers, dict(laid.defender_costs), laid.base.market.currency, computed=len(tasks)
    )
