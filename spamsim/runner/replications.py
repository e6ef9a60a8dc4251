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

import numpy as np

from ..model.ledger import Ledger
from ..model.sampling import EXACT_MODE_MAX_MESSAGES, ExactModeTooLarge
from ..model.world import simulate_block
from ..scenario.schema import Scenario
from .backends import local_pool
from .errors import RefusedError
from .preflight import check_workers
from .seeding import SeedLike, entropy_of, seed_sequence

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


MAX_LEDGER_BYTES = 8 * 2**30
"""Largest ledger a run may allocate (the machines this runs on have tens of GiB)."""

MAX_MESSAGES_PER_STEP = 2**62
"""Counts are int64 inside a step; more messages than this in one step would overflow."""


def max_seconds() -> float:
    """Longest estimated run accepted (``SPAMSIM_MAX_SECONDS``, default one hour)."""
    try:
        return float(os.environ.get("SPAMSIM_MAX_SECONDS", "3600"))
    except ValueError:
        return 3600.0


def estimate(scenario: Scenario, reps: int) -> dict[str, float]:
    """Rough cost of a run: events, seconds (on one core of a 2020s CPU) and ledger bytes.

    The engine's cost is Python overhead per step and per event, not messages (see
    DESIGN.md, "Performance"); the constants were measured on the development machine.
    """
    blocks_ = math.ceil(reps / BLOCK_SIZE)
    channels = max(1, len(scenario.channels.names()))
    horizon_days = scenario.horizon_days
    sends = sum(min(s.campaign.n_sends, s.campaign.sends_per_day * horizon_days + 1) for s in scenario.spammers)
    adapts = sum(horizon_days / s.strategy.reaction_days for s in scenario.spammers if s.strategy.kind == "adaptive")
    antivirus = scenario.countermeasures.antivirus
    variants = (
        horizon_days / antivirus.new_variant_every_days * 2 if antivirus and antivirus.new_variant_every_days else 0
    )
    steps = scenario.n_steps
    events = sends + adapts + variants + steps
    per_step = 3e-4 + 5e-5 * len(scenario.spammers) * channels
    seconds = blocks_ * (steps * per_step + events * 2e-5)
    ledger = steps * len(scenario.spammers) * channels * reps * 8.0 * 20
    return {"events": events, "seconds": seconds, "ledger_bytes": ledger}


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
    cost = estimate(scenario, reps)
    if cost["ledger_bytes"] > MAX_LEDGER_BYTES:
        raise RefusedError(
            f"{scenario.n_steps:,} steps x {len(scenario.spammers)} spammers x {reps:,} "
            f"replications would need about {cost['ledger_bytes'] / 2**30:,.1f} GiB of ledger "
            f"(limit {MAX_LEDGER_BYTES / 2**30:.0f} GiB); use fewer replications or a coarser "
            "horizon.step_hours"
        )
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


__all__ = ["BLOCK_SIZE", "RefusedError", "Replications", "blocks", "check_feasible", "replicate", "stitch"]
