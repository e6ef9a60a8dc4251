"""How many of ``n`` messages pass a stage: batched (binomial) or exact (one draw each).

Independent per-message Bernoulli trials with probability ``p`` sum to a
``Binomial(n, p)`` count, so the batched engine has exactly the distribution of a
per-message simulation while its cost does not depend on ``n``. The exact mode draws one
uniform per message and exists only so tests can prove that equivalence.
"""

from __future__ import annotations

import numpy as np

EXACT_MODE_MAX_MESSAGES = 50_000_000
"""Exact mode refuses runs that would draw more per-message variates than this."""


def binomial(rng: np.random.Generator, n: np.ndarray, p: np.ndarray | float, exact: bool = False) -> np.ndarray:
    """Number of successes out of ``n`` trials with probability ``p``, per replication.

    Parameters
    ----------
    rng
        The stage's generator.
    n
        Trials per replication (int64 array of shape ``(reps,)``).
    p
        Success probability: a scalar or an array of shape ``(reps,)``.
    exact
        Draw one uniform per message instead of one binomial per replication.
    """
    if not exact:
        if isinstance(p, float):  # the common case, without array overhead
            if p <= 0.0:  # numpy draws nothing for p = 0 either: the stream is left as it was
                return np.zeros(np.shape(n), np.int64)
            return rng.binomial(n, min(p, 1.0))  # type: ignore[no-any-return]
        # np.minimum/np.maximum give np.clip's values without its Python-level dispatch.
        return rng.binomial(n, np.minimum(np.maximum(p, 0.0), 1.0)).astype(np.int64, copy=False)  # type: ignore[no-any-return]
    p_arr = np.broadcast_to(np.clip(np.asarray(p, dtype=float), 0.0, 1.0), n.shape)
    out = np.empty(n.shape, dtype=np.int64)
    for i, (n_i, p_i) in enumerate(zip(n.tolist(), p_arr.tolist(), strict=True)):
        if n_i > EXACT_MODE_MAX_MESSAGES:
            # Checked up front from the scenario; this guards the rare draw beyond it.
            raise ExactModeTooLarge(
                f"exact mode drew a batch of {n_i:.3g} messages (limit {EXACT_MODE_MAX_MESSAGES:.3g}); "
                "use engine.mode: batched"
            )
        out[i] = int(np.count_nonzero(rng.random(n_i) < p_i))
    return out


def multinomial(rng: np.random.Generator, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Split ``n`` (``[rep]``) over categories with probabilities ``p`` (``[rep, k]``, rows summing to 1).

    One binomial per category but the last, each for what is left given the categories
    before it: the multinomial's law, drawn for all replications at once (numpy's
    ``multinomial`` checks and walks each row of probabilities on its own).
    """
    out = np.zeros((*n.shape, p.shape[-1]), dtype=np.int64)
    rest = np.asarray(n, dtype=np.int64)
    left = np.ones(p.shape[:-1])
    for j in range(p.shape[-1] - 1):
        share = np.divide(p[..., j], left, out=np.zeros_like(left), where=left > 0)
        out[..., j] = binomial(rng, rest, share)
        rest = rest - out[..., j]
        left = np.maximum(left - p[..., j], 0.0)
    out[..., -1] = rest
    return out


class ExactModeTooLarge(ValueError):
    """A batch too large to simulate one message at a time."""
