"""Shares that change over time: adoption of a countermeasure, mode shares of servers."""

from __future__ import annotations

from typing import Any

import numpy as np

DAYS_PER_YEAR = 365.25


def share_at(value: Any, day: float, start_year: float | None) -> float | np.ndarray:
    """Value of a schedule at ``day`` (days since the start).

    ``value`` is a number, an array of per-replication draws, or a ``{time: share}`` mapping
    whose keys are calendar years when ``start_year`` is given and days otherwise; the
    mapping is interpolated linearly and held constant outside its points.
    """
    if isinstance(value, dict):
        keys = np.fromiter(value.keys(), dtype=float)
        shares = np.fromiter(value.values(), dtype=float)
        x = start_year + day / DAYS_PER_YEAR if start_year is not None else day
        result = np.interp(x, keys, shares)
        return float(result) if np.ndim(result) == 0 else result
    return value  # type: ignore[no-any-return]
