"""What a countermeasure costs its defenders: the ``cost:`` sub-section of every countermeasure.

A cost model says what one server, one organisation and one user pays to take part (once,
and per day while it runs), how long old and new services run side by side during the
migration (and what that costs per server and day), and how many minutes each user loses
to it (reconfiguring a mail client, say), valued at ``defenders.value_of_time_per_hour``.
How many servers, organisations and users there are is the scenario's ``defenders:``
section; which share of them takes part is ``coverage`` (default: the countermeasure's own
adoption share, where it has one). :func:`spamsim.analysis.costs.defender_cost` turns all of
it into money over the scenario's horizon.

Every amount is in the scenario's currency. A countermeasure whose section leaves ``cost``
out takes its class's :attr:`~spamsim.countermeasures.Countermeasure.default_cost`: values
given in JPY (the lecture's currency), carried to USD at about 80 JPY per USD (2011) and
not guessed for any other currency. The built-in defaults are ILLUSTRATIVE orders of
magnitude unless their source says otherwise; ``docs/model.md`` tabulates them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..scenario.defenders import DEFENDER_COUNTS, defender_counts
from ..scenario.params import Bounds, uncertain

Amount = uncertain(Bounds(0.0, 1e15, "an amount of money"))
"""Money in the scenario's currency: a number or a distribution (its mean is used)."""
Minutes = uncertain(Bounds(0.0, 1e6, "a duration in minutes"))
DaysAmount = uncertain(Bounds(0.0, 1e6, "a duration in days"))
Coverage = uncertain(Bounds(0.0, 1.0, "a share"))

JPY_PER_USD = 80.0
"""Yen per dollar around 2011 (yearly average about 80), to carry the JPY defaults to USD."""

__all__ = ["DEFENDER_COUNTS", "CountermeasureCost", "DefaultCost", "UnitCost", "cost_field", "defender_counts"]

COST_PARTS = ("one_off", "running", "migration", "friction")
"""The parts of a defender cost, in the order tables show them."""


class _Strict(BaseModel):
    # As spamsim.scenario.schema.Model (imported from there, this module would close an import cycle).
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, strict=True, defer_build=True)


class UnitCost(_Strict):
    """What one server, organisation or user taking part pays."""

    one_off: Amount = Field(0.0, description="Paid once by each one that takes part (currency).")
    running_per_day: Amount = Field(0.0, description="Paid per day while it runs, by each one (currency/day).")


class CountermeasureCost(_Strict):
    """Defenders' cost of a countermeasure (every amount in the scenario's currency).

    Over the horizon: one-off costs once, running costs per day of the horizon, migration
    once (``migration_days`` of side-by-side running per server) and friction once
    (minutes per user x ``defenders.value_of_time_per_hour``), each for the share
    ``coverage`` of ``defenders.servers`` / ``organisations`` / ``users``.
    """

    per_server: UnitCost = Field(
        default_factory=lambda: UnitCost(), description="Per mail server that takes part (`defenders.servers`)."
    )
    per_organisation: UnitCost = Field(
        default_factory=lambda: UnitCost(),
        description="Per organisation that takes part (`defenders.organisations`): policy, staff, helpdesk.",
    )
    per_user: UnitCost = Field(
        default_factory=lambda: UnitCost(), description="Per user that takes part (`defenders.users`)."
    )
    migration_days: DaysAmount = Field(
        0.0,
        description="Days during which old and new services run side by side on each server (e.g. "
        "unauthenticated port 25 submission next to SMTP AUTH on 587), counted once in full.",
    )
    migration_running_per_server_day: Amount = Field(
        0.0, description="Extra running cost per server and day of the migration (currency/day)."
    )
    friction_minutes_per_user: Minutes = Field(
        0.0,
        description="Minutes each user loses once (e.g. reconfiguring a mail client for port 587, "
        "authentication and TLS), valued at `defenders.value_of_time_per_hour`.",
    )
    coverage: Coverage | None = Field(
        None,
        description="Share of servers, organisations and users that take part. Default: the "
        "countermeasure's adoption share where it has one (its mean over the horizon for running "
        "costs, its highest value for one-off, migration and friction), else 1.",
    )


@dataclass(frozen=True)
class DefaultCost:
    """A countermeasure's default cost model: values in JPY and where they come from."""

    jpy: dict[str, Any] = field(default_factory=dict)
    source: str = "no default cost: zero unless the scenario gives `cost`"

    def in_currency(self, currency: str) -> CountermeasureCost | None:
        """The default in ``currency`` (JPY, or USD at :data:`JPY_PER_USD`); None for any other."""
        code = currency.upper()
        if code == "JPY" or not self.jpy:
            return CountermeasureCost.model_validate(self.jpy)
        if code == "USD":
            return CountermeasureCost.model_validate(_scale_money(self.jpy, 1.0 / JPY_PER_USD))
        return None


_NOT_MONEY = {"migration_days", "friction_minutes_per_user", "coverage"}


def _scale_money(values: dict[str, Any], factor: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            out[key] = _scale_money(value, factor)
        elif key in _NOT_MONEY:
            out[key] = value
        else:
            out[key] = float(value) * factor
    return out


def cost_field(default: DefaultCost) -> Any:
    """The ``cost`` field of a countermeasure whose default is ``default`` (described in the JSON Schema)."""
    return Field(
        None,
        description="Defenders' cost of this countermeasure (see docs/model.md, 'Defenders' costs'). "
        f"Left out: the default, given in JPY and carried to USD at {JPY_PER_USD:g} JPY/USD (no default in "
        f"other currencies): {_describe(default.jpy) or 'nothing'}. Source: {default.source}. "
        "A `cost` given replaces the default as a whole.",
    )


def _describe(values: dict[str, Any], prefix: str = "") -> str:
    parts = []
    for key, value in values.items():
        if isinstance(value, dict):
            inner = _describe(value, f"{prefix}{key}.")
            if inner:
                parts.append(inner)
        else:
            parts.append(f"{prefix}{key} {value:g}")
    return ", ".join(parts)
