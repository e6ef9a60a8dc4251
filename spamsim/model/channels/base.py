"""What every channel does: offer capacity over an interval, route mail, charge for it, evolve."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..sampling import binomial

if TYPE_CHECKING:  # pragma: no cover
    from ..world import World


@dataclass
class Route:
    """What happened to one spammer's mail in one channel over one interval.

    ``attempted = sum(blocked_by.values()) + delivered`` always holds.
    """

    attempted: np.ndarray
    delivered: np.ndarray
    arriving: np.ndarray
    """Messages that reached recipients' MX (before blacklists rejected any)."""
    blocked_by: dict[str, np.ndarray] = field(default_factory=dict)
    rerouted: np.ndarray | None = None
    """Bots' direct mail sent to the network's submission server instead (OP25B)."""

    def block(self, countermeasure: str, remaining: np.ndarray, blocked: np.ndarray) -> np.ndarray:
        """Book ``blocked`` against ``countermeasure`` and return what is left of ``remaining``."""
        if countermeasure in self.blocked_by:
            self.blocked_by[countermeasure] = self.blocked_by[countermeasure] + blocked
        else:
            self.blocked_by[countermeasure] = blocked
        return remaining - blocked


class Channel:
    """Base of all channels.

    For every interval between two events the world asks a channel for its ``capacity``
    over the interval (a closed form given its state at the interval's start), routes each
    spammer's share through it (``route``: which countermeasure stopped how many), charges
    the spammer (``cost``), then lets the channel ``evolve`` to the interval's end with draws
    that are exact for any interval length; at each step end it ``record``s its state.

    Parameters come from ``world.values`` at the time of the call (``values``), so a
    scheduled event or a piecewise-linear schedule changes them without the channel knowing.
    """

    name: str = "channel"
    per_spammer_capacity = False
    """True if ``capacity`` is each spammer's own (shape ``[spammer, rep]``), not a shared pool."""

    def __init__(self, world: World, index: int):
        self.world = world
        self.index = index
        self._stream_names: dict[tuple[str, str | None], str] = {}

    @property
    def spec(self) -> Any:
        """The channel's scenario section (as of the latest scheduled event)."""
        return getattr(self.world.scenario.channels, self.name)

    @property
    def values(self) -> Any:
        """The channel's drawn parameter values (as of the latest scheduled event)."""
        return getattr(self.world.values.channels, self.name)

    def num(self, value: Any) -> float | np.ndarray:
        """A parameter at the current time (see :meth:`World.num`)."""
        return self.world.num(value)

    # One stream per stage, channel and spammer (and the channel's population), so that a
    # switch changes only the draws of the stage it touches.
    def rng(self, stage: str, spammer: str | None = None) -> np.random.Generator:
        key = self._stream_names.get((stage, spammer))
        if key is None:  # built once: looked up every interval
            key = f"{stage}:{self.name}" + (f":{spammer}" if spammer is not None else "")
            self._stream_names[stage, spammer] = key
        return self.world.streams.generator(key, self.world.step)

    def binomial(self, rng: np.random.Generator, n: np.ndarray, p: Any) -> np.ndarray:
        return binomial(rng, n, p, self.world.exact)

    def capacity(self, start: float, end: float) -> np.ndarray:
        """Messages the channel can carry in ``[start, end)``: for all spammers together
        (``[rep]``), or per spammer (``[spammer, rep]``) when ``per_spammer_capacity``."""
        return np.full(self.world.size, np.inf)

    def allot(self, attempted: np.ndarray) -> None:
        """Learn what every spammer attempts through the channel in this interval (``[spammer, rep]``)
        before any of it is routed (a botnet spreads the total over its networks)."""

    def refused_share(self) -> float | np.ndarray:
        """Expected share of this interval's attempted mail refused on the sending side (never
        reaching a recipient's server): what the detection hazard leaves out by default."""
        return 0.0

    def route(self, spammer: int, attempted: np.ndarray, start: float, busy: np.ndarray) -> Route:
        """Route ``attempted`` messages sent over ``[start, start + busy]`` hours."""
        raise NotImplementedError

    def cost(self, spammer: int, attempted: np.ndarray, start: float, end: float) -> np.ndarray:
        """What using the channel for ``attempted`` messages in ``[start, end)`` costs the spammer."""
        return np.zeros(self.world.size)

    def evolve(self, start: float, end: float, used: np.ndarray) -> None:
        """Move the channel's state from ``start`` to ``end`` (``used``: mail went through it)."""

    def record(self, step: int) -> None:
        """Write the channel's state at the end of ``step`` to the ledger."""
