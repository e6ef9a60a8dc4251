"""Small drawing helpers shared by the figure modules (no statistics here)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter

from .labels import number_formatter

LOG_FLOOR_FRACTION = 0.3
"""A bar or interval that reaches zero is drawn down to this fraction of the smallest
positive value on a log axis (a log axis has no zero)."""


def log_floor(values: Sequence[float] | np.ndarray) -> float:
    """Where a log axis starts below ``values`` (a bit under the smallest positive one)."""
    x = np.asarray(values, dtype=float)
    positive = x[np.isfinite(x) & (x > 0)]
    if positive.size == 0:
        return 0.1
    return float(10 ** math.floor(math.log10(positive.min() * LOG_FLOOR_FRACTION)))


def format_log_axis(ax: Axes, axis: str, lang: str) -> None:
    """Abbreviated labels on a log axis (``1M``, ``100万``) at decades, or at 1-2-5 steps
    when the axis spans less than two decades."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    low, high = ax.get_ylim() if axis == "y" else ax.get_xlim()
    low, high = min(low, high), max(low, high)
    span = math.log10(high / low) if low > 0 and high > 0 else 10.0
    subs: tuple[float, ...] = (1.0,) if span >= 2 else (1.0, 2.0, 5.0)
    target.set_major_locator(LogLocator(base=10, subs=subs, numticks=12))
    plain = number_formatter(lang)

    def label(value: float, pos: int | None) -> str:
        # Small powers of ten as 10^-k (what journals print), everything else abbreviated;
        # once the axis reaches below 0.0001, every power of ten below 1 is written 10^-k
        # (probabilities from 0.001 up stay decimals: 0.001, 0.01, 0.1).
        low_end = min(target.get_view_interval())
        if 0 < value < 1 and (value < 1e-4 or low_end < 1e-4):
            exponent = math.log10(value)
            if abs(exponent - round(exponent)) < 1e-9:
                return f"$10^{{{int(round(exponent))}}}$"
        return str(plain(value, pos))

    target.set_major_formatter(FuncFormatter(label))
    target.set_minor_formatter(NullFormatter())


def format_linear_axis(ax: Axes, axis: str, lang: str, nbins: int = 5) -> None:
    """Abbreviated labels on a linear axis (``5M``, ``−200M`` / ``500万``), at most
    ``nbins`` intervals so that long labels never touch."""
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]))
    target.set_major_formatter(number_formatter(lang))


def clip_for_log(values: np.ndarray, floor: float) -> np.ndarray:
    """``values`` with non-positive and NaN entries raised to ``floor``."""
    x = np.asarray(values, dtype=float)
    return np.where(np.isfinite(x) & (x > floor), x, floor)


def error_lengths(mean: np.ndarray, low: np.ndarray, high: np.ndarray, floor: float | None = None) -> np.ndarray:
    """Asymmetric error-bar lengths ``[[mean - low], [high - mean]]`` (NaN bounds: none).

    With ``floor`` (a log axis), the lower end is not drawn below the floor.
    """
    mean = np.asarray(mean, dtype=float)
    lo = np.asarray(low, dtype=float)
    hi = np.asarray(high, dtype=float)
    if floor is not None:
        lo = np.maximum(lo, floor)
        mean = np.maximum(mean, floor)
    lower = np.where(np.isfinite(lo), np.maximum(mean - lo, 0.0), 0.0)
    upper = np.where(np.isfinite(hi), np.maximum(hi - mean, 0.0), 0.0)
    return np.vstack([lower, upper])


def ci_note(ax: Axes, note: str, size: float, loc: str = "lower right") -> None:
    """A small grey note in a corner of the axes (e.g. what the bars and bands are)."""
    positions = {
        "lower right": (0.99, 0.02, "right", "bottom"),
        "upper right": (0.99, 0.98, "right", "top"),
        "upper left": (0.01, 0.98, "left", "top"),
        "lower left": (0.01, 0.02, "left", "bottom"),
    }
    x, y, ha, va = positions[loc]
    ax.text(x, y, note, transform=ax.transAxes, ha=ha, va=va, fontsize=size, color="#444444")


def figure_note(fig: Figure, note: str, size: float) -> None:
    """A small grey note under the figure, right-aligned (what error bars and bands are)."""
    fig.supxlabel(note, fontsize=size, color="#444444", x=0.99, ha="right")
