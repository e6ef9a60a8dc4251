"""Calibration: fit funnel probabilities to observed stage counts by maximum likelihood.

A published conversion study reports how many messages reached some stages of the funnel
(attempted, delivered, inbox, opened, clicked, sales). :func:`calibrate` finds the funnel
probabilities that make those counts most likely and says how well the counts pin them down.

The model is the one the simulation draws from (:mod:`spamsim.model.receivers`): every
message passes each stage independently, so the count at an observed stage is binomial given
the count at the previous *observed* stage, with success probability the product of the
transition probabilities in between::

    attempted ─delivery─▶ delivered ─(1 − catch_rate)─▶ inbox ─open_rate─▶ opened
              ─click_rate─▶ clicked ─purchase_rate─▶ sales

(or ``inbox ─success_rate─▶ sales`` for scenarios without the open/click/purchase funnel).
Transitions that are not fitted keep the scenario's value (the mean of a distribution).

A product of two fitted probabilities between the same pair of observed stages is all the
counts can tell, so such requests are refused before any optimisation, with the stage whose
count would separate them. What remains has at most one fitted probability per observed
segment, and the log-likelihood is a sum of one-parameter binomial terms.

Estimates are maximised in logit space (bounded to an open interval, so a stage with no
losses gives an estimate just below 1, not a division by zero). Confidence intervals come
from the profile likelihood (likelihood ratio against the chi-square(1) quantile), which
stays inside (0, 1) and is asymmetric where it should be for rare events; the Wald interval
from the Fisher information is used only where the profile cannot be computed.
"""

from __future__ import annotations

import difflib
import math
import numbers
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import optimize, special, stats

from ..runner.replications import RefusedError
from ..scenario.distributions import _Dist
from ..scenario.errors import Problem, ScenarioError
from ..scenario.loader import load, read_text, scenario_data, source_name
from ..scenario.params import MAX_COUNT
from ..scenario.schema import Scenario
from ..scenario.yamlio import Located, YamlProblem, parse_yaml
from .summary import json_ready

STAGES = ("attempted", "delivered", "inbox", "opened", "clicked", "sales")
"""Funnel stages in order; a counts file may give any two or more of them."""

DELIVERY = "delivery"
CATCH_RATE = "countermeasures.receiver_filtering.catch_rate"
OPEN_RATE = "market.funnel.open_rate"
CLICK_RATE = "market.funnel.click_rate"
PURCHASE_RATE = "market.funnel.purchase_rate"
SUCCESS_RATE = "market.success_rate"
PARAMETERS = (DELIVERY, CATCH_RATE, OPEN_RATE, CLICK_RATE, PURCHASE_RATE, SUCCESS_RATE)
"""What can be fitted. ``delivery`` is P(delivered | attempted), the share of attempted mail
that no sending-side countermeasure blocked: an outcome of the world, not a scenario field."""

FUNNEL_RATES = (OPEN_RATE, CLICK_RATE, PURCHASE_RATE)

LOGIT_BOUND = 36.0
"""Fitted probabilities stay in (expit(-36), expit(36)) ≈ (2.3e-16, 1 - 2.3e-16): the open
interval, with both ends still distinct from 0 and 1 in double precision."""

COUNTS_KEYS = ("counts", "source")


@dataclass(frozen=True)
class _Transition:
    """One step of the funnel and the probability that governs it."""

    parameter: str
    source: str
    target: str
    complement: bool = False
    """The step's probability is 1 - parameter (a message passes the filter if not caught)."""


_FUNNEL_CHAIN = (
    _Transition(DELIVERY, "attempted", "delivered"),
    _Transition(CATCH_RATE, "delivered", "inbox", complement=True),
    _Transition(OPEN_RATE, "inbox", "opened"),
    _Transition(CLICK_RATE, "opened", "clicked"),
    _Transition(PURCHASE_RATE, "clicked", "sales"),
)
_SUCCESS_CHAIN = (*_FUNNEL_CHAIN[:2], _Transition(SUCCESS_RATE, "inbox", "sales"))


def _stages_of(chain: Sequence[_Transition]) -> list[str]:
    return [t.source for t in chain] + [chain[-1].target]


@dataclass(frozen=True)
class ObservedCounts:
    """Validated stage counts, in funnel order, with where they came from.

    Attributes
    ----------
    counts
        Stage name → number of messages, in funnel order; never increasing.
    source
        The counts' reference (``source:`` in a counts file), if given.
    origin
        The file the counts were read from, or ``<counts>`` for a mapping.
    """

    counts: dict[str, int]
    source: str | None = None
    origin: str = "<counts>"


