"""Compromised accounts: stolen credentials, the channel that survives SMTP AUTH.

Mail goes through legitimate submission servers with valid credentials, so sender
authentication does not stop it; per-account rate limits (``rate_limiting``) do, for the
part of the spammer's pace above the limit. New credentials are stolen as a Poisson process
(``theft_per_day``) and each account is locked out after an exponential time (rate
``lockout_rate_per_day``). Over ``t`` days an account survives with ``exp(-l t)`` and the
accounts stolen meanwhile that are still usable at the end are Poisson with mean
``theft (1 - exp(-l t)) / l`` — exact for any interval, so the population's law does not
depend on the step length; it settles at ``theft / lockout``.
"""

from __future__ import annotations

import numpy as np

from ...countermeasures import Where
from ..flows import mean_decay
from ..sampling import binomial
from .base import Channel, Route


class CompromisedAccounts(Channel):
    name = "compromised_accounts"

    def __init__(self, world, index):  # type: ignore[no-untyped-def]
        super().__init__(world, index)
        self.accounts = np.round(world.array(self.values.initial_accounts)).astype(np.int64)
        self._account_hours = np.zeros(world.size)

    def _rates(self) -> tuple[np.ndarray, np.ndarray]:
        """Theft and lockout per hour."""
        return self.num(self.values.theft_per_day) / 24.0, self.num(self.values.lockout_rate_per_day) / 24.0

    def capacity(self, start: float, end: float) -> np.ndarray:
        hours = end - start
        theft, lockout = self._rates()
        survive = mean_decay(lockout, hours)  # mean of exp(-l t) over the interval
        # E[account-hours] = A * t * m(l, t) + theft * (t - t * m(l, t)) / l  (l -> 0: theft t^2 / 2)
        stolen = np.where(
            lockout * hours > 1e-8,
            theft * hours * (1 - survive) / np.maximum(lockout, 1e-300),
            theft * hours * hours / 2,
        )
        self._account_hours = self.accounts * hours * survive + stolen
        return self._account_hours * self.num(self.values.sends_per_account_hour)

    def refused_share(self) -> float | np.ndarray:
        return self.world.stage_share("account", Where(self.name, "", channel_values=self.values))

    def route(self, spammer: int, attempted: np.ndarray, start: float, busy: np.ndarray) -> Route:
        route = Route(attempted=attempted, delivered=attempted, arriving=attempted)
        where = Where(self.name, self.world.spammers[spammer].name, channel_values=self.values)
        route.delivered = route.arriving = self.world.block("account", route, attempted, where)
        return route

    def cost(self, spammer: int, attempted: np.ndarray, start: float, end: float) -> np.ndarray:
        pace = self.num(self.values.sends_per_account_hour)
        account_hours = attempted / np.maximum(pace, 1e-300)
        return account_hours / 24.0 * self.num(self.values.cost_per_account_day)

    def evolve(self, start: float, end: float, used: np.ndarray) -> None:
        hours = end - start
        theft, lockout = self._rates()
        rng = self.rng("population")
        kept = binomial(rng, self.accounts, np.exp(-lockout * hours))
        mean_new = np.where(
            lockout * hours > 1e-8, theft * -np.expm1(-lockout * hours) / np.maximum(lockout, 1e-300), theft * hours
        )
        self.accounts = kept + rng.poisson(np.broadcast_to(mean_new, self.accounts.shape))

    def record(self, step: int) -> None:
        self.world.ledger.set_world("accounts", step, self.accounts)
