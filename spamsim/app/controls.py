"""The app's sliders and switches as scenario edits: pure functions, no web framework.

A control sits at its preset's position when a preset is loaded; only a control the user has
moved becomes an override (``dotted.path=value``, as ``spamsim run --set``), so an untouched
preset is the shipped scenario exactly (a success rate given as a distribution stays one).
Quantities spanning decades (messages, success rate, fines) move on a log10 scale; where zero
is a value a lecturer needs (no fine, free sending) the leftmost notch of the slider means 0.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from .. import fmt
from ..analysis.analytic import _mean
from ..i18n import N_, gettext
from ..scenario.loader import load, scenario_data
from ..scenario.schema import Scenario


@dataclass(frozen=True)
class Control:
    """One slider: the scenario field it sets and how its position maps to a value.

    Attributes
    ----------
    id
        Input id in the page.
    path
        Dotted path of the scenario field (as for ``--set``).
    label
        Catalogue msgid of its label.
    kind
        ``"log"`` (position is log10 of the value) or ``"linear"``.
    low, high, step
        Slider range and step, in positions.
    zero_at_low
        The leftmost position means 0 (log sliders only).
    unit
        How the value is written: ``"count"``, ``"money"``, ``"rate"`` or ``"share"``.
    """

    id: str
    path: str
    label: str
    kind: str
    low: float
    high: float
    step: float
    zero_at_low: bool = False
    unit: str = "count"


CONTROLS = (
    Control(
        "volume", "spammers.0.campaign.messages_per_send", N_("Messages per send"), "log", 2, 13, 0.1, unit="count"
    ),
    Control(
        "success", "market.success_rate", N_("Success rate (sales per inbox message)"), "log", -9, 0, 0.1, unit="rate"
    ),
    Control("profit", "market.profit_per_sale", N_("Profit per sale"), "log", 0, 5, 0.05, unit="money"),
    Control(
        "cost_message", "costs.per_message", N_("Cost per message"), "log", -9, 0, 0.1, zero_at_low=True, unit="money"
    ),
    Control(
        "cost_day", "costs.fixed_per_day", N_("Fixed cost per day"), "log", -1, 7, 0.1, zero_at_low=True, unit="money"
    ),
    Control(
        "fine_individual",
        "enforcement.fines.individual",
        N_("Fine, individual"),
        "log",
        2,
        9,
        0.1,
        zero_at_low=True,
        unit="money",
    ),
    Control(
        "fine_corporation",
        "enforcement.fines.corporation",
        N_("Fine, corporation"),
        "log",
        2,
        9,
        0.1,
        zero_at_low=True,
        unit="money",
    ),
    Control(
        "caught",
        "enforcement.caught_probability",
        N_("Probability of being caught"),
        "linear",
        0,
        1,
        0.01,
        unit="share",
    ),
    Control("reach", "enforcement.reach_abroad", N_("Reach of enforcement abroad"), "linear", 0, 1, 0.05, unit="share"),
)
"""The sliders, in the order the page shows them."""

BY_ID = {c.id: c for c in CONTROLS}


def _snap(control: Control, position: float) -> float:
    """``position`` clamped to the slider and rounded to its step (as the slider shows it)."""
    position = min(max(position, control.low), control.high)
    steps = round((position - control.low) / control.step)
    return round(control.low + steps * control.step, 6)


def _three_digits(x: float) -> float:
    """``x`` rounded to three significant digits: a slider's value reads as a plain number in YAML."""
    if x == 0 or not math.isfinite(x):
        return x
    return float(f"{x:.3g}")


def position(control: Control, value: float) -> float:
    """Slider position of a parameter value (snapped to the slider's step)."""
    if control.kind == "linear":
        return _snap(control, value)
    if value <= 0:
        return float(control.low)
    at = _snap(control, math.log10(value))
    # A positive value must not land on the notch that means 0.
    return round(control.low + control.step, 6) if control.zero_at_low and at == control.low else at


