"""Scheduled events and schedules on any numeric parameter: loading, errors, values over time."""

from __future__ import annotations

import pickle

import jsonschema
import pytest

import spamsim
from spamsim.scenario import PiecewiseLinear, Scenario, ScenarioError, event_hours, load, scenario_after
from spamsim.scenario.loader import scenario_data
from spamsim.scenario.yamlio import parse_yaml

from .conftest import SCENARIOS, spamsim_cli

BASE = """
name: ev
horizon: {days: 365, start_year: 2008}
market: {success_rate: 0.01, profit_per_sale: 500}
spammers:
  - name: s
    campaign: {messages_per_send: 1000000, days: 365}
channels:
  botnet: {hosts: 1.0e6, initial_bots: 1000, infection_rate_per_day: 0.001}
countermeasures:
  op25b: {adoption: 0.2}
"""


def problems(path, overrides=()):
    with pytest.raises(ScenarioError) as info:
        load(path, overrides)
    return [str(p) for p in info.value.problems]


def test_events_apply_in_time_order_and_scenario_after_gives_the_values(write):
    path = write(
        BASE
        + """
events:
  - day: 200
    note: second
    set: {countermeasures.op25b.adoption: 0.9}
  - year: 2008.25
    note: Rustock botnet taken down
    set:
      channels.botnet.sends_per_bot_hour: 0
      enforcement.fines.corporation: 3.0e7
  - day: 200
    note: third
    set: {countermeasures.blacklists: {adoption: 0.5}, spammers.s.budget: 10, countermeasures.op25b.adoption: 0.7}
"""
    )
    sc = load(path)
    # Sorted by time, stable for equal times (file order 0 before 2 at day 200).
    assert [e.note for e in sc.events] == ["Rustock botnet taken down", "second", "third"]
    assert event_hours(sc) == pytest.approx([0.25 * 365.25 * 24, 200 * 24, 200 * 24])
    assert scenario_after(sc, 0) is sc
    first, second, third = (scenario_after(sc, k) for k in (1, 2, 3))
    assert first.channels.botnet.sends_per_bot_hour == 0 and first.enforcement.fines.corporation == 3e7
    assert first.countermeasures.op25b.adoption == 0.2  # not yet
    assert second.countermeasures.op25b.adoption == 0.9 and second.countermeasures.blacklists is None
    assert third.countermeasures.op25b.adoption == 0.7  # the later event at the same time wins
    assert third.countermeasures.blacklists.adoption == 0.5 and third.spammers[0].budget == 10
    assert third.channels.botnet.sends_per_bot_hour == 0  # earlier events stay applied
    assert sc.channels.botnet.sends_per_bot_hour == 100  # the base is left as it was
    assert all(isinstance(s, Scenario) and s.events == [] for s in (first, second, third))
    assert scenario_after(sc, 2) is second  # memoised
    with pytest.raises(IndexError):
        scenario_after(sc, 4)


def test_events_survive_round_trips_copies_and_pickles(write):
    path = write(
        BASE
        + "events:\n  - {day: 30, set: {market.profit_per_sale: 700}}\n  - {day: 10, set: {market.success_rate: 0.02}}\n"
    )
    sc = load(path)
    again = spamsim.load(scenario_data(sc))
    assert again == sc and [e.day for e in again.events] == [10, 30]
    assert scenario_after(pickle.loads(pickle.dumps(sc)), 2).market.profit_per_sale == 700
    # A copy with another base computes its own scenarios after the events.
    copy = sc.model_copy(update={"costs": sc.costs.model_copy(update={"per_send": 5.0})})
    assert scenario_after(copy, 1).costs.per_send == 5.0 and scenario_after(sc, 1).costs.per_send == 0.0
    # --set can edit an event like any other field (index as in the file).
    edited = load(path, ["events.0.set={market.profit_per_sale: 900}"])
    assert scenario_after(edited, 2).market.profit_per_sale == 900


def test_each_event_is_validated_on_the_scenario_the_earlier_events_made(write):
    add = "  - {day: 10, set: {countermeasures.rate_limiting: {messages_per_account_hour: 100}}}\n"
    switch_off = "  - {day: %s, set: {countermeasures.rate_limiting.enabled: false}}\n"
    # Listed first but later in time: rate limiting exists by then.
    sc = load(write(BASE + "events:\n" + switch_off % 20 + add))
    assert scenario_after(sc, 2).countermeasures.rate_limiting.enabled is False
    # Before it exists, switching it off creates a section with a missing field.
    path = write(BASE + "events:\n" + switch_off % 5 + add, "early.yaml")
    assert problems(path) == [
        f"{path}:12:59: events[0].set.countermeasures.rate_limiting.messages_per_account_hour: required field is missing"
    ]


