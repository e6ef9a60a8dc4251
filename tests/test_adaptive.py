"""The rational adaptive spammer (issue 11, item 4): it does not chase noise, drops channels
that lose money, stops when nothing can pay, and still follows a world that changes.

Each statistical test runs fixed seeds; its threshold and the share measured at those
seeds are stated next to it. The scenarios use only fields that older versions knew, so
the same functions measure the earlier rule (see ``measure``).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

import spamsim
from spamsim.model import Streams, World
from spamsim.model.spammer import PLAUSIBLE_LEVEL, QUANTILE_BAND

# The better channel (open relays) converts 5x as often per attempted message as the
# spammer's own server, whose mail filters catch 80 % of: 0.002 vs 0.0004 sales per
# message. 1,000 messages a day, half on each channel at first, give 1 and 0.2 sales a day:
# a median of 0 or 1 sale per channel per daily reassessment.
FEW_SALES = {
    "name": "few-sales",
    "horizon": {"days": 30},
    "market": {"success_rate": 0.002, "profit_per_sale": 100},
    "costs": {"per_message": 0.01},
    "channels": {
        "own_server": {},
        "open_relays": {"count": 1000, "initially_known": 1, "capacity_per_hour": 1e5},
    },
    "countermeasures": {"receiver_filtering": {"catch_rate": 0.0, "catch_rate_by_channel": {"own_server": 0.8}}},
    "spammers": [
        {
            "campaign": {"messages_per_send": 1000, "days": 30},
            "strategy": {"kind": "adaptive", "mix": {"own_server": 0.5, "open_relays": 0.5}, "reaction_days": 1},
        }
    ],
}

# Every message costs 0.2 and earns 0.001 x 100 = 0.1 on average: no channel pays.
NO_MARGIN = {
    "name": "no-margin",
    "horizon": {"days": 20},
    "market": {"success_rate": 0.001, "profit_per_sale": 100},
    "costs": {"per_message": 0.2},
    "channels": {
        "own_server": {},
        "open_relays": {"count": 1000, "initially_known": 1, "capacity_per_hour": 1e5},
    },
    "spammers": [
        {
            "campaign": {"messages_per_send": 1e4, "days": 20},
            "strategy": {"kind": "adaptive", "mix": {"own_server": 0.5, "open_relays": 0.5}, "reaction_days": 1},
        }
    ],
}

# OP25B everywhere and bots that only send direct to MX: the botnet delivers nothing (mail
# that OP25B turns back to the bots' submission servers meets SMTP AUTH, which every server
# uses) and costs 1 / (10 x 24) ~ 0.0042 per message. The own server earns 0.1 per message but carries
# only 60,000 of the 100,000 messages a day (2,500 an hour).
OP25B_BOTNET = {
    "name": "op25b-botnet",
    "horizon": {"days": 30},
    "market": {"success_rate": 0.001, "profit_per_sale": 100},
    "channels": {
        "own_server": {"capacity_per_hour": 2500},
        "botnet": {
            "hosts": 1e5,
            "initial_bots": 1e4,
            "sends_per_bot_hour": 10,
            "share_direct_to_mx": 1.0,
            "rental_cost_per_bot_day": 1,
        },
    },
    "countermeasures": {"op25b": {"adoption": 1.0}, "submission_auth": {"mode_share": {"smtp_auth": 1.0}}},
    "spammers": [
        {
            "campaign": {"messages_per_send": 1e5, "days": 30},
            "strategy": {"kind": "adaptive", "mix": {"own_server": 0.5, "botnet": 0.5}, "reaction_days": 1},
        }
    ],
}


def channel_share(res: spamsim.Result, channel: str, last_days: int) -> np.ndarray:
    """Share of attempted messages sent through ``channel`` over the last days, per replication."""
    attempted = res.ledger.flows["attempted"][-last_days:, 0].sum(axis=0).astype(float)  # [channel, rep]
    c = res.ledger.channels.index(channel)
    return attempted[c] / np.maximum(attempted.sum(axis=0), 1.0)


def measure(reps: int = 200) -> dict[str, float]:
    """The figures quoted in the tests: ``python -c "from tests.test_adaptive import measure; print(measure())"``."""
    few = spamsim.run(FEW_SALES, reps=reps, seed=11)
    op25b = spamsim.run(OP25B_BOTNET, reps=reps, seed=12)
    sales = few.ledger.flows["sales"][:, 0]  # [day, channel, rep]
    return {
        "few_sales.better_channel_majority": float((channel_share(few, "open_relays", 5) > 0.5).mean()),
        "few_sales.median_daily_sales_better_channel": float(np.median(sales[:, 1])),
        "few_sales.median_daily_sales_worse_channel": float(np.median(sales[:, 0])),
        "op25b.botnet_share_last_week": float(channel_share(op25b, "botnet", 7).mean()),
    }


def with_strategy(base: dict, **fields: object) -> dict:
    """``base`` with its spammer's strategy fields changed."""
    scenario = copy.deepcopy(base)
    scenario["spammers"][0]["strategy"].update(fields)
    return scenario


