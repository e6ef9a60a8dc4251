"""Sender authentication at organisations' submission servers (POP-before-SMTP, SMTP AUTH)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from ..i18n import N_, both
from ..scenario.schema import SubmissionModes
from .base import Countermeasure, Stage, Where
from .cost import CountermeasureCost, DefaultCost, cost_field

if TYPE_CHECKING:
    import numpy as np


class SubmissionAuth(Countermeasure):
    """Sender authentication at organisations' submission servers.

    The rest of the servers (1 - the shares given) are open: no authentication at all. A
    network may set its own shares (``networks[].submission``); see
    :mod:`spamsim.model.networks` for how each mode admits a bot's mail.
    """

    key: ClassVar[str] = "submission_auth"
    labels: ClassVar[Mapping[str, str]] = both(N_("Submission auth"))
    stage: ClassVar[Stage] = "submission"
    series: ClassVar[tuple[str, str] | None] = ("smtp_auth", "mode_share.smtp_auth")
    default_cost: ClassVar[DefaultCost] = DefaultCost(
        {
            "per_server": {"one_off": 200000.0, "running_per_day": 100.0},
            "per_user": {"one_off": 200.0},
            "migration_days": 365.0,
            "migration_running_per_server_day": 1000.0,
            "friction_minutes_per_user": 15.0,
        },
        "illustrative amounts; the shape follows the lecture: SMTP AUTH was specified around 2000 (RFC 2554, "
        "1999; RFC 4954, 2007) but deployed widely only after 2008 because servers (about 40 staff-hours each, "
        "with TLS certificates), every user's mail client (about 15 minutes a user, plus helpdesk) and TLS had to "
        "change, and old and new submission services ran side by side during the migration (about a year)",
    )

    cost: CountermeasureCost | None = cost_field(default_cost)

    mode_share: SubmissionModes = Field(description="Share of servers by admission mode.")
    pop_window_minutes: float = Field(
        10.0, gt=0, le=1440, description="Minutes an address stays admitted after a POP login."
    )

    @classmethod
    def blocked_share(cls, values: Any, world: Any, where: Where) -> float | np.ndarray:
        return world.networks.refused(where.network, where.channel_values)  # type: ignore[no-any-return]
