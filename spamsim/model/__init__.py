"""The discrete-event world: actors as SimPy processes writing to a ledger.

Names are imported on first use (:mod:`spamsim._lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

_NAMES = {
    "CHANNEL_METRICS": ".ledger",
    "SPAMMER_METRICS": ".ledger",
    "Ledger": ".ledger",
    "Streams": ".streams",
    "stable_key": ".streams",
    "World": ".world",
    "simulate_block": ".world",
}
"""Each public name and the module that defines it."""

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .ledger import CHANNEL_METRICS, SPAMMER_METRICS, Ledger
    from .streams import Streams, stable_key
    from .world import World, simulate_block

__getattr__, __dir__ = lazy_names(__name__, globals(), _NAMES)

__all__ = [
    "CHANNEL_METRICS",
    "SPAMMER_METRICS",
    "Ledger",
    "Streams",
    "World",
    "simulate_block",
    "stable_key",
]
