"""Replications, seeding and parallel execution.

Names are imported on first use (:mod:`spamsim._lazy`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._lazy import lazy_names

_NAMES = {
    "BLOCK_SIZE": ".replications",
    "RefusedError": ".replications",
    "Replications": ".replications",
    "blocks": ".replications",
    "replicate": ".replications",
    "entropy_of": ".seeding",
    "seed_sequence": ".seeding",
}
"""Each public name and the module that defines it."""

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .replications import BLOCK_SIZE, RefusedError, Replications, blocks, replicate
    from .seeding import entropy_of, seed_sequence

__getattr__, __dir__ = lazy_names(__name__, globals(), _NAMES)

__all__ = [
    "BLOCK_SIZE",
    "RefusedError",
    "Replications",
    "blocks",
    "entropy_of",
    "replicate",
    "seed_sequence",
]
