"""Replications, seeding and parallel execution."""

from .replications import BLOCK_SIZE, RefusedError, Replications, blocks, replicate
from .seeding import entropy_of, seed_sequence

__all__ = ["BLOCK_SIZE", "RefusedError", "Replications", "blocks", "entropy_of", "replicate", "seed_sequence"]
