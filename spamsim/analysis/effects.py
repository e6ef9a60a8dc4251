"""Countermeasure effects from paired replications, and their Shapley attribution.

Every variant of a scenario (a set of countermeasures switched on, the rest off) is run with
the same seed. Random streams are keyed by actor and block (:mod:`spamsim.model.streams`), so
replication ``r`` of every variant shares its parameter draws and every draw of the actors
the switch does not touch: differences are estimated from paired replications (common
random numbers), with intervals far narrower than from independent runs.

* ``alone``: the countermeasure added to a world with every countermeasure off
  (``with - without``; negative = it lowers the spammer's revenue).
* ``removed``: the countermeasure taken out of the world with every countermeasure on
  (``without - with``; positive = revenue recovers when it goes).
* ``cost_effectiveness``: each countermeasure's defenders' cost over the horizon
  (:func:`spamsim.analysis.costs.defender_cost`, deterministic), the spammers' net profit it
  removes and the social cost it avoids (recipients' time and lost legitimate mail, priced as
  in :mod:`spamsim.analysis.externality`), both paired estimates with 95 % CIs, and each per
  unit of defender cost (the CI of a ratio to a deterministic cost is the effect's CI divided
  by the cost).
* ``shapley``: each countermeasure's share of the total reduction in net profit, all on vs
  all off, averaged over every order of adding them (exact, over all 2^k subsets). The shares
  add up exactly to the total (efficiency).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from ..runner.replications import RefusedError, replicate
from ..runner.seeding import SeedLike, entropy_of, seed_sequence
from ..scenario.loader import load
from ..scenario.schema import Scenario
from .costs import DefenderCost, defender_cost
from .externality import SocialCost
from .result import Result
from .summary import json_ready, mean_ci

MAX_SHAPLEY_COUNTERMEASURES = 10
"""Exact Shapley needs 2^k variants; beyond 10 (1,024 variants) it is refused."""

EFFECT_METRICS = ("revenue", "net_profit")

SOCIAL_PARTS = ("recipients_time", "lost_legit_mail")
"""The externality's parts counted as social cost avoided (filtering is the defenders' own spend)."""


def countermeasure_names(scenario: Scenario) -> list[str]:
    """Countermeasures a scenario defines (and ``enforcement`` if it can catch anyone)."""
    names = scenario.countermeasures.names()
    e = scenario.enforcement
    if e.caught_probability != 0 or e.detection_per_million_messages != 0:
        names.append("enforcement")
    return names


def variant(scenario: Scenario, names: Sequence[str], on: Iterable[str]) -> Scenario:
    """``scenario`` with each of ``names`` switched on if in ``on`` and off otherwise."""
    on = set(on)
    edits = []
    for name in names:
        path = "enforcement" if name == "enforcement" else f"countermeasures.{name}"
        edits.append(f"{path}.enabled={'true' if name in on else 'false'}")
    return load(scenario, edits)


@dataclass
class Outcome:
    """Per-replication outputs of one variant (the ledger itself is not kept)."""

    on: frozenset[str]
    replications: pd.DataFrame
    attempted_by_channel: pd.DataFrame
    quit_or_convicted: np.ndarray


def run_variant(scenario: Scenario, reps: int, entropy: int, workers: int = 1) -> Outcome:
    """Run one variant and keep what the comparisons need."""
    result = Result(replicate(scenario, reps=reps, seed=entropy, workers=workers))
    lg = result.ledger
    attempted = pd.DataFrame(lg.flows["attempted"].sum(axis=(0, 1)).T, columns=lg.channels)
    stopped = (lg.spammer["quits"].sum(axis=0) + lg.spammer["convictions"].sum(axis=0) > 0).mean(axis=0)
    return Outcome(frozenset(), result.replications, attempted, stopped)


def paired(with_: np.ndarray, without: np.ndarray) -> dict[str, Any]:
    """Mean and 95 % CI of ``with_ - without`` from paired replications."""
    mean, _, lo, hi = mean_ci(np.asarray(with_, float) - np.asarray(without, float))
    return {"mean": mean, "ci95": [lo, hi]}


def unpaired(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    """Mean and Welch 95 % CI of ``mean(a) - mean(b)`` treating the samples as independent."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    mean = float(a.mean() - b.mean())
    if se == 0:
        return {"mean": mean, "ci95": [mean, mean]}
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(special.stdtrit(dof, 0.975)) * se  # the t quantile (scipy.stats.t.ppf calls this)
    return {"mean": mean, "ci95": [mean - half, mean + half]}


def per_cost(estimate: dict[str, Any], cost: float) -> dict[str, Any]:
    """A paired estimate per unit of a deterministic cost: mean and CI divided by it (None if not positive)."""
    if not (math.isfinite(cost) and cost > 0):
        return {"mean": None, "ci95": [None, None]}
    low, high = estimate["ci95"]
    return {"mean": estimate["mean"] / cost, "ci95": [low / cost, high / cost]}


