"""Calibration: known parameters recovered from simulated counts, honest intervals, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

import spamsim
from spamsim.analysis import calibration as calibration_module
from spamsim.analysis.calibration import (
    CATCH_RATE,
    CLICK_RATE,
    DELIVERY,
    OPEN_RATE,
    PURCHASE_RATE,
    SUCCESS_RATE,
    calibrate,
    read_counts,
)
from spamsim.runner import RefusedError
from spamsim.scenario import ScenarioError
from spamsim.scenario.loader import scenario_data

from .conftest import SCENARIOS

TRUTH = {CATCH_RATE: 0.9, OPEN_RATE: 0.2, CLICK_RATE: 0.05, PURCHASE_RATE: 0.01}
FUNNEL_SCENARIO = {
    "name": "funnel-with-filter",
    "horizon": {"days": 1, "step_hours": 24},
    "market": {
        "profit_per_sale": 100,
        "funnel": {"open_rate": 0.2, "click_rate": 0.05, "purchase_rate": 0.01},
    },
    "countermeasures": {"receiver_filtering": {"catch_rate": 0.9}},
    # 2e7 messages: ~2e6 inbox, ~4e5 opened, ~2e4 clicked, ~200 sales.
    "spammers": [{"name": "s", "campaign": {"messages_per_send": 2.0e7}}],
}
FIT = list(TRUTH)
OBSERVED_STAGES = ["delivered", "inbox", "opened", "clicked", "sales"]


def simulated_counts(reps: int, seed: int) -> list[dict[str, float]]:
    """Stage counts of ``reps`` independent replications that spamsim itself simulated."""
    # A different prior value than the truth would not matter: fitted fields are free.
    frame = spamsim.run(FUNNEL_SCENARIO, reps=reps, seed=seed).replications
    return [dict(row) for row in frame[OBSERVED_STAGES].to_dict("records")]


def test_recovers_simulated_parameters_within_their_intervals():
    # One replication, fixed seed: each estimate must lie within ~4 standard errors of the
    # truth (a false-failure rate of ~6e-5 per parameter); whether the 95 % intervals cover
    # the truth 95 % of the time is the coverage test below.
    counts = simulated_counts(reps=1, seed=1)[0]
    cal = calibrate(FUNNEL_SCENARIO, counts, FIT)
    assert list(cal.estimates.index) == FIT
    assert list(cal.estimates.columns) == ["estimate", "ci_low", "ci_high", "method"]
    for parameter, true in TRUTH.items():
        row = cal.estimates.loc[parameter]
        assert row["method"] == "profile"
        assert row["ci_low"] < row["estimate"] < row["ci_high"], parameter
        # Within 4 standard errors (the 95 % interval is ~3.9 of them wide): a miss of the
        # interval itself happens 5 % of the time per parameter and is the coverage test's job.
        assert abs(row["estimate"] - true) <= 2 * (row["ci_high"] - row["ci_low"]), (parameter, row.to_dict())
    # Each fitted segment's estimate is the observed share (over the held product).
    open_rate = cal.estimates.loc[OPEN_RATE, "estimate"]
    assert open_rate == pytest.approx(counts["opened"] / counts["inbox"])
    assert cal.estimates.loc[CATCH_RATE, "estimate"] == pytest.approx(1 - counts["inbox"] / counts["delivered"])
    assert np.isfinite(cal.log_likelihood) and cal.log_likelihood < 0


def test_profile_intervals_cover_the_truth_at_least_80_percent_of_the_time():
    # 40 independent replications of the simulated funnel. With a true coverage of 95 %,
    # P(fewer than 32 of 40 intervals cover) = P(Binomial(40, 0.95) <= 31) = 1.3e-4 per
    # parameter, so the false-failure rate of this test is below 6e-4 (four parameters).
    covered = dict.fromkeys(TRUTH, 0)
    replications = simulated_counts(reps=40, seed=20240601)
    for counts in replications:
        estimates = calibrate(FUNNEL_SCENARIO, counts, FIT).estimates
        for parameter, true in TRUTH.items():
            low, high = estimates.loc[parameter, ["ci_low", "ci_high"]]
            covered[parameter] += low <= true <= high
    for parameter, n in covered.items():
        assert n >= 32, f"{parameter}: {n} of 40 intervals cover the true value"


def test_profile_and_wald_intervals_agree_for_large_counts():
    counts = {
        "delivered": 10**8,
        "inbox": 10**7,
        "opened": 2 * 10**6,
        "clicked": 10**5,
        "sales": 10**4,
    }
    cal = calibrate(FUNNEL_SCENARIO, counts, FIT)
    profile, wald = cal.estimates, cal.wald
    assert (profile["method"] == "profile").all()
    width = wald["ci_high"] - wald["ci_low"]
    assert ((profile["ci_low"] - wald["ci_low"]).abs() < 0.01 * width).all()
    assert ((profile["ci_high"] - wald["ci_high"]).abs() < 0.01 * width).all()


def test_profile_and_wald_differ_for_rare_events_where_the_profile_is_asymmetric():
    # 3 sales: the likelihood is skewed, and the profile interval reaches further up than down.
    cal = calibrate(FUNNEL_SCENARIO, {"clicked": 1000, "sales": 3}, [PURCHASE_RATE])
    row = cal.estimates.loc[PURCHASE_RATE]
    assert row["ci_high"] - row["estimate"] > 2 * (row["estimate"] - row["ci_low"])
    assert row["ci_low"] != pytest.approx(cal.wald.loc[PURCHASE_RATE, "ci_low"], rel=0.05)


def test_profile_interval_matches_a_brute_force_likelihood_ratio_interval():
    # Held catch rate 0.5, so the segment delivered → opened has p = 0.5 × open_rate.
    scenario = {**FUNNEL_SCENARIO, "countermeasures": {"receiver_filtering": {"catch_rate": 0.5}}}
    n, k = 1000, 40
    cal = calibrate(scenario, {"delivered": n, "opened": k}, [OPEN_RATE], confidence=0.9)
    assert cal.held == {CATCH_RATE: 0.5}
    theta = np.linspace(1e-4, 0.3, 600_001)
    p = 0.5 * theta
    loglik = k * np.log(p) + (n - k) * np.log1p(-p)
    inside = theta[2 * (loglik.max() - loglik) <= 2.705543454095404]  # chi2(1) 90 % quantile
    row = cal.estimates.loc[OPEN_RATE]
    assert row["estimate"] == pytest.approx(2 * k / n, rel=1e-9)
    assert row["ci_low"] == pytest.approx(inside.min(), abs=1e-6)
    assert row["ci_high"] == pytest.approx(inside.max(), abs=1e-6)


def test_wald_is_the_fallback_only_where_the_profile_fails(monkeypatch):
    def failing(*args, **kwargs):
        raise calibration_module._ProfileFailed("simulated failure")

    monkeypatch.setattr(calibration_module, "_profile_interval", failing)
    cal = calibrate(FUNNEL_SCENARIO, {"clicked": 1000, "sales": 30}, [PURCHASE_RATE])
    row = cal.estimates.loc[PURCHASE_RATE]
    assert row["method"] == "wald"
    assert row["ci_low"] == cal.wald.loc[PURCHASE_RATE, "ci_low"]
    assert row["ci_high"] == cal.wald.loc[PURCHASE_RATE, "ci_high"]


def test_delivery_and_boundary_estimates_stay_inside_the_open_interval():
    counts = {"attempted": 1000, "delivered": 1000, "inbox": 30}
    cal = calibrate(FUNNEL_SCENARIO, counts, [DELIVERY, CATCH_RATE])
    delivery = cal.estimates.loc[DELIVERY]
    assert 0.999 < delivery["estimate"] < 1.0
    assert delivery["ci_high"] < 1.0
    # Nothing lost in 1000 trials: the 95 % profile interval reaches down to about 1 - 1.92/1000.
    assert delivery["ci_low"] == pytest.approx(np.exp(-1.920729 / 1000), rel=1e-5)
    assert cal.estimates.loc[CATCH_RATE, "estimate"] == pytest.approx(0.97)


def test_unfitted_probabilities_come_from_the_scenario_means():
    scenario = {
        **FUNNEL_SCENARIO,
        "market": {
            "profit_per_sale": 100,
            "funnel": {
                "open_rate": {"dist": "uniform", "low": 0.1, "high": 0.3},
                "click_rate": 0.05,
                "purchase_rate": 0.01,
            },
        },
    }
    cal = calibrate(scenario, {"inbox": 100_000, "clicked": 500}, [CLICK_RATE])
    assert cal.held == {OPEN_RATE: pytest.approx(0.2)}
    assert cal.estimates.loc[CLICK_RATE, "estimate"] == pytest.approx(500 / 100_000 / 0.2)


@pytest.mark.parametrize(
    ("observed", "fit", "expected"),
    [
        (
            {"inbox": 10_000, "clicked": 100},
            [OPEN_RATE, CLICK_RATE],
            f"{OPEN_RATE} and {CLICK_RATE} are confounded: with only inbox and clicked observed",
        ),
        ({"inbox": 10_000, "clicked": 100}, [OPEN_RATE, CLICK_RATE], "observe opened as well"),
        ({"inbox": 10_000, "sales": 10}, [OPEN_RATE, CLICK_RATE, PURCHASE_RATE], "observe opened and clicked as well"),
        ({"attempted": 10_000, "opened": 100}, [DELIVERY, OPEN_RATE], "observe delivered or inbox as well"),
        (
            {"inbox": 10_000, "clicked": 100},
            [PURCHASE_RATE],
            "after the last observed stage (clicked): observe sales as well",
        ),
        (
            {"inbox": 10_000, "clicked": 100},
            [DELIVERY],
            "before the first observed stage (inbox): observe attempted as well",
        ),
        ({"inbox": 10_000, "sales": 10}, [SUCCESS_RATE, OPEN_RATE], "cannot be fitted together"),
        ({"inbox": 10_000, "clicked": 100}, ["market.funnel.open_rat"], f"did you mean '{OPEN_RATE}'?"),
        ({"inbox": 0, "opened": 0}, [OPEN_RATE], "no information on market.funnel.open_rate"),
        (
            {"attempted": 1000, "delivered": 900, "sales": 1},
            [PURCHASE_RATE],
            "impossible with delivery = 1 held fixed (not fitted): fit delivery",
        ),
    ],
)
def test_impossible_requests_are_refused_with_a_reason(observed, fit, expected):
    with pytest.raises(RefusedError) as info:
        calibrate(FUNNEL_SCENARIO, observed, fit)
    assert expected in str(info.value)


def test_confounding_is_detected_before_any_optimisation(monkeypatch):
    def no_optimising(*args, **kwargs):
        raise AssertionError("optimised a request that should have been refused")

    monkeypatch.setattr(calibration_module, "_maximise", no_optimising)
    # These counts would even give a finite, well-behaved likelihood: the refusal is structural.
    with pytest.raises(RefusedError, match="confounded"):
        calibrate(FUNNEL_SCENARIO, {"inbox": 10_000, "clicked": 100}, [OPEN_RATE, CLICK_RATE])


def test_bad_counts_files_give_file_line_column_errors(write):
    path = write(
        """
        source: made up
        counts:
          attempted: 1000
          delivred: 900
          inbox: -5
          opened: 2.5
          clicked: yes
          sales: 2000
        """,
        name="bad.counts.yaml",
    )
    with pytest.raises(ScenarioError) as info:
        read_counts(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:4:3: counts.delivred: unknown stage 'delivred'; did you mean 'delivered'?",
        f"{path}:5:10: counts.inbox: a count cannot be negative, got -5",
        f"{path}:6:11: counts.opened: a count must be a whole number of messages, got 2.5",
        f"{path}:7:12: counts.clicked: a count must be a whole number of messages, got 'yes'",
        f"{path}:8:10: counts.sales: sales (2,000) exceeds attempted (1,000): counts cannot "
        "increase along the funnel (attempted → delivered → inbox → opened → clicked → sales)",
    ]
    # calibrate reports the same problems (and never starts fitting).
    with pytest.raises(ScenarioError):
        calibrate(FUNNEL_SCENARIO, path, [OPEN_RATE])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("counts: {attempted: 10, sales: 1}\nsorce: x\n", ":2:1: sorce: unknown field 'sorce'; did you mean 'source'?"),
        ("counts: {attempted: 10}\n", ":1:9: counts: give counts for at least two stages"),
        ("source: x\n", ":1:1: counts: {stage: number of messages, …} is required"),
        ("counts: [1, 2]\n", ":1:9: counts: counts must be a mapping"),
        (
            "counts:\n  attempted: 10\n  attempted: 20\n  sales: 1\n",
            ":3:3: counts.attempted: duplicate key (first given on line 2)",
        ),
        ("counts: {attempted: 10, sales: 1\n", ":2:1: YAML syntax error"),
    ],
)
def test_counts_file_structure_errors(write, text, expected):
    path = write(text, name="c.yaml")
    with pytest.raises(ScenarioError) as info:
        read_counts(path)
    assert any(str(p).startswith(str(path) + expected) for p in info.value.problems), [
        str(p) for p in info.value.problems
    ]


def test_counts_as_a_mapping_are_checked_too():
    with pytest.raises(ScenarioError, match="counts.clicked: clicked .* exceeds opened"):
        calibrate(FUNNEL_SCENARIO, {"opened": 10, "clicked": 20}, [CLICK_RATE])
    counts = read_counts({"counts": {"sales": 3, "attempted": 1e6}, "source": "a study"})
    assert counts.counts == {"attempted": 1_000_000, "sales": 3}  # funnel order
    assert counts.source == "a study"


def test_calibrated_scenario_reloads_and_holds_the_estimates():
    counts = simulated_counts(reps=1, seed=3)[0]
    cal = calibrate(FUNNEL_SCENARIO, counts, FIT)
    sc = cal.calibrated_scenario()
    assert isinstance(sc, spamsim.Scenario)
    assert spamsim.load(scenario_data(sc)) == sc
    catch_rate = sc.countermeasures.receiver_filtering.catch_rate
    assert catch_rate == cal.estimates.loc[CATCH_RATE, "estimate"]
    funnel = sc.market.funnel
    for name in ("open_rate", "click_rate", "purchase_rate"):
        assert getattr(funnel, name) == cal.estimates.loc[f"market.funnel.{name}", "estimate"]
    assert cal.scenario == spamsim.load(FUNNEL_SCENARIO)  # the input is left as it was


def test_a_fitted_catch_rate_adds_filtering_to_a_scenario_without_it():
    cal = calibrate(
        SCENARIOS / "lecture.yaml",
        {"delivered": 1000, "inbox": 300, "sales": 3},
        [CATCH_RATE, SUCCESS_RATE],
    )
    sc = cal.calibrated_scenario()
    assert sc.countermeasures.active("receiver_filtering")
    assert sc.countermeasures.receiver_filtering.catch_rate == pytest.approx(0.7)
    assert sc.market.success_rate == pytest.approx(0.01)


def test_success_model_mismatch_is_a_clear_error():
    cal = calibrate(FUNNEL_SCENARIO, {"inbox": 1000, "sales": 3}, [SUCCESS_RATE])
    assert cal.estimates.loc[SUCCESS_RATE, "estimate"] == pytest.approx(0.003)
    funnel_scenario = "success_rate cannot be set in scenario 'funnel-with-filter'"
    with pytest.raises(RefusedError, match=funnel_scenario):
        cal.calibrated_scenario()
    cal = calibrate(SCENARIOS / "lecture.yaml", {"inbox": 1000, "opened": 300}, [OPEN_RATE])
    with pytest.raises(RefusedError, match="cannot be set in scenario 'lecture'.*success_rate"):
        cal.calibrated_scenario()
    with pytest.raises(RefusedError, match="has no market.funnel"):
        calibrate(SCENARIOS / "lecture.yaml", {"inbox": 1000, "clicked": 30}, [OPEN_RATE])


def test_to_yaml_round_trips_through_load(tmp_path):
    counts = {
        "counts": {
            "delivered": 100_000,
            "inbox": 10_000,
            "opened": 2_100,
            "clicked": 95,
            "sales": 2,
        },
        "source": "simulated:\ntwo lines",
    }
    cal = calibrate(FUNNEL_SCENARIO, counts, FIT)
    text = cal.to_yaml()
    header = text.split("\nname:")[0].splitlines()
    assert all(line.startswith("#") for line in header)
    assert "calibrated" in header[0]
    assert "delivered 100,000 → inbox 10,000 → opened 2,100 → clicked 95 → sales 2" in text
    assert "# Source of the counts: simulated:\n# two lines" in text
    for parameter, row in cal.estimates.iterrows():
        assert f"{parameter} = {row['estimate']:.4g}" in text
        assert f"[{row['ci_low']:.4g}, {row['ci_high']:.4g}]" in text
    path = tmp_path / "calibrated.yaml"
    path.write_text(text, encoding="utf-8")
    loaded = spamsim.load(path)
    assert loaded == cal.calibrated_scenario()
    assert loaded.market.funnel.purchase_rate == cal.estimates.loc[PURCHASE_RATE, "estimate"]


def test_to_json_is_plain_json():
    cal = calibrate(FUNNEL_SCENARIO, {"clicked": 1000, "sales": 0}, [PURCHASE_RATE])
    data = json.loads(json.dumps(cal.to_json(), allow_nan=False))
    assert data["observed"] == {"clicked": 1000, "sales": 0}
    [row] = data["estimates"]
    assert row["parameter"] == PURCHASE_RATE and row["method"] == "profile"
    assert 0 < row["estimate"] < 1e-12  # no sales: the estimate sits at the open interval's edge
    assert row["ci_high"] == pytest.approx(1.920729 / 1000, rel=2e-3)


def test_the_example_counts_file_reproduces_spamalytics_conversion():
    path = SCENARIOS / "observed" / "spamalytics.yaml"
    assert path.read_text(encoding="utf-8").startswith("# spamalytics.yaml — ")
    counts = read_counts(path)
    assert counts.counts == {"attempted": 350_000_000, "sales": 28}
    assert "Spamalytics" in (counts.source or "")
    cal = calibrate(SCENARIOS / "lecture.yaml", path, [SUCCESS_RATE])
    row = cal.estimates.loc[SUCCESS_RATE]
    assert row["estimate"] == pytest.approx(28 / 350e6)
    assert row["ci_low"] < 28 / 350e6 < row["ci_high"] < 2e-7
