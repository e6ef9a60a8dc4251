"""The spammer: sends its campaign over channels, adapts (or not), and may quit or be stopped."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

from ..scenario.schema import Spammer as SpammerSpec
from .values import Values, as_array

if TYPE_CHECKING:  # pragma: no cover
    from .world import World


class Spammer:
    """One spammer's campaign as SimPy processes, vectorised over replications.

    ``active`` is a mask over replications: a spammer who was convicted, quit or ran out of
    budget in one replication keeps running in the others, so state that diverges between
    replications is a mask, not a separate process. ``mix[c, r]`` is the share of volume
    the spammer sends through channel ``c`` in replication ``r``.
    """

    def __init__(self, world: World, index: int, spec: SpammerSpec, values: Values):
        self.world = world
        self.index = index
        self.spec = spec
        self.values = values
        self.name = spec.name
        size = world.size
        self.messages_per_send = as_array(values.campaign.messages_per_send, size)
        self.active = np.ones(size, dtype=bool)
        self.outbox = np.zeros(size, dtype=np.int64)
        self.sends = np.zeros(size)
        campaign = spec.campaign
        self.start_hours = campaign.start_day * 24.0
        self.end_hours = min((campaign.start_day + campaign.days) * 24.0, world.horizon_hours)
        weights = np.array([spec.strategy.mix.get(c.name, 0.0) for c in world.channels], dtype=float)
        self.mix = np.repeat((weights / weights.sum())[:, None], size, axis=1)
        self.usable = weights > 0 if spec.strategy.kind == "fixed" else np.ones(len(weights), bool)
        self.best = np.full(size, -1)
        self.negative_days = np.zeros(size)
        self.quit_day = np.full(size, np.inf)

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
        """SimPy process: each send puts a batch into the outbox the world empties per step."""
        env = self.world.env
        for t in self.send_times():
            yield env.timeout(t - env.now)
            self.outbox += np.where(self.active, self.messages_per_send, 0.0).astype(np.int64)
            self.sends += self.active

    def take_outbox(self) -> tuple[np.ndarray, np.ndarray]:
        """Messages and sends queued since the last step end (and empty the outbox)."""
        volume, sends = self.outbox, self.sends
        self.outbox = np.zeros(self.world.size, dtype=np.int64)
        self.sends = np.zeros(self.world.size)
        return volume, sends

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
            self._reassess(env.now - window_hours, env.now)

    def _reassess(self, start: float, end: float) -> None:
        world = self.world
        first, last = world.step_of(start), world.step_of(end - 1e-9)
        flows = world.ledger.flows
        window = slice(first, last + 1)
        demand = flows["demand"][window, self.index].sum(axis=0)  # [channel, rep]
        attempted = flows["attempted"][window, self.index].sum(axis=0)
        unsent = flows["unsent"][window, self.index].sum(axis=0)
        gain = (
            flows["revenue"][window, self.index]
            - flows["message_cost"][window, self.index]
            - flows["channel_cost"][window, self.index]
        ).sum(axis=0)
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
        shift = as_array(self.values.strategy.shift, world.size)
        new_mix = (1.0 - shift) * self.mix + shift * target
        floor = as_array(self.values.strategy.exploration, world.size) / max(self.usable.sum(), 1)
        new_mix = np.where(self.usable[:, None], np.maximum(new_mix, floor), 0.0)
        new_mix /= new_mix.sum(axis=0, keepdims=True)
        update = observed & self.active
        self.mix = np.where(update[None, :], new_mix, self.mix)
        switched = update & (self.best >= 0) & (best != self.best)
        self.best = np.where(update, best, self.best)
        step = world.step_of(end - 1e-9)
        world.ledger.add_spammer("switches", step, self.index, switched.astype(float))
        days = (end - start) / 24.0
        self._deterrence(window, gain.sum(axis=0), attempted.sum(axis=0) / days, days, step)

    def _deterrence(self, window: slice, gain: np.ndarray, daily_messages: np.ndarray, days: float, step: int) -> None:
        quit_after = self.spec.strategy.quit_after_days
        if quit_after is None:
            return
        ledger = self.world.ledger
        fixed = (
            ledger.spammer["fixed_cost"][window, self.index] + ledger.spammer["send_cost"][window, self.index]
        ).sum(axis=0)
        expected_fine = self.world.enforcement.expected_fine_per_day(self, daily_messages)
        expected_profit_per_day = (gain - fixed) / days - expected_fine
        negative = expected_profit_per_day < 0
        self.negative_days = np.where(negative, self.negative_days + days, 0.0)
        quitting = self.active & (self.negative_days >= quit_after - 1e-9)
        if quitting.any():
            self.active &= ~quitting
            self.quit_day = np.where(quitting, self.world.env.now / 24.0, self.quit_day)
            ledger.add_spammer("quits", step, self.index, quitting.astype(float))
