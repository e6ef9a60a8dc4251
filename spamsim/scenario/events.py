"""Scheduled events: parameter changes at given times (a takedown, a new law, a new policy).

A scenario lists them under ``events``::

    events:
      - year: 2010.2
        note: Rustock botnet taken down
        set: {channels.botnet.sends_per_bot_hour: 0}
      - day: 90
        set: {enforcement.fines.corporation: 3.0e7, countermeasures.op25b: {adoption: 0.5}}

Each event sets parameters by dotted path with the same paths and values as ``--set``
(:func:`.overrides.assign`). When the scenario is validated, the events are applied one by one
in time order (stable for equal times) to the scenario as it stands after the earlier ones, and
each result is validated like a file; a problem is reported against the event's ``set`` entry,
e.g. ``events[2].set.countermeasures.op25b.adoption: a probability must be between 0 and 1``.

An event may change parameters, never the world's structure: the spammers (names, order), the
channels present, the horizon, the engine, the currency, the events and each campaign's timing
are fixed when a run starts, because the engine builds its actors and plans its sends from them.

The engine asks :func:`event_hours` when the events happen and :func:`scenario_after` what the
scenario is from then on, and re-draws parameter values from it.
"""

from __future__ import annotations

import copy
import weakref
from typing import Any

from pydantic import BaseModel, ValidationError

from .errors import ISSUES_ERROR, Issue, Problem, ScenarioError, issues_error
from .loader import describe_error, scenario_data
from .overrides import assign
from .schema import CHANNEL_NAMES, Campaign, Event, Market, Scenario, Spammer
from .yamlio import Path

HOURS_PER_DAY = 24.0

_CAMPAIGN_TIMING = ("days", "start_day", "sends_per_day", "window_hours")

_PLANNED = (
    "an event cannot change this: the engine plans reassessments and bot variants when the run starts; "
    "set it in the base scenario (or split the spammer into two with different settings)"
)

_TIMING = (
    "an event cannot change a campaign's timing (days, start_day, sends_per_day, window_hours): the engine plans "
    "every send when the run starts; change the volume with campaign.messages_per_send here, or split "
    "the spammer in the base scenario into two whose campaigns start at different days"
)
_SPAMMERS = (
    "an event cannot add, remove, rename or reorder spammers: define every spammer in the base "
    "scenario (its campaign's start_day and days say when it sends) and set its parameters here"
)
_CURRENCY = (
    "an event cannot change the currency (a run adds up money in one currency): give the amounts in "
    "market.currency instead"
)

_FIXED: tuple[tuple[tuple[str, ...], str], ...] = (
    (("horizon",), "an event cannot change the horizon (it is the run's timeline): set `horizon` in the base scenario"),
    (("engine",), "an event cannot change the engine: set `engine` in the base scenario"),
    (("events",), "an event cannot add or change events: list every event under `events`"),
    (("market", "currency"), _CURRENCY),
    (("spammers", "*", "name"), _SPAMMERS),
    *((("spammers", "*", "campaign", name), _TIMING) for name in _CAMPAIGN_TIMING),
    *((("spammers", "*", "strategy", name), _PLANNED) for name in ("kind", "reaction_days")),
    *((("countermeasures", "antivirus", name), _PLANNED) for name in ("new_variant_every_days", "signature_lag_days")),
)
"""Paths an event may not set at all (``*``: any list item), with what to do instead."""


def event_hours(scenario: Scenario) -> list[float]:
    """When the scenario's events happen, in time order.

    Parameters
    ----------
    scenario
        A validated scenario.

    Returns
    -------
    list of float
        Hours since the start, one per event, sorted (``scenario.events`` is kept in this order).
    """
    start_year = scenario.horizon.start_year
    return sorted(HOURS_PER_DAY * event.day_since_start(start_year) for event in scenario.events)


def scenario_after(scenario: Scenario, k: int) -> Scenario:
    """The scenario with its first ``k`` events (in time order) applied.

    Parameters
    ----------
    scenario
        A validated scenario.
    k
        How many events have happened, ``0 <= k <= len(scenario.events)``.

    Returns
    -------
    Scenario
        ``scenario`` itself for ``k = 0``; otherwise a validated scenario with the parameters
        the first ``k`` events set and no events of its own (the engine keeps the timeline of
        the original). Computed once when the scenario is validated, so calls are cheap.

    Raises
    ------
    IndexError
        If ``k`` is out of range.
    ScenarioError
        If the events do not apply (only for a scenario built without validation).

    Examples
    --------
    >>> import spamsim
    >>> from spamsim.scenario import event_hours, scenario_after
    >>> sc = spamsim.load("my.yaml")                                        # doctest: +SKIP
    >>> for k, hour in enumerate(event_hours(sc), start=1):                 # doctest: +SKIP
    ...     print(hour, scenario_after(sc, k).countermeasures.op25b.adoption)
    """
    n = len(scenario.events)
    if not 0 <= k <= n:
        raise IndexError(f"k must be between 0 and {n} (the number of events), got {k}")
    if k == 0:
        return scenario
    return _states(scenario)[k - 1]