def test_bad_value_in_an_event_points_at_its_set_entry(write):
    path = write(
        BASE
        + """
events:
  - day: 10
    set: {market.profit_per_sale: 600}
  - day: 20
    set:
      countermeasures.op25b.adoption: 2
      market.success_rate: {dist: beta, mean: 0.01, sdev: 0.004}
"""
    )
    assert problems(path) == [
        f"{path}:17:39: events[1].set.countermeasures.op25b.adoption: a probability must be between 0 and 1, got 2",
        f"{path}:18:53: events[1].set.market.success_rate.sdev: unknown field 'sdev'; did you mean 'sd'?",
    ]
    # Through the real entry point: exit code 2, no traceback.
    res = spamsim_cli("validate", str(path))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"{path}:17:39: events[1].set.countermeasures.op25b.adoption: a probability" in res.stderr


def test_a_section_level_check_is_told_against_the_event(write):
    path = write(
        BASE + "events:\n  - {day: 1, set: {market.funnel: {open_rate: 0.1, click_rate: 0.1, purchase_rate: 0.1}}}\n"
    )
    (p,) = problems(path)
    assert p.startswith(f"{path}:12:35: events[0].set.market: give exactly one of success_rate or funnel")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("channels.botnet: null", "cannot remove a channel (botnet): keep it in the base scenario"),
        ("channels.open_relays.count: 50", "define the channel in the base scenario and set its parameters here"),
        ("channels: {own_server: {}}", "cannot remove a channel (botnet)"),
        ("horizon.days: 30", "cannot change the horizon"),
        ("engine.mode: exact", "cannot change the engine"),
        ("market.currency: USD", "cannot change the currency"),
        ("market: {currency: USD, success_rate: 0.01, profit_per_sale: 5}", "cannot change the currency"),
        ("events: []", "cannot add or change events"),
        ("spammers.s.campaign.days: 30", "cannot change a campaign's timing"),
        ("spammers.0.campaign.start_day: 3", "cannot change a campaign's timing"),
        ("spammers.s.campaign.sends_per_day: 4", "cannot change a campaign's timing"),
        ("spammers.s.campaign: {messages_per_send: 5}", "cannot change a campaign's timing"),
        ("spammers.s.name: t", "cannot add, remove, rename or reorder spammers"),
        ("spammers: []", "cannot add, remove, rename or reorder spammers"),
        ("spammers.0: {name: t, campaign: {messages_per_send: 5, days: 365}}", "rename or reorder spammers"),
    ],
)
def test_events_cannot_change_the_worlds_structure(write, entry, message):
    path = write(BASE + f"events:\n  - day: 5\n    set:\n      {entry}\n      spammers.s.budget: 3\n")
    (p,) = problems(path)  # the refused entry leaves no trace for the next one
    key = entry.split(":")[0]
    assert p.startswith(f"{path}:14:7: events[0].set.{key}: an event ")
    assert message in p


def test_event_times_are_checked(write):
    no_start = BASE.replace(", start_year: 2008", "")
    path = write(no_start + "events:\n  - {year: 2009, set: {market.profit_per_sale: 1}}\n")
    assert problems(path) == [
        f"{path}:12:12: events[0].year: `year` needs horizon.start_year; without it, give `day` (days since the start)"
    ]
    path = write(BASE + "events:\n  - {year: 2007, set: {market.profit_per_sale: 1}}\n", "before.yaml")
    assert problems(path) == [f"{path}:12:12: events[0].year: year 2007 is before horizon.start_year (2008)"]
    path = write(BASE + "events:\n  - {day: 400, set: {market.profit_per_sale: 1}}\n", "after.yaml")
    (p,) = problems(path)
    assert p.startswith(f"{path}:12:11: events[0].day: the event is after the end of the horizon")
    path = write(BASE + "events:\n  - {day: 1, year: 2009, set: {market.profit_per_sale: 1}}\n", "both.yaml")
    assert problems(path) == [f"{path}:12:5: events[0]: give exactly one of day or year"]
    path = write(BASE + "events:\n  - {day: 1, set: {}}\n", "empty.yaml")
    (p,) = problems(path)
    assert p.startswith(f"{path}:12:19: events[0].set: an event sets at least one parameter")


