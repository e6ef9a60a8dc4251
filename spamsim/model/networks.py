"""Networks and their policies: where bots sit and the rules their mail leaves by.

A network (an ISP, a region, a university's LAN) has its own adoption of outbound port 25
blocking (OP25B), its submission servers' admission modes, its antivirus and the share of its
dynamic addresses on receivers' policy lists. Each policy a network leaves out follows the
scenario-wide countermeasure; a countermeasure switched off (``enabled: false``, as
``spamsim compare`` does) is off in every network. Without ``networks`` the world is one
network, ``internet``, with the scenario-wide policies.

Submission servers (a network's share of servers per mode; the rest are open):

* ``none`` — open to anyone inside: a bot passes.
* ``ip_restricted`` — trusts internal addresses: an internal bot passes.
* ``pop_before_smtp`` — admits an address for ``pop_window_minutes`` after a POP login. A
  bot's address is admitted while its user's window is open; with ``k`` hosts behind one
  NAT address, any of their logins opens it. With logins a Poisson process of rate ``r`` per
  hour per host, the address is admitted a share ``1 - exp(-k r w)`` of the time (``w`` the
  window in hours), and the bot's mail passes in that share.
* ``smtp_auth`` — needs the user's credentials: refused unless the bot stole them
  (``stolen_credentials_share`` of the botnet's bots).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .world import World

MODES = ("ip_restricted", "pop_before_smtp", "smtp_auth")
DEFAULT_NETWORK = "internet"


class Networks:
    """The world's networks; every policy is evaluated now (schedules and events included)."""

    def __init__(self, world: World):
        self.world = world
        specs = world.scenario.networks
        self.names = [n.name for n in specs] or [DEFAULT_NETWORK]
        drawn = getattr(world.values, "networks", None) or []
        hosts = np.array([float(np.mean(world.array(n.hosts))) for n in drawn] or [1.0])
        self.host_share = hosts / hosts.sum()
        """Each network's share of all hosts (spreads botnets that do not say where they are)."""

    def _memo(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """``compute()``, a function of the parameters alone, remembered as :meth:`World.remember` allows."""
        return self.world.remember(key, compute)

    def _override(self, index: int, field: str) -> Any:
        networks = getattr(self.world.values, "networks", None)
        if not networks:
            return None
        return getattr(networks[index], field)

    def _policy(self, index: int, countermeasure: str, own_field: str, field: str) -> float | np.ndarray:
        """The network's own value of a policy, else the scenario-wide one; 0 while the
        countermeasure is off."""
        values = self.world.countermeasure(countermeasure)
        if values is None:
            return 0.0
        own = self._override(index, own_field)
        return self.world.num(own if own is not None else getattr(values, field))

    def op25b(self, index: int) -> float | np.ndarray:
        """Share of the network's hosts whose outbound port 25 is blocked."""
        return self._memo(("op25b", index), lambda: self._policy(index, "op25b", "op25b", "adoption"))

    def modes(self, index: int) -> dict[str, float | np.ndarray]:
        """Share of the network's submission servers per admission mode (``none`` is the rest)."""
        return self._memo(("modes", index), lambda: self._modes(index))  # type: ignore[no-any-return]

    def _modes(self, index: int) -> dict[str, float | np.ndarray]:
        world = self.world
        values = world.countermeasure("submission_auth")
        if values is None:
            return {m: 0.0 for m in MODES}
        own = self._override(index, "submission")
        # The network's own shares, else the scenario-wide ones (what world.share would look up).
        shares = {m: world.num(getattr(own if own is not None else values.mode_share, m)) for m in MODES}
        total = shares["ip_restricted"] + shares["pop_before_smtp"] + shares["smtp_auth"]
        scale = np.where(np.asarray(total) > 1.0, 1.0 / np.maximum(total, 1e-300), 1.0)
        return {m: v * scale for m, v in shares.items()}

    def window_open(self, index: int, botnet: Any) -> float | np.ndarray:
        """Share of time a bot's address is admitted by a POP-before-SMTP server."""
        return self._memo(("window_open", index, id(botnet)), lambda: self._window_open(index, botnet))

    def _window_open(self, index: int, botnet: Any) -> float | np.ndarray:
        world = self.world
        spec = world.scenario.countermeasures.submission_auth
        window_hours = (spec.pop_window_minutes if spec is not None else 10.0) / 60.0
        own_nat = self._override(index, "nat_hosts_per_address")
        nat = world.num(own_nat if own_nat is not None else botnet.nat_hosts_per_address)
        return -np.expm1(-world.num(botnet.pop_logins_per_hour) * nat * window_hours)

    def refused(self, index: int, botnet: Any) -> float | np.ndarray:
        """P(a bot's message submitted to its network's server is refused)."""
        return self._memo(("refused", index, id(botnet)), lambda: self._refused(index, botnet))

    def _refused(self, index: int, botnet: Any) -> float | np.ndarray:
        modes = self.modes(index)
        stolen = self.world.num(botnet.stolen_credentials_share)
        return modes["smtp_auth"] * (1.0 - stolen) + modes["pop_before_smtp"] * (1.0 - self.window_open(index, botnet))

    def cleanup_per_day(self, index: int) -> float | np.ndarray:
        """Antivirus cleanup hazard of a visible bot in the network (0 without antivirus)."""
        return self._memo(
            ("cleanup", index),
            lambda: self._policy(index, "antivirus", "antivirus_cleanup_rate_per_day", "cleanup_rate_per_day"),
        )

    def policy_listed(self, index: int) -> float | np.ndarray:
        """Share of the network's dynamic addresses on receivers' policy lists (0 without DNSBLs)."""
        return self._memo(
            ("policy_listed", index),
            lambda: self._policy(index, "blacklists", "dynamic_ip_listed_share", "dynamic_ip_listed_share"),
        )
