"""Countermeasure effects: paired CIs, Shapley efficiency, the analytic oracle, the CLI contract."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

import spamsim
from spamsim.analysis import effects as effects_module
from spamsim.analysis.analytic import expected
from spamsim.analysis.effects import unpaired
from spamsim.runner import RefusedError

from .conftest import SCENARIOS, spamsim_cli
from .test_world import FIXED

# Its data is computed once per test process (module fixtures, caches): keep the module on one
# xdist worker (`make test` runs with --dist loadgroup) so that it is not computed twice.
pytestmark = pytest.mark.xdist_group("test_effects")

SMALL = copy.deepcopy(FIXED)


@pytest.fixture(scope="module")
def shapley_comparison():
    names = ["op25b", "submission_auth", "open_relay_prevention", "blacklists"]
    return spamsim.compare(spamsim.load(SMALL), names, shapley=True, reps=120, seed=12)


def test_shapley_values_add_up_to_the_total_reduction(shapley_comparison):
    cmp = shapley_comparison
    per_rep = cmp.shapley_replications()
    total = per_rep.attrs["total_reduction"]
    # Efficiency holds per replication (up to float rounding), hence for the means too.
    np.testing.assert_allclose(per_rep.sum(axis=1), total, rtol=1e-9, atol=1e-6)
    shares = cmp.shapley()
    all_off = cmp._metric(cmp.all_off, "net_profit").mean()
    all_on = cmp._metric(cmp.all_on, "net_profit").mean()
    assert sum(v["mean"] for v in shares.values()) == pytest.approx(all_off - all_on, rel=1e-9)
    for v in shares.values():
        assert v["ci95"][0] <= v["mean"] <= v["ci95"][1]


def test_paired_interval_is_narrower_than_unpaired(shapley_comparison):
    cmp = shapley_comparison
    for name in cmp.names:
        with_, without = cmp._metric({name}, "revenue"), cmp._metric(set(), "revenue")
        paired = effects_module.paired(with_, without)["ci95"]
        independent = unpaired(with_, without)["ci95"]
        assert paired[1] - paired[0] < independent[1] - independent[0], name


def test_effects_have_the_documented_signs(shapley_comparison):
    for effect in shapley_comparison.effects():
        alone, removed = effect["alone"], effect["removed"]
        # Fixed mixes cannot displace: a countermeasure can only take revenue away.
        assert alone["revenue_change"]["ci95"][0] <= 0, effect["countermeasure"]
        assert removed["revenue_change"]["ci95"][1] >= 0, effect["countermeasure"]
        assert set(alone) >= {"revenue_change", "net_profit_change", "revenue_change_pct"}


def test_unknown_countermeasure_and_too_many_for_shapley_are_refused(monkeypatch):
    sc = spamsim.load(SMALL)
    with pytest.raises(RefusedError, match="unknown countermeasure"):
        spamsim.compare(sc, ["teleport"], reps=5, seed=1)
    monkeypatch.setattr(effects_module, "MAX_SHAPLEY_COUNTERMEASURES", 2)
    with pytest.raises(RefusedError, match=r"2\^3 = 8 variants"):
        spamsim.compare(sc, ["op25b", "blacklists", "submission_auth"], shapley=True, reps=5, seed=1)


# -- the analytic oracle ----------------------------------------------------------------------

ORACLE_CASES = {
    "lecture": (SCENARIOS / "lecture.yaml", []),
    "uncertain": (SCENARIOS / "lecture-uncertain.yaml", []),
    "filter-funnel": (
        SCENARIOS / "lecture.yaml",
        [
            "market.success_rate=null",
            "market.funnel={open_rate: 0.3, click_rate: 0.1, purchase_rate: 0.2}",
            "countermeasures.receiver_filtering={catch_rate: {dist: beta, mean: 0.6, sd: 0.1}}",
            "spammers.0.campaign={messages_per_send: 2e5, sends_per_day: 3, days: 5}",
            "costs={per_message: 0.01, per_send: 50, fixed_per_day: 300}",
        ],
    ),
    "enforcement-stop": (
        SCENARIOS / "lecture.yaml",
        [
            "horizon={days: 10, step_hours: 6}",
            "spammers.0.campaign={messages_per_send: 1e5, sends_per_day: 4, days: 10}",
            "spammers.0.legal_form=corporation",
            "enforcement={caught_probability: 0.4, detection_per_million_messages: 0.2, "
            "prosecution_probability: 0.7, fines: {corporation: 3e7}, on_conviction: stop}",
        ],
    ),
    "enforcement-continue-abroad": (
        SCENARIOS / "lecture.yaml",
        [
            "horizon={days: 6}",
            "spammers.0.campaign={messages_per_send: 1e5, sends_per_day: 2, days: 6}",
            "spammers.0.location=abroad",
            "enforcement={caught_probability: 0.9, reach_abroad: 0.3, fines: {individual: 1e6}, "
            "on_conviction: continue}",
        ],
    ),
}


@pytest.mark.parametrize("case", sorted(ORACLE_CASES))
def test_simulated_means_agree_with_the_closed_form(case):
    path, overrides = ORACLE_CASES[case]
    sc = spamsim.load(path, overrides)
    oracle = expected(sc)
    assert oracle.applicable and oracle.exact
    summary = spamsim.run(sc, reps=3000, seed=31).summary
    # Within 4 standard errors: a false-failure rate of ~6e-5 per comparison.
    for metric in ("sales", "revenue", "cost", "fines", "net_profit", "convictions"):
        mean, se = summary.loc[metric, "mean"], summary.loc[metric, "se"]
        assert abs(mean - oracle.totals[metric]) <= 4 * se + 1e-9 * abs(oracle.totals[metric]), (
            f"{metric}: simulated {mean:.6g} vs closed form {oracle.totals[metric]:.6g} (se {se:.3g})"
        )


def test_lecture_closed_form_numbers():
    oracle = expected(spamsim.load(SCENARIOS / "lecture.yaml"))
    assert oracle.totals["revenue"] == pytest.approx(5_000_000)
    assert oracle.totals["lecture_revenue"] == pytest.approx(5_000_000)
    sc = spamsim.load(SCENARIOS / "lecture.yaml", ["costs.per_message=0.5"])
    # Break-even: 0.5 JPY per message / 500 JPY per sale = 0.001.
    assert expected(sc).per_spammer["break_even_success_rate"].iloc[0] == pytest.approx(0.001)
    assert expected(sc).per_spammer["cost_per_sale"].iloc[0] == pytest.approx(50.0)


def test_deterrence_frontier_gives_zero_expected_profit():
    sc = spamsim.load(
        SCENARIOS / "lecture.yaml",
        ["enforcement={caught_probability: 0.1, on_conviction: continue, fines: {individual: 1e6}}"],
    )
    frontier = expected(sc).frontier
    row = frontier.iloc[(frontier["caught_probability"] - 0.1).abs().argmin()]
    on_frontier = spamsim.load(
        sc,
        [
            f"enforcement.caught_probability={row['caught_probability']}",
            f"enforcement.fines.individual={row['zero_profit_fine']}",
        ],
    )
    assert expected(on_frontier).totals["net_profit"] == pytest.approx(0.0, abs=1e-3)
    abroad = expected(spamsim.load(sc, ["spammers.0.location=abroad"])).frontier
    assert np.isinf(abroad["zero_profit_fine"]).all()  # out of reach: no fine deters


def test_inapplicable_scenarios_say_why():
    sc = spamsim.load(SMALL)
    oracle = expected(sc)
    assert not oracle.applicable
    assert any("channels with dynamics" in r for r in oracle.reasons)


# -- the CLI ----------------------------------------------------------------------------------


def test_compare_json_follows_the_contract(tmp_path):
    scenario = tmp_path / "small.yaml"
    scenario.write_text(json.dumps(SMALL))  # JSON is YAML
    out = tmp_path / "out"
    res = spamsim_cli(
        "compare",
        str(scenario),
        "-c",
        "op25b",
        "-c",
        "submission_auth",
        "--shapley",
        "--reps",
        "40",
        "--seed",
        "3",
        "--json",
        "--out",
        str(out),
    )
    assert res.returncode == 0, res.stderr
    payload = json.loads(res.stdout)
    assert payload["scenario"] == "all" and payload["reps"] == 40
    assert {"revenue", "net_profit"} <= set(payload["baseline"])
    assert set(payload["baseline"]["revenue"]) == {"mean", "ci95"}
    assert [e["countermeasure"] for e in payload["effects"]] == ["op25b", "submission_auth"]
    for effect in payload["effects"]:
        for context in ("alone", "removed"):
            e = effect[context]
            assert set(e["revenue_change"]) == {"mean", "ci95"} and len(e["revenue_change"]["ci95"]) == 2
            assert set(e["net_profit_change"]) == {"mean", "ci95"}
            assert isinstance(e["revenue_change_pct"], float)
    assert set(payload["shapley"]) == {"op25b", "submission_auth"}
    # Defenders' cost of each compared countermeasure, and what it buys per unit of that cost.
    assert set(payload["defender_cost"]["by_countermeasure"]) == {"op25b", "submission_auth"}
    for row in payload["cost_effectiveness"]:
        assert row["defender_cost"] > 0
        for context in ("alone", "removed"):
            assert set(row[context]) == {
                "profit_removed",
                "social_cost_avoided",
                "profit_removed_per_cost",
                "social_cost_avoided_per_cost",
            }
    assert sorted(p.name for p in out.iterdir()) == [
        "comparison.json",
        "costs.parquet",
        "effects.parquet",
        "effects.png",
        "manifest.json",
        "provenance.json",
        "scenario.resolved.yaml",
        "shapley.parquet",
        "shapley.png",
        "variants.parquet",
    ]
    no_shapley = spamsim_cli("compare", str(scenario), "-c", "op25b", "--reps", "10", "--seed", "3", "--json")
    assert "shapley" not in json.loads(no_shapley.stdout)


def test_compare_table_and_errors():
    res = spamsim_cli("compare", str(SCENARIOS / "lecture.yaml"), "--reps", "5")
    assert res.returncode == 2 and "defines no countermeasures" in res.stderr


def test_analytic_cli():
    res = spamsim_cli("analytic", str(SCENARIOS / "lecture.yaml"), "--json")
    assert res.returncode == 0, res.stderr
    payload = json.loads(res.stdout)
    assert payload["applicable"] and payload["totals"]["revenue"] == pytest.approx(5e6)
    table = spamsim_cli("analytic", str(SCENARIOS / "lecture.yaml"), "--set", "enforcement.caught_probability=0.1")
    assert table.returncode == 0 and "deterrence frontier" in table.stdout


@pytest.mark.slow  # 17 variants of japan-2011; tests/test_scenarios.py holds its money moves in make test
def test_japan_2011_every_countermeasure_alone_lowers_revenue():
    cmp = spamsim.compare(SCENARIOS / "japan-2011.yaml", reps=60, seed=2011)
    assert len(cmp.names) == 8  # seven countermeasures and enforcement
    for effect in cmp.effects():
        change = effect["alone"]["revenue_change"]
        # "<= 0 up to its CI": the interval must reach zero or below.
        assert change["ci95"][0] <= 0, (effect["countermeasure"], change)
