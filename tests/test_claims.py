"""Every claim a shipped scenario's header makes, checked against that scenario's own output.

One run per scenario (a few dozen replications, fixed seed), shared by the checks of its
header. A number the header quotes is held to it within ``K_SE`` standard errors of the mean
over replications (false-failure rate well under 1e-4 per check for normal means); a
direction ("rises", "pays", "shrinks") must hold with the 95 % CI on the right side of zero.
Claims about inputs (an adoption path, a fine) are checked on the loaded scenario. The
headers' performance targets are benchmarks, not tests (tests never time the machine).

The report's claim about the externality ratio is checked here too: its parts, its
currency-aware unit costs, and the note on how it compares with Rao & Reiley's ~100 : 1.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import spamsim as ss
from spamsim.analysis.analytic import expected
from spamsim.analysis.costs import defender_cost
from spamsim.analysis.externality import DEFAULTS, PUBLISHED_RATIO, SocialCost, externality_of_run

from .conftest import SCENARIOS, spamsim_cli

# Its data is computed once per test process (module fixtures, caches): keep the module on one
# xdist worker (`make test` runs with --dist loadgroup) so that it is not computed twice.
pytestmark = pytest.mark.xdist_group("test_claims")

SEED = 2011
K_SE = 4.0
"""Tolerance of a quoted number, in standard errors of the mean."""


def run(name: str, reps: int, *overrides: str) -> ss.Result:
    return ss.run(SCENARIOS / name, reps=reps, seed=SEED, overrides=list(overrides))


def ci95(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and Student-t 95 % CI of the mean."""
    x = np.asarray(values, dtype=float)
    mean = float(x.mean())
    half = float(stats.t.ppf(0.975, x.size - 1)) * float(x.std(ddof=1)) / math.sqrt(x.size)
    return mean, mean - half, mean + half


def near(result: ss.Result, metric: str, target: float) -> bool:
    """Whether the mean of ``metric`` is within ``K_SE`` standard errors of ``target``
    (an exact match when it does not vary)."""
    row = result.summary.loc[metric]
    se = float(row["se"]) if np.isfinite(row["se"]) else 0.0
    return abs(float(row["mean"]) - target) <= K_SE * se + 1e-9 * abs(target)