def test_schedule_on_any_numeric_parameter(write):
    path = write(BASE.replace("profit_per_sale: 500", "profit_per_sale: {2009: 300, 2008: 500}"))
    sc = load(path)
    profit = sc.market.profit_per_sale
    assert isinstance(profit, PiecewiseLinear) and isinstance(profit, dict)
    assert profit.breakpoints() == [2008.0, 2009.0] and list(profit) == [2008.0, 2009.0]
    assert profit.at(2008.5) == pytest.approx(400.0)
    assert profit.at(1990) == 500.0 and profit.at(2020) == 300.0  # held constant outside
    # The fields that always took schedules parse into the same class.
    timeline = load(SCENARIOS / "timeline.yaml")
    adoption = timeline.countermeasures.op25b.adoption
    assert isinstance(adoption, PiecewiseLinear) and adoption.at(2007) == pytest.approx(0.5)
    # Counts and rates take schedules too; an event may set one.
    edited = load(
        path,
        [
            "channels.botnet.hosts={2008: 1000, 2010: 2000}",
            "events=[{day: 5, set: {market.success_rate: {2008: 0.01, 2009: 0.02}}}]",
        ],
    )
    assert edited.channels.botnet.hosts.at(2009) == 1500
    assert scenario_after(edited, 1).market.success_rate.at(2008.5) == pytest.approx(0.015)
    with pytest.raises(ScenarioError, match="schedule key 0 looks like a day"):
        load(path, ["events=[{day: 5, set: {market.success_rate: {0: 0.01}}}]", "horizon.start_year=2008"])


def test_schedule_values_are_checked_against_the_fields_bounds(write):
    path = write(BASE.replace("profit_per_sale: 500", "profit_per_sale: {2004: 1, 2005: -1}"))
    assert problems(path) == [f"{path}:3:47: market.profit_per_sale: value at 2005 must be between 0 and 1e+15, got -1"]
    base = write(BASE, "ok.yaml")
    for override, message in [
        ("channels.botnet.hosts={0: 10.5}", "channels.botnet.hosts: value at 0 must be a whole number, got 10.5"),
        ("market.success_rate={2009: 1.5}", "market.success_rate: value at 2009 must be between 0 and 1, got 1.5"),
        ("market.success_rate={2009: {dist: fixed, value: 0.1}}", "must be a plain number (not a distribution)"),
        ("market.success_rate={2009: yes}", "value at 2009 must be a plain number"),
        ("market.success_rate={-1: 0.1}", "schedule keys must be days (>= 0) or years, got '-1'"),
        ("market.success_rate={}", "a schedule needs at least one point"),
    ]:
        (p,) = problems(base, [override])
        assert message in p, (override, p)


def test_year_like_keys_need_start_year_for_every_schedule(write):
    no_start = BASE.replace(", start_year: 2008", "")
    path = write(no_start.replace("profit_per_sale: 500", "profit_per_sale: {2004: 500, 2008: 300}"))
    assert problems(path) == [
        f"{path}:3:47: market.profit_per_sale: schedule keys look like years; set horizon.start_year "
        "(keys are days since the start otherwise)"
    ]
    # Days beyond 1900 in a long run are days, not years.
    assert load(write(no_start.replace("profit_per_sale: 500", "profit_per_sale: {0: 500, 3000: 300}"), "days.yaml"))


@pytest.mark.parametrize(
    "override",
    [
        "horizon.days={0: 10}",
        "spammers.s.campaign.days={0: 10}",
        "spammers.s.campaign.start_day={0: 1}",
        "spammers.s.campaign.sends_per_day={0: 1}",
        "spammers.s.strategy.reaction_days={0: 1}",
        "spammers.s.strategy.quit_after_days={0: 1}",
        "countermeasures.antivirus={cleanup_rate_per_day: 0.1, signature_lag_days: {0: 1}}",
        "countermeasures.antivirus={cleanup_rate_per_day: 0.1, new_variant_every_days: {0: 1}}",
        "countermeasures.blacklists={listing_delay_hours: {0: 1}}",
        "channels.botnet.hit_and_run_lifetime_hours={0: 1}",
    ],
)
def test_durations_that_fix_the_timeline_take_no_schedule(write, override):
    (p,) = problems(write(BASE), [override])
    assert "Input should be a valid number" in p


def test_json_schema_describes_schedules_and_events(write):
    schema = Scenario.model_json_schema()
    text = BASE.replace("profit_per_sale: 500", "profit_per_sale: {2008: 500, 2009.5: 300}")
    text += "events:\n  - {year: 2008.5, note: x, set: {countermeasures.op25b.adoption: 0.9}}\n"
    data = parse_yaml(text, "x").data
    jsonschema.validate(data, schema)
    data["market"]["profit_per_sale"] = {"2008": -1}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)
    data["market"]["profit_per_sale"] = 500
    data["events"][0]["set"] = {}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema)


SCENARIO_FILES = sorted(
    p for p in SCENARIOS.glob("*.yaml") if not p.name.endswith("-sweep.yaml") and not p.name.startswith("explore-")
)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: p.name)
def test_shipped_scenarios_still_load(path):
    sc = spamsim.load(path)
    assert sc.events == [] and event_hours(sc) == [] and scenario_after(sc, 0) is sc
