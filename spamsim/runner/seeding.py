"""One helper turns any seed into the run's ``SeedSequence``; nothing uses global random state."""

from __future__ import annotations

import numpy as np

SeedLike = int | np.random.SeedSequence | None


def seed_sequence(seed: SeedLike) -> np.random.SeedSequence:
    """The run's root ``SeedSequence``.

    ``None`` draws fresh entropy from the operating system; the entropy is reported with the
    results (``Result.entropy``), so such a run can be repeated exactly with ``seed=entropy``.
    """
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    return np.random.SeedSequence(None if seed is None else int(seed))


def entropy_of(seq: np.random.SeedSequence) -> int:
    """The integer entropy of a root ``SeedSequence`` (what to pass as ``seed`` to repeat a run)."""
    entropy = seq.entropy
    if isinstance(entropy, int):
        return entropy
    # A sequence of words: fold it into one integer, the same way SeedSequence reads it.
    value = 0
    for word in reversed(list(entropy)):  # type: ignore[arg-type]
        value = (value << 32) | int(word)
    return value
