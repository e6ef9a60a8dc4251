"""The world: builds the actors from a scenario, runs SimPy, and integrates flows between events.

One SimPy environment runs a whole block of replications; every quantity is an array over
the block's replications. SimPy drives the shared timeline — campaign sends and the closing
of their sending windows, new bot variants and their signatures, spammers' reassessments,
breakpoints of schedules, scheduled events, and the ledger's step ends. State that differs
between replications (a spammer convicted at hour 3.7 in one and 61.2 in another) is a mask
or a per-replication fraction of an interval, never deferred to a step end.

Every event handler first calls :meth:`World.advance`, which integrates the interval since
the previous event in this documented order:

1. each channel's capacity over the interval (closed form from its state at the start)
   takes what the spammers have queued for it — a shared pool (relays, bots, accounts) in
   proportion to what each has queued, or each spammer's own server;
2. enforcement: the detection hazard accrued over the interval; a conviction that stops a
   spammer cuts its interval's mail at the moment it happens;
3. each channel routes each spammer's mail through the stages of its route; the registered
   countermeasures of each stage (:data:`spamsim.countermeasures.REGISTRY`, in its order)
   block their shares, every blocked message booked to the first that stopped it; schedules
   and listings use their values averaged over the time the mail went out;
4. receivers filter what was delivered, recipients open, click and buy; money is booked;
5. legitimate mail and its false positives; fixed costs; budgets;
6. channels move their state to the interval's end with draws exact for any interval length
   (bot populations, relay discovery, account theft and lockout).

Because every rate is constant (or a known exponential) between events, the numbers a user
quotes do not depend on ``horizon.step_hours``: the step only sets where the ledger's
records are cut.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Mapping
from typing import Any

import numpy as np
import simpy

from ..countermeasures import REGISTRY, Where
from ..scenario.schema import Scenario
from .channels import CHANNEL_CLASSES, Botnet, Channel
from .enforcement import Enforcement
from .flows import split_capacity
from .ledger import Ledger
from .networks import Networks
from .receivers import Receivers
from .sampling import binomial
from .schedules import DAYS_PER_YEAR, share_at
from .spammer import Spammer
from .streams import Streams
from .values import Values, draw_values

_EPS = 1e-9
_MISSING = object()


class World:
    """All actors of one scenario for one block of replications.

    Parameters
    ----------
    scenario
        The validated scenario.
    streams
        Random streams of this block.
    size
        Number of replications in the block.
    assigned
        Per-replication values by stream path that replace the scenario's
        (:func:`~spamsim.model.values.draw_values`): several explored worlds in one block.
    totals_only
        Keep only each replication's totals in the ledger (see :class:`~.ledger.Ledger`).
    """

    def __init__(
        self,
        scenario: Scenario,
        streams: Streams,
        size: int,
        assigned: Mapping[str, np.ndarray] | None = None,
        totals_only: bool = False,
    ):
        self.base = scenario
        self.scenario = scenario
        self.streams = streams
        self._stream_names: dict[tuple[Any, ...], str] = {}
        """Stream names of the blocking stages by countermeasure, channel, spammer and network."""
        self.size = size
        self.exact = scenario.engine.mode == "exact"
        self.env = simpy.Environment()
        self.step_hours = scenario.horizon.step_hours
        self.n_steps = scenario.n_steps
        self.horizon_hours = scenario.horizon_days * 24.0
        self.assigned = assigned
        self.values = draw_values(scenario, streams, size, assigned=assigned)
        self.t = 0.0
        """Time (hours) up to which flows have been integrated."""
        self.mid = 0.0
        """Middle of the interval being integrated: where schedules are evaluated."""
        self.step = 0
        """Ledger step of the interval being integrated."""
        self.networks = Networks(self)
        botnets = set(scenario.channels.botnet_specs())
        self.channels: list[Channel] = [
            Botnet(self, i, name) if name in botnets else CHANNEL_CLASSES[name](self, i)
            for i, name in enumerate(scenario.channels.names())
        ]
        self.spammers = [Spammer(self, i, spec) for i, spec in enumerate(scenario.spammers)]
        self.ledger = Ledger(
            self.n_steps, [s.name for s in self.spammers], [c.name for c in self.channels], size, totals_only
        )
        self.receivers = Receivers(self)
        self.enforcement = Enforcement(self)
        self.env.process(self._clock())
        for t in self._schedule_breakpoints():
            self.env.process(self._breakpoint(t))
        for k, t in enumerate(_event_hours(scenario)):
            self.env.process(self._scheduled_event(k + 1, t))
        for spammer in self.spammers:
            self.env.process(spammer.run())
            if spammer.spec.strategy.kind == "adaptive":
                self.env.process(spammer.adapt())

    # -- parameters ------------------------------------------------------------------------
    @property
    def scenario(self) -> Scenario:
        """The scenario as of the latest scheduled event."""
        return self._scenario

    @scenario.setter
    def scenario(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self._start_year = scenario.horizon.start_year
        if hasattr(self, "_values"):
            self._refresh()

    @property
    def values(self) -> Values:
        """The drawn parameter values as of the latest scheduled event."""
        return self._values

    @values.setter
    def values(self, values: Values) -> None:
        self._values = values
        self._refresh()

    def _refresh(self) -> None:
        """Look up, once per scenario and draw, what every interval asks for many times: each
        countermeasure's drawn values if it is on, and the active ones per stage in registry order."""
        countermeasures = self._scenario.countermeasures
        drawn = self._values.countermeasures
        self._active: dict[str, Any] = {
            name: getattr(drawn, name) for name in type(countermeasures).model_fields if countermeasures.active(name)
        }
        # What is computed from the parameters alone is remembered (see ``remember``).
        self.has_schedules = bool(_schedules(self._values))
        self._lasting_memo: dict[Any, Any] = {}
        self._memo_mid: Any = None
        self._interval_memo: dict[Any, Any] = {}
        self._schedule_reads = 0
        """Schedules evaluated so far (``remember`` tells from it what read one)."""
        self._stages: dict[str, list[tuple[Any, Any]]] = {}
        for cm in REGISTRY:
            values = self._active.get(cm.key)
            if values is not None:
                self._stages.setdefault(cm.stage, []).append((cm, values))

    def num(self, value: Any) -> float | np.ndarray:
        """A parameter now: a float, or an array over replications where it was drawn per
        replication; schedules are evaluated at the middle of the current interval.

        Plain floats stay floats (numpy broadcasts them), which keeps the per-interval
        overhead low; use :meth:`array` where an array is needed.
        """
        if type(value) is float:  # the commonest case first: this runs dozens of times an interval
            return value
        if isinstance(value, dict):
            self._schedule_reads += 1
            return share_at(value, self.mid / 24.0, self._start_year)  # type: ignore[no-any-return]
        if isinstance(value, np.ndarray):
            return value
        return float(value)

    def memo(self) -> dict[Any, Any] | None:
        """Where what is computed from the parameters now may be remembered: until the next
        scheduled event in a world without schedules, else only while the parameters are those
        of the middle of the interval being integrated (``None`` otherwise, e.g. while routing
        evaluates them over the time its mail went out)."""
        if not self.has_schedules:
            return self._lasting_memo
        return self._interval_memo if self.mid is self._memo_mid else None

    def remember(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, a function of the parameters alone, remembered under ``key``.

        Until the next scheduled event if it evaluated no schedule (every parameter it read is
        then constant until that event), else while the parameters are those of the middle of
        the interval being integrated. Computations nest: one that finds an inner result
        remembered for the interval only counts as having read a schedule itself.
        """
        found = self._lasting_memo.get(key, _MISSING)
        if found is not _MISSING:
            return found
        in_interval = self.mid is self._memo_mid
        if in_interval:
            found = self._interval_memo.get(key, _MISSING)
            if found is not _MISSING:
                self._schedule_reads += 1  # it read a schedule when it was computed
                return found
        reads = self._schedule_reads
        found = compute()
        if self._schedule_reads == reads:
            self._lasting_memo[key] = found
        elif in_interval:
            self._interval_memo[key] = found
        return found

    def array(self, value: Any) -> np.ndarray:
        """A parameter now as a float array of shape ``(size,)``."""
        return np.broadcast_to(np.asarray(self.num(value), dtype=float), (self.size,))

    def countermeasure(self, name: str) -> Any | None:
        """The drawn values of countermeasure ``name`` if it is switched on now."""
        return self._active.get(name)

    def acting(self, stage: str) -> bool:
        """Whether any countermeasure switched on now acts at ``stage``."""
        return stage in self._stages

    def block(self, stage: str, route: Any, remaining: np.ndarray, where: Where) -> np.ndarray:
        """Let every active countermeasure acting at ``stage`` stop its share of ``remaining``
        (in registry order), book what it stopped in ``route``, and return what passes."""
        for cm, values in self._stages.get(stage, ()):
            if not np.count_nonzero(remaining):
                continue
            p = cm.blocked_share(values, self, where)
            key = (cm.key, where.channel, where.spammer, where.network)
            name = self._stream_names.get(key)
            if name is None:
                name = self._stream_names[key] = ":".join(map(str, key))
            rng = self.streams.generator(name, self.step)
            remaining = route.block(cm.key, remaining, binomial(rng, remaining, p, self.exact))
        return remaining

    def stage_share(self, stage: str, where: Where) -> float | np.ndarray:
        """Share of messages that the active countermeasures at ``stage`` stop (or reroute)."""
        passing: float | np.ndarray = 1.0
        scalar = True
        active = self._stages.get(stage, ())
        for cm, values in active:
            share = cm.blocked_share(values, self, where)
            if isinstance(share, float):  # float arithmetic gives numpy's float64 results bit for bit
                passing = passing * (1.0 - share)
            else:
                scalar = False
                passing = passing * (1.0 - np.asarray(share, dtype=float))
        if scalar and active:
            return np.float64(1.0 - passing)  # the type numpy returned: a scalar that divides by zero quietly
        return 1.0 - passing

    def share(self, name: str, field: str) -> np.ndarray:
        """Field ``field`` (dotted) of countermeasure ``name`` now (schedules evaluated)."""
        value: Any = getattr(self.values.countermeasures, name)
        for part in field.split("."):
            value = getattr(value, part)
        return self.num(value)

    # -- time ------------------------------------------------------------------------------
    def step_of(self, hours: float) -> int:
        """Ledger step that contains time ``hours`` (a step end belongs to the next step)."""
        return min(max(math.floor(hours / self.step_hours + _EPS), 0), self.n_steps - 1)

    def step_before(self, hours: float) -> int:
        """Ledger step that ends at or contains ``hours`` (for what happens *at* a time after an interval:
        a window closing, a reassessment)."""
        return min(max(math.ceil(hours / self.step_hours - _EPS) - 1, 0), self.n_steps - 1)

    def step_window(self, step: int) -> tuple[float, float]:
        """Start and end (hours) of ``step``, clipped to the horizon."""
        start = step * self.step_hours
        return start, min(start + self.step_hours, self.horizon_hours)

    def _clock(self) -> Generator[simpy.Event, Any, None]:
        for step in range(self.n_steps):
            start, end = self.step_window(step)
            yield self.env.timeout(end - self.env.now)
            self.advance()
            self._record(step, (start + end) / 2.0)

    def _schedule_breakpoints(self) -> list[float]:
        """Hours at which a piecewise-linear schedule changes slope (inside the horizon)."""
        start_year = self.scenario.horizon.start_year
        found: set[float] = set()
        for schedule in _schedules(self.values):
            for key in schedule:
                day = (float(key) - start_year) * DAYS_PER_YEAR if start_year is not None else float(key)
                if 0.0 < day * 24.0 < self.horizon_hours:
                    found.add(day * 24.0)
        return sorted(found)

    def _breakpoint(self, hours: float) -> Generator[simpy.Event, Any, None]:
        yield self.env.timeout(hours)
        self.advance()

    def _scheduled_event(self, applied: int, hours: float) -> Generator[simpy.Event, Any, None]:
        """SimPy process: at ``hours`` the scenario's first ``applied`` events are in force."""
        from ..scenario.events import scenario_after

        yield self.env.timeout(hours)
        self.advance()
        self.scenario = scenario_after(self.base, applied)
        # Same streams, same names: parameters an event leaves alone keep their draws.
        self.values = draw_values(self.scenario, self.streams, self.size, assigned=self.assigned)

    # -- one interval ------------------------------------------------------------------------
    def advance(self) -> None:
        """Integrate every flow from the previous event to now (see the module's docstring)."""
        start, end = self.t, self.env.now
        if end <= start + _EPS:
            self.mid = end  # what happens at an event uses the parameters of its time
            return
        self.mid = self._memo_mid = (start + end) / 2.0
        self._interval_memo = {}
        self.step = self.step_of(start)
        hours = end - start
        n_spammers, n_channels = len(self.spammers), len(self.channels)
        attempted = np.zeros((n_spammers, n_channels, self.size), dtype=np.int64)
        busy = np.zeros((n_spammers, n_channels, self.size))
        # Spammers with nothing queued and outside their campaign do nothing in this interval.
        busy_spammers = [s for s in self.spammers if s.queue or s.campaign_hours_in(start, end) > 0]
        if busy_spammers and n_channels:
            waiting = np.array([s.waiting() for s in self.spammers])
            for c, channel in enumerate(self.channels):
                wanted = waiting[:, c]
                # np.count_nonzero, not ndarray.any(): a fifth of the cost on a small block,
                # where such calls are much of an interval's work.
                if not np.count_nonzero(wanted):
                    continue
                capacity = channel.capacity(start, end)
                if channel.per_spammer_capacity:
                    attempted[:, c] = np.minimum(wanted, np.floor(np.minimum(capacity, 2.0**62))).astype(np.int64)
                    load = attempted[:, c] / np.maximum(capacity, 1e-300)
                else:
                    attempted[:, c] = split_capacity(wanted, capacity)
                    load = attempted[:, c].sum(axis=0) / np.maximum(capacity, 1e-300)  # the same for every spammer
                # The queue drains at the channel's full rate, so mail leaves over this part of
                # the interval from its start (instantly where capacity is unlimited).
                busy[:, c] = hours * np.minimum(np.maximum(load, 0.0), 1.0)
        for c, channel in enumerate(self.channels):
            channel.allot(attempted[:, c])
        count_refused = self.scenario.enforcement.count_refused_attempts
        # Spammers enforcement cannot detect now (a zero hazard) need no detection at all.
        watched = {s.index for s in busy_spammers if self.enforcement.watches(s)}
        # The refused shares depend on the channels' plans for the interval, not on the spammer.
        leaving = [1.0 - channel.refused_share() for channel in self.channels] if watched and not count_refused else []
        for spammer in busy_spammers:
            p = spammer.index
            if p in watched:
                mean_busy = (busy[p] * attempted[p]).sum(axis=0) / np.maximum(attempted[p].sum(axis=0), 1)
                if count_refused:
                    counted = attempted[p].sum(axis=0).astype(float)
                else:  # only mail that left the sending side feeds the detection hazard
                    counted = np.zeros(self.size)
                    for c, share in enumerate(leaving):
                        counted = counted + attempted[p, c] * share
                kept, elapsed = self.enforcement.detect(spammer, counted, mean_busy, start, end)
            else:
                kept = elapsed = self.enforcement.untouched
            stopping = elapsed < 1.0
            if np.count_nonzero(stopping):
                attempted[p] = np.floor(attempted[p] * kept[None, :]).astype(np.int64)
            for c, channel in enumerate(self.channels):
                if np.count_nonzero(attempted[p, c]):
                    spammer.take(c, attempted[p, c])
                    self._book(spammer, c, channel, attempted[p, c], start, end, busy[p, c])
                else:  # rent that does not depend on volume (own server) is due all the same
                    rent = channel.cost(p, attempted[p, c], start, end)
                    self.ledger.add_flow("channel_cost", self.step, p, c, rent)
                    spammer.seen["cost"][c] += rent
                    spammer.net -= rent
            self._fixed_costs(spammer, start, end, elapsed)
            spammer.stop(stopping)
            self._budget(spammer)
        volume, lost = self.receivers.legitimate(start, end)
        self.ledger.add_world("legit", self.step, volume)
        self.ledger.add_world("legit_lost", self.step, lost)
        for c, channel in enumerate(self.channels):
            channel.evolve(start, end, attempted[:, c].sum(axis=0) > 0)
        self.t = self.mid = end

    def _book(
        self,
        spammer: Spammer,
        c: int,
        channel: Channel,
        attempted: np.ndarray,
        start: float,
        end: float,
        busy: np.ndarray,
    ) -> None:
        ledger, p, step = self.ledger, spammer.index, self.step
        ledger.add_flow("attempted", step, p, c, attempted)
        # Schedules are linear between their breakpoints (which are events), so a share's mean
        # over the time this mail goes out is its value in the middle of that time.
        interval_middle, self.mid = self.mid, start + busy / 2.0
        route = channel.route(p, attempted, start, busy)
        for countermeasure, blocked in route.blocked_by.items():
            ledger.add_blocked(countermeasure, step, p, c, blocked)
        if route.rerouted is not None:
            ledger.add_flow("rerouted", step, p, c, route.rerouted)
        ledger.add_flow("arriving", step, p, c, route.arriving)
        ledger.add_flow("delivered", step, p, c, route.delivered)
        stages = self.receivers.receive(spammer.name, channel.name, route.delivered)
        for metric, counts in stages.items():
            ledger.add_flow(metric, step, p, c, counts)
        revenue = stages["sales"] * self.num(self.values.market.profit_per_sale)
        message_cost = attempted * self.num(self.values.costs.per_message)
        channel_cost = channel.cost(p, attempted, start, end)
        self.mid = interval_middle
        ledger.add_flow("revenue", step, p, c, revenue)
        ledger.add_flow("message_cost", step, p, c, message_cost)
        ledger.add_flow("channel_cost", step, p, c, channel_cost)
        spammer.seen["attempted"][c] += attempted
        spammer.seen["sales"][c] += stages["sales"]
        spammer.seen["cost"][c] += message_cost + channel_cost
        spammer.net += revenue - message_cost - channel_cost

    def _fixed_costs(self, spammer: Spammer, start: float, end: float, share: np.ndarray) -> None:
        days = spammer.campaign_hours_in(start, end) / 24.0
        fixed = np.where(spammer.active, self.num(self.values.costs.fixed_per_day) * days * share, 0.0)
        self.ledger.add_spammer("fixed_cost", self.step, spammer.index, fixed)
        spammer.seen_overhead += fixed
        spammer.net -= fixed

    def _budget(self, spammer: Spammer) -> None:
        """Stop a spammer whose cumulative losses exceed its budget (checked at every event)."""
        budget = spammer.values.budget
        if budget is not None:
            spammer.stop(spammer.active & (spammer.net < -self.num(budget)))

    def _record(self, step: int, middle: float) -> None:
        """State at the end of ``step``: who is active, populations, adoption of countermeasures."""
        ledger = self.ledger
        for spammer in self.spammers:
            ledger.add_spammer("active", step, spammer.index, spammer.active.astype(float))
        for channel in self.channels:
            channel.record(step)
        saved, self.mid = self.mid, middle
        for cm in REGISTRY:
            if cm.series is not None and self.countermeasure(cm.key) is not None:
                metric, field = cm.series
                ledger.set_world(metric, step, self.share(cm.key, field))
        self.mid = saved

    def run(self) -> Ledger:
        """Run the world to the end of the horizon and return its ledger."""
        self.env.run(until=self.horizon_hours + 1e-6)
        return self.ledger


def _schedules(values: Any) -> list[dict[Any, Any]]:
    """Every schedule (``{time: value}`` mapping) in a tree of drawn values."""
    if isinstance(values, Values):
        return [s for v in values.__dict__.values() for s in _schedules(v)]
    if isinstance(values, list):
        return [s for v in values for s in _schedules(v)]
    if isinstance(values, dict) and values and all(isinstance(v, int | float) for v in values.values()):
        return [values] if all(isinstance(k, int | float) for k in values) else []
    return []


def _event_hours(scenario: Scenario) -> list[float]:
    if not getattr(scenario, "events", None):
        return []
    from ..scenario.events import event_hours

    return event_hours(scenario)


def simulate_block(
    scenario: Scenario,
    entropy: int,
    block: int,
    size: int,
    assigned: Mapping[str, np.ndarray] | None = None,
    totals_only: bool = False,
) -> Ledger:
    """Build and run the world for one block of replications (the unit of parallel work).

    ``assigned`` (per-replication values by stream path, see :class:`World`) lets one block
    hold several worlds of an exploration; without it the block is the scenario's.
    ``totals_only`` keeps one ledger row for the whole run (:class:`Ledger`): the same
    draws, so the same totals, for a caller that needs no time series.
    """
    return World(scenario, Streams(entropy, block), size, assigned, totals_only).run()
