"""Work and resources: estimates against measurements, refusals before anything runs, worker
processes that cannot outlive their parent, Dask clusters that lose their workers, and the
Python API's argument checks (issue 12; see docs/limits.md)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import spamsim as ss
from spamsim.runner.backends import default_workers
from spamsim.runner.replications import RefusedError, memory_estimate, replicate
from spamsim.scenario.loader import load

from .conftest import ROOT, SCENARIOS, spamsim_cli

PYTHON = sys.executable
EXE = str(Path(sys.executable).with_name("spamsim"))


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "COLUMNS": "120", "PYTHONPATH": str(ROOT), **extra}
    env.pop("SPAMSIM_DEBUG", None)
    return env


# -- memory: the estimate against the measured peak ---------------------------------------------

MEASURE = textwrap.dedent(
    """
    import json, resource, sys, tempfile

    import pandas, pyarrow, pyarrow.parquet  # imported by the CLI before any run, as here
    from spamsim.analysis.result import Result
    from spamsim.outputs import save_run
    from spamsim.runner.replications import memory_estimate, replicate
    from spamsim.scenario.loader import load

    def rss():
        with open("/proc/self/status") as handle:
            return next(int(line.split()[1]) * 1024 for line in handle if line.startswith("VmRSS:"))

    path, reps = sys.argv[1], int(sys.argv[2])
    scenario = load(path)
    baseline = rss()
    # What `spamsim run FILE --reps N --out DIR` does: replicate, print the tables, save the files.
    result = Result(replicate(scenario, reps=reps, seed=1))
    result.summary, result.by_channel, result.by_spammer
    with tempfile.TemporaryDirectory() as folder:
        save_run(result, folder)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"measured": peak - baseline, "estimate": memory_estimate(scenario, reps)["peak_bytes"]}))
    """
)

# Per scenario, a replication count at which the run's own memory (tens to hundreds of MB)
# dominates the noise of a process, yet the run takes a few seconds: one or a few blocks for
# long horizons (a block costs the same whatever its size), many blocks for short ones.
MEASURED_RUNS = [
    ("lecture.yaml", 100_000),
    ("lecture-uncertain.yaml", 60_000),
    ("japan-2011.yaml", 512),
    ("internet-scale.yaml", 256),
    ("open-relay-era.yaml", 2560),
    ("relay-prevention.yaml", 256),
    ("smtp-auth.yaml", 1024),
    ("spambot-era.yaml", 1024),
    pytest.param("timeline.yaml", 64, marks=pytest.mark.slow),  # one block of 783 steps
]


def test_every_shipped_scenario_is_measured():
    names = {p if isinstance(p, tuple) else p.values for p in MEASURED_RUNS}
    measured = {(n[0] if isinstance(n, tuple) else n) for n in names}
    shipped = {p.name for p in SCENARIOS.glob("*.yaml") if "sweep" not in p.name}
    assert shipped <= measured


@pytest.mark.parametrize(("name", "reps"), MEASURED_RUNS)
def test_memory_estimate_is_within_1_5x_of_the_measured_peak(name, reps):
    child = subprocess.run(
        [PYTHON, "-c", MEASURE, str(SCENARIOS / name), str(reps)],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=600,
        check=True,
    )
    numbers = json.loads(child.stdout.strip().splitlines()[-1])
    ratio = numbers["estimate"] / numbers["measured"]
    print(name, reps, numbers, round(ratio, 2))
    assert 1 / 1.5 <= ratio <= 1.5, (name, reps, numbers, ratio)
