"""Enforcement: detection at a random time from the detection hazard, prosecution, reach, fines.

A spammer's detection hazard has a base part, which spreads ``caught_probability`` evenly
over the campaign's hours, and a part that grows with volume
(``detection_per_million_messages`` per million attempted messages). Detection happens
when the cumulative hazard crosses a threshold drawn once per replication from Exp(1) —
the exact way to sample the first event of an inhomogeneous Poisson process — so the
detection time falls inside an interval, at the fraction of the interval's hazard where
the threshold lies, never at a step end. A detected spammer is convicted with
``prosecution_probability`` and, if abroad, only with ``reach_abroad`` on top; a conviction
costs the fine for the spammer's legal form and, with ``on_conviction: stop``, ends the
campaign at that moment: only the mail sent before it counts. After a detection the
threshold is drawn afresh (a renewal), so ``on_conviction: continue`` can convict again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .spammer import Spammer
    from .world import World


class Enforcement:
    """Detection, conviction and fines of every spammer in one block of replications."""

    def __init__(self, world: World):
        self.world = world
        n, size = len(world.spammers), world.size
        self.untouched = np.ones(size)
        """What :meth:`detect` returns where no conviction stops the spammer (read-only: shared)."""
        self.untouched.flags.writeable = False
        self.hazard = np.zeros((n, size))
        self.threshold = (
            np.stack(
                [
                    world.streams.generator(f"enforcement:threshold:{s.name}").exponential(size=size)
                    for s in world.spammers
                ]
            )
            if n
            else np.zeros((0, size))
        )

    @property
    def values(self):  # type: ignore[no-untyped-def]
        return self.world.values.enforcement

    @property
    def enabled(self) -> bool:
        return bool(self.world.scenario.enforcement.enabled)

    @property
    def stop_on_conviction(self) -> bool:
        return self.world.scenario.enforcement.on_conviction == "stop"

    def watches(self, spammer: Spammer) -> bool:
        """Whether ``spammer`` can be detected now: enforcement is on and its hazard is above
        zero in some replication (where it is not, :meth:`detect` has nothing to do)."""
        if not self.enabled:
            return False
        values = self.values

        def hazard_above_zero() -> bool:
            volume = self.world.num(values.detection_per_million_messages)
            return bool(np.any(self.base_hazard_per_hour(spammer) > 0) or np.any(np.asarray(volume) > 0))

        return self.world.remember(("enforcement:watches", spammer.index), hazard_above_zero)  # type: ignore[no-any-return]

    def conviction_factor(self, spammer: Spammer) -> np.ndarray:
        """P(convicted | detected): prosecution, and reach if the spammer is abroad."""
        reach = 1.0 if spammer.spec.location == "domestic" else self.world.num(self.values.reach_abroad)
        return self.world.num(self.values.prosecution_probability) * reach

    def fine(self, spammer: Spammer) -> np.ndarray:
        """The fine for the spammer's legal form, per replication."""
        return self.world.num(getattr(self.values.fines, spammer.spec.legal_form))

    def base_hazard_per_hour(self, spammer: Spammer) -> np.ndarray:
        """Volume-independent detection hazard: ``caught_probability`` spread over the campaign."""
        return self.world.remember(  # type: ignore[no-any-return]
            ("base_hazard_per_hour", spammer.index), lambda: self._base_hazard_per_hour(spammer)
        )

    def _base_hazard_per_hour(self, spammer: Spammer) -> np.ndarray:
        campaign_hours = max(spammer.end_hours - spammer.start_hours, 1e-9)
        p_caught = np.clip(self.world.num(self.values.caught_probability), 0.0, 1.0 - 1e-12)
        return -np.log1p(-p_caught) / campaign_hours

    @staticmethod
    def _time_of(
        hazard: np.ndarray, base: np.ndarray, volume: np.ndarray, busy: np.ndarray, hours: float
    ) -> np.ndarray:
        """Hours after the interval's start at which the cumulative hazard reaches ``hazard``.

        The hazard accrues at ``base`` per hour, plus ``volume`` spread evenly over the first
        ``busy`` hours (all at once at the start where ``busy`` is 0): piecewise linear.
        """
        while_busy = base * busy + volume
        rate_busy = base + volume / np.maximum(busy, 1e-300)
        t = np.where(
            hazard <= while_busy,
            np.where(busy > 0, hazard / np.maximum(rate_busy, 1e-300), 0.0),
            busy + (hazard - while_busy) / np.maximum(base, 1e-300),
        )
        t = np.where(volume > 0, t, hazard / np.maximum(base, 1e-300))  # exactly, whatever the mail's timing
        return np.clip(t, 0.0, hours)

    def expected_fine_per_day(self, spammer: Spammer, daily_messages: np.ndarray | None = None) -> np.ndarray:
        """What a rational spammer expects to pay in fines per day at ``daily_messages``
        (default: its planned campaign volume)."""
        if not self.enabled:
            return np.zeros(self.world.size)
        if daily_messages is None:
            daily_messages = spammer.messages_per_send * spammer.spec.campaign.sends_per_day
        volume = self.world.num(self.values.detection_per_million_messages) * daily_messages / 1e6
        hazard = self.base_hazard_per_hour(spammer) * 24.0 + volume
        return hazard * self.conviction_factor(spammer) * self.fine(spammer)

    def detect(
        self, spammer: Spammer, attempted: np.ndarray, busy: np.ndarray, start: float, end: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """Decide detection and conviction over ``[start, end)``; book them and the fine.

        The hazard accrues at the base rate over the campaign's hours and, for the volume
        part, evenly over ``busy`` hours from the start, while the mail goes out (all at once
        where ``busy`` is 0). Detection is where the cumulative hazard meets the threshold.

        Parameters
        ----------
        attempted
            Messages the spammer attempted in the interval (all channels), per replication.
        busy
            Hours from the interval's start over which that mail went out.

        Returns
        -------
        mail, time
            Per replication, the share of the interval's mail sent, and of its time elapsed,
            before a conviction that stops the spammer (1 where it goes on).
        """
        world = self.world
        size, p = world.size, spammer.index
        ones = self.untouched
        if not self.enabled:
            return ones, ones
        hours = end - start
        base = self.base_hazard_per_hour(spammer) * spammer.campaign_hours_in(start, end) / hours  # per hour
        volume = world.num(self.values.detection_per_million_messages) * attempted / 1e6
        if np.count_nonzero(spammer.active) < size:  # a stopped spammer accrues no hazard
            base = np.where(spammer.active, base, 0.0)
            volume = np.where(spammer.active, volume, 0.0)
        before = self.hazard[p].copy()
        need = self.threshold[p] - before
        accrued = base * hours + volume
        detected = accrued >= need
        self.hazard[p] = before + accrued
        if not np.count_nonzero(detected):
            return ones, ones
        # A full array of draws per detecting interval, keyed by step, so a detection in one
        # replication does not move another's draws.
        step = world.step
        rng = world.streams.generator(f"enforcement:conviction:{spammer.name}", step)
        # After the first detection the hazard left in the interval brings further detections
        # as a Poisson process (a renewal with exponential thresholds); by memorylessness the
        # next threshold is a fresh Exp(1) from the interval's end.
        left = np.where(detected, np.maximum(accrued - need, 0.0), 0.0)
        detections = np.where(detected, 1 + rng.poisson(left), 0)
        q = np.broadcast_to(np.asarray(self.conviction_factor(spammer), dtype=float), (size,))
        at = need  # hazard (from the interval's start) of the detection that stops the spammer
        if self.stop_on_conviction:
            # The first convicting detection is the J-th, J ~ Geometric(q); it stops the
            # spammer if it happens in the interval (J <= detections). The detections after
            # the first are uniform on the hazard left, so the J-th sits at the (J-1)-th order
            # statistic of detections - 1 uniforms: a Beta(J-1, detections-J+1) share of it.
            first = rng.geometric(np.clip(q, 1e-300, 1.0))
            convictions = (detected & (q > 0) & (first <= detections)).astype(np.int64)
            later = np.maximum(first - 1, 0)
            # Of the interval's detections - 1 later ones (all of them, not only those before
            # the conviction), the convicting one is the (J-1)-th. One uniform per replication,
            # turned into that Beta quantile only where a later detection convicts: that is
            # rare, so the inverse's microseconds there cost less than a Beta draw everywhere.
            u = rng.random(size)
            placed = (convictions > 0) & (later > 0)
            share = np.zeros(size)
            if placed.any():
                from scipy.special import betaincinv

                share[placed] = betaincinv(later[placed], (detections - later)[placed], u[placed])
            detections = np.where(convictions > 0, first, detections)
            at = need + share * left
        else:
            convictions = rng.binomial(detections, q)
        t = self._time_of(at, base, volume, busy, hours)
        fresh = world.streams.generator(f"enforcement:threshold:{spammer.name}", step).exponential(size=size)
        self.hazard[p] = np.where(detected, 0.0, self.hazard[p])
        self.threshold[p] = np.where(detected, fresh, self.threshold[p])
        ledger = world.ledger
        ledger.add_spammer("detections", step, p, detections.astype(float))
        ledger.add_spammer("convictions", step, p, convictions.astype(float))
        fines = convictions * self.fine(spammer)
        ledger.add_spammer("fines", step, p, fines)
        spammer.net -= fines
        convicted = convictions > 0
        if not self.stop_on_conviction:
            return ones, ones
        stopped = convicted
        # Mail sent at one instant was all out before the detection it triggered.
        mail = np.where(stopped & (busy > 0), np.clip(t / np.maximum(busy, 1e-300), 0.0, 1.0), 1.0)
        return mail, np.where(stopped, t / hours, 1.0)
