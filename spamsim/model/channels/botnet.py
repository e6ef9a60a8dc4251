"""Spambots: infected hosts inside organisations sending for the spammer.

Every host is a small continuous-time Markov chain: clean (``S``), bot (``B``) or
hit-and-run bot (``R``), and each bot belongs to a variant *class* — the variants antivirus
already recognises, or one released within the last ``signature_lag_days`` that it cannot
see yet. Rates per hour, constant between events:

* a clean host is infected at ``infection_rate_per_day / 24``; a share
  ``hit_and_run_share`` of new bots are hit-and-run; new infections carry the newest variant;
* antivirus cleans a bot it can see at ``cleanup_rate_per_day / 24`` (back to clean); a
  variant's bots are invisible from its release until its signature ships ``lag`` later;
* a hit-and-run bot erases itself after ``hit_and_run_lifetime_hours`` on average (back
  to clean), sending ``hit_and_run_burst`` times faster while it lives.

Between events the chain moves with its exact transition matrix ``expm(Q t)``: the
population at an interval's end is a multinomial draw per starting state, so the process
has the same law however the time line is cut, and its mean is the solution of the ODE
``dx/dt = x Q`` (tested against scipy's ``solve_ivp``). Capacity over an interval is the
bots' send rate times their expected occupation hours (Van Loan's integral of ``expm``).

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

from ..flows import ctmc
from ..submission import SubmissionServers
from .base import Channel, Route

CLEAN = 0


class Botnet(Channel):
    name = "botnet"

    def __init__(self, world, index):  # type: ignore[no-untyped-def]
        super().__init__(world, index)
        size = world.size
        hosts = np.round(world.array(self.values.hosts)).astype(np.int64)
        bots = np.minimum(np.round(world.array(self.values.initial_bots)).astype(np.int64), hosts)
        self.state = np.zeros((size, 3), dtype=np.int64)
        """Hosts per state: clean, then (bot, hit-and-run bot) per variant class; class 0 is
        what antivirus sees, each further class a variant still inside its signature lag."""
        self.state[:, CLEAN] = hosts - bots
        self.state[:, 1] = bots
        self.lag_ends: list[float] = []
        """Hours at which each invisible class becomes visible (oldest first)."""
        self.servers = SubmissionServers(world)
        self._per_bot_hour = np.zeros(size)
        self._bot_hours = np.zeros(size)
        self._generators: dict[tuple[bytes, int, bool, float], np.ndarray] = {}
        antivirus = world.scenario.countermeasures.antivirus
        if antivirus is not None and antivirus.enabled and antivirus.new_variant_every_days:
            world.env.process(
                self._variants(antivirus.new_variant_every_days * 24.0, antivirus.signature_lag_days * 24.0)
            )

    # -- variants ----------------------------------------------------------------------------
    def _variants(self, every_hours: float, lag_hours: float) -> Generator[simpy.Event, Any, None]:
        """SimPy process: the botmaster releases a new variant every ``every_hours``."""
        env = self.world.env
        while True:
            if lag_hours > 0:
                self.world.advance()
                self._release(env.now, lag_hours)
                env.process(self._signature(env.now + lag_hours))
            yield env.timeout(every_hours)

    def _release(self, now: float, lag_hours: float) -> None:
        if now == 0.0:
            # The bots present at the start carry the variant released at the start.
            self.state = np.concatenate([self.state, self.state[:, 1:3]], axis=1)
            self.state[:, 1:3] = 0
        else:
            self.state = np.concatenate([self.state, np.zeros((self.world.size, 2), dtype=np.int64)], axis=1)
        self.lag_ends.append(now + lag_hours)

    def _signature(self, at: float) -> Generator[simpy.Event, Any, None]:
        """SimPy process: antivirus ships the signature of a variant at ``at``; its bots become visible."""
        env = self.world.env
        yield env.timeout(at - env.now)
        self.world.advance()
        self.state[:, 1:3] += self.state[:, 3:5]
        self.state = np.delete(self.state, [3, 4], axis=1)
        self.lag_ends.pop(0)

    # -- rates -------------------------------------------------------------------------------
    def _generator(self) -> np.ndarray:
        """Rate matrix per replication (per hour): ``[rep, k, k]``, or ``[1, k, k]`` if all agree."""
        values = self.values
        array = self.world.array
        infection = array(values.infection_rate_per_day) / 24.0
        share = array(values.hit_and_run_share)
        antivirus = self.world.countermeasure("antivirus")
        cleanup = array(antivirus.cleanup_rate_per_day) / 24.0 if antivirus is not None else np.zeros(self.world.size)
        rates = np.stack([infection, share, cleanup])
        if (rates == rates[:, :1]).all():
            rates = rates[:, :1]
        k = self.state.shape[1]
        key = (rates.tobytes(), k, bool(self.lag_ends), float(self.spec.hit_and_run_lifetime_hours))
        cached = self._generators.get(key)
        if cached is None:
            cached = self._generators[key] = self._build_generator(rates, k)
        return cached

    def _build_generator(self, rates: np.ndarray, k: int) -> np.ndarray:
        vanish = 1.0 / float(self.spec.hit_and_run_lifetime_hours)
        n = rates.shape[1]
        q = np.zeros((n, k, k))
        newest = k - 2 if self.lag_ends else 1  # new infections carry the newest variant
        q[:, CLEAN, newest] = rates[0] * (1 - rates[1])
        q[:, CLEAN, newest + 1] = rates[0] * rates[1]
        q[:, 1, CLEAN] = rates[2]
        q[:, 2, CLEAN] = rates[2] + vanish
        for j in range(4, k, 2):
            q[:, j, CLEAN] = vanish
        q[:, np.arange(k), np.arange(k)] = -q.sum(axis=2)
        return q

    def bots(self) -> np.ndarray:
        return self.state[:, 1::2].sum(axis=1)

    def hit_and_run(self) -> np.ndarray:
        return self.state[:, 2::2].sum(axis=1)

    # -- an interval -------------------------------------------------------------------------
    def capacity(self, start: float, end: float) -> np.ndarray:
        _, occupation = ctmc(self._generator(), end - start)
        hours = np.einsum(
            "ri,rij->rj",
            self.state.astype(float),
            np.broadcast_to(occupation, (self.world.size, *occupation.shape[1:])),
        )
        bot_hours = hours[:, 1::2].sum(axis=1)
        burst_hours = hours[:, 2::2].sum(axis=1)
        rate = self.num(self.values.sends_per_bot_hour)
        capacity = rate * (bot_hours + self.spec.hit_and_run_burst * burst_hours)
        self._bot_hours = bot_hours + burst_hours
        self._per_bot_hour = capacity / np.maximum(self._bot_hours, 1e-300)
        return capacity

    def route(self, spammer: int, attempted: np.ndarray, start: float, busy: np.ndarray) -> Route:
        name = self.world.spammers[spammer].name
        route = Route(attempted=attempted, delivered=attempted, arriving=attempted)
        direct = self.binomial(self.rng("route", name), attempted, self.num(self.values.share_direct_to_mx))
        via_server = attempted - direct
        if self.world.countermeasure("op25b") is not None:
            blocking = self.world.share("op25b", "adoption")
            direct = route.block("op25b", direct, self.binomial(self.rng("op25b", name), direct, blocking))
        if self.world.countermeasure("submission_auth") is not None:
            refused = self.servers.refuse(self.rng("submission_auth", name), via_server)
            via_server = route.block("submission_auth", via_server, refused)
        route.arriving = direct + via_server
        # Mail relayed by an organisation's own server comes from a listed-clean address;
        # only direct-to-MX mail from dynamic addresses meets policy blacklists.
        blacklists = self.world.countermeasure("blacklists")
        listed = self.num(blacklists.dynamic_ip_listed_share) if blacklists is not None else 0.0
        direct = self.blacklisted(route, name, direct, listed)
        route.delivered = direct + via_server
        return route

    def cost(self, spammer: int, attempted: np.ndarray, start: float, end: float) -> np.ndarray:
        # Rent as many bot-days as the messages need at the botnet's mean send rate per bot.
        bot_hours = attempted / np.maximum(self._per_bot_hour, 1e-300)
        return bot_hours / 24.0 * self.num(self.values.rental_cost_per_bot_day)

    def evolve(self, start: float, end: float, used: np.ndarray) -> None:
        transition, _ = ctmc(self._generator(), end - start)
        rng = self.rng("population")
        size, k = self.state.shape
        new = np.zeros_like(self.state)
        for i in range(k):
            if not self.state[:, i].any():
                continue
            p = transition[:, i, :] if transition.shape[0] > 1 else transition[0, i]
            new += rng.multinomial(self.state[:, i], p)
        self.state = new

    def record(self, step: int) -> None:
        self.world.ledger.set_world("bots", step, self.bots())
        self.world.ledger.set_world("hit_and_run_bots", step, self.hit_and_run())
