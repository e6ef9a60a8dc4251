"""The spammer's own server sending directly to recipients' MX: cheap, quickly blacklisted."""

from __future__ import annotations

import numpy as np

from ..values import as_array
from .base import Channel, Route


class OwnServer(Channel):
    """Each spammer runs its own server; its address gets listed after a delay of abuse.

    The listed share of a spammer's sending addresses grows while it sends:
    ``listed += (1 - listed) * (1 - exp(-hours / listing_delay_hours))``.
    """

    name = "own_server"
    per_spammer_capacity = True  # each spammer runs its own server

    def __init__(self, world, index, spec, values):  # type: ignore[no-untyped-def]
        super().__init__(world, index, spec, values)
        self.listed = np.zeros((len(world.scenario.spammers), world.size))

    def capacity(self, step: int) -> np.ndarray:
        n = len(self.world.spammers)
        if self.spec.capacity_per_hour is None:
            return np.full((n, self.world.size), np.inf)
        per_server = as_array(self.values.capacity_per_hour, self.world.size) * self.world.step_hours
        return np.broadcast_to(per_server, (n, self.world.size))

    def route(self, spammer: int, attempted: np.ndarray, step: int) -> Route:
        rng = self.rng(step, self.world.spammers[spammer].name)
        route = Route(attempted=attempted, delivered=attempted, arriving=attempted)
        route.delivered = self.blacklisted(route, rng, attempted, self.listed[spammer], step)
        return route

    def cost(self, spammer: int, attempted: np.ndarray, step: int) -> np.ndarray:
        daily = as_array(self.values.cost_per_day, self.world.size)
        return np.where(attempted > 0, daily * self.world.step_hours / 24.0, 0.0)

    def end_step(self, step: int, attempted_total: np.ndarray) -> None:
        blacklists = self.world.countermeasure("blacklists")
        if blacklists is None:
            return
        delay = float(self.world.countermeasure("blacklists").listing_delay_hours)  # type: ignore[union-attr]
        growth = 1.0 - np.exp(-self.world.step_hours / delay)
        for p in range(len(self.world.spammers)):
            sent = self.world.ledger.flows["attempted"][step, p, self.index] > 0
            self.listed[p] = np.where(sent, self.listed[p] + (1 - self.listed[p]) * growth, self.listed[p])