def value_at(control: Control, pos: float) -> float:
    """Parameter value at a slider position."""
    pos = _snap(control, pos)
    if control.kind == "linear":
        return pos
    if control.zero_at_low and pos == control.low:
        return 0.0
    return _three_digits(10.0**pos)


def scenario_value(scenario: Scenario, control: Control) -> float:
    """The (mean) value a scenario gives the control's field (a funnel's success rate: the product of its rates)."""
    funnel = scenario.market.funnel
    if control.path == "market.success_rate" and funnel is not None:
        return float(
            math.prod(_mean(getattr(funnel, f)) for f in type(funnel).model_fields if getattr(funnel, f) is not None)
        )
    node: Any = scenario
    for part in control.path.split("."):
        node = node[int(part)] if part.isdigit() else getattr(node, part)
    return _mean(node)


def preset_positions(scenario: Scenario) -> dict[str, float]:
    """Where each slider sits for a preset."""
    return {c.id: position(c, scenario_value(scenario, c)) for c in CONTROLS}


def countermeasure_states(scenario: Scenario) -> dict[str, bool]:
    """Each countermeasure the scenario defines, and whether it is switched on."""
    return {name: scenario.countermeasures.active(name) for name in scenario.countermeasures.names()}


def overrides(preset: Scenario, positions: Mapping[str, float], switches: Mapping[str, bool]) -> list[str]:
    """The ``--set`` edits that turn ``preset`` into what the controls show.

    A slider still at the preset's position and a switch in the preset's state add nothing.
    """
    edits = []
    at_preset = preset_positions(preset)
    for control in CONTROLS:
        pos = positions.get(control.id)
        if pos is None or _snap(control, pos) == at_preset[control.id]:
            continue
        if control.path == "market.success_rate" and preset.market.funnel is not None:
            edits.append("market.funnel=null")  # one success rate in place of the funnel, as break_even_curve does
        edits.append(f"{control.path}={value_at(control, pos)!r}")
    for name, on in countermeasure_states(preset).items():
        if name in switches and bool(switches[name]) != on:
            edits.append(f"countermeasures.{name}.enabled={'true' if switches[name] else 'false'}")
    return edits


def build(preset: Scenario, edits: list[str]) -> Scenario:
    """The scenario the controls describe (``ScenarioError`` with the loader's messages if invalid)."""
    return load(preset, edits)


def describe(control: Control, pos: float, currency: str, lang: str, exact: float | None = None) -> str:
    """The value at a slider position as the page writes it (``1 in 1M``, ``500 JPY``, ``5%``).

    ``exact``: the value to write instead (the preset's own, while the slider is at its notch).
    """
    value = value_at(control, pos) if exact is None else exact
    if control.unit == "money":
        return fmt.money(value, currency, lang)
    if control.unit == "rate":
        return fmt.rate(value, lang)
    if control.unit == "share":
        return fmt.percent(value, 3, lang)
    return fmt.number(value, "count", lang)


def label(control: Control, lang: str) -> str:
    """A control's label in ``lang``."""
    return gettext(control.label, lang)


def scenario_yaml(
    scenario: Scenario,
    *,
    preset_file: str | os.PathLike[str],
    edits: list[str],
    reps: int | None = None,
    seed: int | None = None,
) -> str:
    """The scenario the page shows as a YAML file that loads back to an equal scenario.

    The header says where it came from (preset and edits) and the command that reproduces
    the page's simulated numbers (same replications, same seed).
    """
    lines = [
        f"# {scenario.name}: exported from spamsim's lecture app (spamsim app)",
        f"# preset: {os.fspath(preset_file)}",
    ]
    lines += [f"#   --set {edit}" for edit in edits] or ["#   (no changes)"]
    if reps is not None and seed is not None:
        lines.append(f"# the numbers shown: spamsim run THIS_FILE.yaml --reps {reps} --seed {seed}")
    body = yaml.safe_dump(scenario_data(scenario), sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(lines) + "\n" + body
