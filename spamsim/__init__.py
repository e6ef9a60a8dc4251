"""spamsim — what spam earns, and what each countermeasure takes away.

>>> import spamsim as ss
>>> sc = ss.load("scenarios/lecture.yaml")
>>> res = ss.run(sc, reps=1000, seed=1)
>>> res.summary.loc["revenue", ["mean", "ci95_low", "ci95_high"]]   # doctest: +SKIP
"""

__version__ = "0.1.0"

from .analysis.analytic import expected  # noqa: E402
from .analysis.calibration import Calibration, calibrate  # noqa: E402
from .analysis.effects import Comparison, compare  # noqa: E402
from .analysis.result import Result  # noqa: E402
from .analysis.sensitivity import sensitivity  # noqa: E402
from .api import (
    run,  # noqa: E402
    sweep,  # noqa: E402
)
from .scenario import Scenario, ScenarioError, load  # noqa: E402

__all__ = [
    "Calibration",
    "calibrate",
    "Comparison",
    "Result",
    "Scenario",
    "ScenarioError",
    "__version__",
    "compare",
    "expected",
    "load",
    "run",
    "sensitivity",
    "sweep",
]
