"""The spammer: sends its campaign, pays for it, and stops when convicted (if the law says so)."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from ..scenario.schema import Spammer as SpammerSpec
from .values import Values, as_array

if TYPE_CHECKING:  # pragma: no cover
    from .world import World


class Spammer:
    """One spammer's campaign as a SimPy process, vectorised over replications.

    ``active`` is a mask over replications: a spammer who was convicted (and must stop) in
    one replication keeps running in the others, so state that diverges between
    replications is a mask, not a separate process.
    """

    def __init__(self, world: World, index: int, spec: SpammerSpec, values: Values):
        self.world = world
        self.index = index
        self.spec = spec
        self.name = spec.name
        self.messages_per_send = as_array(values.campaign.messages_per_send, world.size)
        self.active = np.ones(world.size, dtype=bool)
        campaign = spec.campaign
        self.start_hours = campaign.start_day * 24.0
        self.end_hours = min((campaign.start_day + campaign.days) * 24.0, world.horizon_hours)

    def send_times(self) -> list[float]:
        """Times (hours) of the campaign's sends inside the horizon."""
        campaign = self.spec.campaign
        interval = 24.0 / campaign.sends_per_day
        times = [self.start_hours + k * interval for k in range(campaign.n_sends)]
        return [t for t in times if t < self.world.horizon_hours]

    def run(self) -> Generator[simpy.Event, Any, None]:
        """SimPy process: one batch per send, handed to the world's delivery pipeline."""
        env = self.world.env
        for t in self.send_times():
            yield env.timeout(t - env.now)
            volume = np.where(self.active, self.messages_per_send, 0.0).astype(np.int64)
            self.world.dispatch(self, volume)

    def campaign_hours_in(self, start: float, end: float) -> float:
        """Hours of ``[start, end)`` that fall inside the campaign window."""
        return max(0.0, min(end, self.end_hours) - max(start, self.start_hours))
