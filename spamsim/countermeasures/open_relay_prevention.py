"""Open relay prevention: relays that relay only for their own networks (RFC 2505, 1999)."""

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


class OpenRelayPrevention(Countermeasure):
    """Relays that relay only for their own networks (RFC 2505, 1999)."""

    key: ClassVar[str] = "open_relay_prevention"
    labels: ClassVar[Mapping[str, str]] = both(N_("Open relay prevention"))
    stage: ClassVar[Stage] = "relay"
    series: ClassVar[tuple[str, str] | None] = ("relay_prevention", "adoption")
    default_cost: ClassVar[DefaultCost] = DefaultCost(
        {"per_server": {"one_off": 20000.0}},
        "illustrative: about 4 staff-hours per server at about 5,000 JPY an hour to restrict relaying to the "
        "organisation's own networks (a configuration change; no new software, no change for users)",
    )

    cost: CountermeasureCost | None = cost_field(default_cost)

    adoption: Schedule = Field(
        description="Share of relays closed to outsiders: a number, or {year_or_day: share} interpolated linearly."
    )

    @classmethod
    def blocked_share(cls, values: Any, world: Any, where: Where) -> float | np.ndarray:
        return world.num(values.adoption)  # type: ignore[no-any-return]
