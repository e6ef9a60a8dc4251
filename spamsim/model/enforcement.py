"""Enforcement: detection, prosecution, reach abroad, fines — decided at each step's end."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .values import Values, as_array

if TYPE_CHECKING:  # pragma: no cover
    from .spammer import Spammer
    from .world import World


class Enforcement:
    """Detects spammers with a hazard that has a base part and a part growing with volume.

    In a step a spammer is detected with probability
    ``1 - (1 - base) * exp(-detection_per_million_messages * messages / 1e6)``, where
    ``base`` spreads ``caught_probability`` evenly over the campaign's hours. A detected
    spammer is convicted with ``prosecution_probability`` and, if abroad, only with
    ``reach_abroad`` on top; a conviction costs the fine for the spammer's legal form and,
    with ``on_conviction: stop``, ends the campaign.
    """

    def __init__(self, world: World, values: Values, stop_on_conviction: bool, enabled: bool = True):
        self.world = world
        self.values = values
        self.stop_on_conviction = stop_on_conviction
        self.enabled = enabled

    def conviction_factor(self, spammer: Spammer) -> np.ndarray:
        """P(convicted | detected): prosecution, and reach if the spammer is abroad."""
        size = self.world.size
        reach = 1.0 if spammer.spec.location == "domestic" else self.values.reach_abroad
        return as_array(self.values.prosecution_probability, size) * as_array(reach, size)

    def fine(self, spammer: Spammer) -> np.ndarray:
        """The fine for the spammer's legal form, per replication."""
        return as_array(getattr(self.values.fines, spammer.spec.legal_form), self.world.size)

    def expected_fine_per_day(self, spammer: Spammer, daily_messages: np.ndarray | None = None) -> np.ndarray:
        """What a rational spammer expects to pay in fines per day at ``daily_messages``
        (default: its planned campaign volume)."""
        size = self.world.size
        if not self.enabled:
            return np.zeros(size)
        campaign_days = max((spammer.end_hours - spammer.start_hours) / 24.0, 1e-9)
        p_caught = np.clip(as_array(self.values.caught_probability, size), 0.0, 1.0 - 1e-12)
        base_hazard = -np.log1p(-p_caught) / campaign_days
        if daily_messages is None:
            daily_messages = spammer.messages_per_send * spammer.spec.campaign.sends_per_day
        hazard = base_hazard + as_array(self.values.detection_per_million_messages, size) * daily_messages / 1e6
        return hazard * self.conviction_factor(spammer) * self.fine(spammer)

    def detection_probability(self, spammer: Spammer, step: int) -> np.ndarray:
        """P(detected in ``step``) per replication, for an active spammer."""
        start, end = self.world.step_window(step)
        share = spammer.campaign_hours_in(start, end) / max(spammer.end_hours - spammer.start_hours, 1e-12)
        base = 1.0 - (1.0 - as_array(self.values.caught_probability, self.world.size)) ** share
        messages = self.world.ledger.attempted_in_step(step, spammer.index)
        volume_hazard = as_array(self.values.detection_per_million_messages, self.world.size)
        return 1.0 - (1.0 - base) * np.exp(-volume_hazard * messages / 1e6)

    def end_of_step(self, spammer: Spammer, step: int) -> None:
        """Decide detection and conviction for ``spammer`` over ``step``; book the fine."""
        if not self.enabled:
            return
        size = self.world.size
        rng = self.world.streams.generator(f"enforcement:{spammer.name}", step)
        # Always three uniforms per replication, so the stream stays aligned across variants.
        u_detect, u_prosecute, u_reach = rng.random((3, size))
        detected = spammer.active & (u_detect < self.detection_probability(spammer, step))
        reach = 1.0 if spammer.spec.location == "domestic" else self.values.reach_abroad
        convicted = (
            detected
            & (u_prosecute < as_array(self.values.prosecution_probability, size))
            & (u_reach < as_array(reach, size))
        )
        fine = self.fine(spammer)
        ledger = self.world.ledger
        ledger.add_spammer("detections", step, spammer.index, detected.astype(float))
        ledger.add_spammer("convictions", step, spammer.index, convicted.astype(float))
        ledger.add_spammer("fines", step, spammer.index, np.where(convicted, fine, 0.0))
        if self.stop_on_conviction:
            spammer.active &= ~convicted
