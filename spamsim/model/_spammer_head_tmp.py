"""The spammer: sends its campaign over channels, adapts (or not), and may quit or be stopped.

A send is a batch that drains through its channels' capacity over time: it is split over
channels by the spammer's current mix and waits in a queue per channel; each interval
between events the world moves as much of it as the channel can carry. What has not left
when the send's sending window closes (``campaign.window_hours``; default: until the next
send) is booked ``unsent``. Older sends leave first.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from ..scenario.schema import Spammer as SpammerSpec

if TYPE_CHECKING:  # pragma: no cover
    from .world import World


@dataclass
class Send:
    """One send still draining: messages left per channel and replication, and its deadline."""

    closes: float
    left: np.ndarray  # [channel, rep], int64


class Spammer:
    """One spammer's campaign as SimPy processes, vectorised over replications.

    ``active`` is a mask over replications: a spammer who was convicted, quit or ran out of
    budget in one replication keeps running in the others, so state that diverges between
    replications is a mask, not a separate process. ``mix[c, r]`` is the share of volume
    the spammer sends through channel ``c`` in replication ``r``.
    """

    def __init__(self, world: World, index: int, spec: SpammerSpec):
        self.world = world
        self.index = index
        self.spec = spec
        self.name = spec.name
        size = world.size
        self.active = np.ones(size, dtype=bool)
        campaign = spec.campaign
        self.start_hours = campaign.start_day * 24.0
        self.end_hours = min((campaign.start_day + campaign.days) * 24.0, world.horizon_hours)
        window = campaign.window_hours
        self.window_hours = float(window) if window is not None else 24.0 / campaign.sends_per_day
        weights = np.array([spec.strategy.mix.get(c.name, 0.0) for c in world.channels], dtype=float)
        self.mix = np.repeat((weights / weights.sum())[:, None], size, axis=1)
        self.usable = weights > 0 if spec.strategy.kind == "fixed" else np.ones(len(weights), bool)
        self.queue: list[Send] = []
        self.best = np.full(size, -1)
        self.negative_days = np.zeros(size)
        self.quit_day = np.full(size, np.inf)
        n_channels = len(world.channels)
        # What the spammer saw since its last reassessment (its own books, not the ledger's
        # steps, so that what it learns does not depend on the ledger's resolution).
        self.seen = {k: np.zeros((n_channels, size)) for k in ("demand", "attempted", "unsent", "gain")}
        self.seen_overhead = np.zeros(size)
        self.net = np.zeros(size)
        """Net profit so far (money in minus money out), for the budget."""

    @property
    def values(self) -> Any:
        """This spammer's drawn parameter values (as of the latest scheduled event)."""
        return self.world.values.spammers[self.index]

    @property
    def messages_per_send(self) -> np.ndarray:
        return self.world.num(self.values.campaign.messages_per_send)

    # -- sending ---------------------------------------------------------------------------
    def send_times(self) -> Iterator[float]:
        """Times (hours) of the campaign's sends inside the horizon, in order."""
        campaign = self.spec.campaign
        interval = 24.0 / campaign.sends_per_day
        for k in range(campaign.n_sends):
            t = self.start_hours + k * interval
            if t >= self.world.horizon_hours:
                return
            yield t

    def run(self) -> Generator[simpy.Event, Any, None]:
        """SimPy process: each send queues a batch on its channels and opens its window."""
        world = self.world
        env = world.env
        for t in self.send_times():
            yield env.timeout(t - env.now)
            world.advance()
            volume = np.where(self.active, np.floor(self.messages_per_send), 0).astype(np.int64)
            step = world.step_of(env.now)
            send_cost = np.where(self.active, world.num(world.values.costs.per_send), 0.0)
            world.ledger.add_spammer("send_cost", step, self.index, send_cost)
            self.net -= send_cost
            if not world.channels:
                continue
            parts = self.split(volume)
            for c in range(len(world.channels)):
                world.ledger.add_flow("demand", step, self.index, c, parts[c])
            self.seen["demand"] += parts
            self.seen_overhead += send_cost
            send = Send(closes=env.now + self.window_hours, left=parts)
            self.queue.append(send)
            env.process(self._close(send))

    def _close(self, send: Send) -> Generator[simpy.Event, Any, None]:
        """SimPy process: the send's window closes; what is left of it is unsent."""
        env = self.world.env
        yield env.timeout(min(send.closes, self.world.horizon_hours) - env.now)
        self.world.advance()
        if send in self.queue:
            self.queue.remove(send)
            self._unsent(send.left)

    def _unsent(self, left: np.ndarray) -> None:
        step = self.world.step_of(self.world.env.now - 1e-9)
        for c in range(left.shape[0]):
            self.world.ledger.add_flow("unsent", step, self.index, c, left[c])
        self.seen["unsent"] += left

    def waiting(self) -> np.ndarray:
        """Messages queued per channel and replication, ``[channel, rep]``."""
        if not self.queue:
            return np.zeros((len(self.world.channels), self.world.size), dtype=np.int64)
        return np.sum([send.left for send in self.queue], axis=0)

    def take(self, channel: int, count: np.ndarray) -> None:
        """Remove ``count`` messages of ``channel`` from the queue, oldest send first."""
        for send in self.queue:
            moved = np.minimum(send.left[channel], count)
            send.left[channel] -= moved
            count = count - moved

    def stop(self, stopping: np.ndarray) -> None:
        """Stop the spammer in replications ``stopping``: what is still queued is unsent."""
        if not stopping.any():
            return
        self.active &= ~stopping
        for send in self.queue:
            dropped = np.where(stopping[None, :], send.left, 0)
            send.left -= dropped
            self._unsent(dropped)

    def split(self, volume: np.ndarray) -> np.ndarray:
        """Whole messages per channel (``[channel, rep]``) in proportion to ``mix``.

        The remainder of rounding down goes to the channel with the largest share, so the
        parts add up exactly to ``volume``.
        """
        parts = np.floor(volume[None, :] * self.mix).astype(np.int64)
        rest = volume - parts.sum(axis=0)
        parts[np.argmax(self.mix, axis=0), np.arange(volume.size)] += rest
        return parts

    def campaign_hours_in(self, start: float, end: float) -> float:
        """Hours of ``[start, end)`` that fall inside the campaign window."""
        return max(0.0, min(end, self.end_hours) - max(start, self.start_hours))

    # -- adapting -----------------------------------------------------------------------------
    def adapt(self) -> Generator[simpy.Event, Any, None]:
        """SimPy process of an adaptive spammer: reassess every ``reaction_days``.

        Margin per message in channel ``c`` over the last window is
        ``(revenue - message and channel costs) / attempted``. The spammer fills channels
        best-margin first, each up to the share of its volume the channel managed to carry
        (capacity), moves ``shift`` of its volume towards that allocation (keeping
        ``exploration`` on every channel), and quits once its expected
        daily profit — recent revenue minus costs, minus the expected fine per day — has been
        negative for ``quit_after_days``.
        """
        strategy = self.spec.strategy
        env = self.world.env
        window_hours = strategy.reaction_days * 24.0
        while env.now + window_hours <= self.end_hours + 1e-9:
            yield env.timeout(window_hours)
            self.world.advance()
            self._reassess(window_hours / 24.0)

    def _reassess(self, days: float) -> None:
        world = self.world
        seen = self.seen
        demand, attempted, unsent, gain = seen["demand"], seen["attempted"], seen["unsent"], seen["gain"]
        margin = np.where(attempted > 0, gain / np.maximum(attempted, 1), -np.inf)
        margin[~self.usable] = -np.inf
        observed = np.isfinite(margin).any(axis=0)
        best = np.argmax(margin, axis=0)
        # A channel that could not take all it was offered carries at most the share it did
        # take; fill channels best-first up to that share, the rest onto the best one.
        total = np.maximum(demand.sum(axis=0), 1)
        room = np.where(unsent > 0, attempted / total, np.inf)
        target = np.zeros_like(self.mix)
        remaining = np.ones(world.size)
        reps = np.arange(world.size)
        for rank_row in np.argsort(-margin, axis=0, kind="stable"):
            usable = np.isfinite(margin[rank_row, reps])
            take = np.where(usable, np.minimum(remaining, room[rank_row, reps]), 0.0)
            target[rank_row, reps] += take
            remaining -= take
        target[best, reps] += remaining
        shift = world.num(self.values.strategy.shift)
        new_mix = (1.0 - shift) * self.mix + shift * target
        floor = world.num(self.values.strategy.exploration) / max(self.usable.sum(), 1)
        new_mix = np.where(self.usable[:, None], np.maximum(new_mix, floor), 0.0)
        new_mix /= new_mix.sum(axis=0, keepdims=True)
        update = observed & self.active
        self.mix = np.where(update[None, :], new_mix, self.mix)
        switched = update & (self.best >= 0) & (best != self.best)
        self.best = np.where(update, best, self.best)
        step = world.step_of(world.env.now - 1e-9)
        world.ledger.add_spammer("switches", step, self.index, switched.astype(float))
        self._deterrence(gain.sum(axis=0), attempted.sum(axis=0) / days, days)
        for array in seen.values():
            array[:] = 0.0
        self.seen_overhead[:] = 0.0

    def _deterrence(self, gain: np.ndarray, daily_messages: np.ndarray, days: float) -> None:
        quit_after = self.spec.strategy.quit_after_days
        if quit_after is None:
            return
        world = self.world
        expected_fine = world.enforcement.expected_fine_per_day(self, daily_messages)
        expected_profit_per_day = (gain - self.seen_overhead) / days - expected_fine
        negative = expected_profit_per_day < 0
        self.negative_days = np.where(negative, self.negative_days + days, 0.0)
        quitting = self.active & (self.negative_days >= quit_after - 1e-9)
        if quitting.any():
            self.stop(quitting)
            self.quit_day = np.where(quitting, world.env.now / 24.0, self.quit_day)
            world.ledger.add_spammer("quits", world.step_of(world.env.now - 1e-9), self.index, quitting.astype(float))
