"""Open relays: servers that relay for anyone, found by scanning, closed by prevention."""

from __future__ import annotations

import numpy as np

from ...countermeasures import Where
from ..flows import mean_decay
from ..sampling import binomial
from .base import Channel, Route


class OpenRelays(Channel):
    """A population of relays the spammers discover by scanning.

    Each unknown relay is found after an exponential time (``discovery_per_day`` is the
    share found per day), so over ``x`` hours the known count grows as
    ``K(x) = K + U (1 - exp(-h x))`` with ``U`` unknown relays and ``h`` the hourly hazard.
    Spammers spread their relay mail evenly over the relays they know. Once relay mail has
    flowed, every known relay is listed an exponential delay (mean ``listing_delay_hours``)
    after it starts being used, so the listed count obeys ``dL/dt = (K(t) - L) / delay`` —
    linear, with the closed form used below. A relay whose operator adopted open relay
    prevention (share ``adoption(t)``) refuses at once: those messages are blocked by
    ``open_relay_prevention`` and take none of the open relays' capacity, so at most
    ``known x (1 - adoption) x capacity_per_hour`` messages an hour pass, of
    ``known x capacity_per_hour`` attempted. Whether refused attempts feed the detection
    hazard is ``enforcement.count_refused_attempts`` (by default they do not).
    """

    name = "open_relays"

    def __init__(self, world, index):  # type: ignore[no-untyped-def]
        super().__init__(world, index)
        size = world.size
        self.count = np.round(world.array(self.values.count))
        self.known = np.round(self.count * world.array(self.values.initially_known))
        self.listed = np.zeros(size)
        """Listed share of known relays."""
        self.in_use = np.zeros(size, dtype=bool)
        """Relay mail has flowed, so the relays' listing clocks run."""

    def _hazard_per_hour(self) -> np.ndarray:
        return self.world.remember(("open_relays:hazard", self.index), self._hazard_now)  # type: ignore[no-any-return]

    def _hazard_now(self) -> np.ndarray:
        found = np.clip(self.num(self.values.discovery_per_day), 0.0, 1.0 - 1e-12)
        return -np.log1p(-found) / 24.0

    def _known_integral(self, hours: np.ndarray | float) -> np.ndarray:
        """Expected relay-hours known over the next ``hours`` (a closed form)."""
        unknown = self.count - self.known
        h = self._hazard_per_hour()
        return (self.known + unknown) * hours - unknown * hours * mean_decay(h, hours)

    def _listed_integral(self, hours: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
        """Expected listed relay-hours over the next ``hours`` and the listed count at its end.

        With ``g = 1/delay``: ``L(x) = (K + U) - A exp(-g x) - B exp(-h x)`` where
        ``A = K - L0 + U h / (h - g)`` and ``B = -U g / (h - g)``.
        """
        blacklists = self.world.countermeasure("blacklists")
        g = 1.0 / float(blacklists.listing_delay_hours) if blacklists is not None else 0.0
        k0, u = self.known, self.count - self.known
        h = self._hazard_per_hour()
        h = np.where(np.abs(h - g) < 1e-9 * max(g, 1e-12), h * (1 + 1e-6) + 1e-12, h)
        a = k0 - self.listed * k0 + u * h / (h - g)
        b = -u * g / (h - g)
        x = np.asarray(hours, dtype=float)
        integral = (k0 + u) * x - a * x * mean_decay(g, x) - b * x * mean_decay(h, x)
        at_end = (k0 + u) - a * np.exp(-g * x) - b * np.exp(-h * x)
        return integral, at_end

    def capacity(self, start: float, end: float) -> np.ndarray:
        return self.num(self.values.capacity_per_hour) * self._known_integral(end - start)

    def refused_share(self) -> float | np.ndarray:
        return self.world.remember(  # type: ignore[no-any-return]
            ("open_relays:refused", self.index), lambda: self.world.stage_share("relay", Where(self.name, ""))
        )

    def route(self, spammer: int, attempted: np.ndarray, start: float, busy: np.ndarray) -> Route:
        world = self.world
        where = Where(self.name, world.spammers[spammer].name)
        route = Route(attempted=attempted, delivered=attempted, arriving=attempted)
        remaining = world.block("relay", route, attempted, where)
        route.arriving = remaining
        if world.countermeasure("blacklists") is not None:
            listed_hours, _ = self._listed_integral(busy)
            known_hours = self._known_integral(busy)
            share = np.where(busy > 0, listed_hours / np.maximum(known_hours, 1e-300), self.listed)
            where.listed = np.clip(np.where(self.in_use | (attempted > 0), share, 0.0), 0.0, 1.0)
        route.delivered = world.block("mx", route, remaining, where)
        return route

    def evolve(self, start: float, end: float, used: np.ndarray) -> None:
        hours = end - start
        self.in_use |= used
        if self.world.countermeasure("blacklists") is not None:
            _, listed_end = self._listed_integral(hours)
            known_end = self.known + (self.count - self.known) * -np.expm1(-self._hazard_per_hour() * hours)
            share = np.clip(listed_end / np.maximum(known_end, 1e-300), 0.0, 1.0)
            self.listed = np.where(self.in_use, share, 0.0)
        # Each unknown relay is found independently: a binomial with the exact probability
        # over the interval, whatever its length.
        p_find = -np.expm1(-self._hazard_per_hour() * hours)
        found = binomial(self.rng("population"), (self.count - self.known).astype(np.int64), p_find)
        self.known = self.known + found

    def record(self, step: int) -> None:
        self.world.ledger.set_world("relays_known", step, self.known)
