"""Spambots: infected hosts inside organisations' networks sending for the spammer.

Every host is a small continuous-time Markov chain: clean (``S``), bot (``B``) or
hit-and-run bot (``R``), and each bot belongs to a variant *class* — the variants antivirus
already recognises, or one released within the last ``signature_lag_days`` that it cannot
see yet. Rates per hour, constant between events:

* a clean host is infected at ``(infection_rate_per_day + contagion_per_day * I / N) / 24``
  (``I/N`` the botnet's infected share: bots recruit bots); a share ``hit_and_run_share``
  of new bots are hit-and-run; new infections carry the newest variant;
* antivirus cleans a bot it can see at its network's cleanup rate (back to clean); a
  variant's bots are invisible from its release until its signature ships ``lag`` later —
  the bots of older variants stay visible;
* a hit-and-run bot erases itself after ``hit_and_run_lifetime_hours`` on average (back
  to clean), sending ``hit_and_run_burst`` times faster while it lives.

Between events the chain moves with its exact transition matrix ``expm(Q t)``: the
population at an interval's end is a multinomial draw per starting state, so the process
has the same law however the time line is cut, and its mean solves the ODE ``dx/dt = x Q``
(tested against scipy's ``solve_ivp``). Contagion makes ``Q`` depend on the state; it is
held at its value at the start of each interval, and a botnet with contagion adds a
breakpoint every :data:`CONTAGION_GRID_HOURS` on an absolute clock, so the result still
does not depend on the ledger's step. Capacity over an interval is the bots' send rate
times their expected occupation hours (Van Loan's integral of ``expm``).

Bots sit in networks (:mod:`..networks`). The botmaster paces each send over its sending
window and sends through the networks whose mail gets through best first, as far as their
bots' capacity allows, so partial OP25B adoption displaces mail to networks that do not block. Per message, a share
``share_direct_to_mx`` goes straight to outside MX on port 25; where the bot's network
blocks outbound port 25 (``op25b``) that mail is rerouted to the network's submission
server instead, with the mail the bot submits there anyway; the server's mode decides
(``submission_auth``). Direct mail that gets out meets receivers' blacklists: the network's
policy list of dynamic addresses, and abuse listing — an address is listed an exponential
``listing_delay_hours`` after it starts sending, so a bot living ``L`` hours on average
sends a share ``L / (L + delay)`` of its mail from a listed address (hit-and-run bots send
and vanish before most listings).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from ...countermeasures import Where
from ..flows import ctmc
from ..sampling import binomial, multinomial
from .base import Channel, Route

CLEAN = 0
CONTAGION_GRID_HOURS = 6.0
"""Contagion is held constant over at most this long, on an absolute clock (not the ledger's)."""


class Botnet(Channel):
    """One botnet: a channel whose capacity is its bots, spread over networks."""

    def __init__(self, world, index, name="botnet"):  # type: ignore[no-untyped-def]
        self.name = name
        self._spec: tuple[Any, Any] | None = None
        super().__init__(world, index)
        size = world.size
        networks = world.networks
        n = len(networks.names)
        where = self.spec.networks
        share = (
            np.array([where.get(name, 0.0) for name in networks.names], dtype=float)
            if where
            else networks.host_share.copy()
        )
        self.network_share = share / share.sum()
        hosts = np.round(world.array(self.values.hosts)[:, None] * self.network_share[None, :]).astype(np.int64)
        bots = np.round(world.array(self.values.initial_bots)[:, None] * self.network_share[None, :]).astype(np.int64)
        bots = np.minimum(bots, hosts)
        self.state = np.zeros((size, n, 3), dtype=np.int64)
        """Hosts per replication, network and state: clean, then (bot, hit-and-run bot) per
        variant class; class 0 is what antivirus sees, each further class a variant still
        inside its signature lag."""
        self.state[:, :, CLEAN] = hosts - bots
        self.state[:, :, 1] = bots
        self.lag_ends: list[float] = []
        """Hours at which each invisible class becomes visible (oldest first)."""
        self._generators: dict[tuple[Any, ...], np.ndarray] = {}
        self._matrices: dict[tuple[Any, ...], tuple[np.ndarray, np.ndarray]] = {}
        self._last_matrices: tuple[Any, ...] = (None, None, None, None, None)
        """The parameters, hours, states and lag of the last matrices looked up, and the matrices."""
        self._capacity = np.zeros((size, n))
        self._hours = np.zeros((size, n, 2))
        self._rate_per_bot: tuple[np.ndarray | None, np.ndarray] = (None, np.ones(size))
        """The bot-hours it was worked out from, and messages per bot-hour (``[rep]``)."""
        self._shares = np.full((size, n), 1.0 / n)
        self._use = np.zeros((size, n))
        self._listed: tuple[Any, Any, dict[int, Any]] = (None, None, {})
        """Bot-hours, parameters and listed shares per network they were computed for."""
        self._moves: tuple[np.ndarray, int, np.ndarray, np.ndarray] | None = None
        """The last transition matrices and what ``evolve`` derives from them."""
        self._occupied: tuple[Any, Any, Any] = (None, None, None)
        """The last occupation times and their hours summed over the bot and hit-and-run states."""
        antivirus = world.scenario.countermeasures.antivirus
        if antivirus is not None and antivirus.enabled and antivirus.new_variant_every_days:
            lag = antivirus.signature_lag_days * 24.0
            world.env.process(self._variants(antivirus.new_variant_every_days * 24.0, lag))
        if np.any(world.array(self.values.contagion_per_day) > 0):
            world.env.process(self._contagion_grid())

    @property
    def spec(self) -> Any:
        scenario = self.world.scenario
        cached = self._spec
        if cached is None or cached[0] is not scenario:  # looked up many times an interval
            cached = self._spec = (scenario, scenario.channels.botnet_specs()[self.name])
        return cached[1]

    @property
    def values(self) -> Any:
        channels = self.world.values.channels
        if self.name == "botnet":
            return channels.botnet
        return next(b for b in channels.botnets if b.name == self.name)

    # -- events ------------------------------------------------------------------------------
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
            self.state = np.concatenate([self.state, self.state[:, :, 1:3]], axis=2)
            self.state[:, :, 1:3] = 0
        else:
            empty = np.zeros((*self.state.shape[:2], 2), dtype=np.int64)
            self.state = np.concatenate([self.state, empty], axis=2)
        self.lag_ends.append(now + lag_hours)

    def _signature(self, at: float) -> Generator[simpy.Event, Any, None]:
        """SimPy process: antivirus ships a variant's signature at ``at``; its bots become visible."""
        env = self.world.env
        yield env.timeout(at - env.now)
        self.world.advance()
        self.state[:, :, 1:3] += self.state[:, :, 3:5]
        self.state = np.delete(self.state, [3, 4], axis=2)
        self.lag_ends.pop(0)

    def _contagion_grid(self) -> Generator[simpy.Event, Any, None]:
        env = self.world.env
        while True:
            yield env.timeout(CONTAGION_GRID_HOURS)
            self.world.advance()

    # -- rates -------------------------------------------------------------------------------
    def bots(self) -> np.ndarray:
        return self.state[:, :, 1::2].sum(axis=(1, 2))

    def hit_and_run(self) -> np.ndarray:
        return self.state[:, :, 2::2].sum(axis=(1, 2))

    def _generator(self, hours: float) -> np.ndarray:
        """Rate matrices per hour over the next ``hours``, ``[network, rep or 1, k, k]``."""
        world, values = self.world, self.values
        array = world.array
        contagion = array(values.contagion_per_day) / 24.0
        infection = array(values.infection_rate_per_day) / 24.0
        if contagion.any():
            # Contagion uses the infected share's mean over the interval along the logistic
            # curve from its present value, ln(1 - f + f e^(b t)) / (b t): exact for pure
            # contagion, second-order accurate with cleanup and a constant rate as well.
            hosts = np.maximum(self.state.sum(axis=(1, 2)), 1)
            share_now = (self.bots() + self.hit_and_run()) / hosts
            growth = contagion * hours
            mean_share = np.where(
                growth > 1e-9,
                np.log1p(share_now * np.expm1(growth)) / np.maximum(growth, 1e-300),
                share_now,
            )
            infection = infection + contagion * mean_share
        share = array(values.hit_and_run_share)
        vanish = 1.0 / float(self.spec.hit_and_run_lifetime_hours)
        k = self.state.shape[2]
        mats = []
        for n in range(len(world.networks.names)):
            cleanup = np.broadcast_to(np.asarray(world.networks.cleanup_per_day(n), dtype=float), (world.size,)) / 24.0
            rates = np.stack([infection, share, cleanup])
            if (rates == rates[:, :1]).all():
                rates = rates[:, :1]
            key = (rates.tobytes(), k, bool(self.lag_ends), vanish)
            q = self._generators.get(key)
            if q is None:
                if len(self._generators) > 4096:  # contagion makes every interval's rates new
                    self._generators.clear()
                q = self._generators[key] = self._build_generator(rates, k, vanish)
            mats.append(q)
        width = max(q.shape[0] for q in mats)
        return np.stack([np.broadcast_to(q, (width, k, k)) for q in mats])

    def _build_generator(self, rates: np.ndarray, k: int, vanish: float) -> np.ndarray:
        q = np.zeros((rates.shape[1], k, k))
        newest = k - 2 if self.lag_ends else 1  # new infections carry the newest variant
        q[:, CLEAN, newest] = rates[0] * (1 - rates[1])
        q[:, CLEAN, newest + 1] = rates[0] * rates[1]
        q[:, 1, CLEAN] = rates[2]
        q[:, 2, CLEAN] = rates[2] + vanish
        for j in range(4, k, 2):
            q[:, j, CLEAN] = vanish
        q[:, np.arange(k), np.arange(k)] = -q.sum(axis=2)
        return q

    def _ctmc(self, hours: float) -> tuple[np.ndarray, np.ndarray]:
        # Fast path: with every rate a plain number (the usual case), the matrices depend on a
        # handful of floats; look them up without building the rate matrices.
        rates, plain = self.world.remember(("botnet:rates", self.index), self._rates)
        k, lagging = self.state.shape[2], bool(self.lag_ends)
        last = self._last_matrices  # capacity and evolution ask for the same interval's matrices
        if plain and last[0] is rates and last[1] == hours and last[2] == k and last[3] == lagging:
            return last[4]  # type: ignore[no-any-return]
        key = (float(hours), k, lagging, self.spec.hit_and_run_lifetime_hours, rates)
        if plain and (cached := self._matrices.get(key)) is not None:
            self._last_matrices = (rates, hours, k, lagging, cached)
            return cached
        result = self._ctmc_of(hours)
        if plain:
            if len(self._matrices) > 4096:
                self._matrices.clear()
            self._matrices[key] = result
        return result

    def _rates(self) -> tuple[tuple[Any, ...], bool]:
        """The parameters the rate matrices are built from now, and whether they are plain
        numbers without contagion (matrices that may be looked up by them)."""
        world, values = self.world, self.values
        rates = (
            world.num(values.infection_rate_per_day),
            world.num(values.contagion_per_day),
            world.num(values.hit_and_run_share),
            *(world.num(world.networks.cleanup_per_day(n)) for n in range(len(world.networks.names))),
        )
        return rates, rates[1] == 0 and all(isinstance(r, float) for r in rates)

    def _ctmc_of(self, hours: float) -> tuple[np.ndarray, np.ndarray]:
        q = self._generator(hours)
        n, width, k = q.shape[0], q.shape[1], q.shape[2]
        transition, occupation = ctmc(q.reshape(n * width, k, k), hours)
        return transition.reshape(n, width, k, k), occupation.reshape(n, width, k, k)

    # -- an interval -------------------------------------------------------------------------
    def _capacity_over(self, hours: float) -> tuple[np.ndarray, np.ndarray]:
        """Expected messages each network's bots can send over the next ``hours`` (``[rep, network]``),
        and their expected bot-hours and hit-and-run bot-hours (``[rep, network, 2]``)."""
        _, occupation = self._ctmc(hours)
        # Expected hours per network as a bot and as a hit-and-run bot: state[r, n, i] times the
        # hours a host starting in i spends in the bot states (odd j) and in the hit-and-run
        # states (even j > 0), occupation[n, r, i, j] summed over those j first (remembered
        # with the matrices they come from, which repeat).
        of, bot, burst = self._occupied
        if of is not occupation:
            bot = occupation[..., 1::2].sum(axis=-1).transpose(1, 0, 2)  # [rep or 1, network, i]
            burst = occupation[..., 2::2].sum(axis=-1).transpose(1, 0, 2)
            self._occupied = (occupation, bot, burst)
        state = self.state.astype(float)
        # Plain products and sums, not BLAS (np.matmul): BLAS may sum in another order with
        # other threads or alignment, and a worker's numbers must not depend on that.
        hours_in = np.empty((*state.shape[:2], 2))
        bot_hours = hours_in[:, :, 0] = (state * bot).sum(axis=2)
        burst_hours = hours_in[:, :, 1] = (state * burst).sum(axis=2)
        rate = np.asarray(self.num(self.values.sends_per_bot_hour), dtype=float).reshape(-1, 1)
        return rate * (bot_hours + self.spec.hit_and_run_burst * burst_hours), hours_in

    def capacity(self, start: float, end: float) -> np.ndarray:
        size, n_networks = self.world.size, len(self.world.networks.names)
        if self.spec.taken_down:
            self._capacity = self._use = np.zeros((size, n_networks))
            return np.zeros(size)
        self._capacity, self._hours = self._capacity_over(end - start)
        # The botmaster plans each send over its whole sending window: it uses its best networks
        # first, as far as their expected capacity until the window closes allows, and each
        # network it uses sends at its full rate (the marginal one at the planned fraction). The
        # plan made at any time agrees with the plan made earlier, so what each network sends
        # does not depend on how the time line is cut into intervals.
        left, closes = self._queued()
        window = closes - start
        if window > end - start + 1e-9:
            planned, _ = self._capacity_over(window)
        else:
            planned = self._capacity
        taken = self._greedy(left, planned)
        self._use = self._capacity * np.where(planned > 0, taken / np.maximum(planned, 1e-300), 0.0)
        return self._use.sum(axis=1)

    def _queued(self) -> tuple[np.ndarray, float]:
        """Messages queued for the botnet by every spammer, and the earliest window close among them."""
        world = self.world
        left = np.zeros(world.size)
        closes = world.horizon_hours
        for spammer in world.spammers:
            for send in spammer.queue:
                waiting = send.left[self.index]
                if np.count_nonzero(waiting):
                    left += waiting
                    closes = min(closes, send.closes)
        return left, closes

    def _listed_direct(self, n: int) -> np.ndarray | float:
        """Share of direct-to-MX mail from network ``n`` sent from a listed address."""
        memo = self.world.memo()
        if memo is None:
            return self._listed_direct_now(n)
        # Planning and every spammer's route ask for it in one interval: with constant
        # parameters it changes only with the bot-hours of the interval.
        hours, of, found = self._listed
        if hours is not self._hours or of is not memo:
            found = {}
            self._listed = (self._hours, memo, found)
        if n not in found:
            found[n] = self._listed_direct_now(n)
        return found[n]

    def _listed_direct_now(self, n: int) -> np.ndarray | float:
        world = self.world
        blacklists = world.countermeasure("blacklists")
        if blacklists is None:
            return 0.0
        delay = float(blacklists.listing_delay_hours)
        cleanup = np.asarray(world.networks.cleanup_per_day(n), dtype=float) / 24.0
        life_bot = 1.0 / np.maximum(cleanup, 1e-300)  # hours a visible bot lives (inf without AV)
        life_burst = 1.0 / (cleanup + 1.0 / float(self.spec.hit_and_run_lifetime_hours))
        abuse_bot = life_bot / (life_bot + delay)
        abuse_burst = life_burst / (life_burst + delay)
        bot_mail = self._hours[:, n, 0]
        burst_mail = self._hours[:, n, 1] * self.spec.hit_and_run_burst
        weight = burst_mail / np.maximum(bot_mail + burst_mail, 1e-300)
        abuse = (1.0 - weight) * abuse_bot + weight * abuse_burst
        policy = world.networks.policy_listed(n)
        return 1.0 - (1.0 - policy) * (1.0 - abuse)

    def _pass_share(self, n: int, direct: Any) -> np.ndarray:
        """Expected share of a message sent by a bot in network ``n`` that is delivered."""
        world = self.world
        where = Where(self.name, "", network=n, channel_values=self.values)
        blocked = world.stage_share("port25", where)
        refused = world.stage_share("submission", where)
        if world.countermeasure("blacklists") is not None:
            where.listed = self._listed_direct(n)
        at_mx = world.stage_share("mx", where)
        via = direct * blocked + (1.0 - direct)
        return np.asarray(direct * (1.0 - blocked) * (1.0 - at_mx) + via * (1.0 - refused), dtype=float)

    def _greedy(self, total: np.ndarray, capacity: np.ndarray) -> np.ndarray:
        """Messages per network (``[rep, network]``) when ``total`` goes to the networks whose
        mail gets through best first, each up to its ``capacity``."""
        n_networks = capacity.shape[1]
        if n_networks == 1:
            return np.minimum(total[:, None], capacity)
        direct = self.num(self.values.share_direct_to_mx)
        passing = np.stack(
            [np.broadcast_to(self._pass_share(n, direct), (self.world.size,)) for n in range(n_networks)], axis=1
        )
        order = np.argsort(-passing, axis=1, kind="stable")
        ordered = np.take_along_axis(capacity, order, axis=1)
        before = np.cumsum(ordered, axis=1) - ordered
        taken = np.clip(total[:, None] - before, 0.0, ordered)
        out = np.zeros_like(taken)
        np.put_along_axis(out, order, taken, axis=1)
        return out

    def allot(self, attempted: np.ndarray) -> None:
        # What is attempted is what the plan uses (capacity() returned its total), network by network.
        if np.count_nonzero(attempted):
            self._shares = self._use / np.maximum(self._use.sum(axis=1, keepdims=True), 1e-300)

    def refused_share(self) -> float | np.ndarray:
        world = self.world
        if not world.acting("port25") and not world.acting("submission"):
            return 0.0
        direct = self.num(self.values.share_direct_to_mx)
        refused = 0.0
        for n in range(len(world.networks.names)):
            where = Where(self.name, "", network=n, channel_values=self.values)
            via = direct * world.stage_share("port25", where) + (1.0 - direct)
            refused = refused + self._shares[:, n] * via * world.stage_share("submission", where)
        return refused

    def route(self, spammer: int, attempted: np.ndarray, start: float, busy: np.ndarray) -> Route:
        world = self.world
        name = world.spammers[spammer].name
        route = Route(attempted=attempted, delivered=attempted, arriving=attempted)
        networks = world.networks
        shares = self._shares
        if shares.shape[1] == 1:
            parts = attempted[:, None]
        else:
            parts = multinomial(
                self.rng("networks", name),
                attempted,
                np.clip(shares, 0.0, 1.0) / np.maximum(shares.sum(axis=1, keepdims=True), 1e-300),
            )
        direct_share = self.num(self.values.share_direct_to_mx)
        arriving = np.zeros(attempted.shape, np.int64)
        delivered = np.zeros(attempted.shape, np.int64)
        # Where nothing acts on either way out, direct and submitted mail both arrive and are
        # delivered: how the mail splits between them changes nothing, so it is not drawn.
        splits = world.acting("port25") or world.acting("submission") or world.acting("mx")
        for n, network in enumerate(networks.names):
            sent = parts[:, n]
            if not np.count_nonzero(sent):
                continue
            if not splits:
                arriving += sent
                delivered += sent
                continue
            where = Where(self.name, name, network=n, channel_values=self.values)
            direct = self.binomial(self.rng("route", f"{name}:{network}"), sent, direct_share)
            via_server = sent - direct
            # Port 25 blocked: the bot's direct mail goes to its network's submission server.
            reroute = world.stage_share("port25", where)
            if np.count_nonzero(reroute):
                rerouted = self.binomial(self.rng("port25", f"{name}:{network}"), direct, reroute)
                direct, via_server = direct - rerouted, via_server + rerouted
                route.rerouted = rerouted if route.rerouted is None else route.rerouted + rerouted
            via_server = world.block("submission", route, via_server, where)
            arriving += direct + via_server
            # Mail relayed by an organisation's own server comes from a clean address; only
            # direct-to-MX mail from dynamic addresses meets the MX's checks (blacklists).
            if world.countermeasure("blacklists") is not None:
                where.listed = self._listed_direct(n)
            direct = world.block("mx", route, direct, where)
            delivered += direct + via_server
        route.arriving, route.delivered = arriving, delivered
        return route

    def cost(self, spammer: int, attempted: np.ndarray, start: float, end: float) -> np.ndarray:
        # Rent as many bot-days as the messages need at the botnet's mean send rate per bot
        # (the same for every spammer of the interval: worked out once per capacity).
        hours, per_bot_hour = self._rate_per_bot
        if hours is not self._hours:
            bot_hours = self._hours.sum(axis=(1, 2))
            per_bot_hour = np.maximum(self._capacity.sum(axis=1) / np.maximum(bot_hours, 1e-300), 1e-300)
            self._rate_per_bot = (self._hours, per_bot_hour)
        return attempted / per_bot_hour / 24.0 * self.num(self.values.rental_cost_per_bot_day)

    def evolve(self, start: float, end: float, used: np.ndarray) -> None:
        transition, _ = self._ctmc(end - start)  # [network, rep or 1, k, k]
        rng = self.rng("population")
        size, n_networks, k = self.state.shape
        # Each host leaves its state with 1 - P[i, i] (one binomial per state), and the leavers
        # split over the states they can reach in proportion to P[i, j]: the law of a
        # multinomial per state. The split draws one conditional binomial per reachable state
        # but the last, which takes the rest, so a state with one way out (a bot can only
        # become clean again) needs no draw at all. The matrices repeat (``_ctmc`` remembers
        # them), so their split is remembered with them.
        cached = self._moves
        if cached is None or cached[0] is not transition or cached[1] != size:
            eye = np.eye(k, dtype=bool)
            p = transition.transpose(1, 0, 2, 3)  # [rep or 1, network, k, k]
            stay = p[..., eye]  # [rep or 1, network, k]
            moves = np.where(eye, 0.0, p)
            total = moves.sum(axis=-1, keepdims=True)
            moves = np.where(total > 0, moves / np.maximum(total, 1e-300), eye)
            cached = self._moves = (transition, size, 1.0 - stay, _split_plan(moves))
        leaving = binomial(rng, self.state, cached[2])
        arriving = np.zeros(leaving.shape, np.int64)
        for i, targets in cached[3]:
            rest = leaving[:, :, i]
            if not np.count_nonzero(rest):
                continue
            for j, share in targets[:-1]:
                went = binomial(rng, rest, share)
                arriving[:, :, j] += went
                rest = rest - went
            arriving[:, :, targets[-1][0]] += rest
        self.state += arriving - leaving

    def record(self, step: int) -> None:
        self.world.ledger.add_world("bots", step, self.bots())
        self.world.ledger.add_world("hit_and_run_bots", step, self.hit_and_run())


def _split_plan(moves: np.ndarray) -> list[tuple[int, list[tuple[int, np.ndarray]]]]:
    """How the hosts leaving each state split over the states they go to.

    ``moves[r, n, i, j]`` (``r`` a replication or 1 for all) is the share of the leavers of
    state ``i`` that go to ``j``. Per state ``i``: its reachable states ``j`` (likeliest last) and, for each,
    the probability of going to ``j`` given not to any earlier one (``[rep or 1, network]``):
    drawing those binomials one after the other gives the multinomial's law.
    """
    plan = []
    for i in range(moves.shape[-1]):
        row = moves[..., i, :]
        reachable = [j for j in range(row.shape[-1]) if (row[..., j] > 0).any()]
        if not reachable:
            continue
        # Any order gives the same law; the likeliest state last takes the rest undrawn, and
        # the draws before it have small probabilities, numpy's cheapest case.
        reachable.sort(key=lambda j: float(row[..., j].mean()))
        left = np.ones(row.shape[:-1])
        targets = []
        for j in reachable:
            targets.append((j, np.divide(row[..., j], left, out=np.zeros_like(left), where=left > 0)))
            left = np.maximum(left - row[..., j], 0.0)
        plan.append((i, targets))
    return plan
