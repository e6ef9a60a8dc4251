"""Closed-form expectations: the lecture's arithmetic, and the oracle the simulation is tested against.

For a spammer that sends a fixed campaign through its own server (no capacity limit, no
blacklists, no adaptation, no budget), every expected output has a closed form in continuous
time, on the world's own schedule of sends:

* send ``k`` goes out at hour ``t_k`` (``start + k * 24 / sends_per_day``, inside the
  horizon) with ``V = messages_per_send`` messages; with no capacity limit its mail leaves
  at that instant;
* the detection hazard accrued before send ``k`` is ``H_k = b (t_k - start) + rho V k`` with
  ``b = -ln(1 - caught_probability) / campaign_hours`` and ``rho`` the hazard per message
  (``detection_per_million_messages / 1e6``); detections are the events of a Poisson
  process with that cumulative hazard (a renewal after each), and each convicts with
  ``pi = prosecution * reach`` (``reach = 1`` at home, ``reach_abroad`` abroad), so
  convictions are a Poisson process with hazard ``pi H``;
* if a conviction stops the spammer, send ``k`` goes out (all at once, before the
  detection its own volume may trigger) if no conviction came before it:
  ``E[messages of send k] = V exp(-pi H_k)``; fixed costs run while the spammer is free,
  ``integral of exp(-pi H(t)) dt``, with ``H`` growing at ``b`` between sends and jumping
  by ``rho V`` at each;
* ``E[convictions] = 1 - exp(-pi H_end)`` if a conviction stops the spammer, else
  ``pi H_end``; ``P(convicted) = 1 - exp(-pi H_end)`` either way;
* ``E[revenue] = E[messages] (1 - catch) s profit`` — the lecture's ``N * s * profit``
  when nothing stops the spammer; ``E[fines] = fine * E[convictions]``;
* ``E[profit] = E[revenue] - E[costs] - E[fines]``.

Distributions enter through their means. That is exact where they enter linearly — revenue
and costs are products of independent draws — and only a first-order approximation where
they enter through the exponentials of enforcement: an uncertain enforcement parameter, or
an uncertain volume with a volume-dependent detection hazard (``E[f(V)] != f(E[V])``).
``AnalyticResult.exact`` says which.

From the same terms follow the break-even success rate, the deterrence frontier (fine x
probability of being caught at which expected profit is zero), the cost per sale, and the
externality ratio of society's cost to the spammer's revenue, term by term
(:mod:`spamsim.analysis.externality`; Rao & Reiley, "The Economics of Spam", Journal of
Economic Perspectives 26(3), 2012, estimate it at roughly 100 : 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..scenario.distributions import _Dist
from ..scenario.errors import dotted_path
from ..scenario.params import PiecewiseLinear
from ..scenario.schema import Scenario, Spammer, schedules
from .externality import Externality, SocialCost, externality

__all__ = ["AnalyticResult", "SocialCost", "applicability", "deterrence_frontier", "expected", "is_exact"]

CLOSED_FORM_PARTS = (
    ("market",),
    ("costs",),
    ("enforcement",),
    ("spammers",),
    ("countermeasures", "receiver_filtering"),
    ("legitimate_mail",),
)
"""Parts of a scenario the closed form reads; a schedule in one of them makes it inapplicable."""


def _mean(value: Any) -> float:
    """Mean of a parameter: a distribution's mean, a number, or a schedule's first value (the
    closed form has no time-varying parameters; :func:`applicability` says so)."""
    if isinstance(value, _Dist):
        return value.expected()
    if isinstance(value, PiecewiseLinear):
        return next(iter(value.values()))
    return float(value)


@dataclass
class AnalyticResult:
    """Closed-form expectations for a scenario.

    ``externality`` breaks society's cost into its parts (recipients' time, filtering and
    infrastructure, lost legitimate mail) with their formulas, sources and a note on how the
    ratio compares with Rao & Reiley's ~100 : 1; ``totals["social_cost"]`` and
    ``totals["externality_ratio"]`` are its total and ratio (NaN when not computed).
    """

    scenario: Scenario
    applicable: bool
    reasons: list[str]
    exact: bool
    per_spammer: pd.DataFrame
    frontier: pd.DataFrame
    social_cost: SocialCost
    externality: Externality
    totals: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """What ``spamsim analytic --json`` prints: totals, per-spammer terms and, per spammer,
        the deterrence frontier (``zero_profit_fine`` is null where no finite fine deters)."""
        return {
            "scenario": self.scenario.name,
            "applicable": self.applicable,
            "exact": self.exact,
            "reasons": self.reasons,
            "currency": self.scenario.market.currency,
            "totals": {k: _finite(v) for k, v in self.totals.items()},
            "spammers": {
                str(name): {k: _finite(v) for k, v in row.items()} for name, row in self.per_spammer.iterrows()
            },
            "deterrence_frontier": {
                str(name): [
                    {"caught_probability": _finite(p), "zero_profit_fine": _finite(fine)}
                    for p, fine in zip(rows["caught_probability"], rows["zero_profit_fine"], strict=True)
                ]
                for name, rows in self.frontier.groupby("spammer", sort=False)
            },
            "externality": self.externality.to_json(),
        }


def _finite(x: Any) -> Any:
    x = float(x)
    return x if math.isfinite(x) else None


def applicability(scenario: Scenario) -> list[str]:
    """Why the closed form does not apply to ``scenario`` (empty list: it applies)."""
    reasons = []
    for s in scenario.spammers:
        if s.strategy.kind != "fixed":
            reasons.append(f"spammer {s.name!r} adapts its channel mix")
        used = [c for c, w in s.strategy.mix.items() if w > 0]
        if used != ["own_server"]:
            reasons.append(f"spammer {s.name!r} uses channels with dynamics: {', '.join(used)}")
        if s.budget is not None:
            reasons.append(f"spammer {s.name!r} has a budget")
    own = scenario.channels.own_server
    if own is not None and own.capacity_per_hour is not None:
        reasons.append("own_server has a capacity limit")
    if scenario.countermeasures.active("blacklists"):
        reasons.append("blacklist listings evolve with use")
    for path, _ in schedules(scenario):
        if any(path[: len(part)] == part for part in CLOSED_FORM_PARTS):
            reasons.append(f"{dotted_path(path)} changes over time (a schedule)")
    if scenario.events:
        reasons.append("scheduled events change parameters during the run")
    return reasons


def _send_times(scenario: Scenario, spammer: Spammer) -> np.ndarray:
    """Hours of the spammer's sends inside the horizon, exactly as the world schedules them."""
    c = spammer.campaign
    horizon_h = scenario.horizon_days * 24.0
    times = c.start_day * 24.0 + np.arange(c.n_sends) * (24.0 / c.sends_per_day)
    return times[times < horizon_h]


