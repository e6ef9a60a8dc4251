"""Means with confidence intervals over replications.

Most metrics get the Student-t interval of the mean. Counts of events that can be rare
(convictions, quits, ...) get intervals that do not collapse when every replication looks
the same: the Wilson score interval when each replication saw the event at most once, and an
exact upper bound when no replication saw it at all (``0 [0, 0]`` would claim certainty that
200 replications cannot give).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

# scipy.special's quantile functions rather than scipy.stats: the same numbers (stats' t,
# chi2 and norm call these), without half a second of scipy.stats import in every command.

CONFIDENCE = 0.95

CI_T = "t"
"""``ci_method`` of a Student-t interval of the mean (clipped at 0 for metrics that cannot be negative)."""
CI_WILSON = "wilson"
"""``ci_method`` of a Wilson score interval: every replication saw the event once or not at all."""
CI_ZERO_EVENTS = "zero-events upper bound"
"""``ci_method`` of ``[0, upper bound]``: no replication saw the event."""


def mean_ci(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, float, float]:
    """Mean, standard error and the two-sided Student-t confidence interval of ``values``.

    With one replication the standard error and the interval are NaN (nothing to estimate
    them from); with identical values the interval collapses onto the mean.
    """
    x = np.asarray(values, dtype=float)
    n = x.size
    mean = float(x.mean()) if n else math.nan
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    se = float(x.std(ddof=1)) / math.sqrt(n)
    if se == 0.0:
        return mean, 0.0, mean, mean
    half = float(special.stdtrit(n - 1, 0.5 + confidence / 2)) * se
    return mean, se, mean - half, mean + half


def wilson_ci(events: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval of a share: ``events`` replications with the event out of ``n``.

    Unlike the t-interval it stays inside [0, 1] and does not collapse when ``events`` is 0
    or ``n`` (Wilson 1927, JASA 22:209; recommended for small counts by Brown, Cai and
    DasGupta 2001, Statistical Science 16:101).

    Parameters
    ----------
    events
        Replications in which the event happened.
    n
        Replications (at least 1).
    confidence
        Two-sided confidence level.

    Returns
    -------
    tuple[float, float]
        Lower and upper bound of the share.
    """
    # Wilson's closed form (no continuity correction), as scipy.stats.binomtest(...)
    # .proportion_ci(method="wilson") computes it; tests/test_statistics.py holds the two equal.
    z = float(special.ndtri(0.5 + confidence / 2))
    share = events / n
    denominator = 1.0 + z * z / n
    centre = (share + z * z / (2 * n)) / denominator
    half = z * math.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def zero_events_upper_bound(n: int, confidence: float = CONFIDENCE) -> float:
    """Upper end of the exact confidence interval of a mean count when all ``n`` counts are 0.

    The exact (Garwood 1936, Biometrika 28:437) Poisson interval for 0 events in ``n``
    replications is ``[0, -ln((1 - confidence) / 2) / n]``: 3.69 / n at 95 %, 0.0184 for
    n = 200. It is the two-sided form of the "rule of three" (Hanley and Lippman-Hand 1983,
    JAMA 249:1743), and it also bounds a share of replications with the event (the exact
    binomial bound ``1 - 0.025 ** (1 / n)`` is a little smaller: 0.0183 for n = 200).

    Parameters
    ----------
    n
        Replications (at least 1).
    confidence
        Two-sided confidence level.

    Returns
    -------
    float
        The upper bound of the mean count per replication.
    """
    return float(special.chdtri(2, 0.5 - confidence / 2)) / (2 * n)


def event_ci(values: np.ndarray, confidence: float = CONFIDENCE) -> tuple[float, float, str] | None:
    """An interval for the mean of per-replication event counts that does not collapse, if one is due.

    Parameters
    ----------
    values
        The count of one kind of event in each replication.
    confidence
        Two-sided confidence level.

    Returns
    -------
    tuple[float, float, str] | None
        ``(low, high, ci_method)``: :func:`zero_events_upper_bound` when every count is 0,
        :func:`wilson_ci` when every count is 0 or 1; ``None`` otherwise (the t-interval
        applies) and for no values.
    """
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return None
    if not x.any():
        return 0.0, zero_events_upper_bound(x.size, confidence), CI_ZERO_EVENTS
    if np.isin(x, (0.0, 1.0)).all():
        return (*wilson_ci(int(x.sum()), x.size, confidence), CI_WILSON)
    return None


def summarize(
    frame: pd.DataFrame,
    metrics: Iterable[str],
    signed: Iterable[str] = ("net_profit",),
    events: Iterable[str] = (),
) -> pd.DataFrame:
    """One row per metric: n, mean, sd, se, the 95 % CI of the mean and how it was made.

    Parameters
    ----------
    frame
        One row per replication.
    metrics
        Columns to summarise.
    signed
        Metrics that can be negative. Every other metric is a count, an amount or a share
        that cannot be, so its interval is clipped at 0 (a t-interval is symmetric and would
        otherwise report impossible values such as -0.005 quits for rare events).
    events
        Metrics that count events per replication which can be rare. When every replication
        counts 0 or 1 of them, or all count 0, their interval comes from :func:`event_ci`
        instead of the t-interval, which would collapse to ``[0, 0]`` or ``[1, 1]``.

    Returns
    -------
    pandas.DataFrame
        Index ``metric``; columns ``n``, ``mean``, ``sd``, ``se``, ``ci95_low``,
        ``ci95_high`` and ``ci_method`` (:data:`CI_T`, :data:`CI_WILSON` or
        :data:`CI_ZERO_EVENTS`). ``sd`` and ``se`` are those of the values whatever the method.
    """
    signed = set(signed)
    events = set(events)
    rows = []
    for metric in metrics:
        x = frame[metric].to_numpy(dtype=float)
        mean, se, lo, hi = mean_ci(x)
        method = CI_T
        special = event_ci(x) if metric in events else None
        if special is not None:
            lo, hi, method = special
        elif metric not in signed and lo == lo:
            lo = max(lo, 0.0)
        rows.append(
            {
                "metric": metric,
                "n": x.size,
                "mean": mean,
                "sd": float(x.std(ddof=1)) if x.size > 1 else math.nan,
                "se": se,
                "ci95_low": lo,
                "ci95_high": hi,
                "ci_method": method,
            }
        )
    return pd.DataFrame(rows).set_index("metric")


def json_ready(value: Any) -> Any:
    """``value`` with numpy scalars made plain and NaN/inf made ``None`` (valid JSON)."""
    if isinstance(value, dict):
        return {str(k): json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(v) for v in value]
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
