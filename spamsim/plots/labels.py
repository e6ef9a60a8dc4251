"""Every word a figure shows, in English and Japanese, and numbers written for each.

Thin wrappers kept for figures and notebooks: the names and labels live in
:mod:`spamsim.names` (one catalogue, :mod:`spamsim.i18n`), the numbers in :mod:`spamsim.fmt`
(Babel). ``text(key, lang)`` looks a phrase up; ``metric_label``, ``param_label``,
``channel_label`` and ``countermeasure_label`` build axis labels with units; large numbers
are abbreviated the way each language reads them (``5M``, ``1.2B`` / ``500万``, ``12億``).
"""

from __future__ import annotations

from typing import Any

from .. import fmt
from ..names import (
    DOC_IDS,
    MINUS,
    MONEY_METRICS,
    PARAM_IDS,
    PARAMS,
    SHARE_METRICS,
    TEXT,
    TEXT_IDS,
    channel_label,
    countermeasure_label,
    currency_label,
    metric_doc,
    metric_label,
    metric_name,
    param_label,
    text,
    unit_label,
    wrap_label,
)

__all__ = [
    "DOC_IDS",
    "MINUS",
    "MONEY_METRICS",
    "PARAMS",
    "PARAM_IDS",
    "SHARE_METRICS",
    "TEXT",
    "TEXT_IDS",
    "channel_label",
    "countermeasure_label",
    "currency_label",
    "format_number",
    "format_percent",
    "format_rate",
    "metric_doc",
    "metric_label",
    "metric_name",
    "number_formatter",
    "param_label",
    "percent_formatter",
    "text",
    "unit_label",
    "wrap_label",
]


# -- numbers: thin wrappers of spamsim.fmt, kept for figures and notebooks -------------------


def format_number(value: float, lang: str, digits: int = 3) -> str:
    """A number abbreviated for reading aloud: ``5M``, ``1.2B`` / ``500万``, ``12億`` (:func:`spamsim.fmt.compact`)."""
    return fmt.compact(value, lang, digits)


def format_percent(value: float, digits: int = 2) -> str:
    """A share (0–1) as a percentage: ``0.0123`` → ``1.2%`` (:func:`spamsim.fmt.percent`)."""
    return fmt.percent(value, digits)


def format_rate(value: float, lang: str) -> str:
    """A pass rate: a percentage from 1 % up, ``1 in 6.4K`` / ``6400分の1`` below."""
    return fmt.rate(value, lang)


def number_formatter(lang: str, digits: int = 3) -> Any:
    """Tick formatter abbreviating large numbers as :func:`format_number` does."""
    return fmt.number_formatter(lang, digits)


def percent_formatter() -> Any:
    """Tick formatter for shares (0–1) shown in percent, with the minus sign."""
    return fmt.percent_formatter()