def _campaign_hours(scenario: Scenario, spammer: Spammer) -> tuple[float, float]:
    """Start and end (hours) of the campaign, clipped to the horizon as the world does."""
    c = spammer.campaign
    start_h = c.start_day * 24.0
    return start_h, max(start_h, min((c.start_day + c.days) * 24.0, scenario.horizon_days * 24.0))


def _mean_exp(rate: float, span: float) -> float:
    """Mean of ``exp(-rate * t)`` over ``t`` in ``[0, span]`` (1 for a zero rate or span)."""
    x = rate * span
    return 1.0 - x / 2.0 if abs(x) < 1e-12 else -math.expm1(-x) / x


def _volume(spammer: Spammer) -> float:
    """Mean messages per send: a plain number is rounded down as the world rounds it."""
    value = spammer.campaign.messages_per_send
    return _mean(value) if isinstance(value, _Dist) else float(math.floor(float(value)))


def _spammer_terms(scenario: Scenario, spammer: Spammer, caught_probability: float | None = None) -> dict[str, float]:
    """Expected outputs of one spammer (``caught_probability`` overrides the scenario's)."""
    market, costs, enf = scenario.market, scenario.costs, scenario.enforcement
    times = _send_times(scenario, spammer)
    n_sends = times.size
    volume = _volume(spammer)
    filtering = scenario.countermeasures.receiver_filtering
    catch = 0.0
    if scenario.countermeasures.active("receiver_filtering") and filtering is not None:
        catch = _mean(filtering.catch_rate_by_channel.get("own_server", filtering.catch_rate))
    if market.funnel is not None:
        f = market.funnel
        success = _mean(f.open_rate) * _mean(f.through_rate) * _mean(f.purchase_rate)
    else:
        success = _mean(market.success_rate)
    profit = _mean(market.profit_per_sale)

    # Detection hazard, as the world accrues it: the base part spread evenly over the
    # campaign's hours, the volume part with every attempted message.
    start_h, end_h = _campaign_hours(scenario, spammer)
    campaign_h = max(end_h - start_h, 1e-9)
    p_caught = _mean(enf.caught_probability) if caught_probability is None else caught_probability
    base = -math.log1p(-min(max(p_caught, 0.0), 1.0 - 1e-12)) / campaign_h
    per_message = _mean(enf.detection_per_million_messages) / 1e6
    reach = 1.0 if spammer.location == "domestic" else _mean(enf.reach_abroad)
    convicting = _mean(enf.prosecution_probability) * reach if enf.enabled else 0.0
    hazard_before = base * (times - start_h) + per_message * volume * np.arange(n_sends)
    hazard_end = base * (end_h - start_h) + per_message * volume * n_sends
    p_convicted = -math.expm1(-convicting * hazard_end)
    if enf.on_conviction == "stop":
        # Mail sent at one instant is all out before the detection it triggers (as the world
        # has it for a server without a capacity limit).
        free_at_send = np.exp(-convicting * hazard_before)
        # Free hours: between sends the hazard grows at the base rate only.
        edges = np.concatenate([[start_h], np.clip(times, start_h, end_h), [end_h]])
        after_jump = np.concatenate([[0.0], hazard_before + per_message * volume])
        spans = np.diff(edges)
        free_hours = float(
            sum(
                math.exp(-convicting * h) * span * _mean_exp(convicting * base, span)
                for h, span in zip(after_jump, spans, strict=True)
            )
        )
        messages = float(volume * free_at_send.sum())
        sends_paid = float(free_at_send.sum())
        convictions = p_convicted
    else:
        messages = volume * n_sends
        sends_paid = float(n_sends)
        free_hours = end_h - start_h
        convictions = convicting * hazard_end
    fine = _mean(getattr(enf.fines, spammer.legal_form))
    inbox = messages * (1.0 - catch)
    sales = inbox * success
    revenue = sales * profit
    cost = (
        messages * _mean(costs.per_message)
        + sends_paid * _mean(costs.per_send)
        + free_hours / 24.0 * _mean(costs.fixed_per_day)
    )
    fines = fine * convictions
    revenue_per_unit_success = inbox * profit
    return {
        "messages": messages,
        "inbox": inbox,
        "sales": sales,
        "revenue": revenue,
        "cost": cost,
        "fines": fines,
        "net_profit": revenue - cost - fines,
        "convictions": convictions,
        "p_convicted": p_convicted,
        "break_even_success_rate": (cost + fines) / revenue_per_unit_success if revenue_per_unit_success else math.inf,
        "cost_per_sale": cost / sales if sales else math.inf,
        "lecture_revenue": volume * n_sends * success * profit,
        "fine": fine,
        "_revenue_minus_cost": revenue - cost,
    }