@dataclass
class Comparison:
    """Countermeasure effects for one scenario; DataFrames for notebooks, JSON for scripts."""

    scenario: Scenario
    reps: int
    entropy: int
    names: list[str]
    outcomes: dict[frozenset[str], Outcome] = field(repr=False)
    shapley_computed: bool = False
    social: SocialCost = field(default_factory=SocialCost)
    """Unit costs of recipients' time and lost legitimate mail (completed with the currency's defaults)."""

    # -- building blocks -------------------------------------------------------------------
    def _metric(self, on: Iterable[str], metric: str) -> np.ndarray:
        return self.outcomes[frozenset(on)].replications[metric].to_numpy(dtype=float)

    @property
    def all_on(self) -> frozenset[str]:
        return frozenset(self.names)

    @property
    def all_off(self) -> frozenset[str]:
        return frozenset()

    def _effect(self, with_: frozenset[str], without: frozenset[str], sign: float) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for metric in EFFECT_METRICS:
            a, b = self._metric(with_, metric), self._metric(without, metric)
            diff = paired(a, b) if sign > 0 else paired(b, a)
            out[f"{metric}_change"] = diff
        reference = self._metric(without if sign > 0 else with_, "revenue").mean()
        change = out["revenue_change"]["mean"]
        out["revenue_change_pct"] = 100.0 * change / reference if reference else None
        before, after = (without, with_) if sign > 0 else (with_, without)
        moved = self.outcomes[after].attempted_by_channel.mean() - self.outcomes[before].attempted_by_channel.mean()
        out["attempted_change_by_channel"] = {str(k): float(v) for k, v in moved.items()}
        out["stopped_share_change"] = float(
            self.outcomes[after].quit_or_convicted.mean() - self.outcomes[before].quit_or_convicted.mean()
        )
        return out

    def _social_cost(self, on: Iterable[str]) -> np.ndarray:
        """Per replication: recipients' time plus legitimate mail lost, in the scenario's currency."""
        frame = self.outcomes[frozenset(on)].replications
        social = self.social.with_currency(self.scenario.market.currency)
        inbox = frame["inbox"].to_numpy(dtype=float)
        lost = frame["legit_lost"].to_numpy(dtype=float) if "legit_lost" in frame else np.zeros(len(frame))
        # Nothing of a kind costs nothing, even where its unit cost is not set (as in externality()).
        time = np.where(inbox == 0, 0.0, inbox * social.time_cost_per_inbox_spam)
        legit = np.where(lost == 0, 0.0, lost * social.value_of_lost_legit_mail)
        return time + legit  # type: ignore[no-any-return]

    # -- public views ------------------------------------------------------------------------
    def defender_cost(self) -> DefenderCost:
        """Defenders' cost of each compared countermeasure, all of them switched on, over the horizon."""
        registered = [n for n in self.names if n != "enforcement"]
        full = defender_cost(variant(self.scenario, registered, registered))
        # Only the compared ones: the others are part of the world in every variant, not a choice here.
        compared = {k: v for k, v in full.by_countermeasure.items() if k in registered}
        return dataclasses.replace(
            full,
            by_countermeasure=compared,
            coverage={k: v for k, v in full.coverage.items() if k in compared},
            sources={k: v for k, v in full.sources.items() if k.split(".")[0] in {*compared, "defenders"}},
        )

    def cost_effectiveness(self) -> list[dict[str, Any]]:
        """Per countermeasure and context: defender cost, profit removed, social cost avoided, and each per unit cost.

        Profit removed is the spammers' net profit without the countermeasure minus with it;
        social cost avoided is recipients' time plus lost legitimate mail without minus with it
        (both paired, 95 % CI). ``alone``: against the world with no countermeasure;
        ``removed``: against the world with all the others. The ratios divide mean and CI by the
        deterministic defender cost (None where the cost is 0 or unknown; ``enforcement`` has no
        cost model).
        """
        costs = self.defender_cost()
        rows = []
        for name in self.names:
            cost = costs.of(name) if name in costs.by_countermeasure else math.nan
            row: dict[str, Any] = {"countermeasure": name, "defender_cost": cost}
            one = frozenset([name])
            for context, with_, without in (
                ("alone", one, self.all_off),
                ("removed", self.all_on, self.all_on - one),
            ):
                profit = paired(self._metric(without, "net_profit"), self._metric(with_, "net_profit"))
                social = paired(self._social_cost(without), self._social_cost(with_))
                row[context] = {
                    "profit_removed": profit,
                    "social_cost_avoided": social,
                    "profit_removed_per_cost": per_cost(profit, cost),
                    "social_cost_avoided_per_cost": per_cost(social, cost),
                }
            rows.append(row)
        return rows

    @property
    def cost_frame(self) -> pd.DataFrame:
        """One row per countermeasure and context: defender cost and its parts, effects and ratios with CIs."""
        parts = self.defender_cost().frame()
        rows = []
        for row in self.cost_effectiveness():
            name = row["countermeasure"]
            for context in ("alone", "removed"):
                record: dict[str, Any] = {"countermeasure": name, "context": context}
                for part in parts.columns:
                    value = parts.loc[name, part] if name in parts.index else math.nan
                    record["defender_cost" if part == "total" else f"defender_cost.{part}"] = float(value)
                for quantity, estimate in row[context].items():
                    record[quantity] = estimate["mean"]
                    record[f"{quantity}.ci95_low"] = estimate["ci95"][0]
                    record[f"{quantity}.ci95_high"] = estimate["ci95"][1]
                rows.append(record)
        return pd.DataFrame(rows)

    def baseline(self) -> dict[str, dict[str, Any]]:
        """Mean and CI of every metric in the scenario as given (every countermeasure on)."""
        frame = self.outcomes[self.all_on].replications
        out = {}
        for metric in [c for c in frame.columns if c != "rep"]:
            mean, _, lo, hi = mean_ci(frame[metric].to_numpy(dtype=float))
            out[metric] = {"mean": mean, "ci95": [lo, hi]}
        return out

    def effects(self) -> list[dict[str, Any]]:
        """Per countermeasure: its effect ``alone`` and when ``removed`` (see module doc)."""
        rows = []
        for name in self.names:
            one = frozenset([name])
            rows.append(
                {
                    "countermeasure": name,
                    "alone": self._effect(one, self.all_off, +1),
                    "removed": self._effect(self.all_on, self.all_on - one, -1),
                }
            )
        return rows

    @property
    def effects_frame(self) -> pd.DataFrame:
        """One row per countermeasure and context with mean change and CI bounds."""
        rows = []
        for effect in self.effects():
            for context in ("alone", "removed"):
                e = effect[context]
                for metric in EFFECT_METRICS:
                    change = e[f"{metric}_change"]
                    rows.append(
                        {
                            "countermeasure": effect["countermeasure"],
                            "context": context,
                            "metric": metric,
                            "mean_change": change["mean"],
                            "ci95_low": change["ci95"][0],
                            "ci95_high": change["ci95"][1],
                            "revenue_change_pct": e["revenue_change_pct"] if metric == "revenue" else None,
                        }
                    )
        return pd.DataFrame(rows)

    def shapley_replications(self, metric: str = "net_profit") -> pd.DataFrame:
        """Per replication, each countermeasure's Shapley share of the reduction in ``metric``.

        The reduction of a set ``S`` switched on is ``v(none) - v(S)``; Shapley values are
        linear, so they are computed per replication and averaged, which gives CIs from the
        replications.
        """
        if not self.shapley_computed:
            raise ValueError("run compare(..., shapley=True) to compute Shapley values")
        k = len(self.names)
        base = self._metric(self.all_off, metric)
        values = {}
        for name in self.names:
            others = [n for n in self.names if n != name]
            phi = np.zeros(self.reps)
            for size in range(k):
                weight = math.factorial(size) * math.factorial(k - size - 1) / math.factorial(k)
                for subset in combinations(others, size):
                    s = frozenset(subset)
                    # Reduction gained by adding `name` to `s`: v(s) - v(s + name).
                    phi += weight * (self._metric(s, metric) - self._metric(s | {name}, metric))
            values[name] = phi
        frame = pd.DataFrame(values)
        frame.attrs["total_reduction"] = base - self._metric(self.all_on, metric)
        return frame

    def shapley(self, metric: str = "net_profit") -> dict[str, dict[str, Any]]:
        """Mean and 95 % CI of each countermeasure's Shapley share of the reduction."""
        frame = self.shapley_replications(metric)
        out = {}
        for name in frame.columns:
            mean, _, lo, hi = mean_ci(frame[name].to_numpy())
            out[str(name)] = {"mean": mean, "ci95": [lo, hi]}
        return out

    @property
    def shapley_frame(self) -> pd.DataFrame:
        """Shapley shares as a DataFrame (index: countermeasure)."""
        rows = {
            name: {"mean": v["mean"], "ci95_low": v["ci95"][0], "ci95_high": v["ci95"][1]}
            for name, v in self.shapley().items()
        }
        return pd.DataFrame.from_dict(rows, orient="index").rename_axis("countermeasure")

    def variants_frame(self) -> pd.DataFrame:
        """Every variant's replications in one frame (column ``variant``: the names on, ``;``-joined)."""
        frames = []
        for on, outcome in self.outcomes.items():
            frame = outcome.replications.copy()
            for channel, values in outcome.attempted_by_channel.items():
                frame[f"attempted.{channel}"] = values.to_numpy()
            frame["stopped"] = outcome.quit_or_convicted
            frame.insert(0, "variant", ";".join(sorted(on)))
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    @classmethod
    def from_frames(cls, scenario: Scenario, payload: dict[str, Any], variants: pd.DataFrame) -> Comparison:
        """Rebuild a comparison from ``comparison.json`` and ``variants.parquet``."""
        outcomes: dict[frozenset[str], Outcome] = {}
        for key, frame in variants.groupby("variant", sort=False):
            on = frozenset(n for n in str(key).split(";") if n)
            channels = [c for c in frame.columns if c.startswith("attempted.")]
            attempted = frame[channels].rename(columns=lambda c: c.split(".", 1)[1]).reset_index(drop=True)
            replications = frame.drop(columns=["variant", "stopped", *channels]).reset_index(drop=True)
            outcomes[on] = Outcome(on, replications, attempted, frame["stopped"].to_numpy())
        names = [e["countermeasure"] for e in payload["effects"]]
        return cls(scenario, int(payload["reps"]), int(payload["seed"]), names, outcomes, "shapley" in payload)

    def to_json(self) -> dict[str, Any]:
        """The comparison as the JSON object ``spamsim compare --json`` prints."""
        out: dict[str, Any] = {
            "scenario": self.scenario.name,
            "reps": self.reps,
            "seed": self.entropy,
            "baseline": self.baseline(),
            "effects": self.effects(),
        }
        out["defender_cost"] = self.defender_cost().to_json()
        out["cost_effectiveness"] = self.cost_effectiveness()
        if self.shapley_computed:
            out["shapley"] = self.shapley()
        return json_ready(out)


