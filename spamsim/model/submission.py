"""Organisations' submission servers: who gets to send mail through them.

Modes (``countermeasures.submission_auth.mode_share``; the rest of the servers are open):

* ``none`` — open to anyone inside: a bot passes.
* ``ip_restricted`` — trusts internal addresses: an internal bot passes.
* ``pop_before_smtp`` — admits an address for ``pop_window_minutes`` after a POP login. A
  bot's address is admitted while its user's window is open; with ``k`` hosts behind one
  NAT address, any of their logins opens it. With logins as a Poisson process of rate
  ``r`` per hour per host, the address is admitted a share
  ``1 - exp(-k * r * window_hours)`` of the time, and the bot's mail passes in that share.
* ``smtp_auth`` — needs the user's credentials: a bot without them is refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .sampling import binomial
from .values import as_array

if TYPE_CHECKING:  # pragma: no cover
    from .world import World

MODES = ("ip_restricted", "pop_before_smtp", "smtp_auth")


class SubmissionServers:
    """Decides how much of a bot's mail via its organisation's server is refused."""

    def __init__(self, world: World):
        self.world = world

    def shares(self) -> dict[str, np.ndarray]:
        """Share of servers per mode now (``none`` is the remainder)."""
        size = self.world.size
        if self.world.countermeasure("submission_auth") is None:
            return {"none": np.ones(size), **{m: np.zeros(size) for m in MODES}}
        shares = {m: as_array(self.world.share("submission_auth", f"mode_share.{m}"), size) for m in MODES}
        total = shares["ip_restricted"] + shares["pop_before_smtp"] + shares["smtp_auth"]
        scale = np.where(total > 1.0, 1.0 / np.maximum(total, 1e-300), 1.0)
        shares = {m: v * scale for m, v in shares.items()}
        shares["none"] = np.clip(1.0 - total * scale, 0.0, 1.0)
        return shares

    def pop_window_open(self) -> np.ndarray:
        """Share of time a bot's address is admitted by a POP-before-SMTP server."""
        botnet = self.world.values.channels.botnet
        spec = self.world.scenario.countermeasures.submission_auth
        window_hours = (spec.pop_window_minutes if spec is not None else 10.0) / 60.0
        rate = self.world.num(botnet.pop_logins_per_hour) * self.world.num(botnet.nat_hosts_per_address)
        return 1.0 - np.exp(-rate * window_hours)

    def refuse(self, rng: np.random.Generator, n: np.ndarray) -> np.ndarray:
        """How many of ``n`` bot messages via submission servers are refused."""
        shares = self.shares()
        # P(refused) = share(smtp_auth) + share(pop) * P(window closed); one binomial draw
        # gives exactly the distribution of per-message server choice and admission.
        p = shares["smtp_auth"] + shares["pop_before_smtp"] * (1.0 - self.pop_window_open())
        return binomial(rng, n, p, self.world.exact)