def read_counts(
    observed: str | os.PathLike[str] | Mapping[str, Any] | ObservedCounts,
) -> ObservedCounts:
    """Read and check observed stage counts.

    Parameters
    ----------
    observed
        Path of a YAML file with ``counts: {stage: n}`` and an optional ``source:`` string;
        or a mapping, either ``{stage: n}`` or shaped like the file.

    Returns
    -------
    ObservedCounts
        The counts in funnel order.

    Raises
    ------
    ScenarioError
        With every problem found, each as ``FILE:LINE:COL: counts.stage: message``: unknown
        stages (with a "did you mean"), negative or fractional counts, counts that increase
        along the funnel, fewer than two stages.
    """
    if isinstance(observed, ObservedCounts):
        # Checked again: an ObservedCounts can also be built by hand.
        given = {"counts": dict(observed.counts), "source": observed.source}
        return _check_counts(Located(given), observed.origin)
    if isinstance(observed, Mapping):
        origin = "<counts>"
        data: Any = {str(k): v for k, v in observed.items()}
        if not isinstance(data.get("counts"), Mapping):
            data = {"counts": data}
        located = Located(data)
    else:
        origin = source_name(observed)
        text = read_text(Path(observed))  # regular files (or - for stdin) only, size-capped
        try:
            located = parse_yaml(text, origin)
        except YamlProblem as exc:
            raise ScenarioError(exc.problems) from None
    return _check_counts(located, origin)


def _check_counts(located: Located, origin: str) -> ObservedCounts:
    problems = list(located.problems)

    def problem(path: tuple[str, ...], message: str, *, key: bool = False) -> None:
        mark = located.mark_of(path, key=key)
        line, column = (mark.line, mark.column) if mark is not None else (None, None)
        problems.append(Problem(origin, line, column, ".".join(path), message))

    data = located.data
    if not isinstance(data, dict):
        problem((), "a counts file must be a mapping: counts: {attempted: …, sales: …}, source: …")
        raise ScenarioError(problems)
    for key in data:
        if key not in COUNTS_KEYS:
            problem((key,), _unknown("field", key, COUNTS_KEYS), key=True)
    source = data.get("source")
    if source is not None and not isinstance(source, str):
        problem(("source",), f"source must be text (a reference), got {source!r}")
        source = None
    raw = data.get("counts")
    if raw is None:
        problem(("counts",) if "counts" in data else (), "counts: {stage: number of messages, …} is required")
        raise ScenarioError(problems)
    if not isinstance(raw, dict):
        problem(("counts",), "counts must be a mapping {stage: number of messages, …}")
        raise ScenarioError(problems)
    counts: dict[str, int] = {}
    for stage, value in raw.items():
        if stage not in STAGES:
            problem(("counts", stage), _unknown("stage", stage, STAGES), key=True)
            continue
        count, message = _as_count(value)
        if message is not None:
            problem(("counts", stage), message)
        elif count is not None:
            counts[stage] = count
    ordered = {s: counts[s] for s in STAGES if s in counts}
    known = [s for s in raw if s in STAGES]
    if len(known) < 2:
        problem(
            ("counts",),
            "give counts for at least two stages (e.g. attempted and sales): "
            "one count alone says nothing about a probability",
        )
    stages = list(ordered)
    for before, after in zip(stages, stages[1:], strict=False):
        if ordered[after] > ordered[before]:
            problem(
                ("counts", after),
                f"{after} ({ordered[after]:,}) exceeds {before} ({ordered[before]:,}): counts "
                f"cannot increase along the funnel ({' → '.join(STAGES)})",
            )
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.column or 0))
        raise ScenarioError(problems)
    return ObservedCounts(ordered, source.strip() if isinstance(source, str) else None, origin)


def _unknown(what: str, name: str, valid: Sequence[str]) -> str:
    message = f"unknown {what} {name!r}"
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
    if close:
        return message + f"; did you mean {close[0]!r}?"
    return message + f"; expected one of: {', '.join(valid)}"


def _as_count(value: Any) -> tuple[int | None, str | None]:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None, f"a count must be a whole number of messages, got {value!r}"
    number = float(value)
    if not math.isfinite(number):
        return None, f"a count must be finite, got {value!r}"
    if number < 0:
        return None, f"a count cannot be negative, got {value!r}"
    if number != math.floor(number):
        return None, f"a count must be a whole number of messages, got {value!r}"
    if number > MAX_COUNT:
        return None, f"a count must be at most {MAX_COUNT:g}, got {value!r}"
    return int(number), None


# -- the likelihood ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    """Two consecutive observed stages and the transitions between them."""

    source: str
    target: str
    n: int
    k: int
    transitions: tuple[_Transition, ...]
    fitted: tuple[_Transition, ...]


def _log1mexp(log_p: np.ndarray | float) -> np.ndarray:
    """log(1 - exp(log_p)) without cancellation (Mächler's switch at log 2)."""
    log_p = np.asarray(log_p, dtype=float)
    with np.errstate(divide="ignore"):
        return np.where(log_p > -math.log(2.0), np.log(-np.expm1(log_p)), np.log1p(-np.exp(log_p)))


