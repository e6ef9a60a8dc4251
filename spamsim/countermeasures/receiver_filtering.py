"""Content filters at the recipients' side (and the legitimate mail they lose)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from ..i18n import N_, both
from ..scenario.params import Probability
from .base import Countermeasure, Stage, Where
from .cost import CountermeasureCost, DefaultCost, cost_field

if TYPE_CHECKING:
    import numpy as np


class ReceiverFiltering(Countermeasure):
    """Content filters at the recipients' side."""

    key: ClassVar[str] = "receiver_filtering"
    labels: ClassVar[Mapping[str, str]] = both(N_("Receiver filtering"))
    stage: ClassVar[Stage] = "filter"
    default_cost: ClassVar[DefaultCost] = DefaultCost(
        {"per_server": {"one_off": 100000.0}, "per_user": {"running_per_day": 1.0}},
        "illustrative: a filter installed per receiving server, and a filtering service of about 30 JPY per "
        "mailbox a month (about 1 JPY a day)",
    )

    cost: CountermeasureCost | None = cost_field(default_cost)

    catch_rate: Probability = Field(description="Share of delivered spam the filters catch.")
    catch_rate_by_channel: dict[str, Probability] = Field(
        default_factory=dict,
        description="Catch rate for particular channels (e.g. mail via legitimate servers "
        "is harder to catch), overriding `catch_rate`.",
    )
    false_positive_rate: Probability = Field(0.0, description="Share of legitimate mail wrongly filtered.")

    @classmethod
    def blocked_share(cls, values: Any, world: Any, where: Where) -> float | np.ndarray:
        by_channel = values.catch_rate_by_channel
        return world.num(by_channel[where.channel] if where.channel in by_channel else values.catch_rate)  # type: ignore[no-any-return]
