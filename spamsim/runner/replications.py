"""Replications: split into fixed-size blocks, run them (in parallel if asked), stitch them.

Blocks, not workers, are the unit of randomness: block ``b`` always draws from the streams
of block ``b`` (see :mod:`spamsim.model.streams`), so the same scenario and seed give
bit-identical numbers whether one process or many run the blocks.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..model.ledger import CHANNEL_METRICS, SPAMMER_METRICS, Ledger, blocking_order, world_metrics
from ..model.sampling import EXACT_MODE_MAX_MESSAGES, ExactModeTooLarge
from ..model.world import simulate_block
from ..scenario.schema import Scenario
from .backends import local_pool
from .errors import RefusedError
from .preflight import check_workers
from .seeding import SeedLike, entropy_of, seed_sequence

if TYPE_CHECKING:
    from ..scenario.sweep import SweepSpec
    from .backends import Backend

BLOCK_SIZE = 256
"""Replications simulated together in one vectorised world (and one random-stream block)."""

MAX_REPS = 10_000_000


@dataclass(frozen=True)
class Replications:
    """Raw output of a run: the scenario, how it was seeded, and the stitched ledger."""

    scenario: Scenario
    entropy: int
    reps: int
    ledger: Ledger


def blocks(reps: int) -> list[int]:
    """Sizes of the replication blocks for ``reps`` replications."""
    full, rest = divmod(reps, BLOCK_SIZE)
    return [BLOCK_SIZE] * full + ([rest] if rest else [])


MAX_MESSAGES_PER_STEP = 2**62
"""Counts are int64 inside a step; more messages than this in one step would overflow."""

SECONDS_PER_EVENT = 3.2e-4
"""CPU seconds a block of replications spends per event (a send, a step end, a reaction)."""

SECONDS_PER_EVENT_AND_ROUTE = 8e-5
"""Further CPU seconds per event and spammer x channel route (re-measured 2026-11-30 after the
engine's cheaper intervals, quiet machine, blocks of 256: japan-2011, 0.26 s for 339 events;
relay-prevention, 0.52 s for 1,389; spambot-era, 0.13 s for 317; smtp-auth 0.16 s for 337;
internet-scale 0.44 s for 1,449; the estimates are 0.97-1.33x those, lecture and open-relay-era included)."""

SECONDS_PER_REPLICATION_EVENT_ROUTE = 1.2e-7
"""CPU seconds each replication beyond :data:`BLOCK_SIZE` adds to one large block, per event
and route: its array work, the per-event overhead being paid once per block (measured:
japan-2011, 339 events x 8 routes, blocks of 16,384 replications, benchmarks/explore.py)."""

TABLE_OVERHEAD_BYTES = 40 * 2**20
"""Memory the first DataFrame/Parquet work of a run takes whatever its size (pyarrow's memory
pool and writer buffers, allocator arenas): measured, ~30-50 MiB above a baseline after imports."""

WORKER_BASELINE_BYTES = 200 * 2**20
"""Resident memory of one local worker process after importing spamsim (measured ~190 MiB)."""

REPLICATION_COLUMN_COPIES = 3
"""``Result.replications`` holds its columns three times while it is built: the dict of
per-metric arrays, the DataFrame made from it, and the column selection it returns."""

TIMESERIES_COPIES = 2
"""Copies of ``Result.timeseries`` alive at the peak of ``run --out``: the cached frame and the
Arrow table ``to_parquet`` converts it to (the frame's own building copies are freed first)."""


def max_seconds() -> float:
    """Longest estimated run accepted (``SPAMSIM_MAX_SECONDS``, default one hour)."""
    try:
        return float(os.environ.get("SPAMSIM_MAX_SECONDS", "3600"))
    except ValueError:
        return 3600.0


def available_memory() -> float | None:
    """Bytes of memory a run may use: ``SPAMSIM_MAX_MEMORY_GB`` if set, else what the machine
    has available now (``MemAvailable`` in /proc/meminfo, else free physical pages), else None."""
    override = os.environ.get("SPAMSIM_MAX_MEMORY_GB")
    if override:
        try:
            return float(override) * 2**30
        except ValueError:
            pass
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return float(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _blocking_present(scenario: Scenario) -> int:
    """Countermeasures of the scenario that can block messages (each one a ledger series)."""
    configured = set(scenario.countermeasures.names())
    return sum(1 for name in blocking_order() if name in configured)


def memory_estimate(scenario: Scenario, reps: int, workers: int = 1) -> dict[str, float]:
    """Peak resident memory of a run, in bytes, modelled from the arrays the code allocates.

    The estimate is of the peak resident memory *above the interpreter's baseline after
    imports* of ``spamsim run --out`` (the worst case of the CLI and of ``spamsim.run`` followed
    by ``save_run``): the larger of two phases.

    * Replicating: the block ledgers and the stitched ledger they are concatenated into
      (2 x ledger with more than one block; one block is returned as is).
    * Tables: the ledger, ``Result.replications`` while it is built, and ``Result.timeseries``
      with the Arrow table Parquet writing converts it to, plus a fixed overhead.

    With ``workers > 1`` each local worker process also holds its interpreter and one block
    ledger twice (the result and its pickle); that is ``workers_bytes``, and ``total_bytes``
    is what the machine needs.

    Returns
    -------
    dict
        ``ledger_bytes``, ``replications_bytes``, ``timeseries_bytes`` (one copy of each),
        ``peak_bytes`` (this process), ``workers_bytes`` and ``total_bytes``.
    """
    steps = scenario.n_steps
    spammers = len(scenario.spammers)
    channels = max(1, len(scenario.channels.names()))
    blocking = _blocking_present(scenario)
    flows_per_step = (len(CHANNEL_METRICS) + blocking) * spammers * channels
    per_rep = steps * 8.0 * (flows_per_step + len(SPAMMER_METRICS) * spammers + len(world_metrics()))
    ledger = per_rep * reps
    n_blocks = math.ceil(reps / BLOCK_SIZE)
    replicate_phase = ledger * (2 if n_blocks > 1 else 1)
    replication_columns = 21 + blocking
    replications = replication_columns * 8.0 * reps
    funnel_skip = 0 if scenario.market.funnel is not None else 2
    ts_columns = 5 + len(CHANNEL_METRICS) - funnel_skip + blocking  # rep, step, day, spammer, channel + flows
    timeseries = steps * spammers * channels * reps * ts_columns * 8.0
    tables_phase = (
        ledger + REPLICATION_COLUMN_COPIES * replications + TIMESERIES_COPIES * timeseries + TABLE_OVERHEAD_BYTES
    )
    peak = max(replicate_phase, tables_phase)
    in_workers = 0.0
    if workers > 1 and n_blocks > 1:
        block = per_rep * min(reps, BLOCK_SIZE)
        in_workers = min(workers, n_blocks) * (WORKER_BASELINE_BYTES + 2 * block)
    return {
        "ledger_bytes": ledger,
        "replications_bytes": replications,
        "timeseries_bytes": timeseries,
        "peak_bytes": peak,
        "workers_bytes": in_workers,
        "total_bytes": peak + in_workers,
    }


def estimate(scenario: Scenario, reps: int, workers: int = 1) -> dict[str, float]:
    """Rough cost of a run: events, seconds (on one core of a 2020s CPU) and memory bytes.

    The engine's cost is Python overhead per event (steps included), growing with the
    spammer x channel routes each event moves mail along, not with messages (see DESIGN.md,
    "Performance"). The constants are CPU seconds per block measured on the development
    machine with the event-exact engine: 0.97-1.33x for the shipped scenarios. The
    memory entries are those of
    :func:`memory_estimate`.
    """
    events, routes = _events_and_routes(scenario)
    seconds = math.ceil(reps / BLOCK_SIZE) * _block_overhead(events, routes)
    return {"events": events, "seconds": seconds, **memory_estimate(scenario, reps, workers)}


def block_seconds(scenario: Scenario, size: int) -> float:
    """Rough CPU seconds of one vectorised block of ``size`` replications (an exploration's task).

    A block of :data:`BLOCK_SIZE` costs what :func:`estimate` says; each further replication
    adds only its array work, :data:`SECONDS_PER_REPLICATION_EVENT_ROUTE` per event and route.
    """
    events, routes = _events_and_routes(scenario)
    return (
        _block_overhead(events, routes)
        + max(size - BLOCK_SIZE, 0) * events * routes * SECONDS_PER_REPLICATION_EVENT_ROUTE
    )


def _block_overhead(events: float, routes: int) -> float:
    """CPU seconds of one block of :data:`BLOCK_SIZE` replications: per event, more per route."""
    return events * (SECONDS_PER_EVENT + SECONDS_PER_EVENT_AND_ROUTE * routes)


def _events_and_routes(scenario: Scenario) -> tuple[float, int]:
    """Events of a run (sends, reactions, variant releases, step ends) and its spammer x channel routes."""
    channels = max(1, len(scenario.channels.names()))
    horizon_days = scenario.horizon_days
    sends = sum(min(s.campaign.n_sends, s.campaign.sends_per_day * horizon_days + 1) for s in scenario.spammers)
    adapts = sum(horizon_days / s.strategy.reaction_days for s in scenario.spammers if s.strategy.kind == "adaptive")
    antivirus = scenario.countermeasures.antivirus
    variants = (
        horizon_days / antivirus.new_variant_every_days * 2 if antivirus and antivirus.new_variant_every_days else 0
    )
    return sends + adapts + variants + scenario.n_steps, len(scenario.spammers) * channels


def _gib(n: float) -> str:
    return f"{n / 2**30:,.2f} GiB" if n < 10 * 2**30 else f"{n / 2**30:,.0f} GiB"


def check_memory(scenario: Scenario, reps: int, workers: int = 1) -> None:
    """Refuse a run whose estimated memory exceeds what this machine has available."""
    limit = available_memory()
    if limit is None:
        return  # nothing to compare with: the estimate is still reported by estimate()
    cost = memory_estimate(scenario, reps, workers)
    if cost["total_bytes"] <= limit:
        return
    parts = f"{_gib(cost['ledger_bytes'])} of ledger, {_gib(cost['timeseries_bytes'])} per copy of the timeseries table"
    if cost["workers_bytes"]:
        parts += f", {_gib(cost['workers_bytes'])} in {workers} worker processes"
    raise RefusedError(
        f"{scenario.n_steps:,} steps x {len(scenario.spammers)} spammers x {reps:,} replications would need about "
        f"{_gib(cost['total_bytes'])} of memory ({parts}); this machine has {_gib(limit)} available"
        f"{' (SPAMSIM_MAX_MEMORY_GB)' if os.environ.get('SPAMSIM_MAX_MEMORY_GB') else ''}; use fewer replications "
        "(--reps), a shorter horizon or a coarser horizon.step_hours"
        + (", or fewer --workers" if cost["workers_bytes"] else "")
    )


def check_reps(reps: object) -> None:
    """Refuse a replication count that is not a whole number in ``[1, MAX_REPS]``.

    Raises
    ------
    TypeError
        ``reps`` is not an integer (a float such as ``2.5`` or ``1e6``, or a bool).
    RefusedError
        ``reps`` is out of range.
    """
    if isinstance(reps, bool) or not isinstance(reps, numbers.Integral):
        raise TypeError(f"reps must be a whole number of replications (an int), got {reps!r} ({type(reps).__name__})")
    if not 1 <= reps <= MAX_REPS:
        raise RefusedError(f"reps must be between 1 and {MAX_REPS:,}, got {int(reps):,}")


def check_feasible(scenario: Scenario, reps: int, workers: int = 1) -> None:
    """Refuse runs that could not finish, with an estimate of what they would take."""
    check_reps(reps)
    # Memory first: it is a hard limit, where the time limit can be raised.
    check_memory(scenario, reps, workers)
    cost = estimate(scenario, reps, workers)
    if cost["seconds"] > max_seconds():
        raise RefusedError(
            f"this run would take about {_duration(cost['seconds'])} ({cost['events']:.3g} events "
            f"over {scenario.n_steps:,} steps x {math.ceil(reps / BLOCK_SIZE)} blocks); shorten the "
            "horizon, coarsen horizon.step_hours, send less often, or raise SPAMSIM_MAX_SECONDS"
        )
    step_days = scenario.horizon.step_hours / 24.0
    total = sum(_max_count(s.campaign.messages_per_send) * s.campaign.n_sends for s in scenario.spammers)
    if total > MAX_MESSAGES_PER_STEP:
        raise RefusedError(
            f"the campaigns could send {total:.3g} messages in one replication, beyond the "
            f"{MAX_MESSAGES_PER_STEP:.3g} the ledger counts exactly; send less or for fewer days"
        )
    for s in scenario.spammers:
        per_step = _max_count(s.campaign.messages_per_send) * max(1.0, s.campaign.sends_per_day * step_days + 1)
        if per_step > MAX_MESSAGES_PER_STEP:
            raise RefusedError(
                f"spammer {s.name!r} could send {per_step:.3g} messages in one step, beyond the "
                f"{MAX_MESSAGES_PER_STEP:.3g} the engine counts exactly; use a shorter step"
            )
    if scenario.engine.mode == "exact":
        # Per replication the volume can be far above its mean (a wide lognormal): use a
        # high quantile so that a rare huge draw cannot exhaust memory one message at a time.
        messages = reps * sum(_high_count(s.campaign.messages_per_send) * s.campaign.n_sends for s in scenario.spammers)
        if messages > EXACT_MODE_MAX_MESSAGES:
            seconds = messages / 5e7  # ~5e7 per-message draws per second on one core
            raise RefusedError(
                f"exact mode would draw about {messages:.3g} per-message variates "
                f"(~{_duration(seconds)}); it exists to check the batched engine on small "
                "volumes — use engine.mode: batched"
            )


SWEEP_SAMPLE_POINTS = 16
"""Points of a sweep whose scenarios are estimated (evenly spaced; the costliest counts for all)."""


def accept_long() -> bool:
    """Whether the user accepted a sweep estimated past :func:`max_seconds` (``SPAMSIM_ACCEPT_LONG=1``)."""
    return os.environ.get("SPAMSIM_ACCEPT_LONG", "").strip().lower() in ("1", "true", "yes")


def sweep_estimate(spec: SweepSpec, base: Scenario, points: list[dict[str, Any]], workers: int) -> dict[str, float]:
    """Total work of a sweep: seconds on ``workers`` parallel workers, and memory.

    Every point is replicated ``spec.reps`` times; the per-point cost is the largest estimate
    among up to :data:`SWEEP_SAMPLE_POINTS` evenly spaced points (a sweep over the horizon or
    the step makes some points much costlier than others).

    Returns
    -------
    dict
        ``points``, ``run_seconds`` (one point, one core), ``seconds`` (the whole sweep on
        ``workers``), ``point_bytes`` (peak of one point in its worker), ``frames_bytes``
        (the per-replication rows the main process gathers), ``workers``.
    """
    from ..scenario.loader import load  # the sweep layer's loader; runner.sweep imports this module
    from .sweep import point_overrides

    n = len(points)
    step = max(1, n // SWEEP_SAMPLE_POINTS)
    sample = [points[i] for i in range(0, n, step)][:SWEEP_SAMPLE_POINTS] or [{}]
    run_seconds = 0.0
    point_bytes = 0.0
    for params in sample:
        scenario = load(base, point_overrides(params)) if params else base
        cost = estimate(scenario, spec.reps)
        run_seconds = max(run_seconds, cost["seconds"])
        # A point builds the ledger and its replications frame, never the timeseries.
        ledger, replications = cost["ledger_bytes"], cost["replications_bytes"]
        blocks_ = math.ceil(spec.reps / BLOCK_SIZE)
        point_bytes = max(point_bytes, max(ledger * (2 if blocks_ > 1 else 1), ledger + 3 * replications))
    parallel = max(1, min(workers, n))
    columns = 2 + len(spec.metrics) + (len(points[0]) if points else 0)  # point, rep, params, metrics
    return {
        "points": float(n),
        "run_seconds": run_seconds,
        "seconds": math.ceil(n / parallel) * run_seconds,
        "point_bytes": point_bytes,
        # Frames per point, then pd.concat of them all (and its Parquet copy): ~3 copies.
        "frames_bytes": 3.0 * n * spec.reps * columns * 8.0,
        "workers": float(parallel),
    }


def check_sweep_feasible(
    spec: SweepSpec, base: Scenario, points: list[dict[str, Any]], backend: Backend, out: Path | None = None
) -> None:
    """Refuse a sweep that would run past :func:`max_seconds` or exhaust memory, before it starts.

    A sweep estimated to take longer than ``SPAMSIM_MAX_SECONDS`` (default one hour) on the
    backend's workers runs only with ``SPAMSIM_ACCEPT_LONG=1``. Memory is checked against
    :func:`available_memory` for the points in flight on local workers and the rows the main
    process gathers. Also tells a Dask backend what to say about saved points should every
    worker go away (:class:`~spamsim.runner.errors.WorkersLostError`).

    Raises
    ------
    RefusedError
        With the number of points, the replications and the estimated duration or memory.
    """
    workers = max(1, int(backend.workers))
    cost = sweep_estimate(spec, base, points, workers)
    n = len(points)
    if cost["seconds"] > max_seconds() and not accept_long():
        raise RefusedError(
            f"this sweep would run {n:,} points x {spec.reps:,} replications, about "
            f"{_duration(cost['seconds'])} on {int(cost['workers'])} worker{'s' if cost['workers'] != 1 else ''} "
            f"(~{_duration(cost['run_seconds'])} per point), beyond the {_duration(max_seconds())} limit "
            "(SPAMSIM_MAX_SECONDS); use fewer points or replications, more workers (a Dask cluster with "
            "--scheduler), or set SPAMSIM_ACCEPT_LONG=1 to run it anyway"
        )
    limit = available_memory()
    local = backend.name in ("inline", "local") or getattr(backend, "cluster", None) is not None
    in_flight = cost["point_bytes"] * (2 * workers if backend.name == "local" else workers) if local else 0.0
    if backend.name != "inline" and local:
        in_flight += workers * WORKER_BASELINE_BYTES
    needed = in_flight + cost["frames_bytes"]
    if limit is not None and needed > limit:
        raise RefusedError(
            f"this sweep of {n:,} points x {spec.reps:,} replications would need about {_gib(needed)} of memory "
            f"({_gib(cost['point_bytes'])} per point in each of {workers} workers, {_gib(cost['frames_bytes'])} "
            f"for the gathered rows); this machine has {_gib(limit)} available; use fewer replications or points, "
            "fewer --workers, or fewer metrics"
        )
    if hasattr(backend, "on_loss"):

        def on_loss(finished: int, submitted: int) -> str:
            # The backend is given only the points not yet saved (a resumed sweep skips the others).
            saved = n - submitted + finished
            where = f"are saved in {out}; rerun with --resume" if out is not None else "finished (no out folder)"
            return f"all Dask workers are gone; {saved} of {n} points {where}"

        backend.on_loss = on_loss


def _high_count(value: object) -> float:
    if isinstance(value, dict):  # a schedule: its largest value
        return max(float(v) for v in value.values())
    frozen = getattr(value, "frozen", None)
    if callable(frozen):
        return min(float(frozen().ppf(0.9999)), 1e15)
    return float(value)  # type: ignore[arg-type]


def _duration(seconds: float) -> str:
    for unit, size in (("years", 3.15e7), ("days", 86400.0), ("hours", 3600.0), ("minutes", 60.0)):
        if seconds >= size:
            return f"{seconds / size:,.1f} {unit}"
    return f"{seconds:.1f} s"


def _max_count(value: object) -> float:
    if isinstance(value, dict):  # a schedule: its largest value
        return max(float(v) for v in value.values())
    low_high = getattr(value, "support", None)
    if callable(low_high):
        return min(float(low_high()[1]), 1e15)
    return float(value)  # type: ignore[arg-type]


def _simulate(scenario: Scenario, entropy: int, block: int, size: int) -> Ledger:
    try:
        return simulate_block(scenario, entropy, block, size)
    except ExactModeTooLarge as exc:
        raise RefusedError(str(exc)) from None


def replicate(
    scenario: Scenario,
    reps: int = 1000,
    seed: SeedLike = None,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
) -> Replications:
    """Run ``reps`` replications of ``scenario``.

    Parameters
    ----------
    scenario
        A validated scenario.
    reps
        Number of replications.
    seed
        Integer seed, ``SeedSequence`` or ``None`` for fresh entropy.
    workers
        Local worker processes (1 runs in this process). Results do not depend on it.
    progress
        Called with the number of replications finished after each block.

    Raises
    ------
    TypeError, ValueError
        An argument of the wrong type or range (the message names it).
    RefusedError
        Work this machine could not do in reasonable time or memory.
    """
    check_reps(reps)
    check_workers(workers, cli=False)
    root = seed_sequence(seed)
    check_feasible(scenario, reps, workers)
    entropy = entropy_of(root)
    sizes = blocks(reps)
    ledgers = list(_run_blocks(scenario, entropy, sizes, workers, progress))
    return Replications(scenario, entropy, reps, stitch(ledgers))


def _run_blocks(
    scenario: Scenario,
    entropy: int,
    sizes: list[int],
    workers: int,
    progress: Callable[[int], None] | None,
) -> Iterator[Ledger]:
    if workers <= 1 or len(sizes) == 1:
        for b, size in enumerate(sizes):
            yield _simulate(scenario, entropy, b, size)
            if progress:
                progress(size)
        return
    with local_pool(min(workers, len(sizes))) as pool:
        futures = [pool.submit(_simulate, scenario, entropy, b, size) for b, size in enumerate(sizes)]
        for future, size in zip(futures, sizes, strict=True):
            yield future.result()
            if progress:
                progress(size)


def stitch(ledgers: list[Ledger]) -> Ledger:
    """Concatenate block ledgers along the replication axis (in block order)."""
    if len(ledgers) == 1:
        return ledgers[0]
    first = ledgers[0]
    out = Ledger.__new__(Ledger)
    out.n_steps, out.spammers, out.channels = first.n_steps, first.spammers, first.channels
    out.size = sum(ledger.size for ledger in ledgers)
    out.flows = {m: np.concatenate([lg.flows[m] for lg in ledgers], axis=-1) for m in first.flows}
    out.spammer = {m: np.concatenate([lg.spammer[m] for lg in ledgers], axis=-1) for m in first.spammer}
    out.world = {m: np.concatenate([lg.world[m] for lg in ledgers], axis=-1) for m in first.world}
    names = sorted({name for lg in ledgers for name in lg.blocked_by})
    shape = first.flows["attempted"].shape[:-1]
    out.blocked_by = {
        name: np.concatenate(
            [lg.blocked_by.get(name, np.zeros((*shape, lg.size), dtype=np.int64)) for lg in ledgers], axis=-1
        )
        for name in names
    }
    return out


__all__ = [
    "BLOCK_SIZE",
    "RefusedError",
    "Replications",
    "blocks",
    "check_feasible",
    "check_sweep_feasible",
    "estimate",
    "memory_estimate",
    "replicate",
    "stitch",
    "sweep_estimate",
]