def share_by_third(result: ss.Result, channel: str, metric: str) -> pd.DataFrame:
    """Per replication: ``channel``'s share of ``metric`` in each third of the horizon."""
    ts = result.timeseries
    n_steps = int(ts["step"].max()) + 1
    third = np.minimum(ts["step"].to_numpy() * 3 // n_steps, 2)
    ts = ts.assign(third=third, mine=np.where(ts["channel"] == channel, ts[metric], 0.0))
    sums = ts.groupby(["rep", "third"])[["mine", metric]].sum()
    return (sums["mine"] / sums[metric]).unstack("third")


# -- lecture.yaml -------------------------------------------------------------------------------


def test_lecture_one_send_earns_five_million_yen():
    # "0.01 x 500 JPY x 1,000,000 messages = 5,000,000 JPY per send"; "no costs, no enforcement".
    r = run("lecture.yaml", 200)
    assert r.summary.loc["attempted", "mean"] == 1_000_000
    assert near(r, "revenue", 5_000_000)
    assert r.summary.loc["cost", "mean"] == 0 and r.summary.loc["fines", "mean"] == 0


def test_lecture_ten_thousand_messages_earn_fifty_thousand_yen():
    # "(and 50,000 JPY for 10,000 messages: ... messages_per_send=10000)"
    r = run("lecture.yaml", 400, "spammers.lecturer.campaign.messages_per_send=10000")
    assert near(r, "revenue", 50_000)


# -- lecture-uncertain.yaml ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def uncertain() -> ss.Result:
    return run("lecture-uncertain.yaml", 400)


def test_lecture_uncertain_same_send_and_mean_revenue(uncertain):
    # "the same send as lecture.yaml", success rate with mean 0.01, profit around 500 JPY.
    assert uncertain.summary.loc["attempted", "mean"] == 1_000_000
    assert near(uncertain, "revenue", 5_000_000)


def test_lecture_uncertain_interval_shows_the_market_not_binomial_noise(uncertain):
    # "the confidence interval of the revenue shows the uncertainty about the market, not only
    # the binomial noise of 1,000,000 messages": the spread over replications is many times the
    # binomial spread (sd of sales sqrt(1e6 x 0.01 x 0.99) ~ 99.5, x 500 JPY ~ 50,000 JPY).
    binomial_sd = math.sqrt(1e6 * 0.01 * 0.99) * 500
    assert uncertain.summary.loc["revenue", "sd"] > 10 * binomial_sd


def test_lecture_uncertain_revenue_stays_large(uncertain):
    # "revenue stays large 'even if the success rate varies'": in at least 95 % of the
    # replications one send still earns over 1,000,000 JPY.
    revenue = uncertain.replications["revenue"].to_numpy()
    assert (revenue > 1_000_000).mean() >= 0.95


# -- open-relay-era.yaml ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def open_relay() -> ss.Result:
    return run("open-relay-era.yaml", 60)


def test_open_relay_era_spam_rides_relays_and_pays(open_relay):
    # "A spammer with no servers of its own pushes its campaign through mail servers that relay
    # for anyone ... even a tiny success rate makes money."
    assert list(open_relay.by_channel.index) == ["open_relays"]
    assert open_relay.summary.loc["net_profit", "ci95_low"] > 0
    assert open_relay.scenario.market.success_rate == pytest.approx(1 / 12.5e6)


def test_open_relay_era_finds_relays_by_scanning(open_relay):
    # "It knows some relays and finds more by scanning."
    known = open_relay.world_timeseries.groupby("step")["relays_known"].mean()
    assert known.iloc[-1] > known.iloc[0] > 0


def test_open_relay_era_almost_nobody_has_closed_their_relay(open_relay):
    # "almost nobody has closed their relay yet ... few receivers consult a blacklist, and
    # content filters are weak": relay prevention refuses under 10 % of attempts, blacklists
    # under 10 % of what arrives, and filters let most of what is delivered reach inboxes.
    s = open_relay.summary
    assert s.loc["blocked_by.open_relay_prevention", "mean"] < 0.10 * s.loc["attempted", "mean"]
    assert s.loc["blocked_by.blacklists", "mean"] < 0.10 * s.loc["attempted", "mean"]
    assert s.loc["inbox", "mean"] > 0.5 * s.loc["delivered", "mean"]


# -- relay-prevention.yaml ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def relay_prevention() -> ss.Result:
    return run("relay-prevention.yaml", 40)


def test_relay_prevention_adoption_path(relay_prevention):
    # "20 % closed at the start, 95 % after day 180".
    adoption = relay_prevention.world_timeseries.groupby("day")["relay_prevention"].mean()
    assert adoption.iloc[0] == pytest.approx(0.2, abs=0.01)
    assert adoption[adoption.index >= 180].min() == pytest.approx(0.95, abs=1e-9)


@pytest.mark.parametrize("metric", ["attempted", "delivered"])
def test_relay_prevention_displaces_spam_to_bots(relay_prevention, metric):
    # "the botnet's share of attempted mail rising from the first third of the horizon to the
    # last" — and of delivered mail too (what the timeline figure shows).
    bots = share_by_third(relay_prevention, "botnet", metric)
    rise, low, _ = ci95((bots[2] - bots[0]).to_numpy())
    assert low > 0 and rise >= 0.3, (metric, rise, low)


def test_relay_prevention_spammer_starts_on_relays_because_bots_cost_more(relay_prevention):
    # "bots cost more per message than still-open relays (which are free), which is why the
    # spammer starts on relays".
    ch = relay_prevention.by_channel
    assert ch.loc["open_relays", "channel_cost"] == 0
    assert ch.loc["botnet", "channel_cost"] / ch.loc["botnet", "attempted"] > 0
    relays = share_by_third(relay_prevention, "open_relays", "attempted")
    _, low, _ = ci95(relays[0].to_numpy())
    assert low > 0.5


# -- spambot-era.yaml ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def spambot() -> ss.Result:
    return run("spambot-era.yaml", 40)


def test_spambot_era_bots_pass_without_op25b(spambot):
    # "no OP25B yet"; servers admit bots unless they use SMTP AUTH, which is rare: under 10 %
    # of attempts are refused at submission.
    s = spambot.summary
    assert "blocked_by.op25b" not in s.index
    assert s.loc["blocked_by.submission_auth", "ci95_low"] > 0
    assert s.loc["blocked_by.submission_auth", "mean"] < 0.10 * s.loc["attempted", "mean"]
    assert s.loc["net_profit", "ci95_low"] > 0


def test_spambot_era_antivirus_hit_and_run_and_dnsbls(spambot):
    # "Antivirus cleans bots ... hit-and-run bots send a burst and erase themselves ...
    # Receivers' DNSBLs list many dynamic addresses."
    world = spambot.world_timeseries.groupby("step")[["bots", "hit_and_run_bots"]].mean()
    assert world["bots"].iloc[-1] < world["bots"].iloc[0]
    assert (world["hit_and_run_bots"] > 0).all()
    assert spambot.summary.loc["blocked_by.blacklists", "ci95_low"] > 0


# -- smtp-auth.yaml -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smtp_auth() -> ss.Result:
    return run("smtp-auth.yaml", 40)


def test_smtp_auth_op25b_reroutes_and_submission_auth_blocks(smtp_auth):
    # "blocked_by.submission_auth is large and OP25B reroutes most of the botnet's direct
    # mail to the submission servers (it blocks nothing itself)".
    s = smtp_auth.summary
    bot = smtp_auth.by_channel.loc["botnet"]
    assert s.loc["blocked_by.submission_auth", "mean"] > 0.3 * bot["attempted"]
    assert bot["rerouted"] > 0.5 * bot["attempted"]
    assert s.get("blocked_by.op25b", pd.Series({"mean": 0.0}))["mean"] == 0


def test_smtp_auth_stolen_accounts_survive_under_rate_limits(smtp_auth):
    # "the compromised_accounts row of r.by_channel delivers mail", the spammer moves there,
    # rate limits cap it, and stolen accounts are locked "within days" (~5 on average).
    assert smtp_auth.by_channel.loc["compromised_accounts", "delivered"] > 0
    accounts = share_by_third(smtp_auth, "compromised_accounts", "attempted")
    _, low, _ = ci95(accounts[2].fillna(0).to_numpy())
    assert low > 0.8
    assert smtp_auth.summary.loc["blocked_by.rate_limiting", "ci95_low"] > 0
    lockout = smtp_auth.scenario.channels.compromised_accounts.lockout_rate_per_day
    assert 1 / lockout == pytest.approx(5.0)


def check_cost_header(name: str, costliest_share: tuple[float, float], total: float, unit: float) -> None:
    """The header's closed-form claims: SMTP AUTH costliest, its and the total cost as quoted, over 95 % paid once."""
    cost = defender_cost(ss.load(SCENARIOS / name))
    by = {key: cost.of(key) for key in cost.by_countermeasure}
    assert max(by, key=by.__getitem__) == "submission_auth"
    assert round(by["submission_auth"] / unit, costliest_share[1]) == costliest_share[0]
    assert round(cost.total / unit, 1 if unit == 1e6 else 0) == total
    parts = cost.by_countermeasure["submission_auth"]
    assert parts["one_off"] + parts["migration"] + parts["friction"] > 0.95 * by["submission_auth"]


def test_smtp_auth_defenders_costs_and_what_they_buy():
    # "SMTP AUTH is by far the costliest countermeasure, about 2.0 of the 3.2 million USD ... over 95 %
    # of it is paid once"; "taken out of the full package one at a time, rate limiting removes the most
    # spammer profit per dollar of defenders' cost, then receiver filtering, both far more than SMTP
    # AUTH ... (added alone to a world without countermeasures, it does remove profit)".
    check_cost_header("smtp-auth.yaml", (2.0, 1), 3.2, 1e6)
    cmp = ss.compare(SCENARIOS / "smtp-auth.yaml", reps=40, seed=SEED)
    rows = {row["countermeasure"]: row for row in cmp.cost_effectiveness()}

    def per_cost(name: str, context: str = "removed") -> list[float]:
        return rows[name][context]["profit_removed_per_cost"]["ci95"]  # type: ignore[no-any-return]

    # Ranked by 95 % CIs that do not overlap.
    for name in set(rows) - {"rate_limiting"}:
        assert per_cost("rate_limiting")[0] > per_cost(name)[1], name
    for name in set(rows) - {"rate_limiting", "receiver_filtering"}:
        assert per_cost("receiver_filtering")[0] > per_cost(name)[1], name
    assert per_cost("receiver_filtering")[0] > 10 * per_cost("submission_auth")[1]  # "far more"
    assert per_cost("submission_auth", "alone")[0] > 0


# -- japan-2011.yaml ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def japan() -> ss.Result:
    return run("japan-2011.yaml", 60)


def test_japan_2011_spam_is_80_to_90_percent_of_mail(japan):
    # "spam is 80-90 % of the mail arriving at receivers' servers ... spam_share ~0.89" (the
    # header said ~0.85 until this test measured 0.888; "~" is read as the second decimal).
    s = japan.summary.loc["spam_share"]
    assert 0.80 <= s["ci95_low"] <= s["ci95_high"] <= 0.90
    assert round(float(s["mean"]), 2) == 0.89


def test_japan_2011_corporation_deterred_or_convicted_abroad_keeps_profit(japan):
    # "The corporation is deterred (it quits ...) or convicted; the spammer abroad keeps
    # sending at a profit."
    by = japan.by_spammer
    assert by.loc["domestic-corp", "quit_share"] + by.loc["domestic-corp", "convicted_share"] > 0.8
    assert by.loc["overseas", "net_profit"] > 0
    assert by.loc["overseas", "fines"] == 0 and by.loc["overseas", "quit_share"] < 0.1
    assert japan.scenario.enforcement.fines.corporation == 30_000_000
    assert japan.scenario.enforcement.fines.individual == 1_000_000


# "`spamsim compare` switches each countermeasure (and enforcement) off in turn; each one moves
# the money" is held by tests/test_scenarios.py::test_japan_2011_every_countermeasure_matters
# (paired, 95 % CI of the revenue difference above zero for every switch).


# "it cuts Japanese-origin spam rather than the spam arriving from abroad" (OP25B) is held by
# tests/test_scenarios.py::test_japan_2011_op25b_with_smtp_auth_stops_japanese_bots.


def test_japan_2011_defenders_costs_and_blacklists_most_cost_effective():
    # "SMTP AUTH is by far the costliest countermeasure, about 23 of the 34 billion JPY ... nearly all
    # of it is paid once"; "taken out of the full package one at a time, blacklists remove the most
    # spammer profit per yen of defenders' cost, more than every other countermeasure".
    check_cost_header("japan-2011.yaml", (23, 0), 34, 1e9)
    scenario = ss.load(SCENARIOS / "japan-2011.yaml")
    cost = defender_cost(scenario)
    # The "removed" variants only (paired on the seed), as compare makes them: cheaper than every variant.
    base = run("japan-2011.yaml", 20).replications["net_profit"].to_numpy(dtype=float)
    bounds = {}
    for name in cost.by_countermeasure:
        off = run("japan-2011.yaml", 20, f"countermeasures.{name}.enabled=false")
        _, lo, hi = ci95(off.replications["net_profit"].to_numpy(dtype=float) - base)
        bounds[name] = (lo / cost.of(name), hi / cost.of(name))
    for name in set(bounds) - {"blacklists"}:
        assert bounds["blacklists"][0] > bounds[name][1], (name, bounds)


# -- internet-scale.yaml ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def internet() -> ss.Result:
    return run("internet-scale.yaml", 10)


def test_internet_scale_volume_bots_and_spam_share(internet):
    # "~1e11 messages a day from a million-bot botnet"; "legitimate mail is sized to land
    # near" the ~89-90 % spam share of 2010.
    days = internet.scenario.horizon_days
    assert internet.summary.loc["attempted", "mean"] / days == pytest.approx(1e11, rel=0.02)
    assert internet.scenario.channels.botnet.initial_bots == 1e6
    share = internet.summary.loc["spam_share"]
    assert 0.85 <= share["ci95_low"] <= share["ci95_high"] <= 0.93


# -- timeline.yaml ------------------------------------------------------------------------------


@pytest.mark.slow
def test_timeline_header_numbers():
    # The header's own numbers (the record by era is tests/test_validation.py's): legitimate
    # mail 8.0 billion a day; "the model gives about 85 %" in 2011; stolen accounts "already
    # carry 15-20 % in 2003-2004"; spam volume "1.2-1.6 times Symantec's 31-61 billion a day in
    # 2005-2009 (though below MessageLabs' 107 billion for 2009)".
    r = run("timeline.yaml", 3)
    assert r.scenario.legitimate_mail.messages_per_day == pytest.approx(8.0e9)
    world = r.world_timeseries.assign(year=lambda w: (1998 + w["day"] / 365.25).astype(int))
    assert world.loc[world["year"] == 2011, "spam_share"].mean() == pytest.approx(0.85, abs=0.03)
    ts = r.timeseries.assign(year=lambda t: (1998 + t["day"] / 365.25).astype(int))
    by = ts.groupby(["year", "channel"])["delivered"].sum().unstack()
    share = by.div(by.sum(axis=1), axis=0)
    accounts = share.loc[[2003, 2004], "compromised_accounts"]
    assert accounts.between(0.13, 0.22).all(), accounts
    # Spam arriving at receivers' servers per day. The header gives Symantec's range, not its
    # yearly figures, so each year is held to the envelope 1.2 x 31 to 1.6 x 61 billion a day.
    step_days = r.scenario.horizon.step_hours / 24.0
    steps = world[world["rep"] == 0].groupby("year").size()
    per_day = ts.groupby(["year", "rep"])["arriving"].sum().groupby("year").mean() / (steps * step_days)
    for year in range(2005, 2010):
        assert 1.2 * 31e9 <= per_day[year] <= 1.6 * 61e9, (year, per_day[year])
    assert per_day[2009] < 107e9


# -- deterrence-sweep.yaml ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def deterrence() -> pd.DataFrame:
    return ss.sweep(SCENARIOS / "deterrence-sweep.yaml").summary


FINE = "enforcement.fines.individual"
CAUGHT = "enforcement.caught_probability"


def test_deterrence_sweep_lecture_fines_never_deter(deterrence):
    # "NEITHER reference fine deters: at 1,000,000 and at 30,000,000 JPY expected net profit is
    # positive at every probability of being caught up to 0.9" (95 % CI above zero).
    rows = deterrence[deterrence[FINE].isin([1.0e6, 3.0e7])]
    assert len(rows) == 24
    assert (rows["net_profit.ci95_low"] > 0).all()


def test_deterrence_sweep_where_profit_turns_negative(deterrence):
    # "Net profit turns negative only at 1,000,000,000 JPY with a 0.9 probability (about
    # -620,000,000 JPY) and at 10,000,000,000 JPY from a probability of about 0.26 (mean about
    # -630,000,000 JPY; its 95 % CI is below zero from 0.48 on)."
    def cells(frame: pd.DataFrame) -> set[tuple[float, float]]:
        return {(f, round(p, 2)) for f, p in frame[[FINE, CAUGHT]].itertuples(index=False)}

    negative_mean = deterrence[deterrence["net_profit.mean"] < 0]
    assert cells(negative_mean) == {(1.0e9, 0.9), (1.0e10, 0.26), (1.0e10, 0.48), (1.0e10, 0.9)}
    assert cells(deterrence[deterrence["net_profit.ci95_high"] < 0]) == {(1.0e9, 0.9), (1.0e10, 0.48), (1.0e10, 0.9)}
    at = negative_mean.set_index([FINE, negative_mean[CAUGHT].round(2)])["net_profit.mean"]
    assert at[(1.0e9, 0.9)] == pytest.approx(-620e6, rel=0.05)
    assert at[(1.0e10, 0.26)] == pytest.approx(-630e6, rel=0.05)
    # "at 0.9 and 30,000,000 JPY still about 250,000,000 JPY"
    row = deterrence[(deterrence[FINE] == 3.0e7) & (deterrence[CAUGHT] == deterrence[CAUGHT].max())].iloc[0]
    assert row["net_profit.mean"] == pytest.approx(250e6, rel=0.05)


def test_deterrence_sweep_revenue_per_send(deterrence):
    # "5,000,000 JPY of revenue per send and 120 sends (600,000,000 JPY a month)", with no
    # fine and the lowest probability of being caught (nobody is caught in 50 replications).
    cell = deterrence[(deterrence[FINE] == 0) & (deterrence[CAUGHT] == deterrence[CAUGHT].min())].iloc[0]
    se = cell["revenue.se"]
    assert abs(cell["revenue.mean"] - 5e6 * 4 * 30) <= K_SE * se + 1


# -- the report's externality -------------------------------------------------------------------


def test_externality_uses_the_scenarios_currency():
    # A USD scenario is no longer costed in yen: its time is valued at Rao & Reiley's 25 USD an
    # hour, not 2,000 "USD".
    result = expected(ss.load(SCENARIOS / "open-relay-era.yaml"))
    social = result.externality.social
    assert social.currency == "USD" and social.value_of_time_per_hour == 25.0
    assert "Rao & Reiley" in social.sources["value_of_time_per_hour"]
    jpy = expected(ss.load(SCENARIOS / "lecture.yaml")).externality.social
    assert jpy.value_of_time_per_hour == 2000.0 and "wage" in jpy.sources["value_of_time_per_hour"]
    for currency, table in DEFAULTS.items():
        assert all(source for _, source in table.values()), currency


def test_externality_parts_add_up_and_carry_formulas():
    result = expected(ss.load(SCENARIOS / "japan-2011.yaml"))
    ext = result.externality
    assert [p.name for p in ext.parts] == ["recipients_time", "filtering", "lost_legit_mail"]
    assert sum(p.amount for p in ext.parts) == pytest.approx(ext.total)
    assert ext.total == pytest.approx(result.totals["social_cost"])
    assert ext.ratio == pytest.approx(ext.total / result.totals["revenue"])
    for part in ext.parts:
        assert part.amount == pytest.approx(part.quantity * part.unit_cost)
        assert " x " in part.formula and part.source
    time_part = ext.parts[0]
    assert time_part.quantity == pytest.approx(result.totals["inbox"])
    assert time_part.unit_cost == pytest.approx(5 / 3600 * 2000)


def test_externality_note_explains_the_gap_from_the_scenario():
    # The lecture's 1 % success rate makes revenue per spam far higher than measured rates:
    # that lowers the ratio; japan-2011's low revenue per spam raises it. The note says which,
    # with the scenario's numbers.
    lecture = expected(ss.load(SCENARIOS / "lecture.yaml")).externality
    assert lecture.ratio < PUBLISHED_RATIO
    assert "lowers the ratio" in lecture.note and "5 JPY" in lecture.note
    japan = expected(ss.load(SCENARIOS / "japan-2011.yaml")).externality
    assert japan.ratio > PUBLISHED_RATIO
    assert "raises the ratio" in japan.note and "closed form" in japan.note


def test_externality_in_an_unknown_currency_is_not_guessed(write):
    path = write(
        """
        name: eur
        market: {currency: EUR, success_rate: 0.01, profit_per_sale: 5}
        spammers:
          - name: s
            campaign: {messages_per_send: 1000000}
        """
    )
    ext = expected(ss.load(path)).externality
    assert not ext.computed and math.isnan(ext.ratio)
    assert "value_of_time_per_hour" in ext.missing and "EUR" in ext.note
    given = SocialCost(value_of_time_per_hour=30.0, filtering_cost_per_spam=3e-4, value_of_lost_legit_mail=1.0)
    assert expected(ss.load(path), given).externality.computed
    payload = expected(ss.load(path)).to_json()  # what `spamsim analytic --json` prints
    assert payload["totals"]["externality_ratio"] is None
    assert payload["externality"]["computed"] is False
    res = spamsim_cli("analytic", str(path))
    assert res.returncode == 0 and "not computed" in res.stdout


def test_externality_parts_are_in_the_json():
    res = spamsim_cli("analytic", str(SCENARIOS / "open-relay-era.yaml"), "--json", "--value-of-time", "30")
    assert res.returncode == 0, res.stderr
    ext = json.loads(res.stdout)["externality"]
    assert set(ext["parts"]) == {"recipients_time", "filtering", "lost_legit_mail"}
    assert ext["unit_costs"]["value_of_time_per_hour"] == 30.0
    assert ext["sources"]["value_of_time_per_hour"] == "set by the user"
    assert ext["published_ratio"] == 100.0 and ext["note"]


def test_externality_of_a_simulated_run(open_relay):
    ext = externality_of_run(open_relay)
    s = open_relay.summary
    assert ext.computed and ext.revenue == pytest.approx(s.loc["revenue", "mean"])
    assert ext.parts[0].quantity == pytest.approx(s.loc["inbox", "mean"])
    assert ext.parts[1].quantity == pytest.approx(open_relay.by_channel["arriving"].sum())
    assert "simulated" in ext.note


def test_social_costs_in_one_currency_are_not_read_in_another():
    lecture = ss.load(SCENARIOS / "lecture.yaml")  # JPY
    with pytest.raises(ValueError, match="in USD"):
        expected(lecture, SocialCost.for_currency("USD"))
    with pytest.raises(TypeError):
        SocialCost(5.0, 2000.0, 100.0)  # type: ignore[misc]  # the old positional order
    mine = expected(lecture, SocialCost(value_of_time_per_hour=3000.0)).externality.social
    assert mine.value_of_time_per_hour == 3000.0 and mine.sources["value_of_time_per_hour"] == "set by the user"
    assert mine.filtering_cost_per_spam == DEFAULTS["JPY"]["filtering_cost_per_spam"][0]
