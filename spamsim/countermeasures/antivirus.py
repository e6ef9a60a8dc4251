"""Antivirus cleanup of bots, blind to a new variant until its signature ships."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, ClassVar

from pydantic import Field

from ..i18n import N_, both
from ..scenario.params import Days, Rate
from .base import Countermeasure, Stage
from .cost import CountermeasureCost, DefaultCost, cost_field


class Antivirus(Countermeasure):
    """Antivirus cleanup of bots, blind to a new variant until its signature ships."""

    key: ClassVar[str] = "antivirus"
    labels: ClassVar[Mapping[str, str]] = both(N_("Antivirus"))
    stage: ClassVar[Stage] = "population"
    default_cost: ClassVar[DefaultCost] = DefaultCost(
        {"per_user": {"running_per_day": 10.0}},
        "illustrative: a consumer or corporate antivirus licence of about 3,650 JPY a year (10 JPY a day) per user",
    )

    cost: CountermeasureCost | None = cost_field(default_cost)

    cleanup_rate_per_day: Rate = Field(description="Probability per day that a detectable bot is cleaned up.")
    signature_lag_days: Days = Field(3.0, description="Days from a new variant's release until antivirus detects it.")
    new_variant_every_days: Annotated[Days, Field(ge=0.01)] | None = Field(
        None,
        description="Days between new bot variants (each restarts the signature lag). "
        "null: one variant, detectable from the start.",
    )
