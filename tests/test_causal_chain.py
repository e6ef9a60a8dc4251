"""The lecture's causal chain, mechanism by mechanism (issue 11).

Each test builds a small world in which one link of the chain has a closed form, and holds
the simulation to it: OP25B reroutes bots' direct mail to their networks' submission
servers (a complement to SMTP AUTH, not a substitute); partial OP25B adoption displaces mail
to networks that do not block; hit-and-run bots send before their listing; antivirus is blind
only to the new variant; bots recruit bots; refused attempts do not feed detection unless
asked; several botnets, one taken down by an event; the funnel's visit stage. Tolerances are
4 standard errors of the replication mean (fixed seeds), or exact where no draw is involved.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import spamsim

BOTS = {
    "name": "bots",
    "horizon": {"days": 2, "step_hours": 24},
    "market": {"success_rate": 0.0, "profit_per_sale": 0},
    "channels": {
        "own_server": None,
        "botnet": {"hosts": 1e6, "initial_bots": 1e4, "sends_per_bot_hour": 100, "share_direct_to_mx": 0.6},
    },
    "spammers": [
        {"campaign": {"messages_per_send": 1e6, "sends_per_day": 4, "days": 2}, "strategy": {"mix": {"botnet": 1}}}
    ],
}


def world(base: dict = BOTS, **sections: dict) -> dict:
    data = copy.deepcopy(base)
    for key, value in sections.items():
        if isinstance(value, dict) and isinstance(data.get(key), dict):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data


def total(result: spamsim.Result, metric: str) -> np.ndarray:
    return result.replications[metric].to_numpy(dtype=float)


def within_4_se(values: np.ndarray, expected: float) -> None:
    se = values.std(ddof=1) / math.sqrt(values.size)
    assert abs(values.mean() - expected) <= 4 * se + 1e-9 * abs(expected), (values.mean(), expected, se)


# -- OP25B reroutes, submission auth decides ---------------------------------------------------


def test_op25b_reroutes_direct_mail_to_the_submission_server_where_auth_decides():
    """With every submission server open and no blacklists, OP25B at 1.0 blocks nothing: the
    bots' direct mail goes out through their servers instead (before: lost, 60 % of it).
    With SMTP AUTH on every server it refuses all of it: OP25B x SMTP AUTH are complements."""
    open_servers = spamsim.run(world(countermeasures={"op25b": {"adoption": 1.0}}), reps=50, seed=1)
    np.testing.assert_array_equal(total(open_servers, "delivered"), total(open_servers, "attempted"))
    closed = spamsim.run(
        world(countermeasures={"op25b": {"adoption": 1.0}, "submission_auth": {"mode_share": {"smtp_auth": 1.0}}}),
        reps=50,
        seed=1,
    )
    assert total(closed, "delivered").sum() == 0
    auth_only = spamsim.run(
        world(countermeasures={"submission_auth": {"mode_share": {"smtp_auth": 1.0}}}), reps=200, seed=1
    )
    # SMTP AUTH alone stops only the 40 % submitted: the direct 60 % goes around it.
    within_4_se(total(auth_only, "delivered") / total(auth_only, "attempted"), 0.6)


def test_partial_op25b_displaces_mail_to_networks_that_do_not_block():
    """Two networks with half the bots each; one blocks port 25 and its servers use SMTP AUTH.
    The botmaster sends from the open network first, up to its bots' capacity (1e4/2 bots x
    100 per hour x 6 h = 3e6 per send window, more than a send's 1e6): all mail leaves from the
    open network and is delivered. Spread evenly, half would go to the blocking network and
    its direct and submitted mail would be refused (delivered share 0.5)."""
    sc = world(
        networks=[
            {"name": "blocks", "hosts": 5e5, "op25b": 1.0, "submission": {"smtp_auth": 1.0}},
            {"name": "open", "hosts": 5e5, "op25b": 0.0, "submission": {"smtp_auth": 0.0}},
        ],
        countermeasures={"op25b": {"adoption": 0.5}, "submission_auth": {"mode_share": {"smtp_auth": 0.5}}},
    )
    res = spamsim.run(sc, reps=50, seed=2)
    np.testing.assert_array_equal(total(res, "delivered"), total(res, "attempted"))
    # A bigger campaign than the open network can carry spills onto the blocking one.
    big = copy.deepcopy(sc)
    big["spammers"][0]["campaign"]["messages_per_send"] = 5e6
    res = spamsim.run(big, reps=50, seed=2)
    share = total(res, "delivered") / total(res, "attempted")
    assert 0.55 < share.mean() < 0.65  # 3e6 of 5e6 per window from the open network


def test_stolen_credentials_pass_smtp_auth():
    """A share of bots with their users' credentials gets through SMTP AUTH: delivered share
    = direct + submitted x stolen share."""
    sc = world(countermeasures={"submission_auth": {"mode_share": {"smtp_auth": 1.0}}})
    sc["channels"]["botnet"]["stolen_credentials_share"] = 0.25
    res = spamsim.run(sc, reps=200, seed=3)
    within_4_se(total(res, "delivered") / total(res, "attempted"), 0.6 + 0.4 * 0.25)


# -- listings and lifetimes --------------------------------------------------------------------


@pytest.mark.parametrize(("lifetime", "delay"), [(0.5, 6.0), (6.0, 6.0), (6.0, 0.01), (6.0, 10_000.0)])
def test_hit_and_run_bots_send_before_their_listing(lifetime, delay):
    """Only hit-and-run bots, direct to MX, receivers all on DNSBLs, no policy listing: a bot
    living L hours on average is listed an exponential ``delay`` after it starts, so the
    blacklisted share of its mail is L / (L + delay) (before: 0.5 whatever L and delay)."""
    sc = world(
        channels={
            "own_server": None,
            "botnet": {
                "hosts": 1e6,
                "initial_bots": 0,
                "infection_rate_per_day": 0.05,
                "hit_and_run_share": 1.0,
                "hit_and_run_lifetime_hours": lifetime,
                "sends_per_bot_hour": 10,
                "share_direct_to_mx": 1.0,
            },
        },
        countermeasures={"blacklists": {"adoption": 1.0, "listing_delay_hours": delay, "dynamic_ip_listed_share": 0.0}},
    )
    res = spamsim.run(sc, reps=100, seed=4)
    blocked = total(res, "blocked_by.blacklists") / total(res, "attempted")
    within_4_se(blocked, lifetime / (lifetime + delay))


ANTIVIRUS = {
    "name": "av",
    "horizon": {"days": 8, "step_hours": 24},
    "market": {"success_rate": 0.0, "profit_per_sale": 0},
    "channels": {"own_server": None, "botnet": {"hosts": 1e6, "initial_bots": 1e5}},
    "countermeasures": {
        "antivirus": {"cleanup_rate_per_day": 0.5, "signature_lag_days": 2, "new_variant_every_days": 5}
    },
    "spammers": [{"campaign": {"messages_per_send": 0, "days": 8}, "strategy": {"mix": {"botnet": 1}}}],
}


def test_antivirus_is_blind_only_to_the_new_variant():
    """No new infections; a new variant is released every 5 days with a 2-day lag. The bots
    present at the start carry the first variant, so nobody is cleaned for 2 days; after that,
    old bots are cleaned at 0.5/day even while the later variant (which has no bots) is new.
    Before, antivirus was blind to all bots during every lag: no cleanup in days 5-7."""
    bots = spamsim.run(ANTIVIRUS, reps=20, seed=5).ledger.world["bots"].mean(axis=1)
    days = np.arange(1, 9)
    expected = 1e5 * np.exp(-0.5 * np.clip(days - 2, 0, None))
    np.testing.assert_allclose(bots, expected, rtol=0.01)


@pytest.mark.parametrize("step", [pytest.param(1.0, marks=pytest.mark.slow), 24.0])  # hourly: 288 steps
def test_bots_recruit_bots(step):
    """Contagion only (beta = 0.5 per day, no constant rate): the infected share follows the
    logistic ODE dI/dt = beta I (N - I) / N at every step length, within 4 standard errors
    plus 1 % (contagion is integrated over 6-hour pieces of an absolute clock)."""
    n, i0, beta, days = 1e6, 1e3, 0.5, 12
    sc = world(
        horizon={"days": days, "step_hours": step},
        channels={"own_server": None, "botnet": {"hosts": n, "initial_bots": i0, "contagion_per_day": beta}},
    )
    sc["spammers"][0]["campaign"] = {"messages_per_send": 0, "days": days}
    runs = spamsim.run(sc, reps=20, seed=6).ledger.world["bots"]
    bots, se = runs.mean(axis=1), runs.std(axis=1, ddof=1) / math.sqrt(runs.shape[1])
    t = np.arange(1, bots.size + 1) * step / 24
    ode = solve_ivp(lambda _t, y: beta * y * (n - y) / n, (0, days), [i0], t_eval=t, rtol=1e-10).y[0]
    assert np.all(np.abs(bots - ode) <= 4 * se + 0.01 * ode), np.max(np.abs(bots - ode) / ode)


# -- relays and detection ----------------------------------------------------------------------

RELAYS = {
    "name": "relays",
    "horizon": {"days": 4, "step_hours": 24},
    "market": {"success_rate": 0.0, "profit_per_sale": 0},
    "channels": {"own_server": None, "open_relays": {"count": 1000, "initially_known": 1.0, "capacity_per_hour": 1e4}},
    "countermeasures": {"open_relay_prevention": {"adoption": 0.99}},
    "enforcement": {"detection_per_million_messages": 0.1, "on_conviction": "continue"},
    "spammers": [
        {"campaign": {"messages_per_send": 1e8, "sends_per_day": 1, "days": 4}, "strategy": {"mix": {"open_relays": 1}}}
    ],
}


def test_refused_relay_attempts_feed_detection_only_if_asked():
    """99 % of relays closed: 4e8 attempts, 4e6 relayed. Detections are Poisson with mean
    rate x messages: 0.1 x 4 = 0.4 counting only relayed mail (default), 0.1 x 400 = 40 if
    refused attempts count (before: always the latter)."""
    default = spamsim.run(RELAYS, reps=400, seed=7)
    within_4_se(total(default, "detections"), 0.1 * 4e8 * 0.01 / 1e6)
    counted = spamsim.run(world(RELAYS, enforcement={"count_refused_attempts": True}), reps=100, seed=7)
    within_4_se(total(counted, "detections"), 0.1 * 4e8 / 1e6)


# -- several botnets, a takedown ------------------------------------------------------------------


def test_several_botnets_and_a_takedown_event():
    """Two named botnets share the spammer's volume; an event takes one down on day 2: from
    then its bots send nothing and the other carries on."""
    sc = {
        "name": "takedown",
        "horizon": {"days": 4, "step_hours": 24},
        "market": {"success_rate": 0.0, "profit_per_sale": 0},
        "channels": {
            "own_server": None,
            "botnets": [
                {"name": "rustock", "hosts": 1e6, "initial_bots": 1e4, "sends_per_bot_hour": 100},
                {"name": "cutwail", "hosts": 1e6, "initial_bots": 1e4, "sends_per_bot_hour": 100},
            ],
        },
        "spammers": [
            {
                "campaign": {"messages_per_send": 1e6, "sends_per_day": 4, "days": 4},
                "strategy": {"mix": {"rustock": 1, "cutwail": 1}},
            }
        ],
        "events": [{"day": 2, "note": "Rustock taken down", "set": {"channels.botnets.rustock.taken_down": True}}],
    }
    res = spamsim.run(sc, reps=10, seed=8)
    ledger = res.ledger
    rustock, cutwail = ledger.channels.index("rustock"), ledger.channels.index("cutwail")
    attempted = ledger.flows["attempted"][:, 0]  # [step, channel, rep]
    assert (attempted[:2, rustock] == 2e6).all() and (attempted[2:, rustock] == 0).all()
    assert (attempted[:, cutwail] == 2e6).all()
    # Its queued sends are unsent when their windows close (the last one at the horizon).
    assert (ledger.flows["unsent"][2:, 0, rustock].sum(axis=0) == 4e6).all()


# -- schedules at the time of the event ------------------------------------------------------------


@pytest.mark.parametrize("step", [24, 1])
def test_a_schedule_applies_at_the_time_of_each_send(step):
    """messages_per_send follows {day 0: 1e5, day 1: 1e6}: the sends at hours 0 and 24 carry
    1e5 and 1e6 messages, whatever the ledger's step."""
    res = spamsim.run(
        "scenarios/lecture.yaml",
        reps=4,
        seed=1,
        overrides=[
            "spammers.0.campaign={messages_per_send: {0: 1.0e5, 1: 1.0e6}, days: 2}",
            f"horizon={{days: 2, step_hours: {step}}}",
        ],
    )
    assert (res.replications["attempted"] == 1.1e6).all()


# -- the funnel's visit stage ----------------------------------------------------------------------


def test_funnel_with_a_visit_stage():
    """emails -> site visits -> purchases, as measured campaigns report them: sales per inbox
    message = visit_rate x purchase_rate."""
    sc = {
        "name": "visits",
        "market": {"profit_per_sale": 100, "funnel": {"visit_rate": 0.01, "purchase_rate": 0.05}},
        "spammers": [{"campaign": {"messages_per_send": 1e6}}],
    }
    res = spamsim.run(sc, reps=400, seed=9)
    within_4_se(total(res, "clicked"), 1e6 * 0.01)
    within_4_se(total(res, "sales"), 1e6 * 0.01 * 0.05)
    with pytest.raises(spamsim.ScenarioError, match="exactly one of click_rate or visit_rate"):
        spamsim.load(world(sc, market={"profit_per_sale": 1, "funnel": {"purchase_rate": 0.1}}))
