"""The discrete-event world: actors as SimPy processes writing to a ledger."""

from .ledger import CHANNEL_METRICS, SPAMMER_METRICS, Ledger
from .streams import Streams, stable_key
from .world import World, simulate_block

__all__ = ["CHANNEL_METRICS", "SPAMMER_METRICS", "Ledger", "Streams", "World", "simulate_block", "stable_key"]
