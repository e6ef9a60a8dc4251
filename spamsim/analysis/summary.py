"""Means with confidence intervals over replications."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95


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
    half = float(stats.t.ppf(0.5 + confidence / 2, df=n - 1)) * se
    return mean, se, mean - half, mean + half


def summarize(frame: pd.DataFrame, metrics: Iterable[str], signed: Iterable[str] = ("net_profit",)) -> pd.DataFrame:
    """One row per metric: n, mean, sd, se and the 95 % CI of the mean over rows of ``frame``.

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
    """
    signed = set(signed)
    rows = []
    for metric in metrics:
        x = frame[metric].to_numpy(dtype=float)
        mean, se, lo, hi = mean_ci(x)
        if metric not in signed and lo == lo:
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
