"""Robustness of countermeasure portfolios across explored worlds.

Over the worlds of an exploration (:mod:`spamsim.runner.explore`), with ``P[w, k]`` the
largest expected net profit of any spammer in world ``w`` under portfolio ``k`` (the best
placed spammer: spam stays profitable if *any* spammer profits):

* **satisficing**: the share of worlds in which every spammer's expected net profit is
  negative, ``mean_w(P[w, k] < 0)`` (higher is better);
* **regret**: ``P[w, k] - min_k' P[w, k']``, how much more the best placed spammer earns
  under ``k`` than under the best portfolio for that world; reported as its mean and its
  maximum over worlds (Savage's minimax regret; lower is better);
* **percentiles** 10/50/90 of ``P[w, k]`` over worlds (lower is better);
* the **Pareto front** of satisficing (higher) against the defenders' cost (lower).

These are the metrics of the robust decision-making literature (e.g. McPhail et al.,
"Robustness metrics: how are they calculated, when should they be used and why do they give
different results?", Earth's Future 6, 2018), applied to spamsim's outcomes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

PERCENTILES = (10, 50, 90)


def max_net_profit(outcomes: pd.DataFrame, spammers: list[str]) -> pd.DataFrame:
    """``P[w, k]``: rows worlds, columns portfolios (in order of first appearance)."""
    columns = [f"{s}.net_profit.mean" for s in spammers]
    worst = outcomes[columns].max(axis=1)
    frame = pd.DataFrame({"world": outcomes["world"], "portfolio": outcomes["portfolio"], "p": worst})
    order = list(dict.fromkeys(outcomes["portfolio"]))
    return frame.pivot(index="world", columns="portfolio", values="p")[order]


def robustness(outcomes: pd.DataFrame, spammers: list[str], defender_costs: dict[str, float]) -> pd.DataFrame:
    """Per portfolio: satisficing, regret (mean, max), percentiles of the best placed spammer's
    net profit, defenders' cost and whether the portfolio is on the Pareto front.

    Parameters
    ----------
    outcomes
        One row per world x portfolio with ``world``, ``portfolio`` and ``SPAMMER.net_profit.mean``.
    spammers
        Spammer names.
    defender_costs
        Defenders' cost per portfolio (NaN where unknown).

    Returns
    -------
    pandas.DataFrame
        Indexed by portfolio, sorted most robust first (satisficing down, then max regret up).
    """
    p = max_net_profit(outcomes, spammers)
    values = p.to_numpy(dtype=float)
    regret = values - values.min(axis=1, keepdims=True)
    table = pd.DataFrame(
        {
            "satisficing": (values < 0).mean(axis=0),
            "regret_mean": regret.mean(axis=0),
            "regret_max": regret.max(axis=0),
            **{f"p{q}": np.percentile(values, q, axis=0) for q in PERCENTILES},
            "defender_cost": [float(defender_costs.get(k, math.nan)) for k in p.columns],
        },
        index=pd.Index(p.columns, name="portfolio"),
    )
    table["pareto"] = pareto_front(table["satisficing"].to_numpy(), table["defender_cost"].to_numpy())
    return table.sort_values(["satisficing", "regret_max"], ascending=[False, True], kind="stable")


def pareto_front(benefit: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Which options no other option dominates (benefit at least as high and cost at most as
    low, one of them strictly). Options with an unknown (NaN) cost are judged on benefit alone."""
    benefit = np.asarray(benefit, dtype=float)
    cost = np.asarray(cost, dtype=float)
    known = np.isfinite(cost)
    c = np.where(known, cost, np.inf) if known.any() else np.zeros_like(benefit)
    out = np.ones(len(benefit), dtype=bool)
    for i in range(len(benefit)):
        better = (benefit >= benefit[i]) & (c <= c[i]) & ((benefit > benefit[i]) | (c < c[i]))
        out[i] = not better.any()
    return out
