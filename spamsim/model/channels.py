"""Channels: the routes a spammer's messages take to recipients' mail servers.

A channel receives a batch (messages per replication), decides how many are blocked and by
which countermeasure, and returns what reaches the recipients' servers.
"""

from __future__ import annotations

import numpy as np


class Channel:
    """Base of all channels: ``carry`` returns ``(blocked_by, delivered)``."""

    name: str = "channel"

    def carry(
        self, spammer: int, volume: np.ndarray, step: int
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        raise NotImplementedError


class OwnServer(Channel):
    """The spammer's own mail server sending straight to recipients' MX.

    Nothing on the sending side stops it; receivers may filter what arrives.
    """

    name = "own_server"

    def carry(
        self, spammer: int, volume: np.ndarray, step: int
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        return {}, volume
