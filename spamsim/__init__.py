"""spamsim — what spam earns, and what each countermeasure takes away.

>>> import spamsim as ss
>>> sc = ss.load("scenarios/lecture.yaml")
>>> res = ss.run(sc, reps=1000, seed=1)
>>> res.summary.loc["revenue", ["mean", "ci95_low", "ci95_high"]]   # doctest: +SKIP

The public names are imported on first use (PEP 562), so ``import spamsim`` and the
command line start without loading scipy, pandas or matplotlib until a command needs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_names

__version__ = "0.1.0"

_PUBLIC = {
    "expected": "spamsim.analysis.analytic",
    "Calibration": "spamsim.analysis.calibration",
    "calibrate": "spamsim.analysis.calibration",
    "Comparison": "spamsim.analysis.effects",
    "DefenderCost": "spamsim.analysis.costs",
    "defender_cost": "spamsim.analysis.costs",
    "compare": "spamsim.analysis.effects",
    "Result": "spamsim.analysis.result",
    "sensitivity": "spamsim.analysis.sensitivity",
    "run": "spamsim.api",
    "sweep": "spamsim.api",
    "explore": "spamsim.api",
    "Scenario": "spamsim.scenario.schema",
    "ScenarioError": "spamsim.scenario.errors",
    "load": "spamsim.scenario.loader",
}
"""Each public name and the module that defines it."""

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from .analysis.analytic import expected
    from .analysis.calibration import Calibration, calibrate
    from .analysis.costs import DefenderCost, defender_cost
    from .analysis.effects import Comparison, compare
    from .analysis.result import Result
    from .analysis.sensitivity import sensitivity
    from .api import explore, run, sweep
    from .scenario.errors import ScenarioError
    from .scenario.loader import load
    from .scenario.schema import Scenario


__getattr__, __dir__ = lazy_names(__name__, globals(), _PUBLIC)

__all__ = [
    "Calibration",
    "Comparison",
    "DefenderCost",
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "calibrate",
    "compare",
    "defender_cost",
    "expected",
    "explore",
    "load",
    "run",
    "sensitivity",
    "sweep",
]
