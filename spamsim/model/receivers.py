"""Recipients: filters, then how inbox messages turn into sales; legitimate mail too."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..countermeasures import Where
from .sampling import binomial

if TYPE_CHECKING:  # pragma: no cover
    from .world import World


class Receivers:
    """The recipients of every spammer's mail.

    Each stage (filter, funnel) of each (channel, spammer) pair draws from its own stream,
    so changing the volume one spammer sends through one channel, or switching filtering
    on, leaves every other stage's draws as they were.
    """

    def __init__(self, world: World):
        self.world = world
        self._streams: dict[tuple[str, str], tuple[str, str]] = {}
        """The filter's and the funnel's stream names by channel and spammer (looked up every interval)."""

    def catch_rate(self, channel: str, spammer: str = "") -> float | np.ndarray:
        """Share of delivered mail that the content filters (the ``filter`` stage) catch."""
        return self.world.stage_share("filter", Where(channel, spammer))

    def receive(self, spammer: str, channel: str, delivered: np.ndarray) -> dict[str, np.ndarray]:
        """Counts at each recipient stage for messages accepted by recipients' servers."""
        world = self.world
        exact = world.exact
        names = self._streams.get((channel, spammer))
        if names is None:
            names = self._streams[channel, spammer] = (f"filter:{channel}:{spammer}", f"funnel:{channel}:{spammer}")
        filtered = binomial(
            world.streams.generator(names[0], world.step), delivered, self.catch_rate(channel, spammer), exact
        )
        inbox = delivered - filtered
        rng = world.streams.generator(names[1], world.step)
        market = world.values.market
        funnel = market.funnel
        if funnel is None:
            sales = binomial(rng, inbox, world.num(market.success_rate), exact)
            return {"filtered": filtered, "inbox": inbox, "sales": sales}
        opened = binomial(rng, inbox, world.num(funnel.open_rate), exact)
        through = funnel.click_rate if funnel.click_rate is not None else funnel.visit_rate
        clicked = binomial(rng, opened, world.num(through), exact)
        sales = binomial(rng, clicked, world.num(funnel.purchase_rate), exact)
        return {"filtered": filtered, "inbox": inbox, "opened": opened, "clicked": clicked, "sales": sales}

    def legitimate(self, start: float, end: float) -> tuple[np.ndarray, np.ndarray]:
        """Legitimate messages in ``[start, end)`` hours and how many the filters wrongly caught.

        Volume is the difference of the cumulative count at the two ends, so the whole
        horizon's total is the same however it is cut into intervals.
        """
        world = self.world
        per_hour = world.num(world.values.legitimate_mail.messages_per_day) / 24.0
        volume = (np.floor(per_hour * end) - np.floor(per_hour * start)).astype(np.int64)
        filtering = world.countermeasure("receiver_filtering")
        if filtering is None:
            return volume, np.zeros(world.size, dtype=np.int64)
        rng = world.streams.generator("filter:legitimate", world.step)
        # Always batched: exact mode checks the spam pipeline, and legitimate volumes are huge.
        return volume, binomial(rng, volume, world.num(filtering.false_positive_rate))
