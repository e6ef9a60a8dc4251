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
from scipy import special

from ..scenario.schema import Spammer as SpammerSpec

if TYPE_CHECKING:  # pragma: no cover
    from .world import World

PLAUSIBLE_LEVEL = 0.9
"""Credible level of the upper bound on a channel's conversion that makes it plausibly profitable."""

QUANTILE_BAND = (1.2, 1.35)
"""Bounds on ``(q - a) / sqrt(a)`` for the Gamma(a) quantile ``q`` at :data:`PLAUSIBLE_LEVEL`, a >= 1/2."""

JEFFREYS_SALES = 0.5
"""Shape of Jeffreys' prior for a Poisson rate, Gamma(1/2, 0): the pseudo-sales added to the
pooled conversion and to a channel's own evidence where it is judged alone."""


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
        self._by_mix: tuple[Any, ...] | None = None
        """The mix and what splitting a send by it needs (see ``split``)."""
        self.best = np.full(size, -1)
        self.negative_days = np.zeros(size)
        self.quit_day = np.full(size, np.inf)
        n_channels = len(world.channels)
        # What the spammer saw since its last reassessment (its own books, not the ledger's
        # steps, so that what it learns does not depend on the ledger's resolution).
        self.seen = {k: np.zeros((n_channels, size)) for k in ("demand", "attempted", "unsent", "sales", "cost")}
        self.seen_overhead = np.zeros(size)
        # What it remembers of every window so far, fading with ``memory_days`` (see ``adapt``).
        self.evidence = {k: np.zeros((n_channels, size)) for k in ("attempted", "sales", "cost")}
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
            # A plain timeout with a callback, not a process per send: the same event at the
            # same time, without a generator and its start-up event.
            closing = env.timeout(min(send.closes, world.horizon_hours) - env.now)
            closing.callbacks.append(lambda _, send=send: self._close(send))

    def _close(self, send: Send) -> None:
        """The send's window closes: what is left of it is unsent."""
        self.world.advance()
        if send in self.queue:
            self.queue.remove(send)
            self._unsent(send.left)

    def _unsent(self, left: np.ndarray) -> None:
        if not np.count_nonzero(left):  # the usual case: the send has all gone out
            return
        step = self.world.step_before(self.world.env.now)
        for c in range(left.shape[0]):
            self.world.ledger.add_flow("unsent", step, self.index, c, left[c])
        self.seen["unsent"] += left

    def waiting(self) -> np.ndarray:
        """Messages queued per channel and replication, ``[channel, rep]``."""
        if not self.queue:
            return np.zeros((len(self.world.channels), self.world.size), dtype=np.int64)
        total = self.queue[0].left.copy()
        for send in self.queue[1:]:
            total += send.left
        return total

    def take(self, channel: int, count: np.ndarray) -> None:
        """Remove ``count`` messages of ``channel`` from the queue, oldest send first."""
        for send in self.queue:
            moved = np.minimum(send.left[channel], count)
            send.left[channel] -= moved
            count = count - moved

    def stop(self, stopping: np.ndarray) -> None:
        """Stop the spammer in replications ``stopping``: what is still queued is unsent."""
        if not np.count_nonzero(stopping):
            return
        self.active &= ~stopping
        for send in self.queue:
            dropped = np.where(stopping[None, :], send.left, 0)
            send.left -= dropped
            self._unsent(dropped)

    def split(self, volume: np.ndarray) -> np.ndarray:
        """Whole messages per channel (``[channel, rep]``) in proportion to ``mix``.

        An adaptive spammer's mix may add up to less than 1: the rest of ``volume`` is not
        sent at all (no demand, no cost). The remainder of rounding down goes to the channel
        with the largest share, so the parts add up exactly to ``volume`` times the mix's
        sum, rounded (exactly ``volume`` for a full mix).
        """
        mix = self.mix
        cached = self._by_mix
        if cached is None or cached[0] is not mix:  # the mix changes only when the spammer reassesses
            total = mix.sum(axis=0)
            full = total >= 1.0 - 1e-9
            largest = np.zeros(mix.shape, dtype=np.int64)  # 1 where the channel has the largest share
            largest[np.argmax(mix, axis=0), np.arange(mix.shape[1])] = 1
            cached = self._by_mix = (mix, bool(full.all()), full, np.minimum(total, 1.0), largest)
        _, all_full, full, share, largest = cached
        parts = np.floor(volume[None, :] * mix).astype(np.int64)
        sent = volume if all_full else np.where(full, volume, np.rint(volume * share).astype(np.int64))
        parts += largest * (sent - parts.sum(axis=0))
        return parts

    def campaign_hours_in(self, start: float, end: float) -> float:
        """Hours of ``[start, end)`` that fall inside the campaign window."""
        return max(0.0, min(end, self.end_hours) - max(start, self.start_hours))

    # -- adapting -----------------------------------------------------------------------------
    def adapt(self) -> Generator[simpy.Event, Any, None]:
        """SimPy process of an adaptive spammer: reassess every ``reaction_days``.

        **Evidence.** Per channel ``c`` the spammer keeps the messages it attempted
        (``N_c``), the sales they made (``S_c``) and what they cost (``K_c``: message and
        channel costs), each a sum over the windows so far weighted by
        ``exp(-age / memory_days)`` (``memory_days: null``: weight 1, never forget), so that it
        can follow a world that changes.

        **Conversion.** Sales in channel ``c`` are Poisson with mean ``theta_c`` per attempted
        message. The prior of ``theta_c`` is pooled across channels: Gamma with mean ``m``, the
        pooled conversion ``(S + 1/2) / N`` of all the spammer's channels (the posterior mean
        of a single rate under Jeffreys' prior, positive before the first sale), and shape
        ``prior_sales`` — worth that many sales — so rate ``prior_sales / m`` messages. The
        posterior is Gamma(``prior_sales + S_c``, ``prior_sales / m + N_c``): a channel with few
        sales stays near the pooled conversion, so a lucky sale or two do not move the spammer.

        **Margin.** The expected margin per message of channel ``c`` is
        ``E[theta_c] * profit_per_sale - K_c / N_c - fine``: the observed cost per attempted
        message, and the expected fine per message from the volume-dependent detection
        hazard, ``detection_per_million_messages / 1e6 * P(conviction | detection) * fine``
        (0 with enforcement off). The channel is *plausibly profitable* if the margin is
        positive at the upper 90 % credible bound of ``theta_c`` given the channel's own
        evidence alone — the posterior Gamma(``1/2 + S_c``, ``N_c``) under Jeffreys' prior — so
        that a channel is written off only on its own evidence: through the pooled prior, a
        channel carrying most of the volume at a poor conversion would otherwise write off
        every other channel before it had sent enough to show what it earns. A channel not
        tried yet (``N_c = 0``) has no expected margin and is plausibly profitable.

        **Allocation.** The target fills the channels whose expected margin is positive, best
        first, each up to the share of volume it carried in the last window if it left mail
        unsent (its capacity); the rest of the volume goes to the best of them, where it
        waits and goes unsent at no cost. The mix moves a share ``shift`` of the way towards
        the target, except that a channel whose expected margin is not positive loses its
        volume at once. Exploration: every plausibly profitable channel keeps at least
        ``exploration / n`` of the volume (``n``: the channels the spammer can use), whatever
        its expected margin, so that its margin stays observable; no other channel gets any.
        The mix may add up to less than 1: the rest of the volume is not sent.

        **Stopping.** When no channel is plausibly profitable the spammer quits (counted in
        ``quits``); with ``quit_after_days: null`` it instead sends nothing until, as its
        evidence fades, a channel is plausibly profitable again. It also quits once its
        expected daily profit — the expected margin of each channel times the messages it
        attempted there in the last window, minus the window's send and fixed costs, per day,
        minus the volume-independent expected fine per day (base hazard) — has been negative
        at every reassessment for ``quit_after_days`` days in a row (deterrence).
        """
        strategy = self.spec.strategy
        env = self.world.env
        window_hours = strategy.reaction_days * 24.0
        while env.now + window_hours <= self.end_hours + 1e-9:
            yield env.timeout(window_hours)
            self.world.advance()
            self._reassess(window_hours / 24.0)

    def _reassess(self, days: float) -> None:
        world, seen = self.world, self.seen
        strategy = self.values.strategy
        self._remember(days)
        margin, plausible = self._margins()
        positive = margin > 0
        shift = world.num(strategy.shift)
        new_mix = np.where(positive, (1.0 - shift) * self.mix + shift * self._target(margin), 0.0)
        floor = world.num(strategy.exploration) / max(int(self.usable.sum()), 1)
        new_mix = np.where(plausible, np.maximum(new_mix, floor), new_mix)
        new_mix /= np.maximum(new_mix.sum(axis=0, keepdims=True), 1.0)
        observed = (self.evidence["attempted"][self.usable] > 0).any(axis=0)
        update = observed & self.active
        self.mix = np.where(update[None, :], new_mix, self.mix)
        best = np.argmax(margin, axis=0)
        ranked = update & positive.any(axis=0)
        switched = ranked & (self.best >= 0) & (best != self.best)
        self.best = np.where(ranked, best, self.best)
        step = world.step_before(world.env.now)
        world.ledger.add_spammer("switches", step, self.index, switched.astype(float))
        if self.spec.strategy.quit_after_days is not None:
            self._quit(update & ~plausible.any(axis=0))
        self._deterrence(margin, days)
        for array in seen.values():
            array[:] = 0.0
        self.seen_overhead[:] = 0.0

    def _remember(self, days: float) -> None:
        """Fade the evidence by ``exp(-days / memory_days)`` and add the last window's."""
        memory = self.values.strategy.memory_days
        keep = np.exp(-days / memory) if memory is not None else 1.0
        for name, evidence in self.evidence.items():
            evidence *= keep
            evidence += self.seen[name]

    def _margins(self) -> tuple[np.ndarray, np.ndarray]:
        """Expected margin per message (``[channel, rep]``) and whether it is plausibly positive.

        The margin is ``-inf`` where the spammer cannot use a channel or has not tried it yet.
        Plausibly positive means :meth:`_upper_margins` is above zero (a usable channel not
        tried yet always is); that bound is computed only where its sign is in doubt.
        """
        usable, tried, attempted, sales, messages, cost, value = self._evidence()
        world = self.world
        total = attempted.sum(axis=0)
        pooled = np.where(total > 0, (sales.sum(axis=0) + JEFFREYS_SALES) / np.maximum(total, 1e-300), 1.0)
        prior_sales = world.num(self.values.strategy.prior_sales)
        shape = prior_sales + sales
        rate = prior_sales / pooled + attempted
        margin = np.where(tried, shape / rate * value - cost, -np.inf)
        # The bound is positive where the Gamma(a) quantile q at PLAUSIBLE_LEVEL exceeds
        # x = cost * messages / value. For every a >= 1/2, q lies in (a + 1.2 sqrt(a), a + 1.35 sqrt(a))
        # ((q - a) / sqrt(a) is 1.206 at a = 1/2, at most 1.341, and tends to z = 1.2816; tested), so
        # most entries are settled without gammaincinv, which costs microseconds per value.
        a = JEFFREYS_SALES + sales
        priced = tried & (value > 0)
        x = np.divide(cost * messages, value, out=np.full(a.shape, np.nan), where=priced)
        root = np.sqrt(a)
        sure, never = priced & (x < a + QUANTILE_BAND[0] * root), priced & (x > a + QUANTILE_BAND[1] * root)
        doubt = tried & ~sure & ~never
        plausible = usable & ~tried | sure
        if doubt.any():
            upper = self._upper_margins(doubt, (usable, tried, attempted, sales, messages, cost, value))
            plausible |= doubt & (upper > 0)
        return margin, plausible

    def _upper_margins(
        self, where: np.ndarray | None = None, evidence: tuple[np.ndarray, ...] | None = None
    ) -> np.ndarray:
        """Upper credible bound of the margin per message, ``[channel, rep]``.

        The channel's own sales rate at level :data:`PLAUSIBLE_LEVEL` under Jeffreys' prior,
        times the profit per sale, minus the cost per message: ``+inf`` for a usable channel
        not tried yet, ``-inf`` for one the spammer cannot use. Only entries ``where`` are
        computed (NaN elsewhere) when it is given; ``evidence`` is :meth:`_evidence`'s, if at hand.
        """
        usable, tried, _, sales, messages, cost, value = evidence or self._evidence()
        wanted = tried if where is None else tried & where
        # gammaincinv costs microseconds per value; sales repeat (whole numbers, zeros), so
        # evaluate it once per distinct value.
        distinct, at = np.unique(JEFFREYS_SALES + sales[wanted], return_inverse=True)
        own = np.full(sales.shape, np.nan)
        own[wanted] = special.gammaincinv(distinct, PLAUSIBLE_LEVEL)[at] / messages[wanted]
        upper = np.where(wanted, own * value - cost, np.nan)
        upper = np.where(usable & ~tried, np.inf, np.where(usable, upper, -np.inf))
        return upper if where is None else np.where(where, upper, np.nan)

    def _evidence(self) -> tuple[np.ndarray, ...]:
        """What the margins are judged on, ``[channel, rep]``: usable and tried channels,
        attempted messages and sales (zero where unusable), messages to divide by (1 where
        untried), cost per message (with the expected fine), and the profit per sale."""
        world = self.world
        usable = np.broadcast_to(self.usable[:, None], self.evidence["attempted"].shape)
        attempted = np.where(usable, self.evidence["attempted"], 0.0)
        sales = np.where(usable, self.evidence["sales"], 0.0)
        tried = usable & (attempted > 0)
        messages = np.where(tried, attempted, 1.0)  # untried channels: any value, the result is masked
        cost = np.where(tried, self.evidence["cost"] / messages, 0.0) + self._fine_per_message()
        value = np.broadcast_to(world.num(world.values.market.profit_per_sale), attempted.shape)
        return usable, tried, attempted, sales, messages, cost, value

    def _target(self, margin: np.ndarray) -> np.ndarray:
        """Share of volume per channel the spammer would like to send (see ``adapt``)."""
        seen, size = self.seen, self.world.size
        reps = np.arange(size)
        offered = seen["demand"].sum(axis=0)
        # The volume planned in the window: what was offered is the mix's share of it.
        planned = offered / np.maximum(self.mix.sum(axis=0), 1e-12)
        full = (seen["unsent"] > 0) & (offered > 0)
        room = np.where(full, seen["attempted"] / np.maximum(planned, 1e-300), np.inf)
        target = np.zeros_like(self.mix)
        remaining = np.ones(size)
        for row in np.argsort(-margin, axis=0, kind="stable"):
            take = np.where(margin[row, reps] > 0, np.minimum(remaining, room[row, reps]), 0.0)
            target[row, reps] += take
            remaining -= take
        best = np.argmax(margin, axis=0)
        target[best, reps] += np.where(margin[best, reps] > 0, remaining, 0.0)
        return target

    def _fine_per_message(self) -> float | np.ndarray:
        """Expected fine per attempted message from the volume-dependent detection hazard."""
        enforcement = self.world.enforcement
        if not enforcement.enabled:
            return 0.0
        hazard = self.world.num(enforcement.values.detection_per_million_messages) / 1e6
        return hazard * enforcement.conviction_factor(self) * enforcement.fine(self)

    def _deterrence(self, margin: np.ndarray, days: float) -> None:
        quit_after = self.spec.strategy.quit_after_days
        if quit_after is None:
            return
        world = self.world
        # The volume part of the expected fine is in each channel's margin; the base part is
        # due whatever the volume.
        attempted = self.seen["attempted"]
        earned = (np.where(attempted > 0, margin, 0.0) * attempted).sum(axis=0)
        base_fine = world.enforcement.expected_fine_per_day(self, np.zeros(world.size))
        expected_profit_per_day = (earned - self.seen_overhead) / days - base_fine
        negative = expected_profit_per_day < 0
        self.negative_days = np.where(negative, self.negative_days + days, 0.0)
        self._quit(self.negative_days >= quit_after - 1e-9)

    def _quit(self, quitting: np.ndarray) -> None:
        """The spammer quits in replications ``quitting`` (where still active)."""
        quitting = quitting & self.active
        if not quitting.any():
            return
        world = self.world
        self.stop(quitting)
        self.quit_day = np.where(quitting, world.env.now / 24.0, self.quit_day)
        world.ledger.add_spammer("quits", world.step_before(world.env.now), self.index, quitting.astype(float))
