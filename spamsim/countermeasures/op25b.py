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

if TYPE_CHECKING:
    import numpy as np


class Op25b(Countermeasure):
    """Outbound Port 25 Blocking by ISPs for dynamic (consumer) addresses."""

    key: ClassVar[str] = "op25b"
    labels: ClassVar[Mapping[str, str]] = both(N_("OP25B"))
    stage: ClassVar[Stage] = "port25"
    series: ClassVar[tuple[str, str] | None] = ("op25b", "adoption")

    adoption: Schedule = Field(
        description="Share of bots' hosts whose network blocks outbound port 25 (a network may set its own)."
    )

    @classmethod
    def blocked_share(cls, values: Any, world: Any, where: Where) -> float | np.ndarray:
        return world.networks.op25b(where.network)  # type: ignore[no-any-return]