def compare(
    scenario: Scenario | str | Any,
    countermeasures: Sequence[str] | None = None,
    *,
    shapley: bool = False,
    reps: int = 200,
    seed: SeedLike = None,
    workers: int = 1,
    overrides: Iterable[str] = (),
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Estimate how each countermeasure changes the spammer's revenue and net profit.

    Parameters
    ----------
    scenario
        A Scenario, a path or a mapping.
    countermeasures
        Names to compare (default: every countermeasure the scenario defines, plus
        ``enforcement`` if it can catch anyone).
    shapley
        Also run every on/off combination (2^k variants) for exact Shapley attribution.
    reps, seed, workers, overrides
        As for :func:`spamsim.run`; every variant uses the same seed (paired replications).
    progress
        Called as ``progress(done, total)`` after each variant.

    Returns
    -------
    Comparison
        ``.effects()``, ``.shapley()``, ``.to_json()`` and DataFrame views.

    Examples
    --------
    >>> import spamsim as ss
    >>> cmp = ss.compare("scenarios/japan-2011.yaml", reps=100, seed=1, shapley=True)
    >>> cmp.effects_frame.head()  # doctest: +SKIP
    """
    loaded = load(scenario, overrides)
    available = countermeasure_names(loaded)
    names = list(countermeasures) if countermeasures else available
    unknown = [n for n in names if n not in available]
    if unknown:
        raise RefusedError(
            f"unknown countermeasure(s) {', '.join(unknown)}; this scenario defines: {', '.join(available) or 'none'}"
        )
    if not names:
        raise RefusedError("this scenario defines no countermeasures to compare")
    if len(set(names)) != len(names):
        raise RefusedError("each countermeasure may be named once")
    if shapley and len(names) > MAX_SHAPLEY_COUNTERMEASURES:
        raise RefusedError(
            f"exact Shapley over {len(names)} countermeasures needs 2^{len(names)} = "
            f"{2 ** len(names):,} variants x {reps:,} replications; at most "
            f"{MAX_SHAPLEY_COUNTERMEASURES} are supported — pick them with --countermeasure"
        )
    entropy = entropy_of(seed_sequence(seed))
    sets: list[frozenset[str]] = []
    if shapley:
        for size in range(len(names) + 1):
            sets.extend(frozenset(c) for c in combinations(names, size))
    else:
        sets = [frozenset(), frozenset(names)]
        for name in names:
            sets += [frozenset([name]), frozenset(names) - {name}]
        sets = list(dict.fromkeys(sets))
    outcomes: dict[frozenset[str], Outcome] = {}
    for done, on in enumerate(sets, start=1):
        outcome = run_variant(variant(loaded, names, on), reps, entropy, workers)
        outcome.on = on
        outcomes[on] = outcome
        if progress:
            progress(done, len(sets))
    return Comparison(loaded, reps, entropy, names, outcomes, shapley_computed=shapley)