def check_events(scenario: Scenario) -> None:
    """Apply and validate the events of ``scenario``; sort them by time (for the schema).

    Called by :class:`~.schema.Scenario`'s validator. On success the events are put in time
    order and the scenario after each is remembered for :func:`scenario_after`.

    Raises
    ------
    pydantic_core.PydanticCustomError
        Carrying one :class:`~.errors.Issue` per problem, located at the event's entry.
    """
    states, order, issues = _apply(scenario)
    if issues:
        raise issues_error(issues)
    if order != list(range(len(order))):
        # The model is frozen; this runs inside its own validator, before anyone sees it.
        object.__setattr__(scenario, "events", [scenario.events[i] for i in order])
    _remember(scenario, tuple(states))


_AFTER: dict[int, tuple[Scenario, ...]] = {}
"""The scenario after each event, by ``id`` of the scenario while it lives.

Kept outside the model so that it plays no part in equality, copies or pickles: a copy (or a
scenario in another process) has another id and computes its own on first use.
"""


def _remember(scenario: Scenario, states: tuple[Scenario, ...]) -> None:
    key = id(scenario)
    if key not in _AFTER:
        # Runs while the scenario is being freed, before its id can be given to another object.
        weakref.finalize(scenario, _AFTER.pop, key, None)
    _AFTER[key] = states


def _states(scenario: Scenario) -> tuple[Scenario, ...]:
    states = _AFTER.get(id(scenario))
    if states is None:
        found, _, issues = _apply(scenario)
        if issues:
            raise ScenarioError([Problem("<scenario>", None, None, issue.shown, issue.message) for issue in issues])
        states = tuple(found)
        _remember(scenario, states)
    return states


def _apply(scenario: Scenario) -> tuple[list[Scenario], list[int], list[Issue]]:
    """The scenario after each event in time order, that order (as indices), and the problems."""
    issues: list[Issue] = []
    timed: list[tuple[float, int]] = []
    start_year = scenario.horizon.start_year
    end_day = scenario.horizon_days
    for i, event in enumerate(scenario.events):
        field = "day" if event.day is not None else "year"
        where = ("events", i, field)
        try:
            day = event.day_since_start(start_year)
        except ValueError as exc:
            issues.append(Issue(where, f"events[{i}].{field}", str(exc)))
            continue
        if day < 0:
            message = f"year {event.year:g} is before horizon.start_year ({start_year:g})"
            issues.append(Issue(where, f"events[{i}].{field}", message))
        elif day > end_day * (1 + 1e-12):
            when = f"day {day:g}" if event.year is None else f"year {event.year:g} is day {day:g}"
            message = f"the event is after the end of the horizon ({when}; the horizon ends at day {end_day:g})"
            issues.append(Issue(where, f"events[{i}].{field}", message))
        else:
            timed.append((day, i))
    timed.sort(key=lambda item: item[0])  # stable: equal times keep the order of the file

    state = scenario_data(scenario)
    state["events"] = []
    current = scenario
    states: list[Scenario] = []
    for _, i in timed:
        data = copy.deepcopy(state)
        entries, problems = _assign_event(scenario.events[i], i, data)
        if not problems:
            try:
                current = Scenario.model_validate(data, strict=True)
            except ValidationError as exc:
                problems = _locate(exc, data, entries, i)
            else:
                state = data
        issues.extend(problems)
        states.append(current)
    return states, [i for _, i in timed], issues


def _assign_event(event: Event, i: int, data: dict[str, Any]) -> tuple[list[tuple[str, Path]], list[Issue]]:
    """Apply one event's entries to ``data`` in place; the entries' resolved paths and problems."""
    entries: list[tuple[str, Path]] = []
    problems: list[Issue] = []
    for key, value in event.set.items():
        where = ("events", i, "set", key)
        shown = f"events[{i}].set.{key}"
        parts = key.split(".")
        if any(not part.strip() for part in parts):
            problems.append(Issue(where, shown, "empty field name in path", key=True))
            continue
        fixed = _fixed(parts)
        if fixed:
            problems.append(Issue(where, shown, fixed, key=True))
            continue
        # A refused entry must not leave a trace that misleads the checks of the entries after
        # it (an event with a problem is discarded whole, so only what those checks read matters).
        head = parts[0]
        saved = copy.deepcopy(data[head]) if head in _STRUCTURAL and head in data else _ABSENT
        before = _structure(data)
        try:
            resolved = assign(data, parts, _plain(value))
            refused = _structure_change(before, _structure(data))
        except ValueError as exc:
            refused = str(exc)
        if refused:
            if head in _STRUCTURAL:
                if saved is _ABSENT:
                    data.pop(head, None)
                else:
                    data[head] = saved
            problems.append(Issue(where, shown, refused, key=True))
            continue
        entries.append((key, resolved))
    return entries, problems