# -- (a) few sales: no chasing of noise -------------------------------------------------------


def test_with_few_sales_it_settles_on_the_channel_that_converts_five_times_better():
    res = spamsim.run(FEW_SALES, reps=200, seed=11)
    sales = res.ledger.flows["sales"][:, 0]  # [day, channel, rep]
    assert np.median(sales) <= 2  # measured: 0 over both channels; 2 on the better one once it carries the volume
    majority = channel_share(res, "open_relays", 5) > 0.5
    # Measured 0.985 (197 of 200; 0.965-0.985 with seeds 1-4); the rule it replaces: 0.43. If
    # 0.965 were the true rate, a share below 0.9 would have probability < 1e-5 under a fresh seed.
    assert majority.mean() >= 0.9


# -- (b) nothing pays: it stops ---------------------------------------------------------------


def test_when_no_channel_can_pay_it_stops_sending_and_quits():
    res = spamsim.run(NO_MARGIN, reps=200, seed=13)
    attempted = res.ledger.flows["attempted"][:, 0].sum(axis=1)  # [day, rep]
    quits = res.ledger.spammer["quits"][:, 0]  # [day, rep]
    assert (quits.sum(axis=0) == 1).all()
    # Measured (seeds 1-6 and 13, 200 replications each): the last mail leaves on day 13 at
    # the latest; 56-61 % see no plausibly profitable channel after the first day and stop
    # at once (57.5 % here); the rest keep only exploration, or for a day a channel that had
    # a lucky sale, until expected daily profit has been negative for 7 days. The rule it
    # replaces sent all 10,000 messages a day until day 7.
    assert (attempted[-5:] == 0).all()
    assert (attempted[1] == 0).mean() >= 0.4
    assert attempted[1:].sum() <= 0.05 * 7 * 1e4 * res.reps  # measured: 0.0099


def test_a_spammer_that_never_quits_sends_nothing_or_only_exploration_when_no_channel_pays():
    res = spamsim.run(with_strategy(NO_MARGIN, quit_after_days=None), reps=200, seed=13)
    attempted = res.ledger.flows["attempted"][:, 0].sum(axis=1)
    assert res.replications["quits"].sum() == 0
    # Exploration keeps at most 2 % (1 % on each channel) of the 10,000 messages a day, and
    # only while a channel is plausibly profitable; a lucky sale may tempt it back for a day
    # or two. Measured: 1.2-1.4 % of the volume over the last 10 days (seeds 1-4 and 13).
    assert attempted[-10:].mean() <= 0.02 * 1e4
    # What it does not send is not demand either.
    demand = res.ledger.flows["demand"][:, 0].sum(axis=1)
    assert (demand[-10:] == attempted[-10:]).all()


