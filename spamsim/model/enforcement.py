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
        self.hazard = np.zeros((n, size))
        self.threshold = np.stack(
            [world.streams.generator(f"enforcement:threshold:{s.name}").exponential(size=size) for s in world.spammers]
        ) if n else np.zeros((0, size))

    @property
    def values(self):  # type: ignore[no-untyped-def]
        return self.world.values.enforcement

    @property
    def enabled(self) -> bool:
        return bool(self.world.scenario.enforcement.enabled)

    @property
    def stop_on_conviction(self) -> bool:
        return self.world.scenario.enforcement.on_conviction == "stop"

    def conviction_factor(self, spammer: Spammer) -> np.ndarray:
        """P(convicted | detected): prosecution, and reach if the spammer is abroad."""
        reach = 1.0 if spammer.spec.location == "domestic" else self.world.num(self.values.reach_abroad)
        return self.world.num(self.values.prosecution_probability) * reach

    def fine(self, spammer: Spammer) -> np.ndarray:
        """The fine for the spammer's legal form, per replication."""
        return self.world.num(getattr(self.values.fines, spammer.spec.legal_form))

    def base_hazard_per_hour(self, spammer: Spammer) -> np.ndarray:
        """Volume-independent detection hazard: ``caught_probability`` spread over the campaign."""
        campaign_hours = max(spammer.end_hours - spammer.start_hours, 1e-9)
        p_caught = np.clip(self.world.num(self.values.caught_probability), 0.0, 1.0 - 1e-12)
        return -np.log1p(-p_caught) / campaign_hours

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

    def detect(self, spammer: Spammer, attempted: np.ndarray, start: float, end: float) -> np.ndarray:
        """Decide detection and conviction over ``[start, end)``; book them and the fine.

        Parameters
        ----------
        attempted
            Messages the spammer attempted in the interval (all channels).

        Returns
        -------
        numpy.ndarray
            Per replication, the share of the interval's mail sent before a conviction that
            stops the spammer (1 where it goes on).
        """
        world = self.world
        size, p = world.size, spammer.index
        if not self.enabled:
            return np.ones(size)
        increment = self.base_hazard_per_hour(spammer) * spammer.campaign_hours_in(start, end)
        increment = increment + world.num(self.values.detection_per_million_messages) * attempted / 1e6
        increment = np.where(spammer.active, increment, 0.0)
        before = self.hazard[p]
        detected = before + increment >= self.threshold[p]
        share = np.where(detected, (self.threshold[p] - before) / np.maximum(increment, 1e-300), 1.0)
        self.hazard[p] = before + increment
        ledger, step = world.ledger, world.step
        if not detected.any():
            return np.ones(size)
        # A full array of draws per detecting interval, keyed by step, so a detection in one
        # replication does not move another's draws.
        u = world.streams.generator(f"enforcement:conviction:{spammer.name}", step).random(size)
        fresh = world.streams.generator(f"enforcement:threshold:{spammer.name}", step).exponential(size=size)
        convicted = detected & (u < self.conviction_factor(spammer))
        self.hazard[p] = np.where(detected, increment * (1.0 - share), before + increment)
        self.threshold[p] = np.where(detected, fresh, self.threshold[p])
        ledger.add_spammer("detections", step, p, detected.astype(float))
        ledger.add_spammer("convictions", step, p, convicted.astype(float))
        fines = np.where(convicted, self.fine(spammer), 0.0)
        ledger.add_spammer("fines", step, p, fines)
        spammer.net -= fines
        if not self.stop_on_conviction:
            return np.ones(size)
        return np.where(convicted, np.clip(share, 0.0, 1.0), 1.0)
