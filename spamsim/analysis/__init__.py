"""Analysis: results as DataFrames, summaries with confidence intervals."""

from .result import METRIC_DOCS, Result
from .summary import mean_ci, summarize

__all__ = ["METRIC_DOCS", "Result", "mean_ci", "summarize"]