def deterrence_frontier(scenario: Scenario, probabilities: np.ndarray | None = None) -> pd.DataFrame:
    """Fine at which each spammer's expected profit is zero, per probability of being caught.

    For each caught probability ``P`` (the scenario's base detection over the campaign),
    expected profit is ``R(P) - C(P) - fine * Q(P)`` with ``Q`` the expected number of
    convictions, so the zero-profit fine is ``(R - C) / Q``. A spammer with ``Q = 0``
    (abroad, out of reach) has no finite frontier.
    """
    if probabilities is None:
        probabilities = np.concatenate([np.geomspace(1e-4, 0.1, 31), np.linspace(0.12, 1.0, 23)])
    rows = []
    for spammer in scenario.spammers:
        for p in probabilities:
            t = _spammer_terms(scenario, spammer, float(p))
            q = t["convictions"]
            rows.append(
                {
                    "spammer": spammer.name,
                    "caught_probability": float(p),
                    "zero_profit_fine": max(t["_revenue_minus_cost"], 0.0) / q if q > 0 else math.inf,
                }
            )
    return pd.DataFrame(rows)


def is_exact(scenario: Scenario) -> bool:
    """Whether the closed form gives the exact means of ``scenario`` (not a first-order approximation).

    Means are exact where uncertain parameters enter linearly. Enforcement enters through
    ``exp(-pi H)``, which is not linear: an uncertain enforcement parameter, or an uncertain
    volume when detection grows with volume, makes the closed form ``f(E[X])`` where the
    simulation estimates ``E[f(X)]``.
    """
    enf = scenario.enforcement
    if not enf.enabled:
        return True
    enforcement_params = [enf.caught_probability, enf.detection_per_million_messages, enf.prosecution_probability]
    if any(s.location == "abroad" for s in scenario.spammers):
        enforcement_params.append(enf.reach_abroad)
    if any(isinstance(v, _Dist) for v in enforcement_params):
        return False
    volume_dependent = _mean(enf.detection_per_million_messages) > 0
    uncertain_volume = any(isinstance(s.campaign.messages_per_send, _Dist) for s in scenario.spammers)
    return not (volume_dependent and uncertain_volume)


