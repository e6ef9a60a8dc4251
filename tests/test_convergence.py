"""Convergence: no number a user quotes depends on the ledger's step length.

``horizon.step_hours`` only sets where the recorded time series is cut (issue 10). Every
scenario shipped in ``scenarios/`` is run at 24, 6 and 1 hour steps (the 15-year timeline
at weekly and daily steps), and every headline metric must agree across step lengths
within Monte Carlo error. Streams are keyed by step, so runs at different step lengths
are independent, not paired: the tolerance is 4 combined standard errors
(``4 * sqrt(se_a**2 + se_b**2)``, a false-failure rate of about 6e-5 per comparison), plus
1e-9 of the value for metrics that do not vary between replications at all.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import spamsim

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
HEADLINE = (
    "attempted",
    "delivered",
    "sales",
    "revenue",
    "net_profit",
    "fines",
    "spam_share",
    "quits",
    "convictions",
)
FILES = sorted(
    p.name for p in SCENARIOS.glob("*.yaml") if p.name != "deterrence-sweep.yaml" and not p.name.startswith("explore-")
)  # explore-*.yaml are exploration files (spamsim explore), not scenarios


def _steps(name: str) -> tuple[float, ...]:
    return (168.0, 24.0) if name == "timeline.yaml" else (24.0, 6.0, 1.0)


@pytest.mark.slow
@pytest.mark.parametrize("name", FILES)
def test_headline_metrics_do_not_depend_on_the_step_length(name: str) -> None:
    reps = 40 if name == "timeline.yaml" else 200
    summaries = {
        step: spamsim.run(SCENARIOS / name, reps=reps, seed=11, overrides=[f"horizon.step_hours={step:g}"]).summary
        for step in _steps(name)
    }
    reference_step, reference = next(iter(summaries.items()))
    failures = []
    for step, summary in list(summaries.items())[1:]:
        for metric in HEADLINE:
            if metric not in reference.index:
                continue
            a, b = reference.loc[metric], summary.loc[metric]
            tolerance = 4 * math.hypot(a["se"], b["se"]) + 1e-9 * max(abs(a["mean"]), abs(b["mean"]))
            if not abs(a["mean"] - b["mean"]) <= tolerance:
                failures.append(
                    f"{metric}: {a['mean']:.6g} at {reference_step:g} h vs {b['mean']:.6g} at {step:g} h "
                    f"(4 combined se = {4 * math.hypot(a['se'], b['se']):.3g})"
                )
    assert not failures, f"{name}: " + "; ".join(failures)
