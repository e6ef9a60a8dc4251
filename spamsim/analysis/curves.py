"""Derived series for figures: per-step means with CIs, waterfalls, break-even curves.

Plotting code draws; it computes no statistics. Everything a figure needs beyond what
:class:`~spamsim.analysis.result.Result`, :class:`~spamsim.analysis.effects.Comparison` and
:func:`~spamsim.analysis.analytic.expected` already provide is computed here, as small typed
functions over tidy DataFrames, so that the numbers behind a figure can be inspected, tested
and tabled on their own.

* :func:`mean_ci_by` — mean and Student-t 95 % CI of a column per group (vectorised
  :func:`~spamsim.analysis.summary.mean_ci`);
* :func:`funnel_stages` — the funnel of a run with each stage's pass rate;
* :func:`channel_mix` — share of delivered (or attempted) spam by channel, per step, mean and CI over
  replications;
* :func:`world_series` — world state (spam share, populations, adoption) per step, mean and CI;
* :func:`adoption_milestones` — when each countermeasure's adoption first reaches a level;
* :func:`shapley_waterfall` — from all-off to all-on net profit through each
  countermeasure's Shapley share;
* :func:`expected_curve` / :func:`break_even_curve` — the closed-form expectations over a
  range of a parameter, and the success rate at which spam stops paying;
* :func:`relative_ci_halfwidth` — each sweep point's CI half-width relative to its mean.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from ..model.schedules import DAYS_PER_YEAR
from ..scenario.distributions import _Dist
from ..scenario.loader import load
from ..scenario.schema import Scenario
from .analytic import _mean, _spammer_terms, applicability
from .summary import CONFIDENCE, mean_ci

if TYPE_CHECKING:
    from .effects import Comparison
    from .result import Result

CI_COLUMNS = ("n", "mean", "se", "ci95_low", "ci95_high")
"""Columns :func:`mean_ci_by` adds to the group keys."""

ADOPTION_COLUMNS = {
    "relay_prevention": "open_relay_prevention",
    "smtp_auth": "submission_auth",
    "op25b": "op25b",
}
"""World-timeseries adoption columns and the countermeasure each one belongs to."""

POPULATION_COLUMNS = {
    "bots": "botnet",
    "hit_and_run_bots": "botnet",
    "relays_known": "open_relays",
    "accounts": "compromised_accounts",
}
"""World-timeseries population columns and the channel each one belongs to."""


def mean_ci_by(
    frame: pd.DataFrame, by: str | Sequence[str], value: str, confidence: float = CONFIDENCE
) -> pd.DataFrame:
    """Mean, standard error and Student-t CI of ``value`` per group of ``by``.

    The vectorised equivalent of :func:`~spamsim.analysis.summary.mean_ci` applied per
    group (same conventions: NaN interval with fewer than two values, an interval collapsed
    onto the mean when every value is the same). NaN values are left out of their group.

    Parameters
    ----------
    frame
        One row per replication (and group).
    by
        Group column(s), e.g. ``"step"`` or ``["step", "channel"]``.
    value
        Column to summarise.
    confidence
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        The group columns, then ``n``, ``mean``, ``se``, ``ci95_low``, ``ci95_high``.
    """
    keys = [by] if isinstance(by, str) else list(by)
    grouped = frame.groupby(keys, sort=True)[value]
    out = grouped.agg(["count", "mean", "std"]).reset_index()
    n = out["count"].to_numpy(dtype=float)
    mean = out["mean"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        se = out["std"].to_numpy(dtype=float) / np.sqrt(n)
        t = stats.t.ppf(0.5 + confidence / 2, df=np.where(n >= 2, n - 1, np.nan))
        half = np.where(se == 0.0, 0.0, t * se)
    se = np.where(n >= 2, se, np.nan)
    half = np.where(n >= 2, half, np.nan)
    out = out.drop(columns=["count", "std"])
    out["n"] = n.astype(int)
    out["se"] = se
    out["ci95_low"] = mean - half
    out["ci95_high"] = mean + half
    return out[[*keys, *CI_COLUMNS]]


# -- time ----------------------------------------------------------------------------------


def time_column(scenario: Scenario) -> str:
    """``"year"`` when the scenario has a calendar (``horizon.start_year``), else ``"day"``."""
    return "year" if scenario.horizon.start_year is not None else "day"


def calendar_years(scenario: Scenario, days: np.ndarray | pd.Series) -> np.ndarray:
    """Calendar years of ``days`` since the start (needs ``horizon.start_year``).

    Uses the same year length as adoption schedules (``DAYS_PER_YEAR`` = 365.25 days), so a
    schedule key such as ``2006`` falls exactly where the simulation put it.
    """
    start = scenario.horizon.start_year
    if start is None:
        raise ValueError(f"scenario {scenario.name!r} has no horizon.start_year")
    return start + np.asarray(days, dtype=float) / DAYS_PER_YEAR


def _with_time(frame: pd.DataFrame, scenario: Scenario, steps: pd.DataFrame) -> pd.DataFrame:
    days = steps.drop_duplicates("step").set_index("step")["day"]
    frame.insert(frame.columns.get_loc("step") + 1, "day", frame["step"].map(days).to_numpy())
    if scenario.horizon.start_year is not None:
        frame.insert(frame.columns.get_loc("day") + 1, "year", calendar_years(scenario, frame["day"]))
    return frame


# -- runs ----------------------------------------------------------------------------------


def funnel_stages(result: Result) -> pd.DataFrame:
    """The funnel of a run: attempted → delivered → inbox → (opened → clicked →) sales.

    Parameters
    ----------
    result
        A finished run.

    Returns
    -------
    pandas.DataFrame
        Index ``stage``; columns ``n``, ``mean``, ``ci95_low``, ``ci95_high`` (from
        ``result.summary``: messages, or sales, per replication) and ``pass_rate``, the mean
        of the stage over the mean of the stage before it (NaN for the first stage and when
        the stage before is zero).
    """
    stages = ["attempted", "delivered", "inbox"]
    if result.scenario.market.funnel is not None:
        stages += ["opened", "clicked"]
    stages.append("sales")
    frame = result.summary.loc[stages, ["n", "mean", "ci95_low", "ci95_high"]].copy()
    frame.index.name = "stage"
    means = frame["mean"].to_numpy(dtype=float)
    previous = np.concatenate([[np.nan], means[:-1]])
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["pass_rate"] = np.where(previous > 0, means / previous, np.nan)
    return frame


def channel_mix(result: Result, metric: str = "delivered") -> pd.DataFrame:
    """Share of spam through each channel, per step: mean and CI over replications.

    Within each replication and step the share of channel ``c`` is
    ``metric[c] / sum(metric)`` over all spammers — by default ``delivered`` (what reached
    recipients; ``attempted`` counts mail refused on the way too, e.g. at closed relays);
    steps in which a replication sent nothing are left out of that step's mean.

    Returns
    -------
    pandas.DataFrame
        Columns ``step``, ``day`` (and ``year`` with a calendar), ``channel``, then
        ``n``, ``mean``, ``se``, ``ci95_low``, ``ci95_high`` of the share (0–1).
    """
    ts = result.timeseries
    per = ts.groupby(["rep", "step", "channel"], sort=True)[metric].sum()
    total = per.groupby(level=["rep", "step"]).transform("sum")
    share = (per / total.where(total > 0)).rename("share").reset_index()
    out = mean_ci_by(share, ["step", "channel"], "share")
    order = {name: i for i, name in enumerate(result.ledger.channels)}
    out = out.sort_values(["step", "channel"], key=lambda s: s.map(order) if s.name == "channel" else s)
    return _with_time(out.reset_index(drop=True), result.scenario, ts)


def world_series(result: Result, columns: Iterable[str]) -> pd.DataFrame:
    """Per step, mean and CI over replications of world-timeseries columns.

    Parameters
    ----------
    result
        A finished run.
    columns
        Columns of ``result.world_timeseries``, e.g. ``["spam_share"]`` or ``["bots",
        "relays_known"]``.

    Returns
    -------
    pandas.DataFrame
        Long format: ``step``, ``day`` (and ``year``), ``variable``, then ``n``, ``mean``,
        ``se``, ``ci95_low``, ``ci95_high``.
    """
    wts = result.world_timeseries
    columns = list(columns)
    unknown = [c for c in columns if c not in wts.columns]
    if unknown:
        raise KeyError(f"not in world_timeseries: {', '.join(unknown)}")
    long = wts.melt(id_vars=["rep", "step"], value_vars=columns, var_name="variable")
    out = mean_ci_by(long, ["variable", "step"], "value")
    out["variable"] = pd.Categorical(out["variable"], categories=columns, ordered=True)
    out = out.sort_values(["variable", "step"]).reset_index(drop=True)
    out["variable"] = out["variable"].astype(str)
    out = out[["step", "variable", *CI_COLUMNS]]
    return _with_time(out, result.scenario, wts)


def adoption_milestones(result: Result, level: float = 0.5) -> pd.DataFrame:
    """When each countermeasure's adoption first reaches ``level`` (linear between steps).

    Only countermeasures the scenario defines are listed; those whose adoption never
    crosses ``level`` from below during the run (constant adoption, or already above it at
    the start) are left out.

    Returns
    -------
    pandas.DataFrame
        Columns ``variable`` (world-timeseries column: ``relay_prevention``, ``smtp_auth``,
        ``op25b``), ``countermeasure``, ``day`` (and ``year``), ``level``.
    """
    defined = set(result.scenario.countermeasures.names())
    columns = [c for c, cm in ADOPTION_COLUMNS.items() if cm in defined]
    rows = []
    if columns:
        series = world_series(result, columns)
        for column in columns:
            s = series[series["variable"] == column]
            y = s["mean"].to_numpy(dtype=float)
            day = s["day"].to_numpy(dtype=float)
            crossed = np.flatnonzero((y[:-1] < level) & (y[1:] >= level))
            if crossed.size == 0:
                continue
            i = int(crossed[0])
            frac = (level - y[i]) / (y[i + 1] - y[i])
            rows.append(
                {
                    "variable": column,
                    "countermeasure": ADOPTION_COLUMNS[column],
                    "day": float(day[i] + frac * (day[i + 1] - day[i])),
                    "level": level,
                }
            )
    out = pd.DataFrame(rows, columns=["variable", "countermeasure", "day", "level"])
    if result.scenario.horizon.start_year is not None:
        out.insert(3, "year", calendar_years(result.scenario, out["day"]))
    return out


# -- comparisons ---------------------------------------------------------------------------


def shapley_waterfall(comparison: Comparison, metric: str = "net_profit") -> pd.DataFrame:
    """Steps of a waterfall from ``metric`` with every countermeasure off to every one on.

    The first row is the mean of ``metric`` with all countermeasures off, then one row per
    countermeasure (largest share first) with its Shapley share of the reduction, then the
    mean with all on. Shapley shares add up exactly to the total reduction in every
    replication, so the steps meet the all-on bar exactly.

    Parameters
    ----------
    comparison
        From ``compare(..., shapley=True)``.
    metric
        ``net_profit`` or ``revenue``.

    Returns
    -------
    pandas.DataFrame
        Columns ``step`` (``all_off``, countermeasure names, ``all_on``), ``kind``
        (``total`` | ``share``), ``mean``, ``ci95_low``, ``ci95_high`` (for shares: the
        reduction, positive when the countermeasure lowers ``metric``), ``start`` and
        ``end`` (where the bar begins and ends on the ``metric`` axis) and ``share_pct``
        (share of the total reduction, in %).
    """
    if not comparison.shapley_computed:
        raise ValueError("the comparison has no Shapley values: run compare(..., shapley=True)")
    shares = comparison.shapley_replications(metric)
    off = comparison.outcomes[comparison.all_off].replications[metric].to_numpy(dtype=float)
    on = comparison.outcomes[comparison.all_on].replications[metric].to_numpy(dtype=float)
    total_reduction = float(np.mean(off - on))
    rows: list[dict[str, Any]] = []

    def total(step: str, values: np.ndarray) -> dict[str, Any]:
        mean, _, lo, hi = mean_ci(values)
        return {
            "step": step,
            "kind": "total",
            "mean": mean,
            "ci95_low": lo,
            "ci95_high": hi,
            "start": 0.0,
            "end": mean,
            "share_pct": math.nan,
        }

    rows.append(total("all_off", off))
    level = rows[0]["mean"]
    stats_by_name = {name: mean_ci(shares[name].to_numpy(dtype=float)) for name in shares.columns}
    for name in sorted(stats_by_name, key=lambda n: -stats_by_name[n][0]):
        mean, _, lo, hi = stats_by_name[name]
        rows.append(
            {
                "step": str(name),
                "kind": "share",
                "mean": mean,
                "ci95_low": lo,
                "ci95_high": hi,
                "start": level,
                "end": level - mean,
                "share_pct": 100.0 * mean / total_reduction if total_reduction else math.nan,
            }
        )
        level -= mean
    rows.append(total("all_on", on))
    return pd.DataFrame(rows)


# -- sweeps ---------------------------------------------------------------------------------


def relative_ci_halfwidth(summary: pd.DataFrame, metric: str) -> pd.Series:
    """Half-width of each sweep point's 95 % CI of ``metric`` as a share of its mean.

    Parameters
    ----------
    summary
        A sweep summary (``<metric>.mean``, ``.ci95_low``, ``.ci95_high`` per point).
    metric
        Metric name.

    Returns
    -------
    pandas.Series
        ``(ci95_high - ci95_low) / 2 / |mean|`` per row (0 when the interval is a point,
        NaN when the mean is 0 but the interval is not).
    """
    mean = summary[f"{metric}.mean"].to_numpy(dtype=float)
    half = (
        summary[f"{metric}.ci95_high"].to_numpy(dtype=float) - summary[f"{metric}.ci95_low"].to_numpy(dtype=float)
    ) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(half == 0, 0.0, half / np.abs(mean))
    rel = np.where(np.isfinite(rel), rel, np.nan)
    return pd.Series(rel, index=summary.index, name=f"{metric}.ci95_relative_halfwidth")


# -- closed form ---------------------------------------------------------------------------


def expected_curve(
    scenario: Scenario | str | os.PathLike[str] | Mapping[str, Any],
    path: str,
    values: Sequence[float] | np.ndarray,
    overrides: Iterable[str] = (),
) -> pd.DataFrame:
    """Closed-form expected totals of a scenario over values of one parameter.

    Each value is set with an override (``path=value``, as ``spamsim run --set``) and the
    scenario is evaluated in closed form (:func:`expected_totals`, the totals of
    :func:`~spamsim.analysis.analytic.expected`).

    Parameters
    ----------
    scenario
        Scenario, path or mapping.
    path
        Dotted parameter path, e.g. ``market.success_rate`` or
        ``spammers.0.campaign.messages_per_send``.
    values
        Values of the parameter.
    overrides
        Further edits applied before each value (e.g. ``market.funnel=null``).

    Returns
    -------
    pandas.DataFrame
        One row per value: ``path``'s value, then expected ``messages``, ``sales``,
        ``revenue``, ``cost``, ``fines`` and ``net_profit`` (currency of the scenario).
    """
    base = load(scenario)
    extra = list(overrides)
    rows = []
    for value in np.asarray(values, dtype=float):
        totals = expected_totals(load(base, [*extra, f"{path}={float(value)!r}"]))
        rows.append({path: float(value), **totals})
    return pd.DataFrame(rows)


TOTALS = ("messages", "sales", "revenue", "cost", "fines", "net_profit")


def expected_totals(scenario: Scenario) -> dict[str, float]:
    """Closed-form expected totals over all spammers: ``messages``, ``sales``, ``revenue``,
    ``cost``, ``fines`` and ``net_profit``, as in ``expected(scenario).totals``.

    The same terms as :func:`~spamsim.analysis.analytic.expected`, without the deterrence
    frontier it also computes (dozens of evaluations per call): about 50 times faster, which
    matters for curves of many points.
    """
    terms = [_spammer_terms(scenario, spammer) for spammer in scenario.spammers]
    return {key: float(sum(t[key] for t in terms)) for key in TOTALS}


@dataclass(frozen=True)
class BreakEvenCurve:
    """Expected revenue, cost and net profit of a scenario over a range of success rates.

    Attributes
    ----------
    frame
        One row per success rate: ``success_rate``, ``messages``, ``sales``, ``revenue``,
        ``cost``, ``fines``, ``net_profit`` (closed-form expectations, currency below).
    break_even_success_rate
        Success rate (sales per inbox message) at which expected net profit is zero: 0 when
        sending costs nothing and nobody is fined, ``inf`` when nothing reaches an inbox.
    success_rate
        The scenario's own (mean) success rate — for a funnel, open x click x purchase.
    success_rate_interval
        Central 95 % range of the scenario's success-rate distribution (2.5 % and 97.5 %
        quantiles) when it is uncertain; None for a fixed rate or a funnel.
    currency
        The scenario's currency.
    applicable
        Whether the closed form describes the whole scenario (see
        :func:`~spamsim.analysis.analytic.applicability`); if not, the curve is that of the
        scenario's own-server, no-dynamics core.
    scenario_name
        Name of the scenario.
    """

    frame: pd.DataFrame
    break_even_success_rate: float
    success_rate: float
    success_rate_interval: tuple[float, float] | None
    currency: str
    applicable: bool
    scenario_name: str


def break_even_curve(
    scenario: Scenario | str | os.PathLike[str] | Mapping[str, Any],
    success_rates: Sequence[float] | np.ndarray | None = None,
    num: int = 61,
) -> BreakEvenCurve:
    """Expected revenue, cost and net profit over success rates, and the break-even rate.

    Revenue is proportional to the success rate and costs and fines do not depend on it
    (:mod:`spamsim.analysis.analytic`), so the break-even rate is
    ``(cost + fines) / revenue_at_rate_1``.

    Parameters
    ----------
    scenario
        Scenario, path or mapping. A funnel scenario is evaluated with one success rate in
        place of its funnel.
    success_rates
        Rates to evaluate (default: ``num`` log-spaced rates spanning two decades either side
        of the scenario's rate and of the break-even rate, within (0, 1]).
    num
        Number of default rates.

    Returns
    -------
    BreakEvenCurve
    """
    base = load(scenario)
    market = base.market
    interval: tuple[float, float] | None = None
    if market.funnel is not None:
        f = market.funnel
        rate = _mean(f.open_rate) * _mean(f.through_rate) * _mean(f.purchase_rate)
        extra = ["market.funnel=null"]
    else:
        rate = _mean(market.success_rate)
        extra = []
        if isinstance(market.success_rate, _Dist):
            q_low, q_high = (float(q) for q in market.success_rate.frozen().ppf([0.025, 0.975]))
            interval = (max(q_low, 0.0), min(q_high, 1.0))
    at_one_scenario = load(base, [*extra, "market.success_rate=1.0"])
    at_one = expected_totals(at_one_scenario)
    per_unit = at_one["revenue"]
    charges = at_one["cost"] + at_one["fines"]
    break_even = charges / per_unit if per_unit > 0 else math.inf
    if success_rates is None:
        anchors = [r for r in (rate, break_even, *(interval or ())) if 0 < r < math.inf]
        lowest = max(min(anchors, default=1e-6) / 100.0, 1e-12)
        highest = min(max(anchors, default=1e-2) * 100.0, 1.0)
        success_rates = np.geomspace(lowest, highest, num)
    frame = expected_curve(base, "market.success_rate", success_rates, overrides=extra)
    frame = frame.rename(columns={"market.success_rate": "success_rate"})
    return BreakEvenCurve(
        frame=frame,
        break_even_success_rate=float(break_even),
        success_rate=float(rate),
        success_rate_interval=interval,
        currency=market.currency,
        applicable=not applicability(at_one_scenario),
        scenario_name=base.name,
    )
