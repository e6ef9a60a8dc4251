"""Sweep scaling: a 64-point sweep on 1 and 2 local workers and on a Dask LocalCluster.

Run on purpose (``.venv/bin/python benchmarks/sweep.py``), never as a timed test. Prints a
markdown table of wall times and ratios measured in this one run; the target is
2 workers >= 1.8x faster than 1 on a 2-core machine, and the Dask overhead per point stated.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import pandas as pd

import spamsim as ss
from spamsim.runner.backends import Backend, DaskBackend, LocalBackend
from spamsim.runner.sweep import run_sweep
from spamsim.scenario.sweep import Design, Range, SweepSpec

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--points", type=int, default=64)
    parser.add_argument("--reps", type=int, default=64)
    args = parser.parse_args()
    base = ss.load(ROOT / "scenarios" / "japan-2011.yaml", ["horizon.step_hours=4"])
    spec = SweepSpec(
        name="scaling",
        base="japan-2011.yaml",
        design=Design(
            kind="lhs",
            samples=args.points,
            parameters={
                "enforcement.reach_abroad": Range(low=0.0, high=1.0),
                "countermeasures.op25b.adoption": Range(low=0.0, high=1.0),
            },
        ),
        reps=args.reps,
        seed=1,
        metrics=["revenue", "net_profit"],
    )
    timings: dict[str, float] = {}
    frames: dict[str, pd.DataFrame] = {}
    for label, make in [
        ("1 local worker", lambda: Backend()),
        ("2 local workers", lambda: LocalBackend(2)),
        ("Dask LocalCluster, 2 workers", lambda: DaskBackend(workers=2)),
    ]:
        with make() as backend:
            run_sweep(
                spec.model_copy(update={"design": Design(kind="points", points=spec.expand()[:2])}), base, backend
            )  # warm-up
            start = time.perf_counter()
            frames[label] = run_sweep(spec, base, backend).replications
            timings[label] = time.perf_counter() - start
    reference = frames["1 local worker"]
    identical = all(frame.equals(reference) for frame in frames.values())
    one, two, dask = timings["1 local worker"], timings["2 local workers"], timings["Dask LocalCluster, 2 workers"]
    per_point = (dask - two) / args.points
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}")
    print(f"sweep: {args.points} points x {args.reps} replications of japan-2011 (4-hour steps)\n")
    print("| backend | wall time | speed-up vs 1 worker |")
    print("|---|---|---|")
    for label, seconds in timings.items():
        print(f"| {label} | {seconds:.2f} s | {one / seconds:.2f}x |")
    status = "PASS" if one / two >= 1.8 else "MISS"
    print(f"\n2 workers vs 1: {one / two:.2f}x (target >= 1.8x): {status}")
    print(f"Dask LocalCluster overhead vs local processes: {per_point * 1000:+.1f} ms per point")
    print(f"identical results on all backends: {identical}")


if __name__ == "__main__":
    main()
