"""Analysis: results as DataFrames, summaries with confidence intervals.

Names are imported on first use (:mod:`spamsim._lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

_NAMES = {
    "METRIC_DOCS": ".result",
    "Result": ".result",
    "mean_ci": ".summary",
    "summarize": ".summary",
}
"""Each public name and the module that defines it."""

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .result import METRIC_DOCS, Result
    from .summary import mean_ci, summarize

__getattr__, __dir__ = lazy_names(__name__, globals(), _NAMES)

__all__ = [
    "METRIC_DOCS",
    "Result",
    "mean_ci",
    "summarize",
]
