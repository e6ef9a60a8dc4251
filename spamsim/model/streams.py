"""Random streams keyed by stable names: common random numbers by construction.

Every source of randomness in a world gets its own ``numpy.random.Generator``, keyed by

* the run's entropy (one ``SeedSequence`` per run),
* the replication block (fixed-size blocks, so results do not depend on worker count),
* a stable hash of the source's name (never Python's salted ``hash``) — names say the stage
  as well as the actor, e.g. ``route:botnet:overseas`` or ``receivers:own_server:corp``, and
* the ledger step, for per-step draws.

Switching a countermeasure on therefore changes only the draws of the stages it touches;
every other stage of every actor sees exactly the same numbers, which is what makes paired
comparisons of variants tight (Starsim does the same).

A stream's draws in step ``s`` start at position ``s * 2**64`` of its PCG64 sequence
(``advance``), a disjoint stretch for every step; several intervals within one step
continue the same stretch. Moving a generator there costs about a microsecond, where
deriving a fresh ``SeedSequence`` per stream and step would cost ten.
"""

from __future__ import annotations

import hashlib

import numpy as np

_STEP_STRIDE = 1 << 64

ENGINE_REVISION = 2
"""Revision of how the engine draws: raised whenever the same scenario and seed give other
numbers (an equally exact way of drawing, e.g. fewer draws for the same law). Resumable
sweeps and explorations hash it with their spec, so blocks drawn by different revisions are
never mixed in one results folder. 2 (2026-11-30): the botnet's population split by
conditional binomials, and a stopping conviction placed among all of its interval's
detections (a fix: it used to fall late)."""


def stable_key(name: str) -> tuple[int, int]:
    """Two 32-bit words from a BLAKE2 hash of ``name`` (same on every machine and run)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest[:4], "little"), int.from_bytes(digest[4:], "little")


class _Stream:
    __slots__ = ("generator", "origin", "step")

    def __init__(self, seq: np.random.SeedSequence):
        bitgen = np.random.PCG64(seq)
        self.origin = bitgen.state
        self.generator = np.random.Generator(bitgen)
        self.step = -1

    def at(self, step: int) -> np.random.Generator:
        if step != self.step:
            bitgen = self.generator.bit_generator
            bitgen.state = self.origin
            bitgen.advance((step + 1) * _STEP_STRIDE)
            self.step = step
        return self.generator


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
        self._streams: dict[str, _Stream] = {}

    def generator(self, name: str, step: int = -1) -> np.random.Generator:
        """The generator of source ``name`` positioned in ``step`` (``-1``: not tied to a step).

        Calls with the same name in the same step continue one stream; a call for a later
        step jumps to that step's stretch whatever was drawn before.
        """
        stream = self._streams.get(name)
        if stream is None:
            seq = np.random.SeedSequence(self.entropy, spawn_key=(self.block, *stable_key(name)))
            stream = self._streams[name] = _Stream(seq)
        return stream.at(step)

    def fresh(self, name: str) -> np.random.Generator:
        """The generator of ``name`` from the start of its sequence (parameter draws, which a
        scheduled event repeats and must get the same numbers)."""
        stream = self._streams.get(name)
        if stream is not None:
            stream.step = -2  # force the jump back to the start
        return self.generator(name)