def _binomial_kernel(n: np.ndarray | float, k: np.ndarray | float, log_p: np.ndarray | float) -> np.ndarray:
    """k log p + (n - k) log(1 - p), with 0 · log 0 = 0."""
    log_q = _log1mexp(log_p)
    with np.errstate(invalid="ignore"):
        return np.where(k > 0, k * log_p, 0.0) + np.where(n > k, (n - k) * log_q, 0.0)


class _Likelihood:
    """Negative log-likelihood of the fitted segments, relative to the saturated model.

    Measuring from the saturated model (each segment at k/n) keeps the objective of order
    one near the optimum even for counts of 1e8, so optimiser tolerances mean something.
    """

    def __init__(self, segments: Sequence[_Segment], fit: Sequence[str], held: Mapping[str, float]):
        self.size = len(fit)
        active = [s for s in segments if s.fitted]
        self.n = np.array([s.n for s in active], dtype=float)
        self.k = np.array([s.k for s in active], dtype=float)
        self.index = np.array([fit.index(s.fitted[0].parameter) for s in active], dtype=int)
        self.complement = np.array([s.fitted[0].complement for s in active], dtype=bool)
        self.log_fixed = np.array(
            [sum(_log_step(t, held[t.parameter]) for t in s.transitions if t not in s.fitted) for s in active],
            dtype=float,
        )
        self.saturated = special.xlogy(self.k, self.k / self.n) + special.xlogy(
            self.n - self.k, (self.n - self.k) / self.n
        )
        n_all = np.array([s.n for s in segments], dtype=float)
        k_all = np.array([s.k for s in segments], dtype=float)
        log_choose = special.gammaln(n_all + 1) - special.gammaln(k_all + 1) - special.gammaln(n_all - k_all + 1)
        self.log_coefficients = float(np.sum(log_choose))
        fixed = [s for s in segments if not s.fitted]
        self.fixed_kernel = float(
            sum(
                _binomial_kernel(
                    np.float64(s.n),
                    np.float64(s.k),
                    np.float64(sum(_log_step(t, held[t.parameter]) for t in s.transitions)),
                )
                for s in fixed
            )
        )

    def log_p(self, x: np.ndarray) -> np.ndarray:
        xs = x[self.index]
        log_step = np.where(self.complement, special.log_expit(-xs), special.log_expit(xs))
        return self.log_fixed + log_step

    def _dlog_p(self, x: np.ndarray) -> np.ndarray:
        xs = x[self.index]
        return np.where(self.complement, -special.expit(xs), special.expit(-xs))

    def objective(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """Negative log-likelihood above the saturated model, and its gradient in logit space."""
        log_p = self.log_p(x)
        value = float(np.sum(self.saturated - _binomial_kernel(self.n, self.k, log_p)))
        score = (self.k - self.n * np.exp(log_p)) / np.exp(_log1mexp(log_p)) * self._dlog_p(x)
        gradient = -np.bincount(self.index, weights=score, minlength=self.size)
        return value, gradient

    def value(self, x: np.ndarray) -> float:
        return self.objective(x)[0]

    def log_likelihood(self, x: np.ndarray) -> float:
        """The full binomial log-likelihood of every observed count, constants included."""
        kernel = float(np.sum(_binomial_kernel(self.n, self.k, self.log_p(x))))
        return self.log_coefficients + self.fixed_kernel + kernel

    def fisher_information(self, x: np.ndarray) -> np.ndarray:
        """Expected Fisher information in logit space: n (dp/dx)² / (p (1 - p)) per segment.

        Each segment depends on one fitted parameter, so the matrix is diagonal; it is built
        as a matrix anyway so that the Wald interval reads as the textbook formula.
        """
        log_p = self.log_p(x)
        p = np.exp(log_p)
        per_segment = self.n * p * self._dlog_p(x) ** 2 / np.exp(_log1mexp(log_p))
        info = np.zeros((self.size, self.size))
        np.add.at(info, (self.index, self.index), per_segment)
        return info


def _log_step(transition: _Transition, value: float) -> float:
    """log of a transition's probability when its parameter is held at ``value``."""
    probability = 1.0 - value if transition.complement else value
    return math.log(probability) if probability > 0 else -math.inf


# -- the result ----------------------------------------------------------------------------


@dataclass
class Calibration:
    """Maximum-likelihood estimates of funnel probabilities with confidence intervals.

    Attributes
    ----------
    scenario
        The scenario given to :func:`calibrate`.
    observed
        The observed stage counts, in funnel order.
    source
        Where the counts come from (``source:`` of the counts file), if given.
    fit
        The fitted parameters, in the order given.
    estimates
        One row per fitted parameter (index ``parameter``): ``estimate``, ``ci_low``,
        ``ci_high`` and ``method`` (``profile`` or ``wald``).
    wald
        The Wald intervals from the Fisher information (same layout, plus ``se_logit``), for
        comparison; ``estimates`` uses them only where the profile failed.
    held
        Probabilities that enter the likelihood but were not fitted, at the values used.
    log_likelihood
        Binomial log-likelihood of the observed counts at the estimates (constants included).
    confidence
        Confidence level of the intervals.
    counts_origin
        The counts file, or ``<counts>`` if the counts were given as a mapping.
    notes
        Caveats about this calibration, repeated in :meth:`to_yaml`'s comment block.
    """

    scenario: Scenario
    observed: dict[str, int]
    source: str | None
    fit: tuple[str, ...]
    estimates: pd.DataFrame
    wald: pd.DataFrame
    held: dict[str, float]
    log_likelihood: float
    confidence: float
    counts_origin: str = "<counts>"
    notes: list[str] = field(default_factory=list)

    def fitted_counts(self) -> pd.DataFrame:
        """Observed vs fitted count at each observed stage (for a fit-vs-observed figure).

        Each stage's fitted count is the previous observed count times the product of the
        transition probabilities between them, at the estimates; the bounds use each fitted
        parameter's interval (every transition is monotone in its parameter). The first
        observed stage is the starting count, so fitted equals observed there.
        """
        uses_success = SUCCESS_RATE in self.fit or SUCCESS_RATE in self.held
        chain = _SUCCESS_CHAIN if uses_success else _FUNNEL_CHAIN
        order = _stages_of(chain)
        stages = [s for s in order if s in self.observed]

        def value(parameter: str, column: str) -> float:
            if parameter in self.estimates.index:
                return float(self.estimates.loc[parameter, column])
            return float(self.held.get(parameter, 1.0 if parameter == DELIVERY else 0.0))

        rows = [
            {
                "stage": stages[0],
                "observed": self.observed[stages[0]],
                "fitted": float(self.observed[stages[0]]),
                "fitted_ci_low": float(self.observed[stages[0]]),
                "fitted_ci_high": float(self.observed[stages[0]]),
            }
        ]
        for source, target in zip(stages, stages[1:], strict=False):
            between = chain[order.index(source) : order.index(target)]
            mid = low = high = float(self.observed[source])
            for t in between:
                p, lo, hi = (value(t.parameter, c) for c in ("estimate", "ci_low", "ci_high"))
                if t.complement:
                    p, lo, hi = 1.0 - p, 1.0 - hi, 1.0 - lo
                mid, low, high = mid * p, low * lo, high * hi
            rows.append(
                {
                    "stage": target,
                    "observed": self.observed[target],
                    "fitted": mid,
                    "fitted_ci_low": low,
                    "fitted_ci_high": high,
                }
            )
        return pd.DataFrame(rows)

    def calibrated_scenario(self) -> Scenario:
        """The scenario with every fitted field set to its estimate.

        ``delivery`` is not a scenario field (it is what the sending-side countermeasures
        let through) and is left out. A fitted catch rate switches receiver filtering on:
        the counts say that filters caught mail.

        Raises
        ------
        RefusedError
            If the fitted parameters do not fit the scenario's success model:
            ``market.success_rate`` for a scenario with a ``market.funnel``, or funnel rates
            for a scenario with a single ``market.success_rate``.
        """
        data = scenario_data(self.scenario)
        market = data["market"]
        name = self.scenario.name
        fitted = [p for p in self.fit if p != DELIVERY]
        funnel_fitted = [p for p in fitted if p in FUNNEL_RATES]
        if funnel_fitted and market.get("funnel") is None:
            raise RefusedError(
                f"{' and '.join(funnel_fitted)} cannot be set in scenario {name!r}: it models "
                "sales with one market.success_rate, not the open/click/purchase funnel. Fit "
                "market.success_rate instead, or start from a scenario with market.funnel"
            )
        if SUCCESS_RATE in fitted and market.get("success_rate") is None:
            raise RefusedError(
                f"market.success_rate cannot be set in scenario {name!r}: it models sales with "
                "market.funnel (open × click × purchase), and a scenario gives one or the other. "
                "Fit the funnel rates instead (observe opened and clicked to separate them), "
                "or start from a scenario with market.success_rate"
            )
        for parameter in fitted:
            value = float(self.estimates.loc[parameter, "estimate"])
            if parameter == CATCH_RATE:
                filtering = data["countermeasures"].get("receiver_filtering") or {}
                data["countermeasures"]["receiver_filtering"] = {
                    **filtering,
                    "catch_rate": value,
                    "enabled": True,
                }
            elif parameter == SUCCESS_RATE:
                market["success_rate"] = value
            else:
                market["funnel"][parameter.rsplit(".", 1)[1]] = value
        return load(data)

    def to_yaml(self) -> str:
        """The calibrated scenario as YAML, led by a comment block saying how it was calibrated.

        The text loads back with :func:`spamsim.load` once written to a file.
        """
        from .. import __version__

        scenario = self.calibrated_scenario()
        level = f"{self.confidence * 100:g} %"
        lines = [
            f"{scenario.name} — calibrated by spamsim {__version__}: maximum-likelihood fit of "
            f"{', '.join(self.fit)} to observed stage counts.",
            "Observed counts: "
            + " → ".join(f"{stage} {count:,}" for stage, count in self.observed.items())
            + ("" if self.counts_origin == "<counts>" else f" (from {self.counts_origin})"),
        ]
        if self.source:
            lines.append(f"Source of the counts: {self.source}")
        lines.append(f"Estimates with {level} confidence intervals:")
        for parameter, row in self.estimates.iterrows():
            how = "profile likelihood" if row["method"] == "profile" else "Wald, Fisher information"
            lines.append(
                f"  {parameter} = {_g(row['estimate'])}   [{_g(row['ci_low'])}, {_g(row['ci_high'])}]  ({how})"
            )
        if self.held:
            held = ", ".join(f"{p} = {_g(v)}" for p, v in self.held.items())
            lines.append(f"Held at the scenario's values (not fitted): {held}")
        if DELIVERY in self.fit:
            lines.append(
                "delivery (share of attempted mail not blocked before the recipients' "
                "servers) is not a scenario field and is not written below."
            )
        lines.extend(self.notes)
        lines.append(f"Log-likelihood at the estimates: {self.log_likelihood:.6g}")
        header = "".join(_comment(line) for line in lines)
        body = yaml.safe_dump(scenario_data(scenario), sort_keys=False, allow_unicode=True)
        return header + body

    def to_json(self) -> dict[str, Any]:
        """The calibration as a JSON-ready dict (what a ``--json`` option prints)."""
        return json_ready(
            {
                "scenario": self.scenario.name,
                "observed": dict(self.observed),
                "source": self.source,
                "fit": list(self.fit),
                "confidence": self.confidence,
                "log_likelihood": self.log_likelihood,
                "held": dict(self.held),
                "estimates": [
                    {"parameter": p, **{c: row[c] for c in ("estimate", "ci_low", "ci_high", "method")}}
                    for p, row in self.estimates.iterrows()
                ],
                "notes": list(self.notes),
            }
        )


def _g(x: float) -> str:
    return "nan" if not math.isfinite(x) else f"{x:.4g}"


def _comment(text: str) -> str:
    # A source may span lines; every one of them must stay a YAML comment.
    return "".join(f"# {line}".rstrip() + "\n" for line in str(text).splitlines() or [""])


# -- calibrate -----------------------------------------------------------------------------


def calibrate(
    scenario: Scenario | str | os.PathLike[str] | Mapping[str, Any],
    observed: str | os.PathLike[str] | Mapping[str, Any] | ObservedCounts,
    fit: Sequence[str],
    *,
    confidence: float = 0.95,
) -> Calibration:
    """Fit funnel probabilities to observed stage counts by maximum likelihood.

    Parameters
    ----------
    scenario
        A :class:`Scenario`, a scenario file, or a mapping. Probabilities that are not fitted
        take their value from it (the mean of a distribution; a catch rate of 0 if receiver
        filtering is absent or switched off; ``delivery`` is 1 unless fitted).
    observed
        Stage → count (any two or more of ``attempted``, ``delivered``, ``inbox``,
        ``opened``, ``clicked``, ``sales``), or a YAML file with ``counts: {stage: n}`` and
        an optional ``source:``.
    fit
        Parameters to estimate, among ``delivery``,
        ``countermeasures.receiver_filtering.catch_rate``, ``market.funnel.open_rate``,
        ``market.funnel.click_rate``, ``market.funnel.purchase_rate`` and
        ``market.success_rate``.
    confidence
        Level of the confidence intervals.

    Returns
    -------
    Calibration
        Estimates with profile-likelihood intervals, the calibrated scenario, YAML and JSON.

    Raises
    ------
    ScenarioError
        If the scenario or the counts are invalid (with ``FILE:LINE:COL`` where known).
    RefusedError
        If the request cannot be answered from these counts: unknown parameters, parameters
        the observed stages cannot separate (the message names the stage to observe),
        parameters outside the observed stages, no messages to learn from, or counts that
        the scenario's fixed probabilities make impossible.

    Notes
    -----
    Unfitted probabilities are taken as known. In particular, observing ``attempted`` and a
    later stage without fitting ``delivery`` assumes that nothing was blocked before the
    recipients' servers. A scenario's ``catch_rate_by_channel`` is not modelled: the fitted
    catch rate is the pooled one.

    Examples
    --------
    Kanich et al. (2008) counted 28 sales from about 350 million pharmacy spam messages:

    >>> from spamsim.analysis.calibration import calibrate
    >>> cal = calibrate("scenarios/lecture.yaml", "scenarios/observed/spamalytics.yaml",
    ...                 ["market.success_rate"])
    >>> print(f"{cal.estimates.loc['market.success_rate', 'estimate']:.2g}")
    8e-08
    """
    if not 0.0 < confidence < 1.0:
        raise RefusedError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    loaded = load(scenario)
    counts = read_counts(observed)
    fit = _check_fit(fit)
    chain = _choose_chain(loaded, counts.counts, fit)
    segments = _segments(chain, counts.counts, fit)
    _check_identifiable(chain, segments, counts.counts, fit)
    held = _held_values(loaded, segments, fit)
    _check_informative(segments, held)

    likelihood = _Likelihood(segments, fit, held)
    x_hat = _maximise(likelihood, segments, fit, held)
    z = stats.norm.ppf(0.5 + confidence / 2.0)
    quantile = stats.chi2.ppf(confidence, 1)
    info = likelihood.fisher_information(x_hat)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = 1.0 / np.sqrt(np.diag(info))
    rows: dict[str, dict[str, Any]] = {}
    wald_rows: dict[str, dict[str, Any]] = {}
    for j, parameter in enumerate(fit):
        estimate = float(special.expit(x_hat[j]))
        wald_low, wald_high = _wald(x_hat[j], se[j], z)
        wald_rows[parameter] = {
            "estimate": estimate,
            "ci_low": wald_low,
            "ci_high": wald_high,
            "method": "wald",
            "se_logit": float(se[j]),
        }
        try:
            low, high = _profile_interval(likelihood, x_hat, j, quantile, se[j])
            rows[parameter] = {"estimate": estimate, "ci_low": low, "ci_high": high, "method": "profile"}
        except (_ProfileFailed, ValueError, RuntimeError, FloatingPointError):
            rows[parameter] = {**wald_rows[parameter], "method": "wald"}
            rows[parameter].pop("se_logit")
    estimates = pd.DataFrame.from_dict(rows, orient="index").rename_axis("parameter")
    wald = pd.DataFrame.from_dict(wald_rows, orient="index").rename_axis("parameter")
    notes: list[str] = []
    filtering = loaded.countermeasures.receiver_filtering
    if (
        filtering is not None
        and filtering.catch_rate_by_channel
        and any(t.parameter == CATCH_RATE for s in segments for t in s.transitions)
    ):
        notes.append(
            "Note: the scenario's catch_rate_by_channel was not modelled; the catch "
            "rate here is the one for all channels together."
        )
    return Calibration(
        scenario=loaded,
        observed=dict(counts.counts),
        source=counts.source,
        fit=tuple(fit),
        estimates=estimates,
        wald=wald,
        held=held,
        log_likelihood=likelihood.log_likelihood(x_hat),
        confidence=confidence,
        counts_origin=counts.origin,
        notes=notes,
    )


def _check_fit(fit: Sequence[str]) -> list[str]:
    if isinstance(fit, str):
        fit = [fit]  # one name, not its characters
    names = [str(p).strip() for p in fit]
    if not names:
        raise RefusedError(f"nothing to fit: name one or more of {', '.join(PARAMETERS)}")
    problems = [_unknown("parameter", p, PARAMETERS) for p in names if p not in PARAMETERS]
    repeated = sorted({p for p in names if names.count(p) > 1})
    if repeated:
        problems.append(f"each parameter may be fitted once; repeated: {', '.join(repeated)}")
    if problems:
        raise RefusedError("; ".join(problems))
    return names


def _choose_chain(scenario: Scenario, counts: Mapping[str, int], fit: Sequence[str]) -> tuple[_Transition, ...]:
    """The funnel the counts are read through: open/click/purchase, or one success rate."""
    funnel_fitted = [p for p in fit if p in FUNNEL_RATES]
    funnel_stages = [s for s in ("opened", "clicked") if s in counts]
    if SUCCESS_RATE in fit and (funnel_fitted or funnel_stages):
        why = " and ".join(funnel_fitted) if funnel_fitted else f"counts of {' and '.join(funnel_stages)}"
        raise RefusedError(
            f"market.success_rate is the product open_rate × click_rate × purchase_rate; it "
            f"cannot be fitted together with {why}. Fit either the success rate or the funnel rates"
        )
    if SUCCESS_RATE in fit:
        return _SUCCESS_CHAIN
    if funnel_fitted or funnel_stages:
        return _FUNNEL_CHAIN
    return _FUNNEL_CHAIN if scenario.market.funnel is not None else _SUCCESS_CHAIN


def _segments(chain: Sequence[_Transition], counts: Mapping[str, int], fit: Sequence[str]) -> list[_Segment]:
    stages = _stages_of(chain)
    observed = [s for s in stages if s in counts]
    segments: list[_Segment] = []
    for a, b in zip(observed, observed[1:], strict=False):
        between = tuple(chain[stages.index(a) : stages.index(b)])
        segments.append(_Segment(a, b, counts[a], counts[b], between, tuple(t for t in between if t.parameter in fit)))
    return segments


def _check_identifiable(
    chain: Sequence[_Transition],
    segments: Sequence[_Segment],
    counts: Mapping[str, int],
    fit: Sequence[str],
) -> None:
    """Refuse fits the observed stages cannot separate, before any optimisation.

    The counts of two consecutive observed stages identify one number: the product of the
    transition probabilities between them. Two fitted parameters in one segment are
    therefore confounded, and a parameter outside the observed stages is not seen at all.
    """
    stages = _stages_of(chain)
    observed = [s for s in stages if s in counts]
    by_parameter = {t.parameter: t for t in chain}
    covered = {t.parameter for s in segments for t in s.transitions}
    problems: list[str] = []
    for parameter in fit:
        if parameter in covered:
            continue
        t = by_parameter[parameter]
        if stages.index(t.target) <= stages.index(observed[0]):
            problems.append(
                f"{parameter} acts between {t.source} and {t.target}, before the first observed "
                f"stage ({observed[0]}): observe {t.source} as well"
            )
        else:
            problems.append(
                f"{parameter} acts between {t.source} and {t.target}, after the last observed "
                f"stage ({observed[-1]}): observe {t.target} as well"
            )
    for segment in segments:
        if len(segment.fitted) < 2:
            continue
        names = [t.parameter for t in segment.fitted]
        needs: list[str] = []
        for first, second in zip(segment.fitted, segment.fitted[1:], strict=False):
            options = stages[stages.index(first.target) : stages.index(second.source) + 1]
            needs.append(" or ".join(options))
        listed = ", ".join(names[:-1]) + " and " + names[-1]
        problems.append(
            f"{listed} are confounded: with only {segment.source} and {segment.target} observed "
            f"between them, the counts identify only the product of their probabilities; "
            f"observe {' and '.join(needs)} as well"
        )
    if problems:
        raise RefusedError("not identifiable from the observed stages: " + "; ".join(problems))


def _held_values(scenario: Scenario, segments: Sequence[_Segment], fit: Sequence[str]) -> dict[str, float]:
    """Scenario values of the probabilities in the likelihood that are not fitted."""
    held: dict[str, float] = {}
    missing: list[str] = []
    for segment in segments:
        for t in segment.transitions:
            if t.parameter in fit or t.parameter in held:
                continue
            value = _scenario_value(scenario, t.parameter)
            if value is None:
                missing.append(f"{t.parameter} (between {t.source} and {t.target})")
            else:
                held[t.parameter] = value
    if missing:
        model = "market.funnel" if scenario.market.funnel is None else "market.success_rate"
        raise RefusedError(
            f"scenario {scenario.name!r} has no {model}, so nothing gives "
            f"{', '.join(missing)}: fit it as well, or start from a scenario with {model}"
        )
    return held


def _scenario_value(scenario: Scenario, parameter: str) -> float | None:
    if parameter == DELIVERY:
        return 1.0  # no field: assume nothing is blocked unless delivery is fitted
    if parameter == CATCH_RATE:
        # The world ignores a filter that is absent or switched off (model/world.py).
        if not scenario.countermeasures.active("receiver_filtering"):
            return 0.0
        filtering = scenario.countermeasures.receiver_filtering
        assert filtering is not None
        return _mean(filtering.catch_rate)
    if parameter == SUCCESS_RATE:
        value = scenario.market.success_rate
        return None if value is None else _mean(value)
    funnel = scenario.market.funnel
    if funnel is None:
        return None
    return _mean(getattr(funnel, parameter.rsplit(".", 1)[1]))


def _mean(value: Any) -> float:
    return value.expected() if isinstance(value, _Dist) else float(value)


def _check_informative(segments: Sequence[_Segment], held: Mapping[str, float]) -> None:
    """Refuse counts that say nothing about a fitted parameter or contradict a held one."""
    problems: list[str] = []
    for s in segments:
        log_fixed = sum(_log_step(t, held[t.parameter]) for t in s.transitions if t not in s.fitted)
        if s.fitted:
            name = s.fitted[0].parameter
            if s.n == 0:
                problems.append(f"no information on {name}: 0 messages observed at {s.source}")
            elif log_fixed == -math.inf:
                zero = [
                    t.parameter
                    for t in s.transitions
                    if t not in s.fitted and _log_step(t, held[t.parameter]) == -math.inf
                ]
                problems.append(
                    f"no information on {name}: the scenario's {', '.join(zero)} lets no message "
                    f"from {s.source} reach {s.target}"
                )
            continue
        kernel = _binomial_kernel(np.float64(s.n), np.float64(s.k), np.float64(log_fixed))
        if not np.isfinite(kernel):
            values = ", ".join(f"{t.parameter} = {_g(held[t.parameter])}" for t in s.transitions)
            names = [t.parameter for t in s.transitions]
            remedy = f"fit {names[0]}" if len(names) == 1 else f"fit one of {', '.join(names)}"
            problems.append(
                f"{s.k:,} {s.target} from {s.n:,} {s.source} are impossible with {values} "
                f"held fixed (not fitted): {remedy}"
            )
    if problems:
        raise RefusedError("; ".join(problems))


def _maximise(
    likelihood: _Likelihood,
    segments: Sequence[_Segment],
    fit: Sequence[str],
    held: Mapping[str, float],
) -> np.ndarray:
    """The maximum-likelihood estimate in logit space, within the logit bounds."""
    # Start from each segment's closed-form answer (observed share over the held product),
    # which is the optimum whenever it lies inside (0, 1); the optimiser confirms it and
    # handles the bounds.
    start = np.zeros(len(fit))
    for s in segments:
        if not s.fitted:
            continue
        t = s.fitted[0]
        fixed = math.exp(sum(_log_step(u, held[u.parameter]) for u in s.transitions if u is not t))
        share = min(1.0, s.k / s.n / fixed)
        value = 1.0 - share if t.complement else share
        start[fit.index(t.parameter)] = _clip_logit(value)
    bounds = [(-LOGIT_BOUND, LOGIT_BOUND)] * len(fit)
    result = optimize.minimize(
        likelihood.objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 1000},
    )
    best = np.clip(np.asarray(result.x, dtype=float), -LOGIT_BOUND, LOGIT_BOUND)
    # Line searches can stop early on very flat or very steep objectives; never return a
    # point worse than the start.
    return best if likelihood.value(best) <= likelihood.value(start) else start


