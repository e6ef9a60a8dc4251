"""Per-account rate limits at submission servers: the part of a stolen account's pace above the limit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from ..i18n import N_, both
from ..scenario.params import Rate
from .base import Countermeasure, Stage, Where
from .cost import CountermeasureCost, DefaultCost, cost_field

if TYPE_CHECKING:
    import numpy as np


class RateLimiting(Countermeasure):
    """Per-account rate limits at submission servers."""

    key: ClassVar[str] = "rate_limiting"
    labels: ClassVar[Mapping[str, str]] = both(N_("Rate limiting"))
    stage: ClassVar[Stage] = "account"
    default_cost: ClassVar[DefaultCost] = DefaultCost(
        {"per_server": {"one_off": 40000.0, "running_per_day": 50.0}},
        "illustrative: about 8 staff-hours per server to configure per-account limits, and their monitoring",
    )

    cost: CountermeasureCost | None = cost_field(default_cost)

    messages_per_account_hour: Rate = Field(description="Most messages an authenticated account may send per hour.")

    @classmethod
    def blocked_share(cls, values: Any, world: Any, where: Where) -> float | np.ndarray:
        pace = world.num(where.channel_values.sends_per_account_hour)
        import numpy as np

        return np.clip(1.0 - world.num(values.messages_per_account_hour) / np.maximum(pace, 1e-300), 0.0, 1.0)
