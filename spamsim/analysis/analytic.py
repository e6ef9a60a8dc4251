"""Closed-form expectations: the lecture's arithmetic, and the oracle the simulation is tested against.

For a spammer that sends a fixed campaign through its own server (no capacity limit, no
blacklists, no adaptation, no budget), every expected output has a closed form on the
world's own step grid:

* messages in step ``k``: ``m_k = sends_k * messages_per_send``;
* P(convicted in step k | still sending) ``c_k = q_k * prosecution * reach`` with
  ``q_k = 1 - (1 - b_k) exp(-rate_per_million * m_k / 1e6)`` and ``b_k`` the base
  detection spread evenly over the campaign's hours;
* still sending in step ``k``: ``A_k = prod_{j<k} (1 - c_j)`` if a conviction stops the
  spammer, else 1;
* ``E[revenue] = sum_k A_k m_k (1 - catch) s profit`` — the lecture's
  ``N * prod(p) * profit`` when nothing stops the spammer;
* ``E[fines] = fine * sum_k A_k c_k`` (or ``fine * sum_k c_k`` if it continues);
* ``E[profit] = E[revenue] - E[costs] - E[fines]``.

Distributions enter through their means: exact for revenue and costs (products of
independent draws), a first-order approximation where enforcement parameters are uncertain
(``AnalyticResult.exact`` says which).

From the same terms follow the break-even success rate, the deterrence frontier (fine x
probability of being caught at which expected profit is zero), the cost per sale, and the
externality ratio of society's cost to the spammer's revenue (Rao & Reiley, "The Economics
of Spam", Journal of Economic Perspectives 26(3), 2012, estimate it at roughly 100 : 1).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..scenario.distributions import _Dist
from ..scenario.schema import Scenario, Spammer


def _mean(value: Any) -> float:
    return value.expected() if isinstance(value, _Dist) else float(value)


@dataclass(frozen=True)
class SocialCost:
    """What spam costs everyone else (illustrative defaults; set your own).

    Attributes
    ----------
    seconds_per_spam
        Recipient time lost per spam that reaches an inbox (illustrative: a few seconds to
        recognise and delete it).
    value_of_time_per_hour
        Value of an hour of recipients' time, in the scenario's currency (illustrative:
        2,000 JPY, about an average hourly wage in Japan).
    value_of_lost_legit_mail
        Cost of one legitimate message lost to a filter's false positive.
    """

    seconds_per_spam: float = 5.0
    value_of_time_per_hour: float = 2000.0
    value_of_lost_legit_mail: float = 100.0


@dataclass
class AnalyticResult:
    """Closed-form expectations for a scenario."""

    scenario: Scenario
    applicable: bool
    reasons: list[str]
    exact: bool
    per_spammer: pd.DataFrame
    frontier: pd.DataFrame
    social_cost: SocialCost
    totals: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
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
    return reasons


def _step_grid(scenario: Scenario, spammer: Spammer) -> tuple[np.ndarray, np.ndarray]:
    """Sends per step and campaign hours per step, exactly as the world schedules them."""
    step_h = scenario.horizon.step_hours
    n = scenario.n_steps
    horizon_h = scenario.horizon_days * 24.0
    c = spammer.campaign
    start_h = c.start_day * 24.0
    end_h = min((c.start_day + c.days) * 24.0, horizon_h)
    sends = np.zeros(n)
    interval = 24.0 / c.sends_per_day
    count = min(c.n_sends, int(max(0.0, horizon_h - start_h) / interval) + 1)
    times = start_h + np.arange(count) * interval
    times = times[times < horizon_h]
    np.add.at(sends, np.minimum((times // step_h).astype(np.int64), n - 1), 1)
    hours = np.array(
        [max(0.0, min(min((k + 1) * step_h, horizon_h), end_h) - max(k * step_h, start_h)) for k in range(n)]
    )
    return sends, hours


def _spammer_terms(scenario: Scenario, spammer: Spammer, caught_probability: float | None = None) -> dict[str, float]:
    """Expected outputs of one spammer (``caught_probability`` overrides the scenario's)."""
    market, costs, enf = scenario.market, scenario.costs, scenario.enforcement
    sends, hours = _step_grid(scenario, spammer)
    m = sends * _mean(spammer.campaign.messages_per_send)
    filtering = scenario.countermeasures.receiver_filtering
    catch = 0.0
    if scenario.countermeasures.active("receiver_filtering") and filtering is not None:
        catch = _mean(filtering.catch_rate_by_channel.get("own_server", filtering.catch_rate))
    if market.funnel is not None:
        f = market.funnel
        success = _mean(f.open_rate) * _mean(f.click_rate) * _mean(f.purchase_rate)
    else:
        success = _mean(market.success_rate)
    profit = _mean(market.profit_per_sale)

    p_caught = _mean(enf.caught_probability) if caught_probability is None else caught_probability
    total_hours = max(hours.sum(), 1e-12)
    base = 1.0 - (1.0 - p_caught) ** (hours / total_hours) if p_caught < 1 else (hours > 0).astype(float)
    q = 1.0 - (1.0 - base) * np.exp(-_mean(enf.detection_per_million_messages) * m / 1e6)
    reach = 1.0 if spammer.location == "domestic" else _mean(enf.reach_abroad)
    c = q * _mean(enf.prosecution_probability) * reach if enf.enabled else np.zeros_like(q)
    if enf.on_conviction == "stop":
        active = np.concatenate([[1.0], np.cumprod(1.0 - c)[:-1]])
    else:
        active = np.ones_like(c)
    fine = _mean(getattr(enf.fines, spammer.legal_form))
    inbox = float((active * m).sum() * (1.0 - catch))
    sales = inbox * success
    revenue = sales * profit
    cost = float(
        (active * m).sum() * _mean(costs.per_message)
        + (active * sends).sum() * _mean(costs.per_send)
        + (active * hours / 24.0).sum() * _mean(costs.fixed_per_day)
    )
    convictions = float((active * c).sum())
    fines = fine * convictions
    revenue_per_unit_success = inbox * profit
    return {
        "messages": float((active * m).sum()),
        "inbox": inbox,
        "sales": sales,
        "revenue": revenue,
        "cost": cost,
        "fines": fines,
        "net_profit": revenue - cost - fines,
        "convictions": convictions,
        "p_convicted": float(1.0 - np.prod(1.0 - c)),
        "break_even_success_rate": (cost + fines) / revenue_per_unit_success if revenue_per_unit_success else math.inf,
        "cost_per_sale": cost / sales if sales else math.inf,
        "lecture_revenue": float(m.sum()) * success * profit,
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


def expected(scenario: Scenario, social: SocialCost | None = None) -> AnalyticResult:
    """Closed-form expectations of a scenario (see the module docstring for the formulas).

    Parameters
    ----------
    scenario
        A loaded scenario.
    social
        Parameters of society's cost for the externality ratio.

    Returns
    -------
    AnalyticResult
        ``applicable`` is False (with ``reasons``) when the scenario has parts without a
        closed form; the numbers are then those of the scenario's own-server, no-dynamics
        core and only the lecture arithmetic is meaningful.
    """
    social = social or SocialCost()
    reasons = applicability(scenario)
    enf = scenario.enforcement
    exact = (
        not any(
            isinstance(v, _Dist)
            for v in (
                enf.caught_probability,
                enf.detection_per_million_messages,
                enf.prosecution_probability,
                enf.reach_abroad,
            )
        )
        or not enf.enabled
    )
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
    society = (
        totals["inbox"] * social.seconds_per_spam / 3600.0 * social.value_of_time_per_hour
        + legit * fp * social.value_of_lost_legit_mail
    )
    totals["social_cost"] = society
    totals["externality_ratio"] = society / totals["revenue"] if totals["revenue"] else math.inf
    totals["cost_per_sale"] = totals["cost"] / totals["sales"] if totals["sales"] else math.inf
    return AnalyticResult(
        scenario=scenario,
        applicable=not reasons,
        reasons=reasons,
        exact=exact,
        per_spammer=frame,
        frontier=deterrence_frontier(scenario),
        social_cost=social,
        totals=totals,
    )
