"""Scenarios: the typed schema, safe YAML loading with located errors, overrides and scheduled events."""

from .distributions import DIST_KINDS, Beta, Fixed, LogNormal, Normal, Triangular, Uniform
from .errors import Problem, ScenarioError
from .events import event_hours, scenario_after
from .loader import load
from .params import PiecewiseLinear
from .schema import Campaign, Costs, Enforcement, Event, Fines, Funnel, Horizon, Market, Scenario, Spammer

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