def test_the_expected_fine_per_message_counts_against_a_channel():
    # 0.1 earned per message against 10 detections per million x P(conviction) 1 x 20,000
    # = 0.2 expected fine per message: sending does not pay once the fine is counted.
    scenario = {
        "name": "fined",
        "horizon": {"days": 10},
        "market": {"success_rate": 0.001, "profit_per_sale": 100},
        "enforcement": {
            "detection_per_million_messages": 10,
            "fines": {"individual": 2e4},
            "on_conviction": "continue",
        },
        "spammers": [{"campaign": {"messages_per_send": 1e4, "days": 10}, "strategy": {"kind": "adaptive"}}],
    }
    fined = spamsim.run(scenario, reps=100, seed=14)
    attempted = fined.ledger.flows["attempted"][:, 0, 0]
    assert (fined.replications["quits"] == 1).all()
    assert (attempted[-2:] == 0).all()
    assert (attempted[1] == 0).mean() >= 0.8  # measured 0.93: the rest explore until they quit
    free = spamsim.run(scenario, reps=100, seed=14, overrides=["enforcement.enabled=false"])
    assert (free.replications["quits"] == 0).all()
    assert (free.ledger.flows["attempted"][:, 0, 0] == 1e4).all()


# -- (c) a channel that delivers nothing --------------------------------------------------------


def test_it_keeps_only_exploration_on_a_botnet_that_op25b_cuts_off():
    res = spamsim.run(OP25B_BOTNET, reps=200, seed=12)
    share = channel_share(res, "botnet", 7)
    # Measured 0.0164 in every replication: exploration keeps 1 % of the 100,000 messages a
    # day on the botnet (2 % over 2 channels) next to the server's 60,000; the rule it
    # replaces kept 0.40 there.
    assert share.max() <= 0.02
    own = res.ledger.channels.index("own_server")
    assert (res.ledger.flows["attempted"][-7:, 0, own] == 60_000).all()


# -- (d) displacement: tests/test_world.py::test_adaptive_spammer_moves_away_from_a_blocked_channel...


# -- the estimator and the mix ------------------------------------------------------------------


def small_world(scenario: dict, size: int = 1) -> World:
    return World(spamsim.load(copy.deepcopy(scenario)), Streams(0, 0), size)


def test_margins_are_the_documented_gamma_poisson_posterior():
    world = small_world(FEW_SALES)
    spammer = world.spammers[0]
    attempted, sales, cost = np.array([[4000.0], [1000.0]]), np.array([[3.0], [0.0]]), np.array([[40.0], [10.0]])
    spammer.evidence = {"attempted": attempted, "sales": sales, "cost": cost}
    margin, plausible = spammer._margins()
    upper = spammer._upper_margins()
    pooled = (3 + 0.5) / 5000
    prior_sales = 1.0  # the default
    for c in range(2):
        posterior = stats.gamma(prior_sales + sales[c, 0], scale=1 / (prior_sales / pooled + attempted[c, 0]))
        np.testing.assert_allclose(margin[c, 0], posterior.mean() * 100 - 0.01)
        alone = stats.gamma(0.5 + sales[c, 0], scale=1 / attempted[c, 0])  # Jeffreys' prior, no pooling
        np.testing.assert_allclose(upper[c, 0], alone.ppf(0.9) * 100 - 0.01)


def test_the_quantile_band_holds_at_the_plausible_level():
    """``_margins`` settles most signs by QUANTILE_BAND instead of gammaincinv: the band must
    hold the Gamma(a) quantile for every a the evidence can give (a >= 1/2)."""
    a = np.concatenate([np.linspace(0.5, 10, 20_000), np.geomspace(10, 1e15, 20_000)])
    spread = (special.gammaincinv(a, PLAUSIBLE_LEVEL) - a) / np.sqrt(a)
    assert QUANTILE_BAND[0] < spread.min() and spread.max() < QUANTILE_BAND[1]


@settings(max_examples=300, deadline=None)
@given(
    attempted=st.lists(st.sampled_from([0.0, 1.0, 37.5, 1e3, 2e5, 3e7, 1e10]), min_size=6, max_size=6),
    sales=st.lists(st.one_of(st.integers(0, 4).map(float), st.floats(0.0, 5e3)), min_size=6, max_size=6),
    spread=st.lists(st.floats(0.8, 1.7), min_size=6, max_size=6),
)
def test_plausible_is_the_sign_of_the_upper_bound(attempted, sales, spread):
    """The shortcut changes no decision: plausible exactly where the documented bound is positive.

    Each channel's cost puts its break-even sales rate at ``a + spread * sqrt(a)`` sales
    (``a`` = sales + 1/2, profit 100 per sale): around the quantile, where the band decides."""
    world = small_world(FEW_SALES, size=3)
    spammer = world.spammers[0]
    shape = spammer.evidence["attempted"].shape
    a = np.array(sales) + 0.5
    spammer.evidence = {
        "attempted": np.array(attempted).reshape(shape),
        "sales": np.array(sales).reshape(shape),
        "cost": ((a + np.array(spread) * np.sqrt(a)) * 100.0).reshape(shape),
    }
    _, plausible = spammer._margins()
    np.testing.assert_array_equal(plausible, spammer._upper_margins() > 0)


