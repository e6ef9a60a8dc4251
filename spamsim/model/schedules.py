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
        keys, shares = _points(value)
        x = start_year + day / DAYS_PER_YEAR if start_year is not None else day
        result = np.interp(x, keys, shares)
        return float(result) if np.ndim(result) == 0 else result
    return value  # type: ignore[no-any-return]


_POINTS: dict[int, tuple[tuple[Any, ...], np.ndarray, np.ndarray]] = {}
"""A schedule's points as arrays, by the schedule's identity, with the items they were built from."""


def _points(schedule: dict[Any, Any]) -> tuple[np.ndarray, np.ndarray]:
    """Times and values of ``schedule`` as float arrays (looked up many times per interval, built once)."""
    items = tuple(schedule.items())
    found = _POINTS.get(id(schedule))
    if found is None or found[0] != items:  # a new schedule, or another one where a dropped one was
        if len(_POINTS) > 4096:
            _POINTS.clear()
        keys = np.fromiter(schedule.keys(), dtype=float)
        shares = np.fromiter(schedule.values(), dtype=float)
        found = _POINTS[id(schedule)] = (items, keys, shares)
    return found[1], found[2]
