"""Random streams keyed by stable names: common random numbers by construction.

Every source of randomness in a world (a channel, the receivers of one spammer's mail,
enforcement, a parameter's draw) gets its own ``numpy.random.Generator`` derived from

* the run's entropy (one ``SeedSequence`` per run),
* the replication block (fixed-size blocks, so results do not depend on worker count),
* a stable hash of the source's name (never Python's salted ``hash``), and
* the step, for per-step draws.

Switching a countermeasure on therefore changes only the draws of the stages it touches;
every other actor sees exactly the same numbers, which is what makes paired comparisons of
variants tight (Starsim does the same; see ../shared/STYLE.md).
"""

from __future__ import annotations

import hashlib

import numpy as np


def stable_key(name: str) -> tuple[int, int]:
    """Two 32-bit words from a BLAKE2 hash of ``name`` (same on every machine and run)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:], "little")


class Streams:
    """Generators for one block of replications of one run.

    Parameters
    ----------
    entropy
        The run's seed entropy (``SeedSequence.entropy``).
    block
        Index of the replication block.
    """

    def __init__(self, entropy: int, block: int):
        self.entropy = entropy
        self.block = block
        self._cache: dict[tuple[str, int], np.random.Generator] = {}

    def generator(self, name: str, step: int = -1) -> np.random.Generator:
        """The generator of source ``name`` at ``step`` (``-1``: not tied to a step).

        Repeated calls with the same arguments return the same generator object, so several
        batches in one step continue one stream.
        """
        cached = self._cache.get((name, step))
        if cached is not None:
            return cached
        spawn_key = (self.block, *stable_key(name), step + 1)
        seq = np.random.SeedSequence(self.entropy, spawn_key=spawn_key)
        rng = np.random.Generator(np.random.PCG64(seq))
        self._cache[(name, step)] = rng
        return rng

    def forget_step(self, step: int) -> None:
        """Drop cached generators of ``step`` (called when the world moves past it)."""
        for key in [k for k in self._cache if k[1] == step]:
            del self._cache[key]
