"""Scenarios: the typed schema, safe YAML loading with located errors, and overrides."""

from .distributions import DIST_KINDS, Beta, Fixed, LogNormal, Normal, Triangular, Uniform
from .errors import Problem, ScenarioError
from .loader import load
from .schema import Campaign, Costs, Enforcement, Fines, Funnel, Horizon, Market, Scenario, Spammer

__all__ = [
    "DIST_KINDS",
    "Beta",
    "Campaign",
    "Costs",
    "Enforcement",
    "Fines",
    "Fixed",
    "Funnel",
    "Horizon",
    "LogNormal",
    "Market",
    "Normal",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Spammer",
    "Triangular",
    "Uniform",
    "load",
]
