"""Closed forms for what happens between two events.

Between two consecutive events of the world (a send, a window closing, a step end, a variant
release, a reassessment, a scheduled event) every rate is constant or follows a known
exponential, so flows over the interval have closed forms. This module holds them; the
actors call them, and no actor integrates numerically or samples a rate at a step end.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np


def mean_decay(rate: np.ndarray | float, span: np.ndarray | float) -> np.ndarray:
    """Mean of ``exp(-rate * t)`` over ``t`` in ``[0, span]``: ``(1 - exp(-x)) / x`` with ``x = rate * span``.

    Equal to 1 for a zero span or a zero rate (the limit), and never divides by zero.
    """
    if isinstance(rate, float) and isinstance(span, float):  # the common case, without array overhead
        x = rate * span
        return 1.0 - x / 2.0 if abs(x) < 1e-8 else -np.expm1(-x) / x  # type: ignore[no-any-return]
    x = np.asarray(rate, dtype=float) * np.asarray(span, dtype=float)
    small = np.abs(x) < 1e-8
    return np.where(small, 1.0 - x / 2.0, -np.expm1(-x) / np.where(small, 1.0, x))


def mean_listed(listed_at_start: np.ndarray, delay_hours: float, offset: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Mean listed share over ``[offset, offset + span]`` hours after an interval's start.

    Each address still unlisted is listed after an exponential delay (mean ``delay_hours``),
    so the unlisted share decays as ``(1 - listed_at_start) * exp(-t / delay)``. A zero
    ``span`` (mail sent at one instant) gives the share at ``offset``.
    """
    rate = 1.0 / delay_hours
    unlisted = (1.0 - listed_at_start) * np.exp(-rate * offset) * mean_decay(rate, span)
    return 1.0 - unlisted


def split_capacity(demand: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Whole messages each sender gets through a shared pool: all if it fits, else in proportion.

    Parameters
    ----------
    demand
        Messages waiting per sender, ``[sender, rep]`` (int64).
    capacity
        Messages the pool can carry in the interval, ``[rep]``.
    """
    total = demand.sum(axis=0)
    # A capacity computed as a share of what is queued can fall short of it by a rounding error.
    short = total > capacity * (1.0 + 1e-12) + 1e-6
    if not np.count_nonzero(short):
        return demand.copy()
    scale = np.where(short, capacity / np.maximum(total, 1), 1.0)
    return np.minimum(np.floor(demand * scale[None, :]), demand).astype(np.int64)


def _key(array: np.ndarray) -> bytes:
    return np.ascontiguousarray(array, dtype=float).tobytes()


@lru_cache(maxsize=512)
def _ctmc(generator_bytes: bytes, k: int, hours: float) -> tuple[np.ndarray, np.ndarray]:
    q = np.frombuffer(generator_bytes, dtype=float).reshape(-1, k, k)
    # Van Loan (1978): expm([[Q, I], [0, 0]] t) holds expm(Q t) and its integral over [0, t].
    big = np.zeros((q.shape[0], 2 * k, 2 * k))
    big[:, :k, :k] = q * hours
    big[:, :k, k:] = np.eye(k) * hours
    from scipy.linalg import expm  # here: only botnet worlds need it, and it costs every command 0.15 s to import

    e = expm(big)
    transition = np.clip(e[:, :k, :k], 0.0, 1.0)
    transition /= transition.sum(axis=2, keepdims=True)
    return transition, e[:, :k, k:]


def ctmc(generator: np.ndarray, hours: float) -> tuple[np.ndarray, np.ndarray]:
    """Transition probabilities and expected occupation times of a continuous-time Markov chain.

    Parameters
    ----------
    generator
        Rate matrices per replication (``[rep, k, k]``, rows summing to zero; rates per hour),
        or one matrix (``[k, k]``) shared by all replications.
    hours
        Length of the interval.

    Returns
    -------
    transition, occupation
        ``transition[r, i, j]``: probability that a unit in state ``i`` at the interval's
        start is in ``j`` at its end. ``occupation[r, i, j]``: expected hours it spends in
        ``j`` during the interval. Both exact for constant rates (matrix exponential), so
        the result does not depend on how the time line is cut into intervals.
    """
    q = generator if generator.ndim == 3 else generator[None]
    k = q.shape[-1]
    return _ctmc(_key(q), k, float(hours))
