"""What the engine remembers to run faster must never change a number.

Without schedules every parameter is constant between scheduled events, so the world
remembers what it computes from parameters alone (network policies, hazards, listed shares,
the botnet's transition split) until the next event. These tests run the same block with
and without that memory and require bit-identical ledgers, in a world whose events change
exactly the parameters remembered.
"""

from __future__ import annotations

import numpy as np
import pytest

from spamsim.model.ledger import Ledger
from spamsim.model.streams import Streams
from spamsim.model.world import World
from spamsim.scenario.loader import load

from .conftest import SCENARIOS

# Every remembered quantity changes at one of these events (days 2 and 4 of a 6-day run).
EVENTS = [
    "events=["
    "{day: 2, set: {countermeasures.op25b.adoption: 0.2, countermeasures.blacklists.dynamic_ip_listed_share: 0.1,"
    " countermeasures.antivirus.cleanup_rate_per_day: 0.5, enforcement.caught_probability: 0.9}},"
    "{day: 4, set: {channels.open_relays.discovery_per_day: 0.5, countermeasures.submission_auth.enabled: false,"
    " channels.botnet.pop_logins_per_hour: 40}}]"
]


# Schedules on remembered parameters: remembered only within an interval, or not at all.
SCHEDULES = [
    "countermeasures.op25b.adoption={0: 0.1, 6: 0.9}",
    "channels.open_relays.discovery_per_day={0: 0.01, 6: 0.5}",
    "enforcement.caught_probability={0: 0.1, 6: 0.9}",
]


class _Forgetful(World):
    """The same world computing everything afresh at every call (the engine before its memory)."""

    def memo(self) -> None:
        return None

    def remember(self, key: object, compute):  # type: ignore[no-untyped-def]
        return compute()


def _ledger(world_class: type[World], overrides: list[str], size: int = 48) -> Ledger:
    scenario = load(SCENARIOS / "japan-2011.yaml", ["horizon.days=6", *overrides])
    return world_class(scenario, Streams(20261130, 0), size).run()


def _assert_same(a: Ledger, b: Ledger) -> None:
    for part in ("flows", "spammer", "world", "blocked_by"):
        left, right = getattr(a, part), getattr(b, part)
        assert left.keys() == right.keys(), part
        for name in left:
            np.testing.assert_array_equal(left[name], right[name], err_msg=f"{part}[{name}]")


@pytest.mark.parametrize(
    "overrides",
    [[], EVENTS, SCHEDULES, [*SCHEDULES, *EVENTS]],
    ids=["no-events", "events", "schedules", "schedules-and-events"],
)
def test_remembered_parameters_give_the_numbers_computed_afresh(overrides: list[str]) -> None:
    _assert_same(_ledger(World, overrides), _ledger(_Forgetful, overrides))


def test_the_events_change_what_is_remembered() -> None:
    # Otherwise the test above would not show that the memory follows the events.
    without, with_events = _ledger(World, []), _ledger(World, EVENTS)
    for metric in ("rerouted", "delivered"):
        assert not np.array_equal(without.flows[metric], with_events.flows[metric]), metric
    assert not np.array_equal(without.world["relays_known"], with_events.world["relays_known"])


def test_what_read_a_schedule_is_remembered_within_its_interval_only() -> None:
    scenario = load(SCENARIOS / "japan-2011.yaml", ["countermeasures.op25b.adoption={0: 0.1, 30: 0.9}"])
    world = World(scenario, Streams(1, 0), 4)
    assert world.has_schedules
    adoption = world.values.countermeasures.op25b.adoption
    assert isinstance(adoption, dict)
    calls: list[str] = []

    def scheduled() -> object:
        calls.append("scheduled")
        return world.num(adoption)

    def constant() -> object:
        calls.append("constant")
        return world.num(0.5)

    def nested() -> object:  # finds "scheduled" remembered for the interval: itself reads a schedule
        calls.append("nested")
        return world.remember("scheduled", scheduled)

    seen: list[tuple[object, object]] = []
    original = world.receivers.legitimate

    def legitimate(start: float, end: float):  # type: ignore[no-untyped-def]
        # Twice within the interval: the second time from the memory.
        seen.append((world.remember("scheduled", scheduled), world.remember("scheduled", scheduled)))
        world.remember("nested", nested)
        world.remember("nested", nested)
        world.remember("constant", constant)
        return original(start, end)

    world.receivers.legitimate = legitimate  # type: ignore[method-assign]
    world.run()
    intervals = len(seen)
    assert intervals > 1
    assert calls.count("scheduled") == intervals  # once per interval, then remembered within it
    assert calls.count("nested") == intervals  # not remembered beyond its interval either
    assert calls.count("constant") == 1  # read no schedule: remembered until the next scheduled event
    assert len({round(float(a), 12) for a, _ in seen}) > 1 and all(a == b for a, b in seen)
    assert not World(load(SCENARIOS / "japan-2011.yaml"), Streams(1, 0), 4).has_schedules
