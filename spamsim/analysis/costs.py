"""Defenders' costs of the countermeasures a scenario switches on, in closed form.

For each countermeasure enabled in the scenario, with its ``cost`` (or its class's default
in the scenario's currency, :mod:`spamsim.countermeasures.cost`), the counts ``S``, ``O``,
``U`` of servers, organisations and users (``defenders:``, or the currency's defaults), the
horizon ``T`` in days, the value of a user's hour ``v`` and the share taking part (``a_max``
its highest and ``a_mean`` its mean over the horizon):

* one-off    = a_max  x (S x server.one_off + O x organisation.one_off + U x user.one_off)
* running    = a_mean x T x (S x server.running_per_day + O x ... + U x ...)
* migration  = a_max  x S x migration_days x migration_running_per_server_day
* friction   = a_max  x U x friction_minutes_per_user / 60 x v

Expected values: a distribution contributes its mean (truncated to its field's range), so the
cost is deterministic given the scenario; ``compare`` divides paired-replication effects by it.
The share taking part is ``cost.coverage`` if given, else the countermeasure's adoption share
(its ``series`` field: OP25B's and relay prevention's ``adoption``, submission auth's
``mode_share.smtp_auth``, blacklists' ``adoption``), else 1. Networks' own policies and events
that change adoption are not looked at: the scenario-wide share is used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..countermeasures.cost import COST_PARTS, CountermeasureCost, defender_counts
from ..scenario.distributions import _Dist
from ..scenario.params import DAYS_PER_YEAR, PiecewiseLinear
from ..scenario.schema import Scenario
from .externality import DEFAULTS as SOCIAL_DEFAULTS

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COST_PARTS", "DefenderCost", "defender_cost"]


@dataclass(frozen=True)
class DefenderCost:
    """Defenders' cost of a scenario's enabled countermeasures over its horizon.

    Attributes
    ----------
    currency
        The scenario's currency.
    by_countermeasure
        Per countermeasure key: ``{"one_off", "running", "migration", "friction"}`` in
        ``currency`` (NaN where a value is not known: no default cost or value of time for
        the currency, and none given).
    horizon_days
        The horizon the running costs cover.
    coverage
        Per countermeasure: ``(mean, highest)`` share of defenders taking part.
    sources
        Where the defaults used come from, by what they are (e.g. ``"submission_auth.cost"``,
        ``"defenders.users"``); values the scenario gives are not listed.
    """

    currency: str
    by_countermeasure: dict[str, dict[str, float]]
    horizon_days: float = math.nan
    coverage: dict[str, tuple[float, float]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """Sum over countermeasures and parts, over the horizon, in ``currency``."""
        return float(sum(self.of(key) for key in self.by_countermeasure))

    def of(self, key: str) -> float:
        """Total cost of countermeasure ``key`` (0 if the scenario does not enable it)."""
        parts = self.by_countermeasure.get(key)
        return float(sum(parts[p] for p in COST_PARTS)) if parts else 0.0

    def frame(self) -> pd.DataFrame:
        """One row per countermeasure (index ``countermeasure``); columns the parts and ``total``."""
        import pandas as pd

        rows = {
            key: {**{p: parts[p] for p in COST_PARTS}, "total": self.of(key)}
            for key, parts in self.by_countermeasure.items()
        }
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=[*COST_PARTS, "total"], dtype=float)
        return frame.rename_axis("countermeasure")

    def to_json(self) -> dict[str, Any]:
        """Plain types (NaN as null) for ``--json`` and ``comparison.json``."""

        def num(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "currency": self.currency,
            "horizon_days": num(self.horizon_days),
            "total": num(self.total),
            "by_countermeasure": {
                key: {**{p: num(v) for p, v in parts.items()}, "total": num(self.of(key))}
                for key, parts in self.by_countermeasure.items()
            },
            "coverage": {key: {"mean": m, "highest": h} for key, (m, h) in self.coverage.items()},
            "sources": dict(self.sources),
        }


def _mean(value: Any) -> float:
    """A parameter's expected value: a distribution's (truncated) mean, else the number."""
    if isinstance(value, _Dist):
        return float(value.expected())
    return float(value)


def _share_over(value: Any, start: float, end: float) -> tuple[float, float]:
    """Mean and highest value of a share over ``[start, end]`` (schedule times in the scenario's units)."""
    if not isinstance(value, PiecewiseLinear):
        share = _mean(value)
        return share, share
    import numpy as np

    # Exact for a piecewise-linear schedule: the trapezoid rule over its breakpoints inside the span.
    times = np.array(sorted({start, end, *(t for t in value.breakpoints() if start < t < end)}), dtype=float)
    values = np.interp(times, np.fromiter(value.keys(), float), np.fromiter(value.values(), float))
    if end <= start:
        return float(values[0]), float(values[0])
    mean = float(np.sum((values[1:] + values[:-1]) / 2 * np.diff(times)) / (end - start))
    return mean, float(values.max())


def _attribute(section: Any, dotted: str) -> Any:
    value = section
    for name in dotted.split("."):
        value = getattr(value, name)
    return value


def defender_cost(scenario: Scenario) -> DefenderCost:
    """Defenders' cost of the countermeasures ENABLED in ``scenario`` over its horizon.

    Closed form, expected values: a distribution contributes its mean (see the module's
    docstring for the formulas).

    Parameters
    ----------
    scenario
        A loaded scenario.

    Returns
    -------
    DefenderCost
        Per enabled countermeasure, its one-off, running, migration and friction costs in the
        scenario's currency.

    Examples
    --------
    >>> import spamsim as ss
    >>> cost = defender_cost(ss.load("scenarios/smtp-auth.yaml"))
    >>> cost.frame()  # doctest: +SKIP
    """
    currency = scenario.market.currency
    days = scenario.horizon_days
    start_year = scenario.horizon.start_year
    start, end = (0.0, days) if start_year is None else (start_year, start_year + days / DAYS_PER_YEAR)
    sources: dict[str, str] = {}

    defenders = scenario.defenders
    counts: dict[str, float] = {}
    for name, (default, source) in defender_counts(currency).items():
        given = getattr(defenders, name)
        counts[name] = default if given is None else _mean(given)
        if given is None:
            sources[f"defenders.{name}"] = source
    if defenders.value_of_time_per_hour is not None:
        value_of_time = _mean(defenders.value_of_time_per_hour)
    elif currency.upper() in SOCIAL_DEFAULTS:
        value_of_time, sources["defenders.value_of_time_per_hour"] = SOCIAL_DEFAULTS[currency.upper()][
            "value_of_time_per_hour"
        ]
    else:
        value_of_time = math.nan

    by_countermeasure: dict[str, dict[str, float]] = {}
    coverage: dict[str, tuple[float, float]] = {}
    for key in scenario.countermeasures.names():
        section = getattr(scenario.countermeasures, key)
        if not section.enabled:
            continue
        cls = type(section)
        cost: CountermeasureCost | None = section.cost
        if cost is None:
            cost = cls.default_cost.in_currency(currency)
            sources[f"{key}.cost"] = cls.default_cost.source
        if cost is None:  # no default in this currency and none given: not guessed
            by_countermeasure[key] = dict.fromkeys(COST_PARTS, math.nan)
            continue
        if cost.coverage is not None:
            share_mean = share_high = _mean(cost.coverage)
        elif cls.series is not None:
            share_mean, share_high = _share_over(_attribute(section, cls.series[1]), start, end)
        else:
            share_mean = share_high = 1.0
        coverage[key] = (share_mean, share_high)
        units = (
            (counts["servers"], cost.per_server),
            (counts["organisations"], cost.per_organisation),
            (counts["users"], cost.per_user),
        )
        minutes = _mean(cost.friction_minutes_per_user)
        by_countermeasure[key] = {
            "one_off": share_high * sum(n * _mean(unit.one_off) for n, unit in units),
            "running": share_mean * days * sum(n * _mean(unit.running_per_day) for n, unit in units),
            "migration": share_high
            * counts["servers"]
            * _mean(cost.migration_days)
            * _mean(cost.migration_running_per_server_day),
            # No minutes cost nothing, even where the value of time is not known.
            "friction": 0.0 if minutes == 0 else share_high * counts["users"] * minutes / 60.0 * value_of_time,
        }
    return DefenderCost(currency, by_countermeasure, days, coverage, sources)
