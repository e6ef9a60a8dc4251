"""Countermeasures: one module each, registered in one list.

:data:`REGISTRY` lists every countermeasure class in the order in which the stages of a
route meet them (a blocked message is booked to the first that stopped it). The scenario
schema's ``countermeasures:`` section, the ledger's ``blocked_by``, ``compare`` and the
figures' names all come from it. To add one, write a module with a subclass of
:class:`Countermeasure` (its parameters, ``key``, ``labels``, ``stage`` and
:meth:`~Countermeasure.blocked_share`) and call :func:`register` — see the docs'
"Adding a countermeasure" and ``tests/test_registry.py``.
"""

from __future__ import annotations

from .antivirus import Antivirus
from .base import BLOCKING_STAGES, Countermeasure, Stage, Where
from .blacklists import Blacklists
from .op25b import Op25b
from .open_relay_prevention import OpenRelayPrevention
from .rate_limiting import RateLimiting
from .receiver_filtering import ReceiverFiltering
from .submission_auth import SubmissionAuth, SubmissionModes

REGISTRY: list[type[Countermeasure]] = [
    OpenRelayPrevention,
    Op25b,
    SubmissionAuth,
    RateLimiting,
    Blacklists,
    ReceiverFiltering,
    Antivirus,
]
"""Every countermeasure, in the order a message's route meets them."""


def _rebuild_schema() -> None:
    from ..scenario import schema

    schema.rebuild_countermeasures()


_rebuild_schema()


def by_key(key: str) -> type[Countermeasure]:
    """The registered countermeasure called ``key``."""
    for cm in REGISTRY:
        if cm.key == key:
            return cm
    raise KeyError(key)


def blocking_order() -> tuple[str, ...]:
    """Names of the countermeasures that stop messages, in the order they meet them."""
    return tuple(cm.key for cm in REGISTRY if cm.stage in BLOCKING_STAGES)


def register(countermeasure: type[Countermeasure], before: str | None = None) -> None:
    """Add a countermeasure (or replace one with the same key) and rebuild the scenario schema.

    Parameters
    ----------
    countermeasure
        The class; its ``key`` becomes a section under ``countermeasures:``.
    before
        Key of the countermeasure it precedes on the route (default: last).
    """
    REGISTRY[:] = [cm for cm in REGISTRY if cm.key != countermeasure.key]
    index = next((i for i, cm in enumerate(REGISTRY) if cm.key == before), len(REGISTRY))
    REGISTRY.insert(index, countermeasure)
    _rebuild_schema()


def unregister(key: str) -> None:
    """Remove a countermeasure added with :func:`register` and rebuild the scenario schema."""
    REGISTRY[:] = [cm for cm in REGISTRY if cm.key != key]
    _rebuild_schema()


__all__ = [
    "BLOCKING_STAGES",
    "REGISTRY",
    "Antivirus",
    "Blacklists",
    "Countermeasure",
    "Op25b",
    "OpenRelayPrevention",
    "RateLimiting",
    "ReceiverFiltering",
    "Stage",
    "SubmissionAuth",
    "SubmissionModes",
    "Where",
    "blocking_order",
    "by_key",
    "register",
    "unregister",
]