def expected(scenario: Scenario, social: SocialCost | None = None) -> AnalyticResult:
    """Closed-form expectations of a scenario (see the module docstring for the formulas).

    Parameters
    ----------
    scenario
        A loaded scenario.
    social
        Unit costs of society's cost (default: the scenario currency's, with sources; an
        unknown currency leaves the externality not computed).

    Returns
    -------
    AnalyticResult
        ``applicable`` is False (with ``reasons``) when the scenario has parts without a
        closed form; the numbers are then those of the scenario's own-server, no-dynamics
        core and only the lecture arithmetic is meaningful.
    """
    reasons = applicability(scenario)
    exact = is_exact(scenario)
    rows = {s.name: _spammer_terms(scenario, s) for s in scenario.spammers}
    frame = pd.DataFrame.from_dict(rows, orient="index").drop(columns=["_revenue_minus_cost"])
    frame.index.name = "spammer"
    totals = {
        k: float(frame[k].sum())
        for k in (
            "messages",
            "inbox",
            "sales",
            "revenue",
            "cost",
            "fines",
            "net_profit",
            "convictions",
            "lecture_revenue",
        )
    }
    legit = _mean(scenario.legitimate_mail.messages_per_day) * scenario.horizon_days
    filtering = scenario.countermeasures.receiver_filtering
    fp = _mean(filtering.false_positive_rate) if filtering is not None and filtering.enabled else 0.0
    scope = ""
    if reasons:
        scope = (
            "These counts are the closed form's, for the scenario's fixed-campaign, own-server core "
            "(the closed form does not apply fully); externality_of_run() gives the simulated ones."
        )
    # Through the spammer's own server nothing stops mail before the receivers' servers: all
    # of it arrives there.
    ext = externality(
        social or SocialCost(),
        currency=scenario.market.currency,
        inbox=totals["inbox"],
        arriving=totals["messages"],
        legit_lost=legit * fp,
        revenue=totals["revenue"],
        scope=scope,
    )
    totals["social_cost"] = ext.total
    totals["externality_ratio"] = ext.ratio
    totals["cost_per_sale"] = totals["cost"] / totals["sales"] if totals["sales"] else math.inf
    return AnalyticResult(
        scenario=scenario,
        applicable=not reasons,
        reasons=reasons,
        exact=exact,
        per_spammer=frame,
        frontier=deterrence_frontier(scenario),
        social_cost=ext.social,
        externality=ext,
        totals=totals,
    )