def _clip_logit(p: float) -> float:
    return float(np.clip(special.logit(p), -LOGIT_BOUND, LOGIT_BOUND))


class _ProfileFailed(Exception):
    """The profile likelihood could not be bracketed or evaluated."""


def _profile_interval(
    likelihood: _Likelihood, x_hat: np.ndarray, j: int, quantile: float, se_logit: float
) -> tuple[float, float]:
    """Profile-likelihood interval of parameter ``j``: where 2 Δ log L = the chi² quantile."""
    best = likelihood.value(x_hat)
    others = [i for i in range(likelihood.size) if i != j]

    def profile(v: float) -> float:
        x = x_hat.copy()
        x[j] = v
        if others:

            def reduced(y: np.ndarray) -> tuple[float, np.ndarray]:
                x[others] = y
                value, gradient = likelihood.objective(x)
                return value, gradient[others]

            result = optimize.minimize(
                reduced, x_hat[others], jac=True, method="L-BFGS-B", bounds=[(-LOGIT_BOUND, LOGIT_BOUND)] * len(others)
            )
            x[others] = result.x
        return likelihood.value(x)

    def excess(v: float) -> float:
        value = 2.0 * (profile(v) - best) - quantile
        if not math.isfinite(value):
            raise _ProfileFailed(f"profile likelihood not finite at logit {v:g}")
        return value

    step0 = se_logit if math.isfinite(se_logit) and se_logit > 0 else 1.0
    ends: list[float] = []
    for direction in (-1.0, 1.0):
        inner, step, end = float(x_hat[j]), step0, None
        for _ in range(64):
            if direction * inner >= LOGIT_BOUND:
                end = direction * LOGIT_BOUND  # the interval reaches the edge of (0, 1)
                break
            outer = float(np.clip(inner + direction * step, -LOGIT_BOUND, LOGIT_BOUND))
            if excess(outer) > 0:
                low, high = sorted((inner, outer))
                end = optimize.brentq(excess, low, high, xtol=1e-12, rtol=1e-12)
                break
            inner, step = outer, step * 2.0
        if end is None:
            raise _ProfileFailed("could not bracket the profile likelihood")
        ends.append(float(special.expit(end)))
    return ends[0], ends[1]


def _wald(x: float, se_logit: float, z: float) -> tuple[float, float]:
    # On the logit scale, so that the interval stays inside (0, 1) for rare events.
    if not (math.isfinite(se_logit) and se_logit > 0):
        return math.nan, math.nan
    return float(special.expit(x - z * se_logit)), float(special.expit(x + z * se_logit))


__all__ = [
    "CATCH_RATE",
    "CLICK_RATE",
    "Calibration",
    "DELIVERY",
    "OPEN_RATE",
    "ObservedCounts",
    "PARAMETERS",
    "PURCHASE_RATE",
    "STAGES",
    "SUCCESS_RATE",
    "calibrate",
    "read_counts",
]
