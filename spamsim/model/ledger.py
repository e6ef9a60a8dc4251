"""The ledger: what happened, per step, spammer, channel and replication.

Actors write here and nowhere else. Blocked messages are kept per countermeasure that
blocked them, never summed early: attribution is the point of the toolkit.

Every array has the replication axis last, e.g. ``flows["sales"][step, spammer, channel, rep]``.
"""

from __future__ import annotations

import numpy as np

CHANNEL_METRICS = (
    "attempted",
    "delivered",
    "filtered",
    "inbox",
    "opened",
    "clicked",
    "sales",
    "revenue",
    "message_cost",
)
"""Per-channel flows: messages through each stage, plus the money they make and cost."""

SPAMMER_METRICS = ("send_cost", "fixed_cost", "detections", "convictions", "fines")
"""Per-spammer quantities that belong to no channel."""


class Ledger:
    """Dense arrays of flows and money for one block of replications.

    Parameters
    ----------
    n_steps, spammers, channels, size
        Shape of the record: steps, spammer names, channel names, replications.
    """

    def __init__(self, n_steps: int, spammers: list[str], channels: list[str], size: int):
        self.n_steps = n_steps
        self.spammers = spammers
        self.channels = channels
        self.size = size
        shape = (n_steps, len(spammers), len(channels), size)
        self.flows = {m: np.zeros(shape) for m in CHANNEL_METRICS}
        self.blocked_by: dict[str, np.ndarray] = {}
        self.spammer = {m: np.zeros((n_steps, len(spammers), size)) for m in SPAMMER_METRICS}

    def add_flow(self, metric: str, step: int, spammer: int, channel: int, values: np.ndarray) -> None:
        """Add ``values`` (one per replication) to a channel flow."""
        self.flows[metric][step, spammer, channel] += values

    def add_blocked(
        self, countermeasure: str, step: int, spammer: int, channel: int, values: np.ndarray
    ) -> None:
        """Add messages that ``countermeasure`` stopped before delivery."""
        if countermeasure not in self.blocked_by:
            self.blocked_by[countermeasure] = np.zeros(self.flows["attempted"].shape)
        self.blocked_by[countermeasure][step, spammer, channel] += values

    def add_spammer(self, metric: str, step: int, spammer: int, values: np.ndarray) -> None:
        """Add ``values`` to a per-spammer quantity (costs, fines, convictions)."""
        self.spammer[metric][step, spammer] += values

    def attempted_in_step(self, step: int, spammer: int) -> np.ndarray:
        """Messages a spammer attempted in ``step``, summed over channels."""
        return self.flows["attempted"][step, spammer].sum(axis=0)
