"""The spammer's own server sending directly to recipients' MX: cheap, quickly blacklisted."""

from __future__ import annotations

import numpy as np

from ...countermeasures import Where
from ..flows import mean_listed
from .base import Channel, Route


class OwnServer(Channel):
    """Each spammer runs its own server; its addresses get listed after a delay.

    Each sending address is listed an exponentially distributed delay (mean
    ``blacklists.listing_delay_hours``) after its first message, so ``t`` hours after the
    server's first message the listed share is ``1 - exp(-t / delay)``, whether or not mail
    flowed in between. Mail sent over ``[s, s + busy]`` meets the mean of that share over
    the window (closed form in :func:`~spamsim.model.flows.mean_listed`).
    """

    name = "own_server"
    per_spammer_capacity = True  # each spammer runs its own server

    def __init__(self, world, index):  # type: ignore[no-untyped-def]
        super().__init__(world, index)
        self.first_message = np.full((len(world.scenario.spammers), world.size), np.inf)
        """Hours of each spammer's first message through its server (inf: none yet)."""

    def capacity(self, start: float, end: float) -> np.ndarray:
        n = len(self.world.spammers)
        if self.spec.capacity_per_hour is None:
            return np.full((n, self.world.size), np.inf)
        per_server = self.num(self.values.capacity_per_hour) * (end - start)
        return np.broadcast_to(per_server, (n, self.world.size))

    def route(self, spammer: int, attempted: np.ndarray, start: float, busy: np.ndarray) -> Route:
        route = Route(attempted=attempted, delivered=attempted, arriving=attempted)
        first = self.first_message[spammer] = np.where(
            attempted > 0, np.minimum(self.first_message[spammer], start), self.first_message[spammer]
        )
        blacklists = self.world.countermeasure("blacklists")
        listed: float | np.ndarray = 0.0
        if blacklists is not None:
            since = np.where(np.isfinite(first), start - first, 0.0)
            listed = mean_listed(np.zeros_like(since), float(blacklists.listing_delay_hours), since, busy)
        where = Where(self.name, self.world.spammers[spammer].name, listed=listed)
        route.delivered = self.world.block("mx", route, attempted, where)
        return route

    def cost(self, spammer: int, attempted: np.ndarray, start: float, end: float) -> np.ndarray:
        # Rent is paid per hour of the campaign while the server is part of the spammer's mix.
        owner = self.world.spammers[spammer]
        hours = owner.campaign_hours_in(start, end)
        in_use = owner.active & (owner.mix[self.index] > 0)
        return np.where(in_use, self.num(self.values.cost_per_day) * hours / 24.0, 0.0)
