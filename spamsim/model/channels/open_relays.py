"""Open relays: servers that relay for anyone, found by scanning, closed by prevention."""

from __future__ import annotations

import numpy as np

from ..sampling import binomial
from ..values import as_array
from .base import Channel, Route


class OpenRelays(Channel):
    """A population of relays the spammers discover by scanning.

    Spammers spread their relay volume over the relays they know. A relay whose operator
    adopted open relay prevention (share ``adoption(t)``) refuses: those messages are
    blocked by ``open_relay_prevention``. Relays in use get listed on DNSBLs after
    ``listing_delay_hours``; newly discovered relays are not listed yet, which dilutes the
    listed share.
    """

    name = "open_relays"

    def __init__(self, world, index, spec, values):  # type: ignore[no-untyped-def]
        super().__init__(world, index, spec, values)
        size = world.size
        self.count = np.round(as_array(values.count, size))
        self.known = np.round(self.count * as_array(values.initially_known, size))
        self.listed = np.zeros(size)

    def capacity(self, step: int) -> np.ndarray:
        rate = as_array(self.values.capacity_per_hour, self.world.size)
        return self.known * rate * self.world.step_hours

    def route(self, spammer: int, attempted: np.ndarray, step: int) -> Route:
        rng = self.rng(step, self.world.spammers[spammer].name)
        route = Route(attempted=attempted, delivered=attempted, arriving=attempted)
        remaining = attempted
        if self.world.countermeasure("open_relay_prevention") is not None:
            closed = self.world.share("open_relay_prevention", "adoption", step)
            remaining = route.block("open_relay_prevention", remaining, self.binomial(rng, remaining, closed))
        route.arriving = remaining
        route.delivered = self.blacklisted(route, rng, remaining, self.listed, step)
        return route

    def end_step(self, step: int, attempted_total: np.ndarray) -> None:
        # Populations always move in batches: exact mode checks the per-message pipeline.
        rng = self.rng(step)
        days = self.world.step_hours / 24.0
        p_find = 1.0 - (1.0 - as_array(self.values.discovery_per_day, self.world.size)) ** days
        found = binomial(rng, (self.count - self.known).astype(np.int64), p_find)
        before = self.known
        self.known = self.known + found
        self.listed = np.where(self.known > 0, self.listed * before / np.maximum(self.known, 1), 0.0)
        if self.world.countermeasure("blacklists") is not None:
            delay = float(self.world.countermeasure("blacklists").listing_delay_hours)  # type: ignore[union-attr]
            growth = 1.0 - np.exp(-self.world.step_hours / delay)
            self.listed = np.where(attempted_total > 0, self.listed + (1 - self.listed) * growth, self.listed)
        self.world.ledger.set_world("relays_known", step, self.known)
