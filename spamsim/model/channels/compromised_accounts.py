"""Compromised accounts: stolen credentials, the channel that survives SMTP AUTH.

Mail goes through legitimate submission servers with valid credentials, so sender
authentication does not stop it; per-account rate limits (``rate_limiting``) do, for the
part of the spammer's pace above the limit. New credentials are stolen as a Poisson process;
each account is detected and locked out with probability ``1 - exp(-lockout * dt)`` per step.
"""

from __future__ import annotations

import numpy as np

from ..sampling import binomial, survival_in_step
from ..values import as_array
from .base import Channel, Route


class CompromisedAccounts(Channel):
    name = "compromised_accounts"

    def __init__(self, world, index, spec, values):  # type: ignore[no-untyped-def]
        super().__init__(world, index, spec, values)
        self.accounts = np.round(as_array(values.initial_accounts, world.size))

    def capacity(self, step: int) -> np.ndarray:
        pace = as_array(self.values.sends_per_account_hour, self.world.size)
        return self.accounts * pace * self.world.step_hours

    def route(self, spammer: int, attempted: np.ndarray, step: int) -> Route:
        rng = self.rng(step, self.world.spammers[spammer].name)
        route = Route(attempted=attempted, delivered=attempted, arriving=attempted)
        limiting = self.world.countermeasure("rate_limiting")
        if limiting is not None:
            pace = as_array(self.values.sends_per_account_hour, self.world.size)
            limit = as_array(limiting.messages_per_account_hour, self.world.size)
            over = np.clip(1.0 - limit / np.maximum(pace, 1e-300), 0.0, 1.0)
            route.delivered = route.block("rate_limiting", attempted, self.binomial(rng, attempted, over))
        route.arriving = route.delivered
        return route

    def cost(self, spammer: int, attempted: np.ndarray, step: int) -> np.ndarray:
        pace = as_array(self.values.sends_per_account_hour, self.world.size)
        account_hours = attempted / np.maximum(pace, 1e-300)
        return account_hours / 24.0 * as_array(self.values.cost_per_account_day, self.world.size)

    def end_step(self, step: int, attempted_total: np.ndarray) -> None:
        # Populations always move in batches: exact mode checks the per-message pipeline.
        rng = self.rng(step)
        dt = self.world.step_hours / 24.0
        size = self.world.size
        stolen = rng.poisson(as_array(self.values.theft_per_day, size) * dt)
        lockout = as_array(self.values.lockout_rate_per_day, size)
        locked = binomial(rng, self.accounts.astype(np.int64), 1.0 - np.exp(-lockout * dt))
        # Accounts stolen during the step face lockout for part of it, so the population
        # settles at theft / lockout whatever the step length.
        stolen = binomial(rng, stolen.astype(np.int64), survival_in_step(lockout * dt))
        self.accounts = self.accounts + stolen - locked
        self.world.ledger.set_world("accounts", step, self.accounts)