def test_an_untried_channel_is_explored_but_not_exploited():
    world = small_world(FEW_SALES)
    spammer = world.spammers[0]
    spammer.evidence["attempted"][:] = [[1000.0], [0.0]]
    spammer.evidence["sales"][:] = [[2.0], [0.0]]
    margin, plausible = spammer._margins()
    assert margin[1, 0] == -np.inf and spammer._upper_margins()[1, 0] == np.inf and plausible[1, 0]


def test_evidence_fades_with_memory_days():
    world = small_world(with_strategy(FEW_SALES, memory_days=10))
    spammer = world.spammers[0]
    spammer.evidence["sales"][:] = 5.0
    spammer.seen["sales"][:] = 1.0
    spammer._remember(days=2.0)
    np.testing.assert_allclose(spammer.evidence["sales"], 5.0 * np.exp(-0.2) + 1.0)
    forever = small_world(with_strategy(FEW_SALES, memory_days=None)).spammers[0]
    forever.evidence["sales"][:] = 5.0
    forever._remember(days=2.0)
    np.testing.assert_allclose(forever.evidence["sales"], 5.0)


def test_a_partial_mix_sends_only_its_share_and_books_only_that_as_demand():
    world = small_world(FEW_SALES, size=3)
    spammer = world.spammers[0]
    spammer.mix = np.array([[0.3, 0.0, 0.5], [0.2, 0.0, 0.5]])
    parts = spammer.split(np.array([1001, 1000, 7]))
    assert parts.sum(axis=0).tolist() == [round(1001 * 0.5), 0, 7]
    res = spamsim.run(OP25B_BOTNET, reps=20, seed=1)
    flows = res.ledger.flows
    np.testing.assert_array_equal(flows["demand"].sum(axis=0), (flows["attempted"] + flows["unsent"]).sum(axis=0))


# -- the scenario fields ------------------------------------------------------------------------


def test_old_strategies_load_with_the_new_defaults_and_new_fields_are_checked():
    old = spamsim.load(copy.deepcopy(FEW_SALES)).spammers[0].strategy
    assert (old.prior_sales, old.memory_days) == (1.0, 14.0)
    assert spamsim.load(with_strategy(FEW_SALES, memory_days=None)).spammers[0].strategy.memory_days is None
    for field, value in [("prior_sales", 0), ("memory_days", 0)]:
        with pytest.raises(Exception, match=field):
            spamsim.load(with_strategy(FEW_SALES, **{field: value}))


def test_the_spammers_own_books_match_the_ledger_at_any_step():
    """The world books what a spammer attempts, sells and pays into its own books (``seen``)
    as each interval is integrated, not from the ledger's steps: with a fixed strategy (never
    reassessed, so the books hold the whole run) they equal the ledger's totals at 24 h and
    1 h steps."""
    totals = []
    for step in (24, 1):
        scenario = copy.deepcopy(FEW_SALES)
        scenario["horizon"]["step_hours"] = step
        scenario["spammers"][0]["strategy"] = {"kind": "fixed", "mix": scenario["spammers"][0]["strategy"]["mix"]}
        world = small_world(scenario, size=64)
        ledger = world.run()
        spammer = world.spammers[0]
        booked = ledger.flows["attempted"][:, 0].sum(axis=0)
        totals.append((spammer.seen["attempted"].sum(), booked.sum()))
    for seen, booked in totals:
        assert seen == booked  # fixed strategy: never reassessed, so seen holds the whole run
