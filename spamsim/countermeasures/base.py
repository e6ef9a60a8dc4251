"""What every countermeasure is: its scenario section, its names, where it acts, and how much.

A countermeasure is one module holding one subclass of :class:`Countermeasure`: the
pydantic model of its section under ``countermeasures:`` (its parameters, with units and
sources), its names in English and Japanese, the *stage* of a message's route at which it
acts, and — for stages that block — the share of messages it stops there
(:meth:`Countermeasure.blocked_share`). Registered in :data:`spamsim.countermeasures.REGISTRY`
(or with :func:`spamsim.countermeasures.register`), it appears in the scenario schema, in
the world's routes, in the ledger's ``blocked_by`` (in registry order), in ``compare`` and
Shapley, and in figures — nothing else needs editing (as Starsim registers interventions).

Stages (the engine calls them where a message meets them):

``relay``
    mail handed to an open relay;
``port25``
    a bot's direct mail leaving its network on port 25 (the share is *rerouted* to the
    network's submission server, not blocked);
``submission``
    a bot's mail at its network's submission server;
``account``
    mail sent with a stolen account through a legitimate server;
``mx``
    mail from the spammer's own infrastructure (own server, relays, bots sending directly)
    arriving at recipients' MX;
``filter``
    delivered mail at recipients' content filters (booked as ``filtered``);
``population``
    the bot population (cleanup), not the mail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from .cost import CountermeasureCost, DefaultCost, cost_field

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from ..model.world import World

Stage = Literal["relay", "port25", "submission", "account", "mx", "filter", "population"]
BLOCKING_STAGES = ("relay", "submission", "account", "mx")
"""Stages where a countermeasure stops messages (booked in ``blocked_by``)."""


@dataclass
class Where:
    """Where a batch of messages meets a stage: what a countermeasure may need to decide.

    Attributes
    ----------
    channel
        The channel's name (``own_server``, ``open_relays``, a botnet's name, ...).
    spammer
        The sending spammer's name.
    network
        Index of the sending bots' network (bots only; 0 otherwise).
    listed
        Share of the batch sent from addresses on abuse lists (``mx`` stage).
    channel_values
        The channel's drawn parameters (e.g. a botnet's ``stolen_credentials_share``).
    """

    channel: str
    spammer: str
    network: int = 0
    listed: Any = 0.0
    channel_values: Any = None


class Countermeasure(BaseModel):
    """Base of every countermeasure's scenario section (frozen, unknown keys refused)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, defer_build=True)

    key: ClassVar[str]
    """Its name under ``countermeasures:`` and in results."""
    labels: ClassVar[Mapping[str, str]]
    """Its name in figures, tables and the report: ``{"en": ..., "ja": ...}``. Built-in
    countermeasures take it from the catalogue (``both(N_("English name"))``, see
    :mod:`spamsim.i18n`); others may give both names directly."""
    stage: ClassVar[Stage]
    """Where it acts (see the module's docstring)."""
    series: ClassVar[tuple[str, str] | None] = None
    """(world series, dotted field) of an adoption share recorded at every step, if any."""

    default_cost: ClassVar[DefaultCost] = DefaultCost()
    """Its defenders' cost when the section gives no ``cost`` (JPY values with their source);
    a subclass with its own default also redeclares ``cost = cost_field(default_cost)`` so the
    JSON Schema describes it."""

    enabled: bool = Field(True, description="Switch this countermeasure off (for comparisons).")
    cost: CountermeasureCost | None = cost_field(DefaultCost())

    @classmethod
    def display_name(cls, lang: str) -> str:
        """Its name in ``lang`` (English when it has none in ``lang``)."""
        labels = getattr(cls, "labels", None) or {}
        return labels.get(lang) or labels.get("en") or cls.key.replace("_", " ")

    @classmethod
    def blocked_share(cls, values: Any, world: World, where: Where) -> float | np.ndarray:
        """Share of the messages at its stage that it stops (or reroutes, at ``port25``).

        Parameters
        ----------
        values
            Its section's drawn values (a per-replication draw where the scenario gives a
            distribution; schedules are evaluated with ``world.num``).
        world
            The world, for the time (``world.num``) and shared state (``world.networks``).
        where
            Where the messages are.
        """
        return 0.0