_STRUCTURAL = ("spammers", "channels", "market")
"""Top-level sections that :func:`_structure` reads and list items are looked up in."""
_ABSENT = object()


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):  # an event built in Python may hold a distribution object
        return value.model_dump(mode="json", exclude_none=True)
    return copy.deepcopy(value)  # the scenario data must not share mutable values with the event


def _fixed(parts: list[str]) -> str | None:
    for pattern, message in _FIXED:
        if len(parts) >= len(pattern) and all(p in ("*", q) for p, q in zip(pattern, parts, strict=False)):
            return message
    return None


def _structure(data: dict[str, Any]) -> dict[str, Any]:
    """What an event must leave alone, read from plain data (``None``: not readable here).

    An entry that replaces a whole section (``spammers.overseas``, ``channels``, ``market``)
    passes the path check of :data:`_FIXED`; comparing this before and after catches it.
    """
    found: dict[str, Any] = {"spammers": None, "timing": None, "channels": None, "currency": None}
    spammers = data.get("spammers")
    if isinstance(spammers, list) and all(isinstance(s, dict) for s in spammers):
        found["spammers"] = tuple(s.get("name", Spammer.model_fields["name"].default) for s in spammers)
        found["timing"] = tuple(_timing(s.get("campaign")) for s in spammers)
    channels = data.get("channels")
    if isinstance(channels, dict):
        own_default = "own_server"  # present unless set to null (see Channels)
        found["channels"] = frozenset(
            name for name in CHANNEL_NAMES if (channels[name] is not None if name in channels else name == own_default)
        )
    market = data.get("market")
    if isinstance(market, dict):
        found["currency"] = market.get("currency", Market.model_fields["currency"].default)
    return found


def _timing(campaign: Any) -> tuple[Any, ...] | None:
    if not isinstance(campaign, dict):
        return None
    return tuple(campaign.get(name, Campaign.model_fields[name].default) for name in _CAMPAIGN_TIMING)


def _structure_change(before: dict[str, Any], after: dict[str, Any]) -> str | None:
    def differs(name: str) -> bool:
        # Unreadable (a section replaced by a wrong type): validation reports that instead.
        return before[name] is not None and after[name] is not None and before[name] != after[name]

    if differs("spammers"):
        return _SPAMMERS
    if differs("timing"):
        return _TIMING
    if differs("channels"):
        added = sorted(after["channels"] - before["channels"])
        removed = sorted(before["channels"] - after["channels"])
        if added:
            return (
                f"an event cannot add a channel ({', '.join(added)}): define the channel in the base scenario "
                "and set its parameters here (e.g. a botnet with initial_bots: 0 and infection_rate_per_day: 0 "
                "in the base, and the infection rate raised here)"
            )
        return (
            f"an event cannot remove a channel ({', '.join(removed)}): keep it in the base scenario and shut "
            "it by setting its parameters here (e.g. channels.botnet.sends_per_bot_hour: 0 for a takedown)"
        )
    if differs("currency"):
        return _CURRENCY
    return None


def _locate(exc: ValidationError, data: Any, entries: list[tuple[str, Path]], i: int) -> list[Issue]:
    """Turn the errors of the scenario an event made into problems at the event's entries."""
    problems: list[Issue] = []
    for err in exc.errors(include_url=False):
        if err["type"] == ISSUES_ERROR:
            for issue in err["ctx"]["issues"]:
                problems.append(_at_entry(issue.path, issue.message, issue.path, issue.key, entries, i))
        else:
            error = describe_error(err, data, Scenario)
            problems.append(_at_entry(error.path, error.message, error.mark_path, error.key, entries, i))
    return problems


def _at_entry(
    path: tuple[str | int, ...],
    message: str,
    mark_path: tuple[str | int, ...],
    key: bool,
    entries: list[tuple[str, Path]],
    i: int,
) -> Issue:
    """A problem at ``path`` of the scenario, told against the event entry that caused it."""
    set_path = ("events", i, "set")
    # Inside a value the event set: the path below it is the same in the file.
    for text, resolved in entries:
        if path[: len(resolved)] == resolved:
            below = path[len(resolved) :]
            mark_below = mark_path[len(resolved) :] if mark_path[: len(resolved)] == resolved else ()
            shown = f"events[{i}].set.{text}" + "".join(f".{part}" for part in below)
            return Issue((*set_path, text, *mark_below), shown, message, key=key)
    # Around it (a check over a whole section, a missing sibling): the entry closest to it.
    closest, depth = "", 0
    for text, resolved in entries:
        if _common(path, resolved) > depth:
            closest, depth = text, _common(path, resolved)
    if depth:
        shown = f"events[{i}].set." + ".".join(str(part) for part in path)
        return Issue((*set_path, closest), shown, message)
    if len(entries) == 1:  # a check over the whole scenario
        text = entries[0][0]
        return Issue((*set_path, text), f"events[{i}].set.{text}", message)
    return Issue(set_path, f"events[{i}].set", message)


def _common(a: tuple[Any, ...], b: tuple[Any, ...]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


__all__ = ["HOURS_PER_DAY", "check_events", "event_hours", "scenario_after"]
