"""The world: builds the actors from a scenario, wires them, and runs SimPy.

One SimPy environment runs a whole block of replications; every quantity is an array over
the block's replications. SimPy drives the shared timeline — campaign sends, new bot
variants, spammers' reassessments, step ends — and state that differs between replications
(a spammer who quit or was convicted) is a mask.

Sends fill each spammer's outbox as they happen. At the end of every step (an URGENT event,
so it precedes anything else scheduled for the same instant) the world moves the step's mail
in this documented order:

1. each spammer splits its outbox over channels by its mix (``demand``);
2. each channel's capacity — a shared pool split in proportion to demand, or each spammer's
   own server — limits what is ``attempted``; the rest is ``unsent``;
3. each channel routes each spammer's ``attempted`` mail; sending-side countermeasures block
   in the order of :data:`~spamsim.model.ledger.BLOCKING_ORDER` (relay prevention, OP25B,
   submission auth, rate limits, then receivers' blacklists), every blocked message booked
   to the first that stopped it;
4. receivers filter what was delivered, recipients open, click and buy; money is booked;
5. legitimate mail and its false positives; fixed costs; budgets; enforcement;
6. channels evolve (bot infections and cleanup, relay discovery, account theft, listings).

Adaptive spammers reassess right after a step end (a NORMAL event at the same instant), so
they see the step that just closed.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy
from simpy.events import URGENT

from ..scenario.schema import Scenario
from .channels import CHANNEL_CLASSES, Channel
from .enforcement import Enforcement
from .ledger import Ledger
from .receivers import Receivers
from .schedules import share_at
from .spammer import Spammer
from .streams import Streams
from .values import Values, as_array, draw_values


class StepEnd(simpy.events.Event):
    """A timeout scheduled with URGENT priority: step ends precede sends at the same time."""

    def __init__(self, env: simpy.Environment, delay: float):
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, URGENT, delay)


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
    """

    def __init__(self, scenario: Scenario, streams: Streams, size: int):
        self.scenario = scenario
        self.streams = streams
        self.size = size
        self.exact = scenario.engine.mode == "exact"
        self.env = simpy.Environment()
        self.step_hours = scenario.horizon.step_hours
        self.n_steps = scenario.n_steps
        self.horizon_hours = scenario.horizon_days * 24.0
        self.values: Values = draw_values(scenario, streams, size)
        self.channels: list[Channel] = [
            CHANNEL_CLASSES[name](self, i, getattr(scenario.channels, name), getattr(self.values.channels, name))
            for i, name in enumerate(scenario.channels.names())
        ]
        self.spammers = [Spammer(self, i, spec, self.values.spammers[i]) for i, spec in enumerate(scenario.spammers)]
        self.ledger = Ledger(self.n_steps, [s.name for s in self.spammers], [c.name for c in self.channels], size)
        self.receivers = Receivers(self, self.values.market)
        self.enforcement = Enforcement(
            self,
            self.values.enforcement,
            scenario.enforcement.on_conviction == "stop",
            scenario.enforcement.enabled,
        )
        self.net_so_far = np.zeros((len(self.spammers), size))
        self.env.process(self._clock())
        for spammer in self.spammers:
            self.env.process(spammer.run())
            if spammer.spec.strategy.kind == "adaptive":
                self.env.process(spammer.adapt())

    # -- lookups ---------------------------------------------------------------------------
    def countermeasure(self, name: str) -> Any | None:
        """The drawn values of countermeasure ``name`` if the scenario has it switched on."""
        if not self.scenario.countermeasures.active(name):
            return None
        return getattr(self.values.countermeasures, name)

    def share(self, name: str, field: str, step: int) -> float | np.ndarray:
        """Schedule ``field`` (dotted) of countermeasure ``name`` at the middle of ``step``."""
        value: Any = getattr(self.values.countermeasures, name)
        for part in field.split("."):
            value = getattr(value, part)
        start, end = self.step_window(step)
        return share_at(value, (start + end) / 48.0, self.scenario.horizon.start_year)

    # -- time ------------------------------------------------------------------------------
    def step_of(self, hours: float) -> int:
        """Ledger step that contains time ``hours``."""
        return min(max(int(hours // self.step_hours), 0), self.n_steps - 1)

    def step_window(self, step: int) -> tuple[float, float]:
        """Start and end (hours) of ``step``, clipped to the horizon."""
        start = step * self.step_hours
        return start, min(start + self.step_hours, self.horizon_hours)

    def _clock(self) -> Generator[simpy.Event, Any, None]:
        for step in range(self.n_steps):
            start, end = self.step_window(step)
            yield StepEnd(self.env, end - self.env.now)
            self._end_step(step, start, end)

    # -- one step ----------------------------------------------------------------------------
    def _end_step(self, step: int, start: float, end: float) -> None:
        ledger = self.ledger
        n_channels = len(self.channels)
        demand = np.zeros((len(self.spammers), n_channels, self.size), dtype=np.int64)
        for spammer in self.spammers:
            volume, sends = spammer.take_outbox()
            cost = as_array(self.values.costs.per_send, self.size) * sends
            ledger.add_spammer("send_cost", step, spammer.index, cost)
            if n_channels:
                demand[spammer.index] = spammer.split(volume)
        attempted_total = np.zeros((n_channels, self.size))
        for c, channel in enumerate(self.channels):
            wanted = demand[:, c]
            capacity = channel.capacity(step)
            if channel.per_spammer_capacity:
                attempted = np.minimum(wanted, np.floor(np.minimum(capacity, 2.0**62))).astype(np.int64)
            else:
                # A shared pool (relays, bots, accounts) is split in proportion to demand.
                total = wanted.sum(axis=0)
                scale = np.where(total > capacity, capacity / np.maximum(total, 1), 1.0)
                attempted = np.floor(wanted * scale[None, :]).astype(np.int64)
            for spammer in self.spammers:
                self._book(step, spammer, c, channel, wanted[spammer.index], attempted[spammer.index])
            attempted_total[c] = attempted.sum(axis=0)
        self._legitimate(step)
        for spammer in self.spammers:
            self._fixed_costs(step, spammer, start, end)
            self.enforcement.end_of_step(spammer, step)
            self._budget(step, spammer)
            ledger.add_spammer("active", step, spammer.index, spammer.active.astype(float))
        for c, channel in enumerate(self.channels):
            channel.end_step(step, attempted_total[c])
        self._record_adoption(step)
        self.streams.forget_step(step)

    def _book(
        self, step: int, spammer: Spammer, c: int, channel: Channel, wanted: np.ndarray, attempted: np.ndarray
    ) -> None:
        ledger, p = self.ledger, spammer.index
        ledger.add_flow("demand", step, p, c, wanted)
        ledger.add_flow("unsent", step, p, c, wanted - attempted)
        ledger.add_flow("attempted", step, p, c, attempted)
        if not attempted.any():
            return
        route = channel.route(p, attempted, step)
        for countermeasure, blocked in route.blocked_by.items():
            ledger.add_blocked(countermeasure, step, p, c, blocked)
        ledger.add_flow("arriving", step, p, c, route.arriving)
        ledger.add_flow("delivered", step, p, c, route.delivered)
        stages = self.receivers.receive(spammer.name, channel.name, route.delivered, step)
        for metric, counts in stages.items():
            ledger.add_flow(metric, step, p, c, counts)
        costs = self.values.costs
        ledger.add_flow(
            "revenue", step, p, c, stages["sales"] * as_array(self.values.market.profit_per_sale, self.size)
        )
        ledger.add_flow("message_cost", step, p, c, attempted * as_array(costs.per_message, self.size))
        ledger.add_flow("channel_cost", step, p, c, channel.cost(p, attempted, step))

    def _legitimate(self, step: int) -> None:
        volume, lost = self.receivers.legitimate(step)
        self.ledger.set_world("legit", step, volume)
        self.ledger.set_world("legit_lost", step, lost)

    def _fixed_costs(self, step: int, spammer: Spammer, start: float, end: float) -> None:
        days = spammer.campaign_hours_in(start, end) / 24.0
        fixed = as_array(self.values.costs.fixed_per_day, self.size) * days
        self.ledger.add_spammer("fixed_cost", step, spammer.index, np.where(spammer.active, fixed, 0.0))

    def _budget(self, step: int, spammer: Spammer) -> None:
        """Stop a spammer whose cumulative losses exceed its budget."""
        budget = spammer.values.budget
        ledger, p = self.ledger, spammer.index
        flows = ledger.flows
        net = (flows["revenue"][step, p] - flows["message_cost"][step, p] - flows["channel_cost"][step, p]).sum(
            axis=0
        ) - (
            ledger.spammer["send_cost"][step, p]
            + ledger.spammer["fixed_cost"][step, p]
            + ledger.spammer["fines"][step, p]
        )
        self.net_so_far[p] += net
        if budget is not None:
            spammer.active &= ~(self.net_so_far[p] < -as_array(budget, self.size))

    def _record_adoption(self, step: int) -> None:
        cms = self.scenario.countermeasures
        record = self.ledger.set_world
        if cms.active("open_relay_prevention"):
            record("relay_prevention", step, self.share("open_relay_prevention", "adoption", step))
        if cms.active("op25b"):
            record("op25b", step, self.share("op25b", "adoption", step))
        if cms.active("submission_auth"):
            record("smtp_auth", step, self.share("submission_auth", "mode_share.smtp_auth", step))
        if cms.active("blacklists"):
            record("blacklists", step, self.share("blacklists", "adoption", step))

    def run(self) -> Ledger:
        """Run the world to the end of the horizon and return its ledger."""
        self.env.run(until=self.horizon_hours + 1e-6)
        return self.ledger


def simulate_block(scenario: Scenario, entropy: int, block: int, size: int) -> Ledger:
    """Build and run the world for one block of replications (the unit of parallel work)."""
    return World(scenario, Streams(entropy, block), size).run()
