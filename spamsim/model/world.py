"""The world: builds the actors from a scenario, wires them, and runs SimPy.

One SimPy environment runs a whole block of replications; every quantity is an array over
the block's replications. SimPy drives the shared timeline (sends, step ends); state that
differs between replications (a spammer who was convicted) is a mask.

Within one step the order is fixed and documented:

1. each send moves through the pipeline as soon as it happens: channel (blocking by
   countermeasure) → receivers (filter, then the sales funnel) → money;
2. at the step's end (an URGENT event, so it runs before any send at the same instant):
   fixed costs, then enforcement.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy
from simpy.events import URGENT

from ..scenario.schema import Scenario
from .channels import Channel, OwnServer
from .enforcement import Enforcement
from .ledger import Ledger
from .receivers import Receivers
from .spammer import Spammer
from .streams import Streams
from .values import as_array, draw_values


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
        values = draw_values(scenario, streams, size)
        self.values = values
        self.channels: list[Channel] = [OwnServer()]
        self.spammers = [
            Spammer(self, i, spec, values.spammers[i]) for i, spec in enumerate(scenario.spammers)
        ]
        self.ledger = Ledger(
            self.n_steps, [s.name for s in self.spammers], [c.name for c in self.channels], size
        )
        self.receivers = Receivers(self, values.market)
        self.enforcement = Enforcement(
            self, values.enforcement, scenario.enforcement.on_conviction == "stop"
        )
        self.env.process(self._clock())
        for spammer in self.spammers:
            self.env.process(spammer.run())

    # -- time -------------------------------------------------------------------------------
    def step_of(self, hours: float) -> int:
        """Ledger step that contains time ``hours``."""
        return min(int(hours // self.step_hours), self.n_steps - 1)

    def step_window(self, step: int) -> tuple[float, float]:
        """Start and end (hours) of ``step``, clipped to the horizon."""
        start = step * self.step_hours
        return start, min(start + self.step_hours, self.horizon_hours)

    def _clock(self) -> Generator[simpy.Event, Any, None]:
        for step in range(self.n_steps):
            start, end = self.step_window(step)
            yield StepEnd(self.env, end - self.env.now)
            self._end_step(step, start, end)

    def _end_step(self, step: int, start: float, end: float) -> None:
        values = self.values.costs
        for spammer in self.spammers:
            days = spammer.campaign_hours_in(start, end) / 24.0
            fixed = as_array(values.fixed_per_day, self.size) * days
            self.ledger.add_spammer("fixed_cost", step, spammer.index, np.where(spammer.active, fixed, 0.0))
            self.enforcement.end_of_step(spammer, step)
        self.streams.forget_step(step)

    # -- the delivery pipeline ---------------------------------------------------------------
    def dispatch(self, spammer: Spammer, volume: np.ndarray) -> None:
        """Move one send through channels, receivers and money, and book it."""
        step = self.step_of(self.env.now)
        ledger = self.ledger
        costs = self.values.costs
        sending = volume > 0
        ledger.add_spammer(
            "send_cost", step, spammer.index, np.where(sending, as_array(costs.per_send, self.size), 0.0)
        )
        for c, channel in enumerate(self.channels):
            blocked_by, delivered = channel.carry(spammer.index, volume, step)
            ledger.add_flow("attempted", step, spammer.index, c, volume)
            for countermeasure, blocked in blocked_by.items():
                ledger.add_blocked(countermeasure, step, spammer.index, c, blocked)
            ledger.add_flow("delivered", step, spammer.index, c, delivered)
            stages = self.receivers.receive(spammer.name, channel.name, delivered, step)
            for metric, counts in stages.items():
                ledger.add_flow(metric, step, spammer.index, c, counts)
            revenue = stages["sales"] * as_array(self.values.market.profit_per_sale, self.size)
            ledger.add_flow("revenue", step, spammer.index, c, revenue)
            ledger.add_flow("message_cost", step, spammer.index, c, volume * as_array(costs.per_message, self.size))

    def run(self) -> Ledger:
        """Run the world to the end of the horizon and return its ledger."""
        self.env.run()
        return self.ledger


def simulate_block(scenario: Scenario, entropy: int, block: int, size: int) -> Ledger:
    """Build and run the world for one block of replications (the unit of parallel work)."""
    return World(scenario, Streams(entropy, block), size).run()
