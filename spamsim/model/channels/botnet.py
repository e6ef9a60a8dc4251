"""Spambots: infected hosts inside organisations sending for the spammer.

Population (per replication, binomial transitions each step of length ``dt`` days):

* clean hosts are infected with probability ``1 - exp(-infection_rate_per_day * dt)``;
  a share ``hit_and_run_share`` of new bots are hit-and-run;
* antivirus cleans a bot with probability ``1 - exp(-cleanup_rate_per_day * dt)``, except
  during the signature lag after a new variant's release, when it cannot see them;
* hit-and-run bots also erase themselves after ``hit_and_run_lifetime_hours`` on average,
  sending ``hit_and_run_burst`` times faster while they live.

The mean follows the ODE ``dB/dt = λ(1-h)(H-B-R) - c(t)B``,
``dR/dt = λh(H-B-R) - (c(t) + 1/L)R`` (tested against scipy's ``solve_ivp``).

Routing: a share ``share_direct_to_mx`` goes to outside MX on port 25 — blocked where the
bot's network blocks outbound port 25 (``op25b``), then rejected by receivers that list
dynamic addresses (``blacklists``); the rest goes through the organisation's submission
server (see :mod:`..submission`).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from ..sampling import binomial, survival_in_step
from ..submission import SubmissionServers
from ..values import as_array
from .base import Channel, Route


class Botnet(Channel):
    name = "botnet"

    def __init__(self, world, index, spec, values):  # type: ignore[no-untyped-def]
        super().__init__(world, index, spec, values)
        size = world.size
        self.hosts = np.round(as_array(values.hosts, size))
        self.bots = np.minimum(np.round(as_array(values.initial_bots, size)), self.hosts)
        self.hit_and_run = np.zeros(size)
        self.servers = SubmissionServers(world)
        self.releases: list[float] = []
        """Release times (hours) of new bot variants so far."""
        antivirus = world.scenario.countermeasures.antivirus
        self.lag_hours = antivirus.signature_lag_days * 24.0 if antivirus is not None else 0.0
        if antivirus is not None and antivirus.enabled and antivirus.new_variant_every_days:
            world.env.process(self._variants(antivirus.new_variant_every_days * 24.0))

    def _variants(self, every_hours: float) -> Generator[simpy.Event, Any, None]:
        """SimPy process: the botmaster releases a new variant every ``every_hours``."""
        env = self.world.env
        while True:
            self.releases.append(env.now)
            yield env.timeout(every_hours)

    def blind_share(self, start: float, end: float) -> float:
        """Share of ``[start, end)`` during which antivirus has no signature for the current variant.

        A variant released at ``r`` is invisible until ``r + lag``, or until the next
        release (whichever is first: the next variant starts its own lag).
        """
        if end <= start or not self.releases:
            return 0.0
        blind = 0.0
        for i, release in enumerate(self.releases):
            until = release + self.lag_hours
            if i + 1 < len(self.releases):
                until = min(until, self.releases[i + 1] + self.lag_hours)
            blind += max(0.0, min(end, until) - max(start, release))
        return min(1.0, blind / (end - start))

    def send_rate_per_hour(self) -> np.ndarray:
        rate = as_array(self.values.sends_per_bot_hour, self.world.size)
        return rate * (self.bots + self.hit_and_run * self.spec.hit_and_run_burst)

    def capacity(self, step: int) -> np.ndarray:
        return self.send_rate_per_hour() * self.world.step_hours

    def route(self, spammer: int, attempted: np.ndarray, step: int) -> Route:
        rng = self.rng(step, self.world.spammers[spammer].name)
        route = Route(attempted=attempted, delivered=attempted, arriving=attempted)
        direct = self.binomial(rng, attempted, self.values.share_direct_to_mx)
        via_server = attempted - direct
        if self.world.countermeasure("op25b") is not None:
            blocking = self.world.share("op25b", "adoption", step)
            direct = route.block("op25b", direct, self.binomial(rng, direct, blocking))
        if self.world.countermeasure("submission_auth") is not None:
            via_server = route.block("submission_auth", via_server, self.servers.refuse(rng, via_server, step))
        route.arriving = direct + via_server
        # Mail relayed by an organisation's own server comes from a listed-clean address;
        # only direct-to-MX mail from dynamic addresses meets policy blacklists.
        blacklists = self.world.countermeasure("blacklists")
        listed = blacklists.dynamic_ip_listed_share if blacklists is not None else 0.0
        direct = self.blacklisted(route, rng, direct, listed, step)
        route.delivered = direct + via_server
        return route

    def cost(self, spammer: int, attempted: np.ndarray, step: int) -> np.ndarray:
        # Rent as many bot-days as the messages need at the botnet's average send rate.
        per_bot_hour = self.send_rate_per_hour() / np.maximum(self.bots + self.hit_and_run, 1.0)
        bot_hours = attempted / np.maximum(per_bot_hour, 1e-300)
        return bot_hours / 24.0 * as_array(self.values.rental_cost_per_bot_day, self.world.size)

    def cleanup_rate_per_day(self, step: int) -> np.ndarray | float:
        """Antivirus cleanup hazard averaged over ``step`` (zero while it is blind)."""
        antivirus = self.world.countermeasure("antivirus")
        if antivirus is None:
            return 0.0
        start, end = self.world.step_window(step)
        return antivirus.cleanup_rate_per_day * (1.0 - self.blind_share(start, end))  # type: ignore[no-any-return]

    def end_step(self, step: int, attempted_total: np.ndarray) -> None:
        # Populations always move in batches: exact mode checks the per-message pipeline.
        rng = self.rng(step)
        size = self.world.size
        dt = self.world.step_hours / 24.0
        clean = (self.hosts - self.bots - self.hit_and_run).astype(np.int64)
        p_infect = 1.0 - np.exp(-as_array(self.values.infection_rate_per_day, size) * dt)
        infected = binomial(rng, clean, p_infect)
        new_hit_and_run = binomial(rng, infected, self.values.hit_and_run_share)
        cleanup = as_array(self.cleanup_rate_per_day(step), size)
        cleaned = binomial(rng, self.bots.astype(np.int64), 1.0 - np.exp(-cleanup * dt))
        leave = cleanup + 24.0 / self.spec.hit_and_run_lifetime_hours
        gone = binomial(rng, self.hit_and_run.astype(np.int64), 1.0 - np.exp(-leave * dt))
        # Hosts infected during the step are exposed to removal for part of it: a bot that
        # arrives uniformly in the step survives to its end with probability
        # (1 - exp(-rate dt)) / (rate dt). Without this the step mean lags the ODE by O(dt).
        new_bots = binomial(rng, infected - new_hit_and_run, survival_in_step(cleanup * dt))
        new_hit_and_run = binomial(rng, new_hit_and_run, survival_in_step(leave * dt))
        self.bots = self.bots + new_bots - cleaned
        self.hit_and_run = self.hit_and_run + new_hit_and_run - gone
        self.world.ledger.set_world("bots", step, self.bots)
        self.world.ledger.set_world("hit_and_run_bots", step, self.hit_and_run)
