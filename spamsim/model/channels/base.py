"""What every channel does: offer capacity, route a batch, charge for it, evolve."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..sampling import binomial

if TYPE_CHECKING:  # pragma: no cover
    from ..world import World


@dataclass
class Route:
    """What happened to one spammer's batch in one channel and step.

    ``attempted = sum(blocked_by.values()) + delivered`` always holds.
    """

    attempted: np.ndarray
    delivered: np.ndarray
    arriving: np.ndarray
    """Messages that reached recipients' MX (before blacklists rejected any)."""
    blocked_by: dict[str, np.ndarray] = field(default_factory=dict)

    def block(self, countermeasure: str, remaining: np.ndarray, blocked: np.ndarray) -> np.ndarray:
        """Book ``blocked`` against ``countermeasure`` and return what is left of ``remaining``."""
        if countermeasure in self.blocked_by:
            self.blocked_by[countermeasure] = self.blocked_by[countermeasure] + blocked
        else:
            self.blocked_by[countermeasure] = blocked
        return remaining - blocked


class Channel:
    """Base of all channels.

    A channel is built from its scenario section (``spec``) and the per-replication values
    drawn for it (``values``). Each step the world asks for its ``capacity``, routes each
    spammer's share through it (``route``), charges the spammer (``cost``), and finally
    lets it evolve (``end_step``: populations, listings).
    """

    name: str = "channel"

    def __init__(self, world: World, index: int, spec: Any, values: Any):
        self.world = world
        self.index = index
        self.spec = spec
        self.values = values

    # Streams: one per (channel, spammer) for routing, one per channel for its population.
    def rng(self, step: int, spammer: str | None = None) -> np.random.Generator:
        key = f"channel:{self.name}" + (f":{spammer}" if spammer is not None else ":population")
        return self.world.streams.generator(key, step)

    def binomial(self, rng: np.random.Generator, n: np.ndarray, p: Any) -> np.ndarray:
        return binomial(rng, n, p, self.world.exact)

    def blacklisted(
        self, route: Route, rng: np.random.Generator, remaining: np.ndarray, listed: Any, step: int
    ) -> np.ndarray:
        """Reject the share of ``remaining`` sent from listed addresses to receivers using DNSBLs."""
        blacklists = self.world.countermeasure("blacklists")
        if blacklists is None:
            return remaining
        p = np.asarray(listed) * self.world.share("blacklists", "adoption", step)
        return route.block("blacklists", remaining, self.binomial(rng, remaining, p))

    per_spammer_capacity = False
    """True if ``capacity`` is each spammer's own (shape ``[spammer, rep]``), not a shared pool."""

    def capacity(self, step: int) -> np.ndarray:
        """Messages the channel can carry in ``step``: for all spammers together (``[rep]``),
        or per spammer (``[spammer, rep]``) when ``per_spammer_capacity``."""
        return np.full(self.world.size, np.inf)

    def route(self, spammer: int, attempted: np.ndarray, step: int) -> Route:
        raise NotImplementedError

    def cost(self, spammer: int, attempted: np.ndarray, step: int) -> np.ndarray:
        """What using the channel for ``attempted`` messages in ``step`` costs the spammer."""
        return np.zeros(self.world.size)

    def end_step(self, step: int, attempted_total: np.ndarray) -> None:
        """Evolve the channel's state at the end of ``step`` (populations, listings)."""
