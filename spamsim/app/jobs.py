"""Simulations the page waits for: run in a thread, in stages, with progress, cancellable.

A job is a list of stages (a quick run with few replications, the countermeasure effects, a
refined run with many); each stage's result is published as soon as it is ready, so the page
shows rough numbers at once and better ones while the sliders rest. Cancelling (the user
pressed Cancel, or moved a slider again) stops the job at the next progress report — after
the current block of replications or countermeasure variant.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..analysis.effects import compare
from ..analysis.result import Result
from ..api import run
from ..scenario.schema import Scenario

SEED = 2011
"""The app's seed: the same scenario shows the same numbers, and ``spamsim run --seed 2011`` repeats them."""

FIRST_SECONDS = 0.15
"""Time budget of the first, quick run (the page must show simulated numbers within 0.5 s, and a click
plus the page's own round trip take about 0.15 s of that)."""

REFINE_SECONDS = 4.0
"""Time budget of the refined run that follows while the controls rest."""

EFFECT_SECONDS = 3.0
"""Time budget of the countermeasure comparison."""


class Cancelled(Exception):
    """Raised inside a stage when its job is cancelled."""


Report = Callable[[float], None]
"""A stage reports its progress (0-1) through this; it raises :class:`Cancelled` once cancelled."""


@dataclass
class Stage:
    """One step of a job: a name (shown with the progress) and the work, given a progress report."""

    name: str
    work: Callable[[Report], Any]


@dataclass
class Job:
    """Stages run one after the other in a daemon thread.

    Read ``results`` (stage name → value), ``error``, ``stage``/``fraction`` and ``finished``
    from any thread; ``cancel()`` stops it at its next progress report.
    """

    stages: list[Stage]
    results: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    error: BaseException | None = None
    stage: str = ""
    fraction: float = 0.0
    finished: bool = False
    cancelled: bool = False
    version: int = 0
    """Increases with every published result, so a poller sees that something changed."""

    def __post_init__(self) -> None:
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="spamsim-app-job")
        self._thread.start()

    def _report(self, fraction: float) -> None:
        if self._cancel.is_set():
            raise Cancelled
        self.fraction = fraction

    def _run(self) -> None:
        try:
            for stage in self.stages:
                self.stage, self.fraction = stage.name, 0.0
                self._report(0.0)
                start = time.perf_counter()
                value = stage.work(self._report)
                self.seconds[stage.name] = time.perf_counter() - start
                self.results[stage.name] = value
                self.version += 1
        except Cancelled:
            self.cancelled = True
        except Exception as exc:  # noqa: BLE001 - shown in the page; the server must keep serving
            self.error = exc
        finally:
            self.finished = True
            self.version += 1

    def cancel(self) -> None:
        """Stop at the next progress report (the stage running finishes its current block)."""
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the job to end; whether it did within ``timeout`` seconds."""
        self._thread.join(timeout)
        return self.finished


@dataclass(frozen=True)
class Simulated:
    """A finished run as the page shows it: the result, its replications and seed."""

    result: Result
    reps: int
    seed: int


def simulate(scenario: Scenario, reps: int, seed: int = SEED) -> Stage:
    """A stage running ``reps`` replications of ``scenario`` (progress per block)."""

    def work(report: Report) -> Simulated:
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            report(done / reps)

        return Simulated(run(scenario, reps=reps, seed=seed, progress=progress), reps, seed)

    return Stage(f"simulate-{reps}", work)


def effects(scenario: Scenario, names: list[str], reps: int, seed: int = SEED) -> Stage:
    """A stage estimating each named countermeasure's effect (paired, as ``spamsim compare``)."""

    def work(report: Report) -> Any:
        return compare(scenario, names, reps=reps, seed=seed, progress=lambda done, total: report(done / total))

    return Stage("effects", work)


def plan_reps(seconds_per_rep: float, budget: float, low: int, high: int) -> int:
    """Replications that fit in ``budget`` seconds at ``seconds_per_rep``, within ``[low, high]``."""
    if seconds_per_rep <= 0:
        return high
    return int(min(max(budget / seconds_per_rep, low), high))


def effect_variants(n: int) -> int:
    """Variants ``compare`` runs for ``n`` countermeasures without Shapley (all off, all on, each alone and removed)."""
    return 2 if n == 0 else (2 + 2 * n if n > 1 else 2)
