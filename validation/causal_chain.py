"""The lecture's causal chain, link by link (issue 11): the figures its closing note quotes.

Run: ``.venv/bin/python validation/causal_chain.py`` (about a minute). Each line is one
mechanism in a small world with a closed form; the tests in ``tests/test_causal_chain.py``
hold the same mechanisms to their closed forms.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository, for the tests' worlds

import spamsim  # noqa: E402
from tests.test_causal_chain import ANTIVIRUS, BOTS, RELAYS  # noqa: E402


def share(r, a, b):
    x = r.replications
    return float((x[a] / x[b]).mean())


sc = copy.deepcopy(BOTS)
sc["countermeasures"] = {"op25b": {"adoption": 1.0}}
print(
    "1. OP25B 1.0, open submission servers: delivered/attempted =",
    round(share(spamsim.run(sc, reps=50, seed=1), "delivered", "attempted"), 4),
)
for life, delay in [(0.5, 6.0), (6.0, 6.0), (6.0, 0.01), (6.0, 10000.0)]:
    sc = copy.deepcopy(BOTS)
    sc["channels"]["botnet"].update(
        {
            "initial_bots": 0,
            "infection_rate_per_day": 0.05,
            "hit_and_run_share": 1.0,
            "hit_and_run_lifetime_hours": life,
            "sends_per_bot_hour": 10,
            "share_direct_to_mx": 1.0,
        }
    )
    sc["countermeasures"] = {
        "blacklists": {"adoption": 1.0, "listing_delay_hours": delay, "dynamic_ip_listed_share": 0.0}
    }
    r = spamsim.run(sc, reps=50, seed=4)
    blocked = share(r, "blocked_by.blacklists", "attempted")
    print(f"2. hit-and-run lifetime {life} h, delay {delay} h: blacklisted share = {blocked:.4f}", end="")
    print(f" (L/(L+d) = {life / (life + delay):.4f})")
av = ANTIVIRUS
print(
    "3. bots at the end of days 1-8 (no new infections; variants at days 0 and 5, 2-day lag):",
    spamsim.run(av, reps=20, seed=5).ledger.world["bots"].mean(axis=1).round(-2).tolist(),
)
relays = RELAYS
r = spamsim.run(relays, reps=400, seed=7)
print("5. 99 % of relays closed, 4e8 attempts: mean detections =", round(float(r.replications["detections"].mean()), 3))
r = spamsim.run("scenarios/japan-2011.yaml", reps=100, seed=1)
print(
    "5b. japan-2011: share of attempted mail sent to relays =",
    round(float(r.by_channel.loc["open_relays", "attempted"] / r.by_channel["attempted"].sum()), 3),
    "refused there:",
    round(
        float(
            r.by_channel.loc["open_relays", "blocked_by.open_relay_prevention"]
            / max(r.by_channel.loc["open_relays", "attempted"], 1)
        ),
        3,
    ),
)
r = spamsim.run("scenarios/timeline.yaml", reps=10, seed=1)
ts = r.timeseries.assign(year=lambda t: (1998 + t["day"] / 365.25).astype(int))
for metric in ("delivered", "attempted"):
    by = ts[ts.year == 2010].groupby("channel")[metric].sum()
    print(f"9. timeline 2010 share of {metric}:", (by / by.sum()).round(3).to_dict())
by = ts[ts.year == 2012].groupby("channel")["attempted"].sum()
print("9b. timeline 2012 share of attempted:", (by / by.sum()).round(3).to_dict())
