"""Recipients: how delivered messages turn into sales (one success rate or open/click/buy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .sampling import binomial
from .values import Values

if TYPE_CHECKING:  # pragma: no cover
    from .world import World


class Receivers:
    """The recipients of every spammer's mail.

    Each (spammer, channel) pair draws from its own stream, so changing the volume one
    spammer sends through one channel leaves every other pair's draws as they were.
    """

    def __init__(self, world: World, market: Values):
        self.world = world
        self.market = market

    def receive(
        self, spammer: str, channel: str, delivered: np.ndarray, step: int
    ) -> dict[str, np.ndarray]:
        """Counts at each recipient stage for messages that reached the recipients' servers."""
        rng = self.world.streams.generator(f"receivers:{spammer}:{channel}", step)
        exact = self.world.exact
        filtered = np.zeros_like(delivered)
        inbox = delivered - filtered
        funnel = self.market.funnel
        if funnel is None:
            sales = binomial(rng, inbox, self.market.success_rate, exact)
            return {"filtered": filtered, "inbox": inbox, "sales": sales}
        opened = binomial(rng, inbox, funnel.open_rate, exact)
        clicked = binomial(rng, opened, funnel.click_rate, exact)
        sales = binomial(rng, clicked, funnel.purchase_rate, exact)
        return {
            "filtered": filtered,
            "inbox": inbox,
            "opened": opened,
            "clicked": clicked,
            "sales": sales,
        }
