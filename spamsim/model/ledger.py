"""The ledger: what happened, per step, spammer, channel and replication.

Actors write here and nowhere else. Blocked messages are kept per countermeasure that
blocked them, never summed early: attribution is the point of the toolkit.

Every array has the replication axis last, e.g. ``flows["sales"][step, spammer, channel, rep]``.
"""

from __future__ import annotations

import numpy as np

CHANNEL_METRICS = (
    "demand",
    "unsent",
    "attempted",
    "rerouted",
    "arriving",
    "delivered",
    "filtered",
    "inbox",
    "opened",
    "clicked",
    "sales",
    "revenue",
    "message_cost",
    "channel_cost",
)
"""Per-channel flows.

``rerouted`` is bots' direct mail that OP25B sent to their networks' submission servers
instead (neither blocked nor delivered by that). ``demand`` is what the spammer wanted to
send through the channel, ``unsent`` what the channel had no capacity for, and
``attempted = demand - unsent`` over the run. ``arriving`` reached the recipients' MX
(after sending-side countermeasures, before blacklists), ``delivered`` was accepted there,
and ``attempted = sum(blocked_by) + delivered`` holds exactly.
"""

MONEY_METRICS = ("revenue", "message_cost", "channel_cost")
"""Channel metrics that are money (float); every other channel metric counts messages."""

SPAMMER_METRICS = (
    "send_cost",
    "fixed_cost",
    "detections",
    "convictions",
    "fines",
    "active",
    "switches",
    "quits",
)
"""Per-spammer quantities that belong to no channel (``active`` is 1 while sending)."""

WORLD_METRICS = (
    "legit",
    "legit_lost",
    "bots",
    "hit_and_run_bots",
    "relays_known",
    "accounts",
    "relay_prevention",
    "op25b",
    "smtp_auth",
    "blacklists",
)
"""World state per step: legitimate mail, populations, and the adoption of countermeasures."""


def world_metrics() -> tuple[str, ...]:
    """:data:`WORLD_METRICS` and the adoption series of registered countermeasures."""
    from ..countermeasures import REGISTRY

    extra = tuple(cm.series[0] for cm in REGISTRY if cm.series is not None and cm.series[0] not in WORLD_METRICS)
    return WORLD_METRICS + extra


def blocking_order() -> tuple[str, ...]:
    """Order in which the countermeasures that stop messages see a batch (from the registry,
    :data:`spamsim.countermeasures.REGISTRY`); each blocked message is attributed to the first
    stage that stopped it."""
    from ..countermeasures import blocking_order as registered

    return registered()


class Ledger:
    """Dense arrays of flows and money for one block of replications.

    Parameters
    ----------
    n_steps, spammers, channels, size
        Shape of the record: steps, spammer names, channel names, replications.
    totals_only
        Keep one row for the whole run instead of one per step: flows and money are summed
        over the horizon as they arrive (the world's per-step states, populations and adoption,
        mean nothing in it). An
        exploration needs only each replication's totals; a ledger 1/``n_steps`` the size
        stays in the processor's caches instead of touching fresh memory at every step.
    """

    def __init__(self, n_steps: int, spammers: list[str], channels: list[str], size: int, totals_only: bool = False):
        self.n_steps = 1 if totals_only else n_steps
        self.spammers = spammers
        self.channels = channels
        self.size = size
        # Every step is row 0 of a totals-only ledger: step * 0.
        self._keep = 0 if totals_only else 1
        shape = (self.n_steps, len(spammers), len(channels), size)
        # Message counts are int64, exact up to 9.2e18 (the runner refuses more messages
        # than 2^62 per run); float64 would be exact only up to 9e15.
        self.flows = {m: np.zeros(shape, dtype=float if m in MONEY_METRICS else np.int64) for m in CHANNEL_METRICS}
        self.blocked_by: dict[str, np.ndarray] = {}
        self.spammer = {m: np.zeros((n_steps, len(spammers), size)) for m in SPAMMER_METRICS}
        self.world = {m: np.zeros((n_steps, size)) for m in world_metrics()}

    def add_flow(self, metric: str, step: int, spammer: int, channel: int, values: np.ndarray) -> None:
        """Add ``values`` (one per replication) to a channel flow."""
        self.flows[metric][step * self._keep, spammer, channel] += values

    def add_blocked(self, countermeasure: str, step: int, spammer: int, channel: int, values: np.ndarray) -> None:
        """Add messages that ``countermeasure`` stopped before delivery."""
        if countermeasure not in self.blocked_by:
            self.blocked_by[countermeasure] = np.zeros(self.flows["attempted"].shape, dtype=np.int64)
        self.blocked_by[countermeasure][step * self._keep, spammer, channel] += values

    def add_spammer(self, metric: str, step: int, spammer: int, values: np.ndarray) -> None:
        """Add ``values`` to a per-spammer quantity (costs, fines, convictions)."""
        self.spammer[metric][step * self._keep, spammer] += values

    def set_world(self, metric: str, step: int, values: np.ndarray | float) -> None:
        """Record the world's state ``metric`` at the end of ``step``."""
        self.world[metric][step * self._keep] = values

    def add_world(self, metric: str, step: int, values: np.ndarray | float) -> None:
        """Add ``values`` to a world flow of ``step`` (legitimate mail arrives in every interval)."""
        self.world[metric][step * self._keep] += values
