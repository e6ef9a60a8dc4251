"""The result of a run as tidy pandas DataFrames.

``Result.replications`` has one row per replication, ``Result.summary`` one row per metric
(mean and 95 % CI), ``Result.timeseries`` one row per replication × step × spammer ×
channel. All are computed from the ledger on first use.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from ..model.ledger import CHANNEL_METRICS, SPAMMER_METRICS, Ledger
from ..runner.replications import Replications
from ..scenario.schema import Scenario
from .summary import summarize

FUNNEL_METRICS = ("opened", "clicked")
"""Reported only when the scenario models the open/click/purchase funnel."""

METRIC_DOCS = {
    "attempted": "messages the spammers tried to send",
    "blocked": "messages stopped before reaching recipients' servers",
    "delivered": "messages accepted by recipients' servers",
    "filtered": "delivered messages caught by receivers' filters",
    "inbox": "messages that reached an inbox",
    "opened": "messages opened",
    "clicked": "links clicked",
    "sales": "sales made",
    "revenue": "profit from sales (currency)",
    "cost": "sending costs: per message, per send, fixed (currency)",
    "fines": "fines paid (currency)",
    "net_profit": "revenue - cost - fines (currency)",
    "detections": "times a spammer was detected",
    "convictions": "times a spammer was convicted",
}
"""What each reported metric means (shown by ``spamsim run`` and in the README)."""


class Result:
    """What a run produced, with DataFrames for notebooks and plots.

    Attributes
    ----------
    scenario
        The scenario that was run.
    entropy
        Seed entropy of the run: ``spamsim.run(scenario, seed=result.entropy)`` repeats it.
    reps
        Number of replications.
    ledger
        The raw record (arrays with the replication axis last).
    """

    def __init__(self, raw: Replications):
        self.scenario: Scenario = raw.scenario
        self.entropy: int = raw.entropy
        self.reps: int = raw.reps
        self.ledger: Ledger = raw.ledger

    @property
    def currency(self) -> str:
        return self.scenario.market.currency

    @property
    def metrics(self) -> list[str]:
        """Reported metrics, in funnel-then-money order."""
        names = ["attempted", "blocked", "delivered", "filtered", "inbox"]
        if self.scenario.market.funnel is not None:
            names += list(FUNNEL_METRICS)
        names += ["sales", "revenue", "cost", "fines", "net_profit", "detections", "convictions"]
        return names

    @cached_property
    def replications(self) -> pd.DataFrame:
        """One row per replication: every metric totalled over steps, spammers and channels."""
        lg = self.ledger
        flow = {m: lg.flows[m].sum(axis=(0, 1, 2)) for m in CHANNEL_METRICS}
        per_spammer = {m: lg.spammer[m].sum(axis=(0, 1)) for m in SPAMMER_METRICS}
        cost = flow["message_cost"] + per_spammer["send_cost"] + per_spammer["fixed_cost"]
        columns: dict[str, Any] = {
            "rep": np.arange(self.reps),
            "attempted": flow["attempted"],
            "blocked": flow["attempted"] - flow["delivered"],
            "delivered": flow["delivered"],
            "filtered": flow["filtered"],
            "inbox": flow["inbox"],
            "opened": flow["opened"],
            "clicked": flow["clicked"],
            "sales": flow["sales"],
            "revenue": flow["revenue"],
            "cost": cost,
            "fines": per_spammer["fines"],
            "net_profit": flow["revenue"] - cost - per_spammer["fines"],
            "detections": per_spammer["detections"],
            "convictions": per_spammer["convictions"],
        }
        for name, blocked in sorted(lg.blocked_by.items()):
            columns[f"blocked_by.{name}"] = blocked.sum(axis=(0, 1, 2))
        frame = pd.DataFrame(columns)
        return frame[["rep", *self.metrics, *[c for c in frame.columns if c.startswith("blocked_by.")]]]

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Mean, sd, standard error and 95 % CI of every metric (one row per metric)."""
        frame = self.replications
        columns = [c for c in frame.columns if c != "rep"]
        return summarize(frame, columns)

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """One row per replication, step, spammer and channel, with every channel flow."""
        lg = self.ledger
        steps, spammers, channels, reps = lg.flows["attempted"].shape
        index = pd.MultiIndex.from_product(
            [range(steps), lg.spammers, lg.channels, range(reps)],
            names=["step", "spammer", "channel", "rep"],
        )
        data = {m: lg.flows[m].reshape(-1) for m in CHANNEL_METRICS}
        for name, blocked in sorted(lg.blocked_by.items()):
            data[f"blocked_by.{name}"] = blocked.reshape(-1)
        frame = pd.DataFrame(data, index=index).reset_index()
        frame.insert(1, "day", frame["step"] * self.scenario.horizon.step_hours / 24.0)
        first = ["rep", "step", "day", "spammer", "channel"]
        return frame[first + [c for c in frame.columns if c not in first]]

    def metrics_json(self) -> dict[str, dict[str, Any]]:
        """``{metric: {"mean": x, "ci95": [lo, hi]}}`` (``null`` where undefined)."""
        out: dict[str, dict[str, Any]] = {}
        for metric, row in self.summary.iterrows():
            out[str(metric)] = {
                "mean": _finite(row["mean"]),
                "ci95": [_finite(row["ci95_low"]), _finite(row["ci95_high"])],
            }
        return out

    def to_json(self) -> dict[str, Any]:
        """The run's headline numbers as one JSON-ready object (what ``run --json`` prints)."""
        return {
            "scenario": self.scenario.name,
            "seed": self.entropy,
            "reps": self.reps,
            "currency": self.currency,
            "metrics": self.metrics_json(),
        }

    def __repr__(self) -> str:
        revenue = self.summary.loc["revenue"]
        return (
            f"<Result {self.scenario.name!r}: {self.reps} reps, mean revenue "
            f"{revenue['mean']:,.0f} {self.currency}>"
        )


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None
