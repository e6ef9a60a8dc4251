"""DNS blacklists consulted by receivers: abuse listings after a delay, and policy lists of
dynamic addresses (e.g. Spamhaus PBL)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from ..i18n import N_, both
from ..scenario.params import Hours, Probability, Schedule
from .base import Countermeasure, Stage, Where
from .cost import CountermeasureCost, DefaultCost, cost_field

if TYPE_CHECKING:
    import numpy as np


class Blacklists(Countermeasure):
    """DNS blacklists consulted by receivers."""

    key: ClassVar[str] = "blacklists"
    labels: ClassVar[Mapping[str, str]] = both(N_("Blacklists"))
    stage: ClassVar[Stage] = "mx"
    series: ClassVar[tuple[str, str] | None] = ("blacklists", "adoption")
    default_cost: ClassVar[DefaultCost] = DefaultCost(
        {"per_server": {"one_off": 10000.0, "running_per_day": 100.0}},
        "illustrative: configuring DNS blocklist look-ups, and a data-feed subscription and look-up traffic "
        "per receiving server (free for small volumes, paid for large ones)",
    )

    cost: CountermeasureCost | None = cost_field(default_cost)

    adoption: Schedule = Field(0.8, description="Share of receivers that reject mail from listed addresses.")
    listing_delay_hours: Hours = Field(
        6.0, description="Mean hours from an address's first message until it is listed (exponential)."
    )
    dynamic_ip_listed_share: Probability = Field(
        0.5,
        description="Share of bots' dynamic addresses on policy lists (e.g. Spamhaus PBL), "
        "which hit bots sending directly to MX.",
    )

    @classmethod
    def blocked_share(cls, values: Any, world: Any, where: Where) -> float | np.ndarray:
        import numpy as np

        return np.asarray(where.listed) * world.num(values.adoption)  # type: ignore[no-any-return]
