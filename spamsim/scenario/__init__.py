"""Scenarios: the typed schema, safe YAML loading with located errors, overrides and scheduled events.

Names are imported on first use (:mod:`spamsim._lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

_NAMES = {
    "DIST_KINDS": ".distributions",
    "Beta": ".distributions",
    "Fixed": ".distributions",
    "LogNormal": ".distributions",
    "Normal": ".distributions",
    "Triangular": ".distributions",
    "Uniform": ".distributions",
    "Problem": ".errors",
    "ScenarioError": ".errors",
    "event_hours": ".events",
    "scenario_after": ".events",
    "load": ".loader",
    "PiecewiseLinear": ".params",
    "Campaign": ".schema",
    "Costs": ".schema",
    "Enforcement": ".schema",
    "Event": ".schema",
    "Fines": ".schema",
    "Funnel": ".schema",
    "Horizon": ".schema",
    "Market": ".schema",
    "Scenario": ".schema",
    "Spammer": ".schema",
}
"""Each public name and the module that defines it."""

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .distributions import DIST_KINDS, Beta, Fixed, LogNormal, Normal, Triangular, Uniform
    from .errors import Problem, ScenarioError
    from .events import event_hours, scenario_after
    from .loader import load
    from .params import PiecewiseLinear
    from .schema import Campaign, Costs, Enforcement, Event, Fines, Funnel, Horizon, Market, Scenario, Spammer

__getattr__, __dir__ = lazy_names(__name__, globals(), _NAMES)

__all__ = [
    "DIST_KINDS",
    "Beta",
    "Campaign",
    "Costs",
    "Enforcement",
    "Event",
    "Fines",
    "Fixed",
    "Funnel",
    "Horizon",
    "LogNormal",
    "Market",
    "Normal",
    "PiecewiseLinear",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Spammer",
    "Triangular",
    "Uniform",
    "event_hours",
    "load",
    "scenario_after",
]
