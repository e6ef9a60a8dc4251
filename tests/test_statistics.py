"""Statistics that hold at the edges: rare events get intervals that do not collapse, and
sensitivity analyses repeat exactly for every seed, 0 included (issue 10)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import spamsim
from spamsim.analysis.sensitivity import salib_seed
from spamsim.analysis.summary import (
    CI_T,
    CI_WILSON,
    CI_ZERO_EVENTS,
    mean_ci,
    summarize,
    wilson_ci,
    zero_events_upper_bound,
)

from .conftest import SCENARIOS, spamsim_cli

REPS = 200
UPPER_200 = -math.log(0.025) / 200  # 0.01844: exact Poisson 95 % upper end for 0 events in 200


def enforced(caught_probability: float) -> dict:
    """A one-day, one-spammer scenario whose spammer stops at its first conviction.

    Every detection is prosecuted and a conviction stops the spammer, so each replication
    counts 0 or 1 detections and convictions.
    """
    return {
        "name": "rare",
        "horizon": {"days": 1, "step_hours": 24},
        "market": {"success_rate": 0.01, "profit_per_sale": 500},
        "enforcement": {
            "caught_probability": caught_probability,
            "prosecution_probability": 1,
            "fines": {"individual": 1e6},
            "on_conviction": "stop",
        },
        "spammers": [{"name": "s", "campaign": {"messages_per_send": 1000, "days": 1}}],
    }


def test_wilson_interval_matches_scipy_and_the_closed_form():
    k, n = 3, 200
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    assert wilson_ci(k, n) == pytest.approx((ci.low, ci.high), rel=1e-12)
    # Wilson (1927): centre (k + z^2/2) / (n + z^2), half-width z / (n + z^2) * sqrt(k (n-k) / n + z^2 / 4).
    z = stats.norm.ppf(0.975)
    centre = (k + z**2 / 2) / (n + z**2)
    half = z / (n + z**2) * math.sqrt(k * (n - k) / n + z**2 / 4)
    assert wilson_ci(k, n) == pytest.approx((centre - half, centre + half), rel=1e-9)

    frame = pd.DataFrame({"convictions": [1.0] * k + [0.0] * (n - k)})
    row = summarize(frame, ["convictions"], events=["convictions"]).loc["convictions"]
    assert row["ci_method"] == CI_WILSON
    assert (row["ci95_low"], row["ci95_high"]) == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert row["mean"] == k / n and row["n"] == n


def test_zero_event_bound_for_200_replications():
    assert zero_events_upper_bound(REPS) == pytest.approx(UPPER_200, rel=1e-12)
    # It also bounds a share: the exact binomial (Clopper-Pearson) bound is a little lower.
    share_bound = stats.binomtest(0, REPS).proportion_ci(confidence_level=0.95, method="exact").high
    assert share_bound == pytest.approx(1 - 0.025 ** (1 / REPS), rel=1e-9)
    assert share_bound < zero_events_upper_bound(REPS) < share_bound * 1.01

    frame = pd.DataFrame({"quits": np.zeros(REPS), "cost": np.zeros(REPS)})
    summary = summarize(frame, ["quits", "cost"], events=["quits"])
    quits = summary.loc["quits"]
    assert quits["ci_method"] == CI_ZERO_EVENTS and quits["mean"] == 0 and quits["ci95_low"] == 0
    assert quits["ci95_high"] == pytest.approx(UPPER_200, rel=1e-12)
    # A metric that is not an event count keeps the t-interval, collapsed or not.
    cost = summary.loc["cost"]
    assert cost["ci_method"] == CI_T and cost["ci95_low"] == cost["ci95_high"] == 0


def test_counts_above_one_keep_the_t_interval():
    x = np.array([0.0] * 198 + [1.0, 2.0])
    summary = summarize(pd.DataFrame({"convictions": x}), ["convictions"], events=["convictions"])
    row = summary.loc["convictions"]
    mean, se, _, hi = mean_ci(x)
    assert row["ci_method"] == CI_T
    assert (row["mean"], row["se"], row["ci95_low"], row["ci95_high"]) == pytest.approx((mean, se, 0.0, hi))


def test_a_run_where_no_spammer_is_caught_reports_an_upper_bound():
    # P(caught) 1e-9 per run: with the fixed seed there are no detections in 200 replications.
    summary = spamsim.run(enforced(1e-9), reps=REPS, seed=5).summary
    for metric in ("detections", "convictions"):
        row = summary.loc[metric]
        assert row["mean"] == 0 and row["ci_method"] == CI_ZERO_EVENTS, row
        assert row["ci95_low"] == 0 and row["ci95_high"] == pytest.approx(UPPER_200, rel=1e-12)
    # Amounts keep the t-interval: revenue varies, the fines (never paid) collapse at 0.
    assert (summary.loc[["revenue", "fines"], "ci_method"] == CI_T).all()
    assert summary.loc["revenue", "ci95_low"] < summary.loc["revenue", "ci95_high"]


def test_a_run_with_at_most_one_conviction_uses_the_wilson_interval():
    result = spamsim.run(enforced(0.05), reps=REPS, seed=5)
    convicted = int(result.replications["convictions"].sum())
    assert 0 < convicted < REPS and result.replications["convictions"].isin([0, 1]).all()
    row = result.summary.loc["convictions"]
    assert row["ci_method"] == CI_WILSON
    assert (row["ci95_low"], row["ci95_high"]) == pytest.approx(wilson_ci(convicted, REPS), rel=1e-12)
    assert 0 < row["ci95_low"] < row["mean"] < row["ci95_high"] < 1


def test_cli_table_reads_zero_of_n_with_the_upper_bound(write):
    path = write(
        """
        name: rare
        horizon: {days: 1, step_hours: 24}
        market: {success_rate: 0.01, profit_per_sale: 500}
        enforcement: {caught_probability: 1.0e-9, fines: {individual: 1000000}}
        spammers:
          - name: s
            campaign: {messages_per_send: 1000}
        """
    )
    res = spamsim_cli("run", str(path), "--reps", str(REPS), "--seed", "5")
    assert res.returncode == 0, res.stderr
    line = next(line for line in res.stdout.splitlines() if "Convictions" in line)
    assert f"0 of {REPS} (upper bound {UPPER_200:.3g})" in line, res.stdout


def test_salib_seed_is_positive_and_stable_for_seed_zero():
    assert salib_seed(0, "analyze") == salib_seed(0, "analyze") >= 1
    assert salib_seed(0, "sample") != salib_seed(0, "analyze") != salib_seed(1, "analyze")


def test_sobol_with_seed_zero_repeats_exactly():
    # SALib's Sobol analyser ignores a falsy seed; before the fix seed 0 gave new bootstrap CIs
    # on every call. Few samples keep it fast: 8 x (2 + 2) points of 2 replications.
    params = ["market.success_rate=0.001:0.02", "market.profit_per_sale=100:1000"]

    def indices(seed: int) -> pd.DataFrame:
        return spamsim.sensitivity(
            SCENARIOS / "lecture.yaml", params, metric="revenue", method="sobol", n=8, reps=2, seed=seed
        ).indices

    first = indices(0)
    pd.testing.assert_frame_equal(first, indices(0), check_exact=True)
    assert not first.equals(indices(1))
