"""Recipients: filters, then how inbox messages turn into sales; legitimate mail too."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .sampling import binomial
from .values import Values, as_array

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

    def catch_rate(self, channel: str) -> float | np.ndarray:
        filtering = self.world.countermeasure("receiver_filtering")
        if filtering is None:
            return 0.0
        by_channel = filtering.catch_rate_by_channel
        return by_channel[channel] if channel in by_channel else filtering.catch_rate

    def receive(self, spammer: str, channel: str, delivered: np.ndarray, step: int) -> dict[str, np.ndarray]:
        """Counts at each recipient stage for messages accepted by recipients' servers."""
        rng = self.world.streams.generator(f"receivers:{spammer}:{channel}", step)
        exact = self.world.exact
        filtered = binomial(rng, delivered, self.catch_rate(channel), exact)
        inbox = delivered - filtered
        funnel = self.market.funnel
        if funnel is None:
            sales = binomial(rng, inbox, self.market.success_rate, exact)
            return {"filtered": filtered, "inbox": inbox, "sales": sales}
        opened = binomial(rng, inbox, funnel.open_rate, exact)
        clicked = binomial(rng, opened, funnel.click_rate, exact)
        sales = binomial(rng, clicked, funnel.purchase_rate, exact)
        return {"filtered": filtered, "inbox": inbox, "opened": opened, "clicked": clicked, "sales": sales}

    def legitimate(self, step: int) -> tuple[np.ndarray, np.ndarray]:
        """Legitimate messages in ``step`` and how many the filters wrongly caught."""
        size = self.world.size
        start, end = self.world.step_window(step)
        days = (end - start) / 24.0
        per_day = as_array(self.world.values.legitimate_mail.messages_per_day, size)
        volume = np.round(per_day * days).astype(np.int64)
        filtering = self.world.countermeasure("receiver_filtering")
        if filtering is None:
            return volume, np.zeros(size, dtype=np.int64)
        rng = self.world.streams.generator("receivers:legitimate", step)
        # Always batched: exact mode checks the spam pipeline, and legitimate volumes are huge.
        return volume, binomial(rng, volume, filtering.false_positive_rate)
