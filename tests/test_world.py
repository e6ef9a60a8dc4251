"""The discrete-event world: conservation, exact vs batched, monotonicity, common random numbers,
botnet mean-field ODE, and closed forms for simple funnels."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.integrate import solve_ivp

import spamsim
from spamsim.model import Streams, World

ALL_CHANNELS = {
    "name": "all",
    "horizon": {"days": 4, "step_hours": 12},
    "market": {"success_rate": 0.002, "profit_per_sale": 100},
    "costs": {"per_message": 0.001, "per_send": 10, "fixed_per_day": 50},
    "legitimate_mail": {"messages_per_day": 20000},
    "channels": {
        "own_server": {"cost_per_day": 5},
        "open_relays": {"count": 200, "capacity_per_hour": 50, "initially_known": 0.3},
        "botnet": {
            "hosts": 5000,
            "initial_bots": 300,
            "infection_rate_per_day": 0.01,
            "sends_per_bot_hour": 5,
            "share_direct_to_mx": 0.6,
            "rental_cost_per_bot_day": 0.1,
            "hit_and_run_share": 0.3,
            "hit_and_run_lifetime_hours": 12,
            "hit_and_run_burst": 3,
        },
        "compromised_accounts": {"initial_accounts": 20, "theft_per_day": 5, "sends_per_account_hour": 10},
    },
    "countermeasures": {
        "open_relay_prevention": {"adoption": {"0": 0.2, "4": 0.9}},
        "submission_auth": {"mode_share": {"ip_restricted": 0.2, "pop_before_smtp": 0.3, "smtp_auth": 0.3}},
        "op25b": {"adoption": 0.5},
        "rate_limiting": {"messages_per_account_hour": 6},
        "receiver_filtering": {
            "catch_rate": 0.6,
            "catch_rate_by_channel": {"compromised_accounts": 0.2},
            "false_positive_rate": 0.01,
        },
        "blacklists": {"adoption": 0.7, "listing_delay_hours": 12},
        "antivirus": {"cleanup_rate_per_day": 0.1, "signature_lag_days": 1, "new_variant_every_days": 2},
    },
    "enforcement": {"caught_probability": 0.2, "detection_per_million_messages": 5, "fines": {"individual": 1000}},
    "spammers": [
        {
            "name": "a",
            "campaign": {"messages_per_send": 2000, "sends_per_day": 4, "days": 4},
            "strategy": {"mix": {"own_server": 1, "open_relays": 1, "botnet": 2, "compromised_accounts": 1}},
        },
        {
            "name": "b",
            "location": "abroad",
            "campaign": {"messages_per_send": 500, "sends_per_day": 2, "days": 3, "start_day": 1},
            "strategy": {"kind": "adaptive", "mix": {"botnet": 1}, "reaction_days": 1, "quit_after_days": 2},
        },
    ],
}


def with_changes(base: dict, *edits: str) -> spamsim.Scenario:
    return spamsim.load(copy.deepcopy(base), list(edits))


# -- conservation -----------------------------------------------------------------------------


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**63),
    adoption=st.floats(0, 1),
    catch=st.floats(0, 1),
    volume=st.sampled_from([0, 1, 7, 1000, 10**6, 10**12]),
    direct=st.floats(0, 1),
)
def test_messages_and_money_are_conserved(seed, adoption, catch, volume, direct):
    sc = with_changes(
        ALL_CHANNELS,
        f"countermeasures.op25b.adoption={adoption}",
        f"countermeasures.receiver_filtering.catch_rate={catch}",
        f"spammers.a.campaign.messages_per_send={volume}",
        f"channels.botnet.share_direct_to_mx={direct}",
    )
    res = spamsim.run(sc, reps=5, seed=seed)
    lg = res.ledger
    f = lg.flows
    blocked = sum(lg.blocked_by.values()) if lg.blocked_by else 0
    # Every step, spammer and channel: attempted = sum(blocked_by) + delivered, exactly.
    assert np.array_equal(f["attempted"], blocked + f["delivered"])
    # A send drains over time and may carry over step ends: demand is booked at the send,
    # attempted as it drains, unsent when its window closes — so they balance over the run.
    assert np.array_equal(f["demand"].sum(axis=0), (f["attempted"] + f["unsent"]).sum(axis=0))
    assert np.array_equal(f["delivered"], f["filtered"] + f["inbox"])
    assert np.all(f["arriving"] <= f["attempted"]) and np.all(f["delivered"] <= f["arriving"])
    assert np.all(f["sales"] <= f["inbox"])
    for array in [*f.values(), *lg.blocked_by.values(), *lg.spammer.values(), *lg.world.values()]:
        assert np.all(np.isfinite(array)) and np.all(array >= 0)
    reps = res.replications
    money = reps["revenue"] - reps["cost"] - reps["fines"]
    np.testing.assert_allclose(reps["net_profit"], money, rtol=1e-12, atol=1e-6)
    assert reps["attempted"].sum() == pytest.approx(
        reps["delivered"].sum() + sum(reps[c].sum() for c in reps.columns if c.startswith("blocked_by."))
    )
    bots, hosts = lg.world["bots"] + lg.world["hit_and_run_bots"], 5000
    assert np.all(bots <= hosts) and np.all(lg.world["accounts"] >= 0)


# -- exact mode -------------------------------------------------------------------------------


def test_exact_and_batched_modes_agree_in_distribution():
    # Two-sample Kolmogorov-Smirnov tests on 600 replications per mode, for several
    # outputs; alpha = 0.001 per test (Bonferroni over 6 tests: family-wise false-failure
    # rate < 0.6 %). The exact mode draws one uniform per message at every stage.
    base = copy.deepcopy(ALL_CHANNELS)
    base["spammers"][1]["strategy"] = {"kind": "fixed", "mix": {"botnet": 1}}
    batched = spamsim.run(with_changes(base), reps=600, seed=101).replications
    exact = spamsim.run(with_changes(base, "engine.mode=exact"), reps=600, seed=202).replications
    for metric in [
        "attempted",
        "delivered",
        "filtered",
        "sales",
        "blocked_by.blacklists",
        "blocked_by.submission_auth",
    ]:
        p = stats.ks_2samp(batched[metric], exact[metric]).pvalue
        assert p > 0.001, f"{metric}: KS p = {p:.2g}"


def test_exact_mode_refuses_huge_volumes():
    sc = spamsim.load("scenarios/lecture.yaml", ["engine.mode=exact", "spammers.0.campaign.messages_per_send=1e12"])
    with pytest.raises(spamsim.runner.RefusedError, match="exact mode would draw"):
        spamsim.run(sc, reps=10)


# -- countermeasures and common random numbers ----------------------------------------------


FIXED = copy.deepcopy(ALL_CHANNELS)
FIXED["spammers"][1]["strategy"] = {"kind": "fixed", "mix": {"botnet": 1, "open_relays": 1}}
# OP25B is not here: it reroutes bots' direct mail to their networks' submission servers,
# which may deliver more of it than the blacklists would let through (tests/test_causal_chain.py).
STAGE_OF = {
    "open_relay_prevention": "open_relays",
    "submission_auth": "botnet",
    "rate_limiting": "compromised_accounts",
    "blacklists": "own_server",
}


@pytest.mark.parametrize("countermeasure", sorted(STAGE_OF))
def test_switching_a_countermeasure_on_never_increases_what_passes_it(countermeasure):
    channel = STAGE_OF[countermeasure]
    on = spamsim.run(with_changes(FIXED), reps=400, seed=5)
    off = spamsim.run(with_changes(FIXED, f"countermeasures.{countermeasure}.enabled=false"), reps=400, seed=5)
    c = on.ledger.channels.index(channel)
    passed_on = on.ledger.flows["delivered"][:, :, c].sum(axis=(0, 1))
    passed_off = off.ledger.flows["delivered"][:, :, c].sum(axis=(0, 1))
    # Paired on common random numbers: the mean difference must not be positive beyond
    # 4 standard errors (false-failure rate ~3e-5 if the true effect were zero).
    diff = passed_on - passed_off
    se = diff.std(ddof=1) / np.sqrt(diff.size)
    assert diff.mean() <= 4 * se
    assert on.ledger.blocked_by[countermeasure][:, :, c].sum() > 0
    assert countermeasure not in off.ledger.blocked_by or off.ledger.blocked_by[countermeasure].sum() == 0


def test_a_switch_does_not_reshuffle_other_actors_draws():
    # With a fixed mix, OP25B acts on the botnet only: every other channel sees identical
    # draws, replication by replication (common random numbers by construction).
    # Volume-based detection is off: the mail OP25B's rerouting gets refused would otherwise
    # change the detection hazard, and with it when the spammer is stopped on every channel.
    quiet = "enforcement.detection_per_million_messages=0"
    on = spamsim.run(with_changes(FIXED, quiet), reps=50, seed=9)
    off = spamsim.run(with_changes(FIXED, quiet, "countermeasures.op25b.enabled=false"), reps=50, seed=9)
    for channel in ["own_server", "open_relays", "compromised_accounts"]:
        c = on.ledger.channels.index(channel)
        for metric in ["attempted", "delivered", "sales"]:
            assert np.array_equal(on.ledger.flows[metric][:, :, c], off.ledger.flows[metric][:, :, c])
    b = on.ledger.channels.index("botnet")
    assert not np.array_equal(on.ledger.flows["delivered"][:, :, b], off.ledger.flows["delivered"][:, :, b])
    np.testing.assert_array_equal(on.ledger.world["bots"], off.ledger.world["bots"])


def test_a_switch_leaves_the_draws_of_other_stages_unchanged():
    """Streams are keyed by stage as well as actor and step: switching receiver filtering off
    leaves every sending-side stage (OP25B, submission auth, blacklists, rate limits) and the
    populations drawing exactly the same numbers, replication by replication."""
    on = spamsim.run(with_changes(FIXED), reps=50, seed=9)
    off = spamsim.run(with_changes(FIXED, "countermeasures.receiver_filtering.enabled=false"), reps=50, seed=9)
    for name, blocked in on.ledger.blocked_by.items():
        np.testing.assert_array_equal(blocked, off.ledger.blocked_by[name], err_msg=name)
    np.testing.assert_array_equal(on.ledger.flows["delivered"], off.ledger.flows["delivered"])
    np.testing.assert_array_equal(on.ledger.world["bots"], off.ledger.world["bots"])
    assert not np.array_equal(on.ledger.flows["inbox"], off.ledger.flows["inbox"])


# -- populations ------------------------------------------------------------------------------


@pytest.mark.parametrize("step_h", [1.0, 24.0, 168.0])
def test_botnet_mean_follows_the_mean_field_ode(step_h):
    """The botnet's mean population at every step end against ``solve_ivp`` of its ODE.

    States: clean, visible bots and hit-and-run bots, and the bots of the newest variant
    while antivirus has no signature for it (released every ``every`` days, visible ``lag``
    days later; the bots present at the start carry the variant released at the start).
    Tolerance: 4 standard errors of the replication mean plus 0.1 % (the ODE solver's and
    the piecewise schedule's own error); the issue asks for 1 % at every step length.
    """
    hosts, initial, lam, c, h, life_h = 100_000, 2_000, 0.02, 0.15, 0.25, 8.0
    days, lag, every = 21, 2.0, 7.0
    sc = spamsim.load(
        {
            "name": "ode",
            "horizon": {"days": days, "step_hours": step_h},
            "market": {"success_rate": 0.0, "profit_per_sale": 0},
            "channels": {
                "botnet": {
                    "hosts": hosts,
                    "initial_bots": initial,
                    "infection_rate_per_day": lam,
                    "hit_and_run_share": h,
                    "hit_and_run_lifetime_hours": life_h,
                }
            },
            "countermeasures": {
                "antivirus": {"cleanup_rate_per_day": c, "signature_lag_days": lag, "new_variant_every_days": every}
            },
            "spammers": [{"campaign": {"messages_per_send": 0, "days": days}, "strategy": {"mix": {"botnet": 1}}}],
        }
    )
    res = spamsim.run(sc, reps=100, seed=3)
    bots = res.ledger.world["bots"]  # [step, rep], state at each step's end
    hr = res.ledger.world["hit_and_run_bots"]
    vanish = 24 / life_h

    def rhs(t, y):
        b, r, bi, ri = y  # visible bots, visible hit-and-run, invisible (newest variant) of each
        clean = hosts - b - r - bi - ri
        blind = (t % every) < lag
        new_b, new_r = lam * (1 - h) * clean, lam * h * clean
        return [
            (0 if blind else new_b) - c * b,
            (0 if blind else new_r) - (c + vanish) * r,
            new_b if blind else 0.0,
            new_r - vanish * ri if blind else -vanish * ri,
        ]

    # Integrate piece by piece between releases and signatures, merging the invisible class
    # into the visible one when its signature ships.
    t_end = np.arange(1, bots.shape[0] + 1) * step_h / 24
    t_end = np.minimum(t_end, days)
    cuts = sorted(
        {0.0, float(days), *[k * every + d for k in range(4) for d in (0.0, lag) if 0 < k * every + d < days]}
    )
    y = np.array([0.0, 0.0, initial, 0.0])
    b_at, r_at = np.zeros_like(t_end), np.zeros_like(t_end)
    for lo, hi in zip(cuts[:-1], cuts[1:], strict=True):
        inside = (t_end > lo) & (t_end <= hi)
        sol = solve_ivp(
            rhs, (lo, hi), y, t_eval=t_end[inside] if inside.any() else None, rtol=1e-10, atol=1e-6, dense_output=False
        )
        if inside.any():
            b_at[inside] = sol.y[0] + sol.y[2]
            r_at[inside] = sol.y[1] + sol.y[3]
        y = (
            sol.y[:, -1]
            if not inside.any() or sol.t[-1] == hi
            else solve_ivp(rhs, (lo, hi), y, rtol=1e-10, atol=1e-6).y[:, -1]
        )
        if np.isclose(hi % every, lag):  # the signature ships: the invisible class becomes visible
            y = np.array([y[0] + y[2], y[1] + y[3], 0.0, 0.0])
    for sim, expected in ((bots, b_at), (hr, r_at)):
        mean = sim.mean(axis=1)
        se = sim.std(axis=1, ddof=1) / np.sqrt(sim.shape[1])
        assert np.all(np.abs(mean - expected) <= 4 * se + 0.001 * expected + 1), np.max(
            np.abs(mean - expected) / (se + 1)
        )


def test_open_relays_are_discovered():
    sc = with_changes(FIXED)
    world = World(sc, Streams(1, 0), 8)
    ledger = world.run()
    known = ledger.world["relays_known"]
    assert np.all(np.diff(known, axis=0) >= 0) and np.all(known <= 200) and known[-1].mean() > known[0].mean()


# -- closed forms -----------------------------------------------------------------------------


def test_channel_funnel_matches_closed_form():
    # Own server, half the receivers use blacklists that list the server immediately after
    # the first step; here with blacklists off: E[sales] = N (1 - catch) s exactly.
    n, catch, s = 4 * 250_000, 0.7, 0.003
    sc = spamsim.load(
        {
            "name": "closed",
            "market": {"success_rate": s, "profit_per_sale": 10},
            "countermeasures": {"receiver_filtering": {"catch_rate": catch}},
            "spammers": [{"campaign": {"messages_per_send": 250_000, "sends_per_day": 4}}],
        }
    )
    summary = spamsim.run(sc, reps=1000, seed=8).summary
    for metric, expected in [
        ("filtered", n * catch),
        ("sales", n * (1 - catch) * s),
        ("revenue", n * (1 - catch) * s * 10),
    ]:
        assert abs(summary.loc[metric, "mean"] - expected) <= 4 * summary.loc[metric, "se"]


def test_submission_auth_closed_form_for_bots():
    # All bot mail via submission servers: P(refused) = smtp_auth + pop * exp(-k r w).
    window, rate, nat, pop, auth = 10.0, 1.5, 3.0, 0.4, 0.35
    sc = spamsim.load(
        {
            "name": "submission",
            "market": {"success_rate": 0.0, "profit_per_sale": 0},
            "channels": {
                "own_server": None,
                "botnet": {
                    "hosts": 1e6,
                    "initial_bots": 1e5,
                    "sends_per_bot_hour": 1,
                    "share_direct_to_mx": 0,
                    "pop_logins_per_hour": rate,
                    "nat_hosts_per_address": nat,
                },
            },
            "countermeasures": {
                "submission_auth": {
                    "pop_window_minutes": window,
                    "mode_share": {"pop_before_smtp": pop, "smtp_auth": auth, "ip_restricted": 0.1},
                }
            },
            "spammers": [{"campaign": {"messages_per_send": 1e6}, "strategy": {"mix": {"botnet": 1}}}],
        }
    )
    res = spamsim.run(sc, reps=500, seed=4)
    p = auth + pop * np.exp(-nat * rate * window / 60)
    row = res.summary.loc["blocked_by.submission_auth"]
    assert abs(row["mean"] - 1e6 * p) <= 4 * row["se"]


def test_adaptive_spammer_moves_away_from_a_blocked_channel_and_records_it():
    sc = spamsim.load(
        {
            "name": "displace",
            "horizon": {"days": 20},
            "market": {"success_rate": 0.001, "profit_per_sale": 100},
            "channels": {
                "own_server": None,
                "open_relays": {"count": 1000, "initially_known": 1, "capacity_per_hour": 1e5},
                # Renting bots costs 12 / (10 * 24) = 0.05 per message against 0.1
                # revenue: relays are better until prevention passes 50 % (day ~5).
                "botnet": {"hosts": 1e6, "initial_bots": 1e5, "sends_per_bot_hour": 10, "rental_cost_per_bot_day": 12},
            },
            "countermeasures": {"open_relay_prevention": {"adoption": {"0": 0.0, "10": 0.98}}},
            "spammers": [
                {
                    "campaign": {"messages_per_send": 1e6, "days": 20},
                    "strategy": {"kind": "adaptive", "mix": {"open_relays": 0.9, "botnet": 0.1}, "reaction_days": 1},
                }
            ],
        }
    )
    res = spamsim.run(sc, reps=50, seed=2)
    ts = res.timeseries.groupby(["step", "channel"])["attempted"].mean().unstack()
    share = ts["botnet"] / ts.sum(axis=1)
    assert share.iloc[:4].max() < 0.2 and share.iloc[-3:].min() > 0.8
    assert (res.replications["switches"] >= 1).all()


def test_deterrence_makes_an_adaptive_spammer_quit():
    sc = spamsim.load(
        {
            "name": "deter",
            "horizon": {"days": 30},
            "market": {"success_rate": 1e-4, "profit_per_sale": 100},
            "enforcement": {"caught_probability": 0.5, "fines": {"corporation": 3e7}},
            "spammers": [
                {
                    "legal_form": "corporation",
                    "campaign": {"messages_per_send": 1e5, "days": 30},
                    "strategy": {"kind": "adaptive", "quit_after_days": 3},
                }
            ],
        }
    )
    res = spamsim.run(sc, reps=100, seed=1)
    # Expected daily profit 1e5 * 1e-4 * 100 = 1,000 JPY against an expected fine of
    # -ln(0.5)/30 * 3e7 ~ 693,000 JPY per day: every spammer quits after 3 days, unless
    # convicted (and stopped) before.
    reps = res.replications
    assert ((reps["quits"] + reps["convictions"]) == 1).all() and reps["quits"].mean() > 0.8
    assert reps["attempted"].max() <= 3 * 1e5


# -- the batched multinomial ------------------------------------------------------------------


@pytest.mark.parametrize("k", [2, 3, 5])
def test_the_batched_multinomial_has_the_multinomial_law(k):
    """``sampling.multinomial`` (chained binomials for all replications at once) against the
    multinomial's closed form: counts add up exactly; each category's mean ``n p_j`` and the
    covariances ``n (diag(p) - p p^T)`` within 4 standard errors, 20,000 draws per row."""
    from spamsim.model.sampling import multinomial

    rng = np.random.default_rng(k)
    p = rng.dirichlet(np.ones(k))
    p[0] = 0.0  # an empty category draws nothing
    p /= p.sum()
    size, n = 20_000, 5_000
    draws = multinomial(np.random.default_rng(7), np.full(size, n), np.broadcast_to(p, (size, k)))
    assert (draws.sum(axis=1) == n).all() and (draws[:, 0] == 0).all()
    cov = n * (np.diag(p) - np.outer(p, p))
    var = np.diag(cov)
    se_mean = np.sqrt(var / size)
    assert np.all(np.abs(draws.mean(axis=0) - n * p) <= 4 * se_mean + 1e-12)
    se_cov = np.sqrt((np.outer(var, var) + cov**2) / size)
    assert np.all(np.abs(np.cov(draws, rowvar=False) - cov) <= 4 * se_cov + 1e-12)
