"""Replications: split into fixed-size blocks, run them (in parallel if asked), stitch them.

Blocks, not workers, are the unit of randomness: block ``b`` always draws from the streams
of block ``b`` (see :mod:`spamsim.model.streams`), so the same scenario and seed give
bit-identical numbers whether one process or many run the blocks.
"""

from __future__ import annotations


import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..model.ledger import Ledger
from ..model.sampling import EXACT_MODE_MAX_MESSAGES
from ..model.world import simulate_block
from ..scenario.schema import Scenario
from .seeding import SeedLike, entropy_of, seed_sequence

BLOCK_SIZE = 256
"""Replications simulated together in one vectorised world (and one random-stream block)."""

MAX_REPS = 10_000_000


class RefusedError(ValueError):
    """Work that would not finish in reasonable time or memory was refused up front."""


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


def check_feasible(scenario: Scenario, reps: int) -> None:
    """Refuse runs that could not finish, with an estimate of what they would take."""
    if not 1 <= reps <= MAX_REPS:
        raise RefusedError(f"reps must be between 1 and {MAX_REPS:,}, got {reps:,}")
    cells = scenario.n_steps * len(scenario.spammers) * reps
    if cells > 2e8:
        raise RefusedError(
            f"{scenario.n_steps:,} steps x {len(scenario.spammers)} spammers x {reps:,} "
            f"replications would need about {cells * 8 * 12 / 2**30:,.0f} GiB of ledger; "
            "use fewer replications or a coarser horizon.step_hours"
        )
    if scenario.engine.mode == "exact":
        messages = reps * sum(
            _mean_count(s.campaign.messages_per_send) * s.campaign.n_sends for s in scenario.spammers
        )
        if messages > EXACT_MODE_MAX_MESSAGES:
            seconds = messages / 5e7  # ~5e7 per-message draws per second on one core
            raise RefusedError(
                f"exact mode would draw about {messages:.3g} per-message variates "
                f"(~{seconds:,.0f} s); it exists to check the batched engine on small "
                "volumes — use engine.mode: batched"
            )


def _mean_count(value: object) -> float:
    expected = getattr(value, "expected", None)
    return float(expected()) if callable(expected) else float(value)  # type: ignore[arg-type]


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
    """
    check_feasible(scenario, reps)
    entropy = entropy_of(seed_sequence(seed))
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
            yield simulate_block(scenario, entropy, b, size)
            if progress:
                progress(size)
        return
    # forkserver: no fork of a process that may hold threads (BLAS, rich), no start-method
    # side effect at import time (a Mesa lesson, ../shared/STYLE.md).
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=min(workers, len(sizes)), mp_context=context) as pool:
        futures = [
            pool.submit(simulate_block, scenario, entropy, b, size) for b, size in enumerate(sizes)
        ]
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
            [lg.blocked_by.get(name, np.zeros((*shape, lg.size))) for lg in ledgers], axis=-1
        )
        for name in names
    }
    return out


__all__ = ["BLOCK_SIZE", "RefusedError", "Replications", "blocks", "check_feasible", "replicate", "stitch"]
