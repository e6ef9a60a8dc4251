"""An oracle for every mechanism (issue 10, item 4): each mechanism of the world against its closed form.

Every test builds a small scenario, runs it with a fixed seed and compares what the ledger
records with the closed form the mechanism's module documents. Tolerances:

* deterministic mechanisms (capacity of the spammer's own server, the schedule of sends,
  the lecture's arithmetic) must match exactly;
* stochastic ones must lie within 4 standard errors of the replication mean, a two-sided
  false-failure rate of about 6e-5 per comparison under the normal approximation (each run
  is seeded, so a test gives the same verdict every time); where a replication loses up to
  one whole message per interval to rounding down, that bound is added;
* the botnet's mean population must follow its ODE within 1 % (with 4 standard errors of
  the mean well inside that 1 %).

Runs are kept small (few replications, short horizons): the whole file takes well under a
minute.
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
from scipy import integrate
from scipy.integrate import solve_ivp

import spamsim
from spamsim.analysis.analytic import _send_times, expected
from spamsim.model import Streams, World

from .conftest import SCENARIOS, spamsim_cli

STEPS = (24.0, 6.0, 1.0)


# Engine bugs these tests found (each test marked with one fails today and passes once it is fixed).
def build(
    *,
    campaign: dict[str, Any],
    days: float = 1.0,
    step_hours: float = 24.0,
    channels: dict[str, Any] | None = None,
    mix: dict[str, float] | None = None,
    countermeasures: dict[str, Any] | None = None,
    enforcement: dict[str, Any] | None = None,
    market: dict[str, Any] | None = None,
    costs: dict[str, Any] | None = None,
    spammer: dict[str, Any] | None = None,
) -> spamsim.Scenario:
    """A one-spammer scenario; channels other than those given are absent (own server included)."""
    spec: dict[str, Any] = {
        "name": "oracle",
        "horizon": {"days": days, "step_hours": step_hours},
        "market": market or {"success_rate": 0.0, "profit_per_sale": 0},
        "channels": {"own_server": None, **(channels or {"own_server": {}})},
        "countermeasures": countermeasures or {},
        "enforcement": enforcement or {},
        "costs": costs or {},
        "spammers": [
            {"name": "s", "campaign": campaign, "strategy": {"mix": mix or {"own_server": 1}}, **(spammer or {})}
        ],
    }
    return spamsim.load(spec)


def mean_se(values: Any) -> tuple[float, float]:
    x = np.asarray(values, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def assert_4se(values: Any, expected_value: float, what: str, slack: float = 0.0) -> None:
    """The replication mean of ``values`` is within 4 standard errors (plus ``slack``) of ``expected_value``."""
    mean, se = mean_se(values)
    assert abs(mean - expected_value) <= 4 * se + slack, (
        f"{what}: simulated {mean:.6g} vs closed form {expected_value:.6g} (se {se:.3g}, slack {slack:.3g})"
    )


def intervals_bound(scenario: spamsim.Scenario) -> float:
    """Most intervals between events of a one-spammer run: each may round down one message."""
    sends = len(_send_times(scenario, scenario.spammers[0]))
    return float(scenario.n_steps + 2 * sends)


def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def drain_profile(
    scenario: spamsim.Scenario, times: list[float], volume: int, capacity_per_hour: int, window: float
) -> tuple[np.ndarray, np.ndarray]:
    """Messages attempted and unsent per step when sends at ``times`` (hours) each drain at
    ``capacity_per_hour`` until done or until their window closes ``window`` hours later
    (the unsent rest booked in the step in which the window was last open)."""
    step, n = scenario.horizon.step_hours, scenario.n_steps
    horizon_h = scenario.horizon_days * 24.0
    attempted, unsent = np.zeros(n), np.zeros(n)
    for t in times:
        closes = min(t + window, horizon_h)
        done = min(t + volume / capacity_per_hour, closes)
        for k in range(n):
            attempted[k] += capacity_per_hour * overlap(t, done, k * step, (k + 1) * step)
        unsent[min(math.ceil(closes / step) - 1, n - 1)] += volume - capacity_per_hour * (done - t)
    return attempted, unsent


def own_server_run(step_hours: float, volume: int, window: float | None) -> tuple[spamsim.Scenario, Any]:
    """Own server at 1,000 messages per hour, two sends a day for two days."""
    campaign: dict[str, Any] = {"messages_per_send": volume, "sends_per_day": 2, "days": 2}
    if window is not None:
        campaign["window_hours"] = window
    sc = build(campaign=campaign, days=2, step_hours=step_hours, channels={"own_server": {"capacity_per_hour": 1000}})
    return sc, spamsim.run(sc, reps=3, seed=1).ledger.flows


# -- 1. capacity-limited flows ------------------------------------------------------------------


@pytest.mark.parametrize("step_hours", STEPS)
@pytest.mark.parametrize(("volume", "window"), [(20_000, None), (10_000, None), (20_000, 5.0)])
def test_own_server_send_drains_at_capacity_until_its_window_closes(step_hours, volume, window):
    """Own server, 1,000 messages per hour, two sends a day, four sends; sending window the
    default 24 / sends_per_day = 12 h, or ``campaign.window_hours`` = 5 h.

    Closed form (deterministic, so exact equality in every replication): each send drains
    at the capacity from its send time across step boundaries, ``attempted = min(V, 1000 *
    window)`` per send and the rest is ``unsent`` when the window closes; the same totals at
    step lengths 24, 6 and 1 h, and in each step the capacity times the hours of draining
    in it.
    """
    sc, flows = own_server_run(step_hours, volume, window)
    per_send = min(volume, 1000 * (window or 12.0))
    attempted, _ = drain_profile(sc, [0, 12, 24, 36], volume, 1000, window or 12.0)
    for rep in range(3):
        assert flows["attempted"][:, 0, 0, rep].sum() == 4 * per_send
        assert flows["unsent"][:, 0, 0, rep].sum() == 4 * (volume - per_send)
        np.testing.assert_array_equal(flows["attempted"][:, 0, 0, rep], attempted)


@pytest.mark.parametrize("step_hours", STEPS)
def test_unsent_mail_is_booked_in_the_step_its_window_closes(step_hours):
    """What is left of a send when its window closes belongs to the last step in which the
    window was open (``step_of(close - epsilon)``, as ``Spammer._unsent`` intends), also
    when the window closes on a step boundary (exact)."""
    sc, flows = own_server_run(step_hours, 20_000, None)
    _, unsent = drain_profile(sc, [0, 12, 24, 36], 20_000, 1000, 12.0)
    np.testing.assert_array_equal(flows["unsent"][:, 0, 0, 0], unsent)


@pytest.mark.parametrize("step_hours", STEPS)
def test_open_relay_capacity_grows_with_discovery(step_hours):
    """Open relays: capacity = ``capacity_per_hour`` x known relays, and scanning finds each
    unknown relay at hazard ``h = -ln(1 - discovery_per_day) / 24``, so
    ``E[K(t)] = K0 + U (1 - exp(-h t))`` and, demand exceeding capacity in every window,
    ``E[attempted] = c * integral of E[K]`` over the horizon.

    Tolerance: 4 standard errors (plus one message per interval lost to rounding down for
    ``attempted``); the known count at every step end within 4 standard errors.
    """
    count, known0, c, found = 100, 0.2, 100, 0.3
    days = 2
    sc = build(
        campaign={"messages_per_send": 10**6, "sends_per_day": 2, "days": days},
        days=days,
        step_hours=step_hours,
        channels={
            "open_relays": {
                "count": count,
                "capacity_per_hour": c,
                "initially_known": known0,
                "discovery_per_day": found,
            }
        },
        mix={"open_relays": 1},
    )
    res = spamsim.run(sc, reps=200, seed=11)
    k0, u = count * known0, count * (1 - known0)
    h = -math.log(1 - found) / 24
    horizon = days * 24.0
    capacity = c * (k0 * horizon + u * (horizon - (1 - math.exp(-h * horizon)) / h))
    assert_4se(res.replications["attempted"], capacity, "attempted", slack=intervals_bound(sc))
    assert (res.replications["unsent"] == 4 * 10**6 - res.replications["attempted"]).all()
    t_end = np.minimum(np.arange(1, sc.n_steps + 1) * step_hours, horizon)
    known = res.ledger.world["relays_known"]
    for k, t in enumerate(t_end):
        assert_4se(known[k], k0 + u * (1 - math.exp(-h * t)), f"relays known at {t} h")


@pytest.mark.parametrize("step_hours", STEPS)
def test_compromised_accounts_population_and_capacity(step_hours):
    """Compromised accounts: each account survives ``exp(-l t)``, new ones are stolen as a
    Poisson process, so ``A(t) ~ Binomial(A0, e^{-lt}) + Poisson(theft (1 - e^{-lt}) / l)``:
    ``E[A(t)] = A0 e^{-lt} + theft (1 - e^{-lt}) / l`` and
    ``Var[A(t)] = A0 e^{-lt} (1 - e^{-lt}) + theft (1 - e^{-lt}) / l``; with demand above
    capacity, ``E[attempted] = sends_per_account_hour * integral of E[A]``.

    Tolerance: means within 4 standard errors at every step end (plus one message per
    interval for ``attempted``); the sample variance at the end within 4 of its standard
    errors (``sqrt(2 / (n - 1))`` relative, near-normal counts).
    """
    a0, theft, lockout, pace, days = 50.0, 40.0, 0.5, 20.0, 3
    sc = build(
        campaign={"messages_per_send": 10**6, "sends_per_day": 2, "days": days},
        days=days,
        step_hours=step_hours,
        channels={
            "compromised_accounts": {
                "initial_accounts": a0,
                "theft_per_day": theft,
                "lockout_rate_per_day": lockout,
                "sends_per_account_hour": pace,
            }
        },
        mix={"compromised_accounts": 1},
    )
    reps = 512
    res = spamsim.run(sc, reps=reps, seed=12)
    accounts = res.ledger.world["accounts"]
    t_end = np.minimum(np.arange(1, sc.n_steps + 1) * step_hours / 24, days)
    survive = np.exp(-lockout * t_end)
    mean = a0 * survive + theft * (1 - survive) / lockout
    for k, t in enumerate(t_end):
        assert_4se(accounts[k], mean[k], f"accounts at day {t:g}")
    var = a0 * survive[-1] * (1 - survive[-1]) + theft * (1 - survive[-1]) / lockout
    ratio = accounts[-1].var(ddof=1) / var
    assert abs(ratio - 1) <= 4 * math.sqrt(2 / (reps - 1)), f"variance of accounts: {ratio:.3f} x the closed form"
    account_days = a0 * (1 - math.exp(-lockout * days)) / lockout + theft / lockout * (
        days - (1 - math.exp(-lockout * days)) / lockout
    )
    assert_4se(res.replications["attempted"], pace * 24 * account_days, "attempted", slack=intervals_bound(sc))


# -- 2. countermeasures at a given adoption -------------------------------------------------------


def block_share(reps: Any, blocked: str, of: str = "attempted") -> np.ndarray:
    """Per replication, the share of ``of`` that ``blocked`` took."""
    return (reps[blocked] / reps[of]).to_numpy()


def test_bot_countermeasures_block_their_closed_form_shares():
    """Bot mail, a share ``d`` sent directly to outside MX and the rest via the network's
    submission server:

    * OP25B blocks port 25 for a share ``a`` of the bots' hosts and so *reroutes* ``d a`` to
      the submission server (nothing is booked to op25b);
    * the submission server refuses ``[(1 - d) + d a] * [smtp_auth (1 - stolen) +
      pop_before_smtp exp(-k r w)]`` (``stolen`` the bots holding credentials, ``k`` hosts
      behind one NAT address, ``r`` POP logins per hour, window ``w`` hours);
    * blacklists reject ``d (1 - a) * adoption * [1 - (1 - policy) (1 - L / (L + delay))]`` —
      a policy-listed dynamic address, or one listed for abuse, a bot living ``L = 1 /
      cleanup`` hours sending ``L / (L + delay)`` of its mail after its listing;
    * receivers' filters catch ``catch_rate`` of what is delivered.

    Tolerance: 4 standard errors of the per-replication share.
    """
    d, a, smtp, pop, stolen, k, r, w = 0.3, 0.6, 0.25, 0.3, 0.2, 4.0, 2.0, 5 / 60
    policy, adoption, delay, cleanup, catch = 0.5, 0.8, 6.0, 0.5, 0.7
    sc = build(
        campaign={"messages_per_send": 1e5, "sends_per_day": 4},
        step_hours=6,
        channels={
            "botnet": {
                "hosts": 1e5,
                "initial_bots": 1e4,
                "sends_per_bot_hour": 10,
                "share_direct_to_mx": d,
                "pop_logins_per_hour": r,
                "nat_hosts_per_address": k,
                "stolen_credentials_share": stolen,
            }
        },
        mix={"botnet": 1},
        countermeasures={
            "op25b": {"adoption": a},
            "submission_auth": {
                "mode_share": {"pop_before_smtp": pop, "smtp_auth": smtp, "ip_restricted": 0.2},
                "pop_window_minutes": w * 60,
            },
            "blacklists": {"adoption": adoption, "dynamic_ip_listed_share": policy, "listing_delay_hours": delay},
            "antivirus": {"cleanup_rate_per_day": cleanup},
            "receiver_filtering": {"catch_rate": catch},
        },
    )
    reps = spamsim.run(sc, reps=200, seed=21).replications
    assert (reps["attempted"] == 4 * 10**5).all()
    assert "blocked_by.op25b" not in reps.columns, "OP25B reroutes, it does not block"
    refused = (1 - d + d * a) * (smtp * (1 - stolen) + pop * math.exp(-k * r * w))
    assert_4se(block_share(reps, "blocked_by.submission_auth"), refused, "submission_auth")
    life = 24 / cleanup
    listed = 1 - (1 - policy) * (1 - life / (life + delay))
    assert_4se(block_share(reps, "blocked_by.blacklists"), d * (1 - a) * adoption * listed, "blacklists")
    assert_4se(block_share(reps, "filtered", of="delivered"), catch, "receiver filtering")


def test_relay_prevention_and_rate_limits_block_their_closed_form_shares():
    """Open relay prevention blocks ``adoption`` of relay mail; per-account rate limits block
    ``1 - limit / pace`` of mail through stolen accounts; what they block is not delivered
    (``delivered = attempted - blocked``, exactly, channel by channel).

    Tolerance: 4 standard errors of the per-replication share.
    """
    adoption, limit, pace = 0.35, 20.0, 50.0
    sc = build(
        campaign={"messages_per_send": 1e5, "sends_per_day": 4},
        step_hours=6,
        channels={
            "open_relays": {"count": 100, "initially_known": 1, "capacity_per_hour": 1000},
            "compromised_accounts": {"initial_accounts": 100, "sends_per_account_hour": pace},
        },
        mix={"open_relays": 1, "compromised_accounts": 1},
        countermeasures={
            "open_relay_prevention": {"adoption": adoption},
            "rate_limiting": {"messages_per_account_hour": limit},
        },
    )
    res = spamsim.run(sc, reps=200, seed=22)
    lg = res.ledger
    relays, accounts = lg.channels.index("open_relays"), lg.channels.index("compromised_accounts")
    for c, name, share in ((relays, "open_relay_prevention", adoption), (accounts, "rate_limiting", 1 - limit / pace)):
        attempted = lg.flows["attempted"][:, :, c].sum(axis=(0, 1))
        blocked = lg.blocked_by[name][:, :, c].sum(axis=(0, 1))
        delivered = lg.flows["delivered"][:, :, c].sum(axis=(0, 1))
        assert_4se(blocked / attempted, share, name)
        np.testing.assert_array_equal(delivered, attempted - blocked, err_msg=f"{name}: blocked mail was delivered")


@pytest.mark.parametrize("step_hours", STEPS)
@pytest.mark.parametrize("capacity", [None, 5000], ids=["instant", "draining"])
def test_own_server_blacklisting_averages_the_listed_share_over_the_sending_window(step_hours, capacity):
    """Each address of the own server is listed an Exp(delay) after the server's first
    message, so mail sent ``t`` hours after it is rejected with probability
    ``adoption * (1 - exp(-t / delay))``. Sends at ``t_k`` = 0, 12, 24, 36 h of V messages:
    all at once without a capacity limit; draining over ``B = V / capacity`` hours
    otherwise, meeting the mean ``1 - exp(-t_k / d) * d (1 - exp(-B / d)) / B``.
    The same at step lengths 24, 6 and 1 h.

    Tolerance: 4 standard errors of the replication mean.
    """
    delay, adoption, volume = 10.0, 0.7, 40_000
    sc = build(
        campaign={"messages_per_send": volume, "sends_per_day": 2, "days": 2},
        days=2,
        step_hours=step_hours,
        channels={"own_server": {"capacity_per_hour": capacity}},
        countermeasures={"blacklists": {"adoption": adoption, "listing_delay_hours": delay}},
    )
    reps = spamsim.run(sc, reps=100, seed=23).replications
    if capacity is None:
        unlisted = [math.exp(-t / delay) for t in (0, 12, 24, 36)]
    else:
        b = volume / capacity
        unlisted = [math.exp(-t / delay) * delay * -math.expm1(-b / delay) / b for t in (0, 12, 24, 36)]
    expected_blocked = sum(volume * adoption * (1 - u) for u in unlisted)
    assert_4se(reps["blocked_by.blacklists"], expected_blocked, "blacklisted")


def test_scheduled_adoption_applies_when_the_mail_goes_out():
    """A schedule is the adoption at the moment the mail passes: with open relay prevention
    rising linearly from 0 at day 0 to 1 at day 1 and two sends (0 h, 12 h) that the relays
    carry out in ``B = 0.01`` h, the blocked share is the mean of ``t / 24`` over each
    send's ``[t_k, t_k + B]``: ``(0 + 12 + B) / 48``, whatever the step length.

    Tolerance: 4 standard errors of the per-replication share, at step lengths 24, 6, 1 h.
    """
    volume, relays, per_relay = 1e5, 100, 1e5
    busy = volume / (relays * per_relay)
    for step_hours in STEPS:
        sc = build(
            campaign={"messages_per_send": volume, "sends_per_day": 2},
            step_hours=step_hours,
            channels={"open_relays": {"count": relays, "initially_known": 1, "capacity_per_hour": per_relay}},
            mix={"open_relays": 1},
            countermeasures={"open_relay_prevention": {"adoption": {"0": 0.0, "1": 1.0}}},
        )
        reps = spamsim.run(sc, reps=50, seed=24).replications
        share = block_share(reps, "blocked_by.open_relay_prevention")
        assert_4se(share, (12 + busy) / 48, f"relay prevention at step {step_hours} h")


# -- 3. the botnet against its ODE ------------------------------------------------------------


def botnet_ode(
    *,
    hosts: float,
    initial: float,
    infection_per_day: float,
    hit_and_run_share: float,
    lifetime_hours: float,
    cleanup_per_day: float,
    every_days: float | None,
    lag_days: float,
    at_hours: np.ndarray,
) -> dict[str, np.ndarray]:
    """Mean bots, hit-and-run bots and their cumulative bot-hours at ``at_hours``, by ``solve_ivp``.

    States (per hour): visible bots ``B`` and hit-and-run bots ``R``, and ``Bi``, ``Ri`` of the
    newest variant while antivirus has no signature for it. Clean hosts ``S = hosts - all
    bots`` are infected at ``i``, a share ``s`` as hit-and-run, into the invisible class while
    one exists; antivirus cleans visible bots at ``c``; hit-and-run bots vanish at ``1 /
    lifetime`` whether visible or not. A variant is released every ``every_days`` from 0 (the
    bots present at the start carry the first) and ships its signature ``lag_days`` later:
    its class then joins the visible one.
    """
    i, s, c, v = infection_per_day / 24, hit_and_run_share, cleanup_per_day / 24, 1 / lifetime_hours
    end = float(at_hours[-1])
    events: list[tuple[float, str]] = []
    if every_days and lag_days:
        assert lag_days < every_days, "one invisible class at a time in this oracle"
        k = 0
        while k * every_days * 24 < end:
            events += [(k * every_days * 24, "release"), ((k * every_days + lag_days) * 24, "signature")]
            k += 1

    def rhs(t: float, y: np.ndarray, blind: bool) -> list[float]:
        b, r, bi, ri, _, _ = y
        clean = hosts - b - r - bi - ri
        new_b, new_r = i * (1 - s) * clean, i * s * clean
        return [
            (0.0 if blind else new_b) - c * b,
            (0.0 if blind else new_r) - (c + v) * r,
            new_b if blind else 0.0,
            (new_r if blind else 0.0) - v * ri,
            b + bi,  # bot-hours so far
            r + ri,  # hit-and-run bot-hours so far
        ]

    cuts = sorted({0.0, end, *[t for t, _ in events if 0 < t < end]})
    y = np.array([float(initial), 0.0, 0.0, 0.0, 0.0, 0.0])
    out = np.zeros((6, at_hours.size))
    blind = False
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        for t, kind in events:
            if t == lo and kind == "release":
                if lo == 0:
                    y[2:4], y[0:2] = y[0:2].copy(), 0.0
                blind = True
            elif t == lo:
                y[0:2] += y[2:4]
                y[2:4] = 0.0
                blind = False
        inside = (at_hours > lo) & (at_hours <= hi)
        grid = np.unique(np.append(at_hours[inside], hi))
        sol = solve_ivp(rhs, (lo, hi), y, args=(blind,), t_eval=grid, rtol=1e-10, atol=1e-8)
        out[:, inside] = sol.y[:, np.searchsorted(grid, at_hours[inside])]
        y = sol.y[:, -1]
    return {"bots": out[0] + out[2], "hit_and_run": out[1] + out[3], "bot_hours": out[4], "burst_hours": out[5]}


def test_botnet_population_moves_with_the_multinomial_law():
    """One interval of the hosts' chain against its law: the hosts of each state end in a
    multinomial over ``P = expm(Q t)``, so the end counts have mean ``n P`` and covariance
    ``sum_i n_i (diag(P_i) - P_i P_i^T)``. The engine draws the leavers of a state and then
    their destinations one conditional binomial at a time; that must keep the whole
    covariance, not only the mean the ODE tests see. 4,000 replications; means and
    (co)variances within 4 standard errors (a sample covariance's standard error is
    ``sqrt((s_ii s_jj + s_ij^2) / n)`` for counts this large, near normal)."""
    sc = build(
        campaign={"messages_per_send": 0, "days": 1},
        channels={
            "botnet": {
                "hosts": 1e5,
                "initial_bots": 2e4,
                "infection_rate_per_day": 0.5,
                "hit_and_run_share": 0.3,
                "hit_and_run_lifetime_hours": 8.0,
            }
        },
        mix={"botnet": 1},
        countermeasures={"antivirus": {"cleanup_rate_per_day": 0.7}},
    )
    size, hours = 4000, 6.0
    world = World(sc, Streams(3, 0), size)
    botnet = world.channels[0]
    start = np.array([60_000, 25_000, 15_000])
    botnet.state[:] = start
    transition, _ = botnet._ctmc(hours)
    p = transition[0, 0]  # one network, one set of rates
    botnet.evolve(0.0, hours, np.ones(size, dtype=bool))
    end = botnet.state[:, 0, :].astype(float)
    mean = start @ p
    cov = sum(n * (np.diag(row) - np.outer(row, row)) for n, row in zip(start, p, strict=True))
    se = np.sqrt(np.diag(cov) / size)
    assert np.all(np.abs(end.mean(axis=0) - mean) <= 4 * se), (end.mean(axis=0), mean, se)
    var = np.diag(cov)
    se_cov = np.sqrt((np.outer(var, var) + cov**2) / size)
    assert np.all(np.abs(np.cov(end, rowvar=False) - cov) <= 4 * se_cov), (np.cov(end, rowvar=False), cov, se_cov)


@pytest.mark.parametrize("variants", [False, True], ids=["one-variant", "new-variants"])
@pytest.mark.parametrize("step_hours", [1.0, 6.0, 24.0, 168.0])
def test_botnet_population_and_capacity_follow_the_ode(step_hours, variants):
    """The botnet's mean population against ``solve_ivp`` of its ODE (clean, bot,
    hit-and-run; infection, hit-and-run share, cleanup, lifetime; with ``new-variants``
    antivirus is blind to each new variant for ``signature_lag_days``), and its capacity
    ``sends_per_bot_hour * (bot-hours + burst * hit-and-run bot-hours)`` against the ODE's
    occupation integrals.

    Tolerance: 1 % at every step end and for the total attempted, at every step length
    1, 6, 24 and 168 h; 128 replications of ten million hosts keep 4 standard errors of the
    mean below 1 % (checked), so the 1 % is not noise.
    """
    days, burst, rate = 28, 4.0, 10.0
    params = {
        "hosts": 1e7,
        "initial": 2e5,
        "infection_per_day": 0.05,
        "hit_and_run_share": 0.3,
        "lifetime_hours": 8.0,
        "cleanup_per_day": 0.2,
        "every_days": 5.0 if variants else None,
        "lag_days": 2.0 if variants else 0.0,
    }
    antivirus: dict[str, Any] = {"cleanup_rate_per_day": params["cleanup_per_day"]}
    if variants:
        antivirus |= {"new_variant_every_days": params["every_days"], "signature_lag_days": params["lag_days"]}
    sc = build(
        campaign={"messages_per_send": 1e15, "days": days},
        days=days,
        step_hours=step_hours,
        channels={
            "botnet": {
                "hosts": params["hosts"],
                "initial_bots": params["initial"],
                "infection_rate_per_day": params["infection_per_day"],
                "hit_and_run_share": params["hit_and_run_share"],
                "hit_and_run_lifetime_hours": params["lifetime_hours"],
                "hit_and_run_burst": burst,
                "sends_per_bot_hour": rate,
            }
        },
        mix={"botnet": 1},
        countermeasures={"antivirus": antivirus},
    )
    reps = 128
    res = spamsim.run(sc, reps=reps, seed=13)
    at = np.minimum(np.arange(1, sc.n_steps + 1) * step_hours, days * 24.0)
    ode = botnet_ode(**params, at_hours=at)  # type: ignore[arg-type]
    for series, name in (("bots", "bots"), ("hit_and_run_bots", "hit_and_run")):
        sim = res.ledger.world[series]
        mean = sim.mean(axis=1)
        se = sim.std(axis=1, ddof=1) / math.sqrt(reps)
        assert np.all(4 * se <= 0.01 * ode[name]), f"{series}: too few replications for a 1 % test"
        worst = int(np.argmax(np.abs(mean / ode[name] - 1)))
        assert abs(mean[worst] / ode[name][worst] - 1) <= 0.01, (
            f"{series} at {at[worst]} h: simulated {mean[worst]:.1f} vs ODE {ode[name][worst]:.1f}"
        )
    capacity = rate * (ode["bot_hours"][-1] + burst * ode["burst_hours"][-1])
    attempted = res.replications["attempted"].mean()
    assert abs(attempted / capacity - 1) <= 0.01, f"attempted {attempted:.4g} vs ODE capacity {capacity:.4g}"


# -- 4. enforcement ---------------------------------------------------------------------------


def enforced(step_hours: float, enforcement: dict[str, Any], location: str = "domestic") -> spamsim.Scenario:
    """Two days, two sends a day of 10^6 messages through an unlimited own server."""
    return build(
        campaign={"messages_per_send": 10**6, "sends_per_day": 2, "days": 2},
        days=2,
        step_hours=step_hours,
        enforcement={"fines": {"individual": 1000}, **enforcement},
        spammer={"location": location},
    )


ENFORCEMENT_CASES = {
    # name: (enforcement, location, P(convicted) factor pi)
    "base-only-stop": ({"caught_probability": 0.3, "on_conviction": "stop"}, "domestic", 1.0),
    "volume-stop": (
        {"caught_probability": 0.3, "detection_per_million_messages": 0.1, "on_conviction": "stop"},
        "domestic",
        1.0,
    ),
    "volume-prosecution-stop": (
        {
            "caught_probability": 0.3,
            "detection_per_million_messages": 0.1,
            "prosecution_probability": 0.5,
            "on_conviction": "stop",
        },
        "domestic",
        0.5,
    ),
    "volume-abroad-continue": (
        {
            "caught_probability": 0.3,
            "detection_per_million_messages": 0.1,
            "prosecution_probability": 0.8,
            "reach_abroad": 0.25,
            "on_conviction": "continue",
        },
        "abroad",
        0.2,
    ),
}


@pytest.mark.parametrize("step_hours", [24.0, 1.0])
@pytest.mark.parametrize("case", sorted(ENFORCEMENT_CASES))
def test_detection_and_conviction_probabilities(case, step_hours):
    """Detection is the first event of a Poisson process with cumulative hazard
    ``H = -ln(1 - p) + rate * M / 1e6`` over the campaign (``M`` messages), so

    * P(detected at least once) = ``1 - (1 - p) exp(-rate M / 1e6)`` (= p without volume term);
    * where every detection convicts (``pi = prosecution (x reach_abroad) = 1``), the
      convicted share is the detected share;
    * fines = fine x convictions (exact).

    Tolerance: 4 standard errors of the share (mean of the 0/1 indicators), 1,024
    replications; both at step lengths 24 h and 1 h.
    """
    enforcement, location, pi = ENFORCEMENT_CASES[case]
    sc = enforced(step_hours, enforcement, location)
    reps = spamsim.run(sc, reps=1024, seed=41).replications
    messages = 4 * 10**6
    hazard = -math.log(1 - enforcement["caught_probability"])
    hazard += enforcement.get("detection_per_million_messages", 0.0) * messages / 1e6
    if enforcement["on_conviction"] == "continue":
        assert (reps["attempted"] == messages).all()
    assert_4se(reps["detections"] > 0, -math.expm1(-hazard), "P(detected)")
    if pi == 1:
        np.testing.assert_array_equal(reps["convictions"] > 0, reps["detections"] > 0)
    assert (reps["fines"] == 1000 * reps["convictions"]).all()


def test_detections_renew_within_an_interval():
    """After each detection the threshold is drawn afresh (a renewal), so detections are a
    Poisson process with cumulative hazard ``H`` and convictions one thinned by ``pi``:

    * with ``continue``: E[detections] = ``H``, E[convictions] = ``pi H``;
    * either way P(convicted at least once) = ``1 - exp(-pi H)`` — not
      ``P(detected) * pi``: a detection that does not convict leaves the spammer exposed.

    One send of 10^6 messages, ``p = 0.9``, 1 detection per million messages: ``H = 3.30``,
    most of it inside one interval at a 24 h step. Tolerance: 4 standard errors of the
    replication mean, 1,024 replications, at step lengths 24 h and 1 h.
    """
    hazard, pi = -math.log(0.1) + 1.0, 0.5
    for on_conviction in ("continue", "stop"):
        for step_hours in (24.0, 1.0):
            sc = build(
                campaign={"messages_per_send": 10**6},
                step_hours=step_hours,
                enforcement={
                    "caught_probability": 0.9,
                    "detection_per_million_messages": 1.0,
                    "prosecution_probability": pi,
                    "on_conviction": on_conviction,
                },
            )
            reps = spamsim.run(sc, reps=1024, seed=43).replications
            what = f"{on_conviction} at {step_hours} h"
            assert_4se(reps["convictions"] > 0, -math.expm1(-pi * hazard), f"{what}: P(convicted)")
            if on_conviction == "continue":
                assert_4se(reps["detections"], hazard, f"{what}: E[detections]")
                assert_4se(reps["convictions"], pi * hazard, f"{what}: E[convictions]")


def test_a_stopped_spammer_is_never_detected_or_convicted_again():
    """With ``on_conviction: stop`` a conviction ends the campaign: no replication counts
    more than one conviction (nor, when every detection convicts, more than one detection),
    at step lengths 24 h and 1 h (exact)."""
    for case in ("base-only-stop", "volume-stop", "volume-prosecution-stop"):
        enforcement, location, pi = ENFORCEMENT_CASES[case]
        for step_hours in (24.0, 1.0):
            reps = spamsim.run(enforced(step_hours, enforcement, location), reps=1024, seed=41).replications
            assert reps["convictions"].max() <= 1, f"{case} at {step_hours} h: a stopped spammer was convicted again"
            if pi == 1:
                assert reps["detections"].max() <= 1, f"{case} at {step_hours} h: a stopped spammer was detected again"


@pytest.mark.parametrize("step_hours", STEPS)
@pytest.mark.parametrize("pi", [1.0, 0.5], ids=["every-detection-convicts", "half-convict"])
@pytest.mark.parametrize("capacity", [None, 100_000], ids=["instant", "draining"])
def test_a_conviction_stops_the_mail_from_the_moment_it_happens(step_hours, capacity, pi):
    """With ``on_conviction: stop``, one send a day of ``V`` messages for four days, base
    hazard ``b = -ln(1 - p) / 96`` per hour and ``rho`` per message, convictions at hazard
    ``pi`` times that; ``H_k`` is the hazard accrued before send ``k``.

    * ``instant`` (no capacity limit): a send goes out all at once, before the detection
      its own volume may trigger: ``E[messages] = V * sum_k exp(-pi H_k)``, ``H_k = k (24 b + rho V)``.
    * ``draining`` (capacity ``c``): send ``k`` drains over ``B = V / c`` hours while the
      hazard grows at ``b + rho c``: ``E[messages of send k] = c * integral_0^B
      exp(-pi (H_k + (b + rho c) s)) ds``, ``H_k = k (24 b + rho V)``.

    Fixed costs accrue while the spammer is free: ``per day / 24 * integral exp(-pi H(t)) dt``.
    All the same at step lengths 24, 6 and 1 h. Tolerance: 4 standard errors of the
    replication mean.
    """
    p, rho, volume, fixed = 0.9, 0.2e-6, 10**6, 240.0
    sc = build(
        campaign={"messages_per_send": volume, "sends_per_day": 1, "days": 4},
        days=4,
        step_hours=step_hours,
        channels={"own_server": {"capacity_per_hour": capacity}},
        enforcement={
            "caught_probability": p,
            "detection_per_million_messages": rho * 1e6,
            "prosecution_probability": pi,
            "on_conviction": "stop",
        },
        costs={"fixed_per_day": fixed},
    )
    reps = spamsim.run(sc, reps=1024, seed=42).replications
    b = -math.log(1 - p) / 96
    hazard_at = [k * (24 * b + rho * volume) for k in range(4)]
    busy = 0.0 if capacity is None else volume / capacity

    def hazard(h: float, s: float) -> float:
        """Hazard ``s`` hours after a send that found ``h``."""
        if capacity is None:
            return h + rho * volume + b * s
        return h + b * s + rho * capacity * min(s, busy)

    if capacity is None:
        messages = volume * sum(math.exp(-pi * h) for h in hazard_at)
    else:
        messages = sum(
            capacity * integrate.quad(lambda s, h=h: math.exp(-pi * hazard(h, s)), 0, busy)[0] for h in hazard_at
        )
    assert_4se(reps["attempted"], messages, "attempted")
    free_hours = sum(
        integrate.quad(lambda s, h=h: math.exp(-pi * hazard(h, s)), 0, 24, points=[busy] if busy else None)[0]
        for h in hazard_at
    )
    assert_4se(reps["cost"], fixed / 24 * free_hours, "fixed cost while free")


def test_the_conviction_that_stops_the_spammer_is_the_first_that_convicts():
    """Detections that do not convict do not stop the mail: with one send of 10^6 messages
    draining over ``B = 10`` h, a base hazard ``b = -ln(1 - 0.999) / 24`` per hour (about
    seven detections a day, so the convicting one is often not the first in its interval)
    and ``pi = 0.3``, the spammer stops at the first *conviction*,
    at hazard ``pi b``: ``E[messages] = c * integral_0^B exp(-pi b s) ds`` and fixed costs
    ``per day / 24 * integral_0^24 exp(-pi b s) ds``, at step lengths 24 h and 1 h.

    Tolerance: 4 standard errors of the replication mean, 1,024 replications. (The engine
    once placed a J-th detection among J - 1 later ones instead of all the interval's: at a
    24 h step the mail then ran 14 % long, 9 standard errors here.)
    """
    capacity, volume, pi, fixed = 100_000, 10**6, 0.3, 240.0
    b = -math.log(0.001) / 24
    busy = volume / capacity
    messages = capacity * -math.expm1(-pi * b * busy) / (pi * b)
    free_hours = -math.expm1(-pi * b * 24) / (pi * b)
    for step_hours in (24.0, 1.0):
        sc = build(
            campaign={"messages_per_send": volume},
            step_hours=step_hours,
            channels={"own_server": {"capacity_per_hour": capacity}},
            enforcement={"caught_probability": 0.999, "prosecution_probability": pi, "on_conviction": "stop"},
            costs={"fixed_per_day": fixed},
        )
        reps = spamsim.run(sc, reps=1024, seed=44).replications
        assert_4se(reps["attempted"], messages, f"attempted at {step_hours} h")
        assert_4se(reps["cost"], fixed / 24 * free_hours, f"fixed cost at {step_hours} h")


# -- 5. the lecture and the analytic oracle ----------------------------------------------------


def test_the_lecture_arithmetic():
    """0.01 x 500 JPY x 1,000,000 messages = 5,000,000 JPY: exact in the closed form; the
    simulated mean within 4 standard errors (sales ~ Binomial(10^6, 0.01))."""
    sc = spamsim.load(SCENARIOS / "lecture.yaml")
    oracle = expected(sc)
    assert oracle.totals["revenue"] == 0.01 * 500 * 1_000_000 == 5_000_000
    assert oracle.totals["lecture_revenue"] == 5_000_000
    assert oracle.applicable and oracle.exact
    reps = spamsim.run(sc, reps=400, seed=51).replications
    assert (reps["attempted"] == 1_000_000).all()
    assert_4se(reps["revenue"], 5_000_000, "revenue")
    assert_4se(reps["sales"], 10_000, "sales")


def test_the_oracle_schedules_sends_as_the_world_does():
    """The closed form's send times are the world's (fractional sends per day, a late start,
    a horizon that cuts the campaign), and with an unlimited own server the ledger books
    each send's messages in the step of its send time (exact)."""
    sc = build(
        campaign={"messages_per_send": 1000, "sends_per_day": 2.5, "days": 3, "start_day": 0.3},
        days=2.5,
        step_hours=5,
    )
    world = World(sc, Streams(1, 0), 2)
    times = list(world.spammers[0].send_times())
    np.testing.assert_allclose(_send_times(sc, sc.spammers[0]), times, rtol=0, atol=1e-12)
    ledger = world.run()
    booked = np.zeros(sc.n_steps)
    np.add.at(booked, (np.asarray(times) // 5).astype(int), 1000)
    np.testing.assert_array_equal(ledger.flows["attempted"][:, 0, 0, 0], booked)


ORACLE_CASES = {
    "funnel-filter-costs": (
        {
            "campaign": {"messages_per_send": 2e5, "sends_per_day": 3, "days": 3},
            "days": 3,
            "market": {
                "profit_per_sale": {"dist": "triangular", "low": 300, "mode": 500, "high": 700},
                "funnel": {
                    "open_rate": 0.3,
                    "click_rate": 0.1,
                    "purchase_rate": {"dist": "beta", "mean": 0.2, "sd": 0.05},
                },
            },
            "countermeasures": {"receiver_filtering": {"catch_rate": {"dist": "beta", "mean": 0.6, "sd": 0.1}}},
            "costs": {"per_message": 0.01, "per_send": 50, "fixed_per_day": 300},
        },
        (24.0,),
    ),
    "stop-with-volume-hazard": (
        {
            "campaign": {"messages_per_send": 5e5, "sends_per_day": 2, "days": 4},
            "days": 4,
            "market": {"success_rate": 0.002, "profit_per_sale": 500},
            "costs": {"per_message": 0.01, "per_send": 100, "fixed_per_day": 2000},
            "enforcement": {
                "caught_probability": 0.5,
                "detection_per_million_messages": 0.4,
                "prosecution_probability": 0.7,
                "fines": {"corporation": 3e6},
                "on_conviction": "stop",
            },
            "spammer": {"legal_form": "corporation"},
        },
        (24.0, 1.0),
    ),
    "continue-abroad": (
        {
            "campaign": {"messages_per_send": 1e5, "sends_per_day": 2, "days": 6},
            "days": 6,
            "market": {"success_rate": 0.01, "profit_per_sale": 500},
            "enforcement": {
                "caught_probability": 0.9,
                "detection_per_million_messages": 0.5,
                "reach_abroad": 0.3,
                "fines": {"individual": 1e6},
                "on_conviction": "continue",
            },
            "spammer": {"location": "abroad"},
        },
        (24.0,),
    ),
}


@pytest.mark.parametrize("case", sorted(ORACLE_CASES))
def test_the_oracle_agrees_with_the_simulation(case):
    """``spamsim.expected`` against the simulated means of simple funnels (own server, fixed
    campaign): messages, sales, revenue, cost, fines, net profit and convictions, at each
    listed step length.

    Tolerance: 4 standard errors of the replication mean.
    """
    spec, steps = ORACLE_CASES[case]
    for step_hours in steps:
        sc = build(step_hours=step_hours, **spec)
        oracle = expected(sc)
        assert oracle.applicable and oracle.exact, oracle.reasons
        reps = spamsim.run(sc, reps=1024, seed=52).replications
        for metric, column in (
            ("messages", "attempted"),
            ("sales", "sales"),
            ("revenue", "revenue"),
            ("cost", "cost"),
            ("fines", "fines"),
            ("net_profit", "net_profit"),
            ("convictions", "convictions"),
        ):
            assert_4se(reps[column], oracle.totals[metric], f"{case} at {step_hours} h: {metric}")


UNCERTAIN_VOLUME = {
    "campaign": {"messages_per_send": {"dist": "uniform", "low": 1e5, "high": 3e6}},
    "market": {"success_rate": 0.01, "profit_per_sale": 500},
    "enforcement": {"detection_per_million_messages": 1.0, "fines": {"individual": 1e6}},
}


def test_exact_flag_is_false_where_the_closed_form_is_first_order():
    """``exact`` is true only where uncertain parameters enter linearly.

    An uncertain volume with a volume-dependent detection hazard is not: P(convicted) is
    ``1 - E[exp(-rate V / 1e6)]``, not ``1 - exp(-rate E[V] / 1e6)``. The simulation agrees
    with the former (4 standard errors, 4,096 replications) and is many standard errors
    from the latter, which is what the flag warns about.
    """
    assert expected(spamsim.load(SCENARIOS / "lecture.yaml")).exact
    sc = build(**UNCERTAIN_VOLUME)
    assert not expected(sc).exact
    # The same volume distribution is exact when detection does not depend on volume ...
    assert expected(spamsim.load(sc, ["enforcement.detection_per_million_messages=0"])).exact
    # ... or enforcement is off; an uncertain enforcement parameter is not.
    assert expected(spamsim.load(sc, ["enforcement.enabled=false"])).exact
    lecture = spamsim.load(
        SCENARIOS / "lecture.yaml", ["enforcement.caught_probability={dist: beta, mean: 0.2, sd: 0.1}"]
    )
    assert not expected(lecture).exact
    reps = spamsim.run(sc, reps=4096, seed=53).replications
    low, high = 1e5, 3e6
    exact_p = 1 - integrate.quad(lambda v: math.exp(-v / 1e6), low, high)[0] / (high - low)
    first_order = expected(sc).per_spammer["p_convicted"].iloc[0]
    assert first_order == pytest.approx(-math.expm1(-(low + high) / 2 / 1e6))
    assert_4se(reps["convictions"] > 0, exact_p, "P(convicted) with an uncertain volume")
    mean, se = mean_se(reps["convictions"] > 0)
    assert abs(mean - first_order) > 4 * se


def test_analytic_json_carries_the_deterrence_frontier(write):
    """``spamsim analytic FILE --json`` (the real entry point) carries the deterrence frontier
    per spammer: the frontier of :func:`spamsim.expected` point for point, with a fine on it
    giving zero expected profit, and ``null`` for a spammer out of reach (no finite fine)."""
    path = write(
        """
        name: frontier
        market: {success_rate: 0.01, profit_per_sale: 500}
        enforcement: {caught_probability: 0.1, on_conviction: continue, reach_abroad: 0, fines: {individual: 1.0e6}}
        spammers:
          - name: home
            campaign: {messages_per_send: 1000000}
          - name: away
            location: abroad
            campaign: {messages_per_send: 1000000}
        """
    )
    res = spamsim_cli("analytic", str(path), "--json")
    assert res.returncode == 0, res.stderr
    frontier = json.loads(res.stdout)["deterrence_frontier"]
    assert set(frontier) == {"home", "away"}
    oracle = expected(spamsim.load(path)).frontier
    home = oracle[oracle.spammer == "home"]
    assert [row["caught_probability"] for row in frontier["home"]] == pytest.approx(home["caught_probability"].tolist())
    assert [row["zero_profit_fine"] for row in frontier["home"]] == pytest.approx(home["zero_profit_fine"].tolist())
    assert all(row["zero_profit_fine"] is None for row in frontier["away"])
    point = frontier["home"][len(frontier["home"]) // 2]
    on_frontier = spamsim.load(
        path,
        [
            f"enforcement.caught_probability={point['caught_probability']!r}",
            f"enforcement.fines.individual={point['zero_profit_fine']!r}",
        ],
    )
    assert expected(on_frontier).per_spammer.loc["home", "net_profit"] == pytest.approx(0.0, abs=1e-3)


def test_the_oracle_says_it_does_not_apply_to_parameters_that_change_over_time():
    """The closed form has no time-varying parameters: a schedule on a parameter it reads,
    or a scheduled event, makes it inapplicable (with the reason), and it does not crash."""
    lecture = SCENARIOS / "lecture.yaml"
    scheduled = expected(spamsim.load(lecture, ["market.success_rate={0: 0.01, 1: 0.02}"]))
    assert not scheduled.applicable
    assert "market.success_rate changes over time (a schedule)" in scheduled.reasons
    assert scheduled.totals["revenue"] == pytest.approx(5_000_000)  # the schedule's first value
    event = expected(spamsim.load(lecture, ["events=[{day: 0.5, set: {market.success_rate: 0.02}}]"]))
    assert not event.applicable and "scheduled events change parameters during the run" in event.reasons
    # A schedule on a part the closed form does not read leaves it applicable.
    elsewhere = spamsim.load(lecture, ["countermeasures.op25b={adoption: {0: 0.1, 1: 0.9}}"])
    assert expected(elsewhere).applicable
