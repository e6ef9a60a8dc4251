"""Outbound Port 25 Blocking (OP25B) by ISPs for dynamic (consumer) addresses.

A blocked bot's direct mail is not lost: it is rerouted to its network's submission server,
where the submission mode decides (JEAG recommended OP25B together with the submission port
587 and SMTP AUTH, February 2006). OP25B and SMTP AUTH are complements.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from ..i18n import N_, both
from ..scenario.params import Schedule
from .base import Countermeasure, Stage, Where
from .cost import CountermeasureCost, DefaultCost, cost_field

if TYPE_CHECKING:
    import numpy as np


class Op25b(Countermeasure):
    """Outbound Port 25 Blocking by ISPs for dynamic (consumer) addresses."""

    key: ClassVar[str] = "op25b"
    labels: ClassVar[Mapping[str, str]] = both(N_("OP25B"))
    stage: ClassVar[Stage] = "port25"
    series: ClassVar[tuple[str, str] | None] = ("op25b", "adoption")
    default_cost: ClassVar[DefaultCost] = DefaultCost(
        {"per_user": {"one_off": 50.0}, "friction_minutes_per_user": 0.5},
        "illustrative: ISPs' network configuration and helpdesk spread over their users (about 50 JPY a user), "
        "and about 15 minutes for the few per cent of users who sent through outside servers on port 25 and must "
        "move to the submission port 587 (JEAG's recommendation of February 2006 pairs OP25B with port 587 "
        "and SMTP AUTH), i.e. about 0.5 minute averaged over all users",
    )

    cost: CountermeasureCost | None = cost_field(default_cost)

    adoption: Schedule = Field(
        description="Share of bots' hosts whose network blocks outbound port 25 (a network may set its own)."
    )

    @classmethod
    def blocked_share(cls, values: Any, world: Any, where: Where) -> float | np.ndarray:
        return world.networks.op25b(where.network)  # type: ignore[no-any-return]
