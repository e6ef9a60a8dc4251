"""Running scenarios: the lecture's arithmetic, reproducibility, seeding, enforcement oracle."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import spamsim
from spamsim.runner import BLOCK_SIZE

from .conftest import SCENARIOS

LECTURE = SCENARIOS / "lecture.yaml"


def within_4_se(result, metric, expected):
    row = result.summary.loc[metric]
    assert abs(row["mean"] - expected) <= 4 * row["se"], (
        f"{metric}: mean {row['mean']:.6g} vs expected {expected:.6g} (se {row['se']:.3g})"
    )


def test_lecture_revenue_is_five_million_yen():
    # 0.01 x 500 JPY x 1,000,000 = 5,000,000 JPY; sales ~ Binomial(1e6, 0.01), so the
    # tolerance of 4 standard errors gives a false-failure rate of about 6e-5.
    res = spamsim.run(LECTURE, reps=1000, seed=20111)
    within_4_se(res, "revenue", 5_000_000)
    within_4_se(res, "sales", 10_000)
    assert res.summary.loc["attempted", "mean"] == 1_000_000
    assert res.summary.loc["net_profit", "mean"] == res.summary.loc["revenue", "mean"]
    # The binomial variance is known exactly: sd(sales) = sqrt(n p (1-p)).
    assert res.summary.loc["sales", "sd"] == pytest.approx(math.sqrt(1e6 * 0.01 * 0.99), rel=0.1)


def test_lecture_ten_thousand_messages_earn_fifty_thousand_yen():
    res = spamsim.run(LECTURE, reps=2000, seed=3, overrides=["spammers.lecturer.campaign.messages_per_send=10000"])
    within_4_se(res, "revenue", 50_000)


def test_same_seed_gives_identical_replications():
    a = spamsim.run(LECTURE, reps=300, seed=42).replications
    b = spamsim.run(LECTURE, reps=300, seed=42).replications
    pd.testing.assert_frame_equal(a, b)
    c = spamsim.run(LECTURE, reps=300, seed=43).replications
    assert not a.equals(c)


def test_worker_count_does_not_change_numbers():
    reps = 2 * BLOCK_SIZE + 17  # three blocks, the last one partial
    one = spamsim.run(SCENARIOS / "lecture-uncertain.yaml", reps=reps, seed=9, workers=1)
    two = spamsim.run(SCENARIOS / "lecture-uncertain.yaml", reps=reps, seed=9, workers=2)
    pd.testing.assert_frame_equal(one.replications, two.replications)


def test_fresh_entropy_is_reported_and_repeats_the_run():
    first = spamsim.run(LECTURE, reps=50)
    again = spamsim.run(LECTURE, reps=50, seed=first.entropy)
    pd.testing.assert_frame_equal(first.replications, again.replications)
    assert first.entropy > 2**64  # real OS entropy, not a small default


def test_parameter_uncertainty_widens_the_interval():
    fixed = spamsim.run(LECTURE, reps=1000, seed=1).summary.loc["revenue"]
    uncertain = spamsim.run(SCENARIOS / "lecture-uncertain.yaml", reps=1000, seed=1).summary.loc["revenue"]
    assert uncertain["sd"] > 10 * fixed["sd"]
    # E[success] x E[profit] x N: beta mean 0.01, triangular mean 500 (independent draws).
    assert abs(uncertain["mean"] - 5_000_000) <= 4 * uncertain["se"]


def test_funnel_composes_into_success_rate():
    sc = {
        "name": "funnel",
        "market": {
            "profit_per_sale": 1000,
            "funnel": {"open_rate": 0.2, "click_rate": 0.1, "purchase_rate": 0.05},
        },
        "spammers": [{"campaign": {"messages_per_send": 1e6, "sends_per_day": 3, "days": 2}}],
    }
    res = spamsim.run(sc, reps=500, seed=5)
    n = 1e6 * 3 * 2
    within_4_se(res, "opened", n * 0.2)
    within_4_se(res, "clicked", n * 0.2 * 0.1)
    within_4_se(res, "revenue", n * 0.2 * 0.1 * 0.05 * 1000)


def test_costs_and_enforcement_match_their_closed_form():
    # A domestic corporation caught with probability 0.3 over the campaign, continuing after
    # a conviction; per-message, per-send and fixed costs. Every term has a closed form.
    sc = {
        "name": "money",
        "horizon": {"days": 10, "step_hours": 24},
        "market": {"success_rate": 1e-4, "profit_per_sale": 2000},
        "costs": {"per_message": 0.01, "per_send": 100, "fixed_per_day": 1000},
        "enforcement": {
            "caught_probability": 0.3,
            "prosecution_probability": 0.5,
            "fines": {"individual": 1e6, "corporation": 3e7},
            "on_conviction": "continue",
        },
        "spammers": [
            {
                "legal_form": "corporation",
                "campaign": {"messages_per_send": 1e5, "sends_per_day": 2, "days": 10},
            }
        ],
    }
    res = spamsim.run(sc, reps=4000, seed=11)
    n = 1e5 * 2 * 10
    within_4_se(res, "revenue", n * 1e-4 * 2000)
    assert res.summary.loc["cost", "mean"] == pytest.approx(n * 0.01 + 20 * 100 + 10 * 1000)
    # Per day the detection probability is 1 - 0.7**(1/10); convictions are Bernoulli per day.
    q = 1 - 0.7 ** (1 / 10)
    within_4_se(res, "convictions", 10 * q * 0.5)
    within_4_se(res, "fines", 10 * q * 0.5 * 3e7)


def test_stop_on_conviction_and_reach_abroad():
    base = {
        "name": "stop",
        "horizon": {"days": 4},
        "market": {"success_rate": 0.01, "profit_per_sale": 100},
        "enforcement": {"caught_probability": 0.5, "fines": {"individual": 1e6}, "on_conviction": "stop"},
        "spammers": [{"campaign": {"messages_per_send": 1000, "days": 4}}],
    }
    res = spamsim.run(base, reps=4000, seed=2)
    q = 1 - 0.5 ** (1 / 4)
    active = [(1 - q) ** k for k in range(4)]  # P(still sending on day k)
    within_4_se(res, "revenue", sum(active) * 1000 * 0.01 * 100)
    within_4_se(res, "fines", 0.5 * 1e6)
    abroad = spamsim.run(base, reps=1000, seed=2, overrides=["spammers.0.location=abroad"])
    assert abroad.summary.loc["fines", "mean"] == 0.0  # reach_abroad defaults to 0
    assert abroad.summary.loc["detections", "mean"] > 0


def test_timeseries_is_tidy_and_adds_up():
    res = spamsim.run(
        {
            "name": "ts",
            "horizon": {"days": 3, "step_hours": 12},
            "market": {"success_rate": 0.01, "profit_per_sale": 1},
            "spammers": [
                {"name": "a", "campaign": {"messages_per_send": 100, "sends_per_day": 4, "days": 3}},
                {"name": "b", "campaign": {"messages_per_send": 10, "days": 2, "start_day": 1}},
            ],
        },
        reps=7,
        seed=1,
    )
    ts = res.timeseries
    assert list(ts.columns[:5]) == ["rep", "step", "day", "spammer", "channel"]
    assert len(ts) == 7 * 6 * 2 * 1
    totals = ts.groupby("rep")["attempted"].sum().to_numpy()
    assert np.array_equal(totals, res.replications["attempted"].to_numpy())
    per_step = ts[ts.spammer == "a"].groupby("step")["attempted"].mean().to_numpy()
    assert np.array_equal(per_step, np.full(6, 200.0))
    b = ts[ts.spammer == "b"].groupby("step")["attempted"].mean().to_numpy()
    assert np.array_equal(b, [0, 0, 10, 0, 10, 0])
