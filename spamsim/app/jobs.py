"""Simulations the page waits for: run in stages, with progress, cancellable.

A job is a list of stages (a quick run with few replications, the countermeasure effects, a
refined run with many); each stage's result is published as soon as it is ready, so the page
shows rough numbers at once and better ones while the sliders rest. Every stage runs in a
worker process (:mod:`spamsim.app.workers`): the quick run in one at the server's priority,
the stages after it at a lower one. Cancelling (the user pressed Cancel, or moved a slider
again) stops a job at once: the worker is killed. A job started ``after`` another waits for it
to end, so a session never runs two quick runs side by side.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..analysis.effects import Comparison, compare
from ..analysis.result import Result
from ..api import run
from ..scenario.schema import Scenario
from . import workers
from .trace import mark

SEED = 2011
"""The app's seed: the same scenario shows the same numbers, and ``spamsim run --seed 2011`` repeats them."""

FIRST_SECONDS = 0.15
"""Time budget of the first, quick run (the page must show simulated numbers within 0.5 s; a click's way to
the server and back takes a few tens of ms, and a run's fixed cost comes on top: 0.15 s for japan-2011)."""

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
    """Stages run one after the other in a daemon thread (after the job ``after``, if given).

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
    after: Job | None = field(default=None, repr=False)
    """A job (cancelled, usually) to wait for before starting: the session's previous one."""
    on_change: Callable[[], None] | None = field(default=None, repr=False)
    """Called (from the job's thread) after each published result and when the job ends."""

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
            if self.after is not None:
                self.after.wait()
                self.after = None  # no chain of finished jobs kept alive
            for stage in self.stages:
                self.stage, self.fraction = stage.name, 0.0
                self._report(0.0)
                start = time.perf_counter()
                mark("stage-start", stage=stage.name)
                value = stage.work(self._report)
                self.seconds[stage.name] = time.perf_counter() - start
                mark("stage-end", stage=stage.name, seconds=round(self.seconds[stage.name], 4))
                self.results[stage.name] = value
                self.version += 1
                self._changed()
        except Cancelled:
            mark("cancelled", stage=self.stage)
            self.cancelled = True
        except Exception as exc:  # noqa: BLE001 - shown in the page; the server must keep serving
            self.error = exc
        finally:
            self.finished = True
            self.version += 1
            self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def cancel(self) -> None:
        """Stop at the next progress report: at once in a worker process, else after the current block."""
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
    cached: bool = False
    """Shown again from :data:`QUICK_RUNS` (its run time says nothing of the next run's)."""


def simulated(scenario: Scenario, reps: int, seed: int, progress: Report) -> Simulated:
    """``reps`` replications of ``scenario`` (``progress`` after each block)."""
    done = 0

    def per_block(n: int) -> None:
        nonlocal done
        done += n
        progress(done / reps)

    result = run(scenario, reps=reps, seed=seed, progress=per_block)
    # Worked out here, in the worker, and sent with the result: the page shows it at once, and
    # in the server it took some 20 ms before the numbers could go out.
    result.summary  # noqa: B018 - a cached property, computed for its side effect
    return Simulated(result, reps, seed)


def compared(scenario: Scenario, names: list[str], reps: int, seed: int, progress: Report) -> Comparison:
    """Each named countermeasure's effect, paired, as ``spamsim compare`` (``progress`` after each variant)."""
    return compare(scenario, names, reps=reps, seed=seed, progress=lambda done, total: progress(done / total))


def in_background(name: str, fn: Callable[..., Any], *args: Any) -> Stage:
    """A stage running ``fn(*args, progress=...)`` in a background worker process (killed if cancelled)."""
    return Stage(name, lambda report: workers.BACKGROUND.run(report, fn, *args))


QUICK_RUNS_KEPT = 32
"""Quick runs kept (up to a few MB each): going back to a setting shows its numbers at once."""

QUICK_RUNS: OrderedDict[tuple[str, int, int], Simulated] = OrderedDict()
"""The last quick runs by scenario (as JSON), replications and seed, oldest first (shared by sessions)."""

_QUICK_RUNS_LOCK = threading.Lock()


def quick_run(scenario: Scenario, reps: int, seed: int, progress: Report) -> Simulated:
    """:func:`simulated`, or the same run kept from before (``cached``: the same numbers, run earlier).

    A lecture goes back and forth (a switch on, then off again); the same scenario, replications
    and seed give the same numbers, so a setting seen before needs no new run.
    """
    key = (scenario.model_dump_json(), reps, seed)
    with _QUICK_RUNS_LOCK:
        kept = QUICK_RUNS.get(key)
        if kept is not None:
            QUICK_RUNS.move_to_end(key)
            return dataclasses.replace(kept, cached=True)
    value = workers.FOREGROUND.run(progress, simulated, scenario, reps, seed)
    with _QUICK_RUNS_LOCK:
        QUICK_RUNS[key] = value
        while len(QUICK_RUNS) > QUICK_RUNS_KEPT:
            QUICK_RUNS.popitem(last=False)
    return value


def simulate(scenario: Scenario, reps: int, seed: int = SEED, *, background: bool = False) -> Stage:
    """A stage running ``reps`` replications of ``scenario`` (progress per block).

    ``background``: in a background worker (a refined run), else in the foreground one (the quick
    run, which a setting seen before finds in :data:`QUICK_RUNS`).
    """
    if background:
        return in_background(f"simulate-{reps}", simulated, scenario, reps, seed)
    return Stage(f"simulate-{reps}", lambda report: quick_run(scenario, reps, seed, progress=report))


def effects(scenario: Scenario, names: list[str], reps: int, seed: int = SEED) -> Stage:
    """A stage estimating each named countermeasure's effect (paired, as ``spamsim compare``), in a worker."""
    return in_background("effects", compared, scenario, names, reps, seed)


def plan_reps(seconds_per_rep: float, budget: float, low: int, high: int) -> int:
    """Replications that fit in ``budget`` seconds at ``seconds_per_rep``, within ``[low, high]``."""
    if seconds_per_rep <= 0:
        return high
    return int(min(max(budget / seconds_per_rep, low), high))


QUICK_REPS = (10, 20, 50, 100, 200)
"""Replication counts of quick runs: a setting shown again has the same count (and numbers) as before."""


def steady_reps(reps: int) -> int:
    """The largest of :data:`QUICK_REPS` not above ``reps`` (the smallest if none)."""
    return max((n for n in QUICK_REPS if n <= reps), default=QUICK_REPS[0])


def effect_variants(n: int) -> int:
    """Variants ``compare`` runs for ``n`` countermeasures without Shapley (all off, all on, each alone and removed)."""
    return 2 if n == 0 else (2 + 2 * n if n > 1 else 2)
