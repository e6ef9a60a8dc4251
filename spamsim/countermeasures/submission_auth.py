"""Sender authentication at organisations' submission servers (POP-before-SMTP, SMTP AUTH)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import Field

from ..i18n import N_, both
from ..scenario.schema import SubmissionModes
from .base import Countermeasure, Stage, Where

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

    mode_share: SubmissionModes = Field(description="Share of servers by admission mode.")
    pop_window_minutes: float = Field(
        10.0, gt=0, le=1440, description="Minutes an address stays admitted after a POP login."
    )

    @classmethod
    def blocked_share(cls, values: Any, world: Any, where: Where) -> float | np.ndarray:
        return world.networks.refused(where.network, where.channel_values)  # type: ignore[no-any-return]
