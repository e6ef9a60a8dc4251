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

from ..model.ledger import CHANNEL_METRICS, SPAMMER_METRICS, Ledger, blocking_order
from ..runner.replications import Replications
from ..scenario.schema import Scenario
from .summary import summarize

FUNNEL_METRICS = ("opened", "clicked")
"""Reported only when the scenario models the open/click/purchase funnel."""

EVENT_METRICS = ("sales", "detections", "convictions", "quits", "switches")
"""Counts of events per replication that can be rare (a conviction, a quit, a sale at a tiny
success rate): their intervals do not collapse to ``[0, 0]`` (see
:func:`~spamsim.analysis.summary.summarize`). Message volumes and money are not among them:
a volume of 0 or 1 is set by the scenario, not a rare outcome."""

METRIC_DOCS = {
    "unsent": "messages the channels had no capacity for",
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
    "quits": "spammers who quit because spam stopped paying",
    "switches": "times a spammer changed its best channel",
    "spam_share": "spam's share of mail arriving at receivers' servers",
    "legit_lost": "legitimate messages wrongly filtered",
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
        if any(s.strategy.kind == "adaptive" for s in self.scenario.spammers):
            names += ["quits", "switches"]
        names.append("spam_share")
        if self.scenario.legitimate_mail.messages_per_day != 0:
            names.append("legit_lost")
        if len(self.scenario.channels.names()) > 1 or self.ledger.flows["unsent"].any():
            names.insert(0, "unsent")
        return names

    @property
    def blocked_by(self) -> list[str]:
        """Countermeasures that blocked mail in this run, in stage order."""
        present = set(self.ledger.blocked_by)
        return [name for name in blocking_order() if name in present]

    @property
    def _channel_metrics(self) -> list[str]:
        skip = () if self.scenario.market.funnel is not None else FUNNEL_METRICS
        return [m for m in CHANNEL_METRICS if m not in skip]

    @cached_property
    def replications(self) -> pd.DataFrame:
        """One row per replication: every metric totalled over steps, spammers and channels."""
        lg = self.ledger
        flow = {m: lg.flows[m].sum(axis=(0, 1, 2)) for m in CHANNEL_METRICS}
        per_spammer = {m: lg.spammer[m].sum(axis=(0, 1)) for m in SPAMMER_METRICS}
        world = {m: lg.world[m].sum(axis=0) for m in lg.world}
        cost = flow["message_cost"] + flow["channel_cost"] + per_spammer["send_cost"] + per_spammer["fixed_cost"]
        spam = flow["arriving"].astype(float)
        total_mail = spam + world["legit"]
        columns: dict[str, Any] = {
            "rep": np.arange(self.reps),
            "unsent": flow["unsent"],
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
            "quits": per_spammer["quits"],
            "switches": per_spammer["switches"],
            "spam_share": np.divide(spam, total_mail, out=np.zeros_like(spam), where=total_mail > 0),
            "legit_lost": world["legit_lost"],
        }
        for name in self.blocked_by:
            columns[f"blocked_by.{name}"] = lg.blocked_by[name].sum(axis=(0, 1, 2))
        frame = pd.DataFrame(columns)
        return frame[["rep", *self.metrics, *[f"blocked_by.{n}" for n in self.blocked_by]]]

    @cached_property
    def by_channel(self) -> pd.DataFrame:
        """Mean per replication of every flow, per channel (rows) — where the spam went."""
        lg = self.ledger
        data = {m: lg.flows[m].sum(axis=(0, 1)).mean(axis=-1) for m in self._channel_metrics}
        for name in self.blocked_by:
            data[f"blocked_by.{name}"] = lg.blocked_by[name].sum(axis=(0, 1)).mean(axis=-1)
        return pd.DataFrame(data, index=pd.Index(lg.channels, name="channel"))

    @cached_property
    def by_spammer(self) -> pd.DataFrame:
        """Mean per replication of money and outcomes, per spammer (rows)."""
        lg = self.ledger
        flows = {
            m: lg.flows[m].sum(axis=(0, 2)) for m in ("attempted", "sales", "revenue", "message_cost", "channel_cost")
        }
        sp = {
            m: lg.spammer[m].sum(axis=0)
            for m in ("send_cost", "fixed_cost", "fines", "convictions", "quits", "switches")
        }
        cost = flows["message_cost"] + flows["channel_cost"] + sp["send_cost"] + sp["fixed_cost"]
        frame = pd.DataFrame(
            {
                "attempted": flows["attempted"].mean(axis=-1),
                "sales": flows["sales"].mean(axis=-1),
                "revenue": flows["revenue"].mean(axis=-1),
                "cost": cost.mean(axis=-1),
                "fines": sp["fines"].mean(axis=-1),
                "net_profit": (flows["revenue"] - cost - sp["fines"]).mean(axis=-1),
                "convicted_share": (sp["convictions"] > 0).mean(axis=-1),
                "quit_share": (sp["quits"] > 0).mean(axis=-1),
                "switches": sp["switches"].mean(axis=-1),
            },
            index=pd.Index(lg.spammers, name="spammer"),
        )
        return frame

    @cached_property
    def world_timeseries(self) -> pd.DataFrame:
        """One row per replication and step: populations, adoption, legitimate mail, spam share."""
        lg = self.ledger
        steps, reps = lg.world["legit"].shape
        index = pd.MultiIndex.from_product([range(steps), range(reps)], names=["step", "rep"])
        data = {m: lg.world[m].reshape(-1) for m in lg.world}
        spam = lg.flows["arriving"].sum(axis=(1, 2)).reshape(-1).astype(float)
        total = spam + data["legit"]
        data["spam_share"] = np.divide(spam, total, out=np.zeros_like(spam), where=total > 0)
        data["active_spammers"] = lg.spammer["active"].sum(axis=1).reshape(-1)
        frame = pd.DataFrame(data, index=index).reset_index()
        frame.insert(1, "day", frame["step"] * self.scenario.horizon.step_hours / 24.0)
        return frame[["rep", *[c for c in frame.columns if c != "rep"]]]

    @cached_property
    def summary(self) -> pd.DataFrame:
        """Mean, sd, standard error and 95 % CI of every metric (one row per metric).

        ``ci_method`` says how each interval was made: ``t`` for most metrics; for the
        :data:`EVENT_METRICS`, ``wilson`` when no replication counted more than one event and
        ``zero-events upper bound`` when none counted any.
        """
        frame = self.replications
        columns = [c for c in frame.columns if c != "rep"]
        return summarize(frame, columns, events=EVENT_METRICS)

    @cached_property
    def timeseries(self) -> pd.DataFrame:
        """One row per replication, step, spammer and channel, with every channel flow."""
        lg = self.ledger
        steps, spammers, channels, reps = lg.flows["attempted"].shape
        index = pd.MultiIndex.from_product(
            [range(steps), lg.spammers, lg.channels, range(reps)],
            names=["step", "spammer", "channel", "rep"],
        )
        data = {m: lg.flows[m].reshape(-1) for m in self._channel_metrics}
        for name in self.blocked_by:
            data[f"blocked_by.{name}"] = lg.blocked_by[name].reshape(-1)
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
        metrics = self.metrics_json()
        blocked_by = {k.split(".", 1)[1]: metrics.pop(k) for k in list(metrics) if k.startswith("blocked_by.")}
        return {
            "scenario": self.scenario.name,
            "seed": self.entropy,
            "reps": self.reps,
            "currency": self.currency,
            "metrics": metrics,
            "blocked_by": blocked_by,
        }

    def __repr__(self) -> str:
        revenue = self.summary.loc["revenue"]
        return f"<Result {self.scenario.name!r}: {self.reps} reps, mean revenue {revenue['mean']:,.0f} {self.currency}>"


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None
