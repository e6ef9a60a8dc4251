"""Defenders' costs: the closed form against hand arithmetic, defaults, properties, and what compare reports."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import spamsim
from spamsim import cli
from spamsim.analysis.costs import COST_PARTS, defender_cost
from spamsim.countermeasures import REGISTRY, SubmissionAuth
from spamsim.countermeasures.cost import JPY_PER_USD
from spamsim.scenario.loader import scenario_data

from .conftest import LECTURE_MINIMAL, spamsim_cli
from .test_scenarios import FILES

# Its data is computed once per test process (module fixtures, caches): keep the module on one
# xdist worker (`make test` runs with --dist loadgroup) so that it is not computed twice.
pytestmark = pytest.mark.xdist_group("test_costs")

BASE = yaml.safe_load(LECTURE_MINIMAL)

HAND = {
    **BASE,
    "horizon": {"days": 10},
    "defenders": {"servers": 10, "organisations": 3, "users": 1000, "value_of_time_per_hour": 1200},
    "channels": {"own_server": {}},
    "countermeasures": {
        "op25b": {
            "adoption": {0: 0.2, 10: 0.6},  # mean 0.4 over the ten days, highest 0.6
            "cost": {
                "per_server": {"one_off": 100, "running_per_day": 2},
                "per_organisation": {"one_off": 1000},
                "per_user": {"one_off": 1, "running_per_day": {"dist": "uniform", "low": 0, "high": 0.2}},
                "migration_days": 30,
                "migration_running_per_server_day": 5,
                "friction_minutes_per_user": 6,
            },
        },
        "receiver_filtering": {"catch_rate": 0.9, "cost": {"per_user": {"running_per_day": 0.5}, "coverage": 0.5}},
        "blacklists": {"adoption": 0.5, "enabled": False},
    },
}


def test_defender_cost_matches_hand_arithmetic():
    cost = defender_cost(spamsim.load(HAND))
    op25b = cost.by_countermeasure["op25b"]
    assert op25b["one_off"] == pytest.approx(0.6 * (10 * 100 + 3 * 1000 + 1000 * 1))  # 3,000
    # The uniform running cost per user contributes its mean, 0.1 a day.
    assert op25b["running"] == pytest.approx(0.4 * 10 * (10 * 2 + 1000 * 0.1))  # 480
    assert op25b["migration"] == pytest.approx(0.6 * 10 * 30 * 5)  # 900
    assert op25b["friction"] == pytest.approx(0.6 * 1000 * 6 / 60 * 1200)  # 72,000
    filtering = cost.by_countermeasure["receiver_filtering"]
    assert filtering == pytest.approx({"one_off": 0, "running": 0.5 * 10 * 1000 * 0.5, "migration": 0, "friction": 0})
    assert "blacklists" not in cost.by_countermeasure  # switched off: no cost
    assert cost.total == pytest.approx(3000 + 480 + 900 + 72000 + 2500)
    frame = cost.frame()
    assert list(frame.columns) == [*COST_PARTS, "total"]
    assert frame.loc["op25b", "total"] == pytest.approx(76380)
    assert cost.currency == "JPY" and cost.coverage["op25b"] == pytest.approx((0.4, 0.6))


def test_defaults_follow_the_currency_and_say_where_they_come_from():
    section = {"mode_share": {"smtp_auth": 0.5}}
    jpy = spamsim.load({**BASE, "countermeasures": {"submission_auth": section}})
    usd = spamsim.load(
        {**BASE, "market": {**BASE["market"], "currency": "USD"}, "countermeasures": {"submission_auth": section}}
    )
    assert jpy.countermeasures.submission_auth.cost is None  # left out: the class's default applies
    a, b = defender_cost(jpy), defender_cost(usd)
    assert "submission_auth.cost" in a.sources and "defenders.users" in a.sources
    # Same default counts? No: USD stands for a US-sized economy. Compare per server instead.
    servers_jpy = spamsim.countermeasures.cost.DEFENDER_COUNTS["JPY"]["servers"][0]
    servers_usd = spamsim.countermeasures.cost.DEFENDER_COUNTS["USD"]["servers"][0]
    one_off_server = SubmissionAuth.default_cost.jpy["per_server"]["one_off"]
    assert a.by_countermeasure["submission_auth"]["migration"] / servers_jpy == pytest.approx(
        b.by_countermeasure["submission_auth"]["migration"] / servers_usd * JPY_PER_USD
    )
    assert one_off_server > 0
    # No default is guessed for another currency: the cost is not known (NaN) until given.
    eur = spamsim.load(
        {**BASE, "market": {**BASE["market"], "currency": "EUR"}, "countermeasures": {"submission_auth": section}}
    )
    assert all(math.isnan(v) for v in defender_cost(eur).by_countermeasure["submission_auth"].values())
    given = copy.deepcopy(section) | {"cost": {"per_server": {"one_off": 10}}}
    eur_given = spamsim.load(
        {**BASE, "market": {**BASE["market"], "currency": "EUR"}, "countermeasures": {"submission_auth": given}}
    )
    assert defender_cost(eur_given).of("submission_auth") == pytest.approx(0.5 * 10 * servers_usd)


def test_every_registered_countermeasure_has_a_cost_field_and_old_files_load():
    for cm in REGISTRY:
        assert "cost" in cm.model_fields, cm.key
    for path in FILES:
        scenario = spamsim.load(path)
        cost = defender_cost(scenario)
        assert all(v >= 0 for parts in cost.by_countermeasure.values() for v in parts.values()), path.name
        # The resolved scenario (written into every results folder) loads back equal, cost sections included.
        assert spamsim.load(scenario_data(scenario)) == scenario, path.name


def test_a_bad_cost_is_refused_with_its_path(write):
    path = write(
        LECTURE_MINIMAL + "countermeasures:\n  blacklists:\n    adoption: 0.5\n    cost: {per_server: {one_of: 5}}\n"
    )
    run = spamsim_cli("validate", str(path))
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "countermeasures.blacklists.cost.per_server.one_of" in run.stderr
    # A cost has no timeline: a schedule is refused with a message that says so.
    with pytest.raises(spamsim.ScenarioError, match="not a schedule"):
        spamsim.load({**BASE, "countermeasures": {"blacklists": {"cost": {"per_user": {"one_off": {0: 1, 5: 2}}}}}})


_amount = st.floats(0, 1e6, allow_nan=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    servers=st.floats(0, 1e6),
    users=st.floats(0, 1e8),
    one_off=_amount,
    running=_amount,
    minutes=st.floats(0, 120),
    migration_days=st.floats(0, 1000),
    adoption=st.floats(0, 1),
    enabled=st.booleans(),
)
def test_costs_are_non_negative_add_up_and_vanish_when_switched_off(
    servers, users, one_off, running, minutes, migration_days, adoption, enabled
):
    cost = {
        "per_server": {"one_off": one_off, "running_per_day": running},
        "per_user": {"one_off": one_off / 100},
        "migration_days": migration_days,
        "migration_running_per_server_day": running,
        "friction_minutes_per_user": minutes,
    }
    data = {
        **BASE,
        "defenders": {"servers": servers, "users": users},
        "countermeasures": {
            "op25b": {"adoption": adoption, "cost": cost, "enabled": enabled},
            "blacklists": {"adoption": adoption, "cost": cost},
        },
    }
    result = defender_cost(spamsim.load(data))
    for parts in result.by_countermeasure.values():
        assert all(v >= 0 for v in parts.values())
    assert result.total == pytest.approx(sum(sum(p.values()) for p in result.by_countermeasure.values()))
    assert result.frame()["total"].sum() == pytest.approx(result.total)
    assert ("op25b" in result.by_countermeasure) == enabled
    if enabled:  # the two have the same cost model and adoption: switching one off halves the total
        assert result.of("op25b") == pytest.approx(result.of("blacklists"))
        assert result.total == pytest.approx(2 * result.of("blacklists"))


# -- compare ---------------------------------------------------------------------------------

SMALL = {
    **BASE,
    "horizon": {"days": 2},
    "legitimate_mail": {"messages_per_day": 1.0e6},
    "defenders": {"servers": 100, "organisations": 10, "users": 10000},
    "countermeasures": {
        "blacklists": {"adoption": 0.6, "dynamic_ip_listed_share": 0.5, "cost": {"per_server": {"one_off": 1000}}},
        "receiver_filtering": {
            "catch_rate": {"dist": "uniform", "low": 0.5, "high": 0.9},
            "false_positive_rate": 0.01,
            "cost": {"per_user": {"running_per_day": 1}},
        },
    },
}
SMALL["spammers"] = [{"name": "s", "campaign": {"messages_per_send": 1.0e5, "sends_per_day": 2, "days": 2}}]


@pytest.fixture(scope="module")
def comparison():
    return spamsim.compare(spamsim.load(SMALL), reps=30, seed=7)


def test_cost_effectiveness_is_the_effect_and_its_ci_over_the_cost(comparison):
    costs = comparison.defender_cost()
    assert costs.of("receiver_filtering") == pytest.approx(2 * 10000 * 1)
    rows = {row["countermeasure"]: row for row in comparison.cost_effectiveness()}
    assert set(rows) == set(comparison.names)
    for name, row in rows.items():
        cost = costs.of(name)
        assert row["defender_cost"] == cost > 0
        for context in ("alone", "removed"):
            e = row[context]
            for effect, ratio in (
                ("profit_removed", "profit_removed_per_cost"),
                ("social_cost_avoided", "social_cost_avoided_per_cost"),
            ):
                assert e[ratio]["mean"] == pytest.approx(e[effect]["mean"] / cost, rel=1e-12)
                assert e[ratio]["ci95"] == pytest.approx([x / cost for x in e[effect]["ci95"]], rel=1e-12)
    # Profit removed is the paired difference of net profit, without minus with.
    on = comparison._metric(comparison.all_on, "net_profit")
    off = comparison._metric(comparison.all_on - {"receiver_filtering"}, "net_profit")
    assert rows["receiver_filtering"]["removed"]["profit_removed"]["mean"] == pytest.approx(np.mean(off - on))
    # Filters' false positives lose legitimate mail: what they avoid nets that out, from the replications.
    social = comparison.social.with_currency("JPY")
    frame_on = comparison.outcomes[comparison.all_on].replications
    frame_off = comparison.outcomes[comparison.all_on - {"receiver_filtering"}].replications
    time_unit = social.time_cost_per_inbox_spam
    expected = ((frame_off["inbox"] - frame_on["inbox"]) * time_unit).mean() - (
        (frame_on["legit_lost"] - frame_off["legit_lost"]) * social.value_of_lost_legit_mail
    ).mean()
    assert rows["receiver_filtering"]["removed"]["social_cost_avoided"]["mean"] == pytest.approx(expected)


def test_cost_frame_and_json_hold_the_columns(comparison):
    frame = comparison.cost_frame
    for column in (
        "countermeasure",
        "context",
        "defender_cost",
        *[f"defender_cost.{p}" for p in COST_PARTS],
        "profit_removed",
        "profit_removed.ci95_low",
        "social_cost_avoided.ci95_high",
        "profit_removed_per_cost",
        "social_cost_avoided_per_cost.ci95_low",
    ):
        assert column in frame.columns, column
    assert len(frame) == 2 * len(comparison.names)
    payload = json.loads(json.dumps(comparison.to_json()))
    assert payload["defender_cost"]["by_countermeasure"]["blacklists"]["total"] == pytest.approx(0.6 * 100 * 1000)
    assert {row["countermeasure"] for row in payload["cost_effectiveness"]} == set(comparison.names)


def test_compare_cli_prints_and_writes_costs(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL), encoding="utf-8")
    out = tmp_path / "out"
    run = spamsim_cli("compare", str(path), "--reps", "6", "--seed", "3", "--out", str(out))
    assert run.returncode == 0, run.stderr
    assert "defenders' cost" in run.stdout and "profit removed per 1M" in run.stdout
    assert "social cost avoided per 1M" in run.stdout
    frame = pd.read_parquet(out / "costs.parquet")
    assert set(frame["countermeasure"]) == {"blacklists", "receiver_filtering"}
    payload = json.loads((out / "comparison.json").read_text(encoding="utf-8"))
    assert payload["defender_cost"]["currency"] == "JPY"


def test_compare_says_what_to_set_when_a_cost_is_not_known():
    # EUR: no default cost for receiver filtering, no default prices of recipients' time: dashes, and a note each.
    data = copy.deepcopy(SMALL)
    data["market"] = {**data["market"], "currency": "EUR"}
    del data["countermeasures"]["receiver_filtering"]["cost"]
    comparison = spamsim.compare(spamsim.load(data), reps=4, seed=1)
    row = {r["countermeasure"]: r for r in comparison.cost_effectiveness()}["receiver_filtering"]
    assert math.isnan(row["defender_cost"]) and row["removed"]["profit_removed_per_cost"]["mean"] is None
    notes = cli.cost_notes(comparison)
    assert len(notes) == 2 and "receiver_filtering" in notes[0] and "`cost:`" in notes[0] and "EUR" in notes[1]
    assert cli.cost_notes(spamsim.compare(spamsim.load(SMALL), reps=4, seed=1)) == []
    catching = {**SMALL, "enforcement": {"caught_probability": 0.1}}
    notes = cli.cost_notes(spamsim.compare(spamsim.load(catching), reps=4, seed=1))
    assert notes == ["enforcement: no defenders' cost model (—); its effects are in the table above"]


def test_cost_quantities_have_names_with_units_in_both_languages():
    from spamsim.names import metric_label

    assert metric_label("defender_cost", "en", "USD") == "Defenders' cost (USD)"
    assert metric_label("defender_cost", "ja", "JPY") == "防御側の費用 [円]"
    for part in COST_PARTS:
        assert "defender_cost" not in metric_label(f"defender_cost.{part}", "ja", "JPY")
