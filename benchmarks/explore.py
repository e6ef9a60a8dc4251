"""Exploration scaling (issue 14, deliverable 6): japan-2011, 16 portfolios, 64 replications per point.

Run on purpose (``.venv/bin/python benchmarks/explore.py``), never as a timed test. Runs a
fraction of the full-size study (``--worlds`` worlds instead of 10,000) under the 16 on/off
combinations of OP25B, submission authentication, open relay prevention and receiver
filtering, on 1 and on 2 local workers, checks that both give identical outcomes, and
prints a markdown table: points (world x portfolio) per second, and the time the full-size
run (10,000 worlds x 16 portfolios x 64 replications = 160,000 points) would take at that
rate, extrapolated linearly (blocks are independent and equal in size, so the cost is
linear in the number of blocks). Target: < 30 minutes on this machine's 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

import spamsim as ss
from spamsim.runner.backends import Backend, LocalBackend
from spamsim.runner.explore import plan, run_explore
from spamsim.scenario.explore import ExploreDesign, ExploreSpec, Levers, Uncertainty

ROOT = Path(__file__).resolve().parents[1]
FULL_WORLDS = 10_000
TARGET_SECONDS = 30 * 60


def spec(worlds: int, reps: int, block_worlds: int | None) -> ExploreSpec:
    """The benchmark's exploration (the ranges of scenarios/explore-japan-2011.yaml)."""
    return ExploreSpec(
        name="explore-scaling",
        base="japan-2011.yaml",
        uncertainties={
            "market.success_rate": Uncertainty(low=1.5e-7, high=4.5e-6, scale="log"),
            "enforcement.caught_probability": Uncertainty(low=0.0, high=0.2),
            "enforcement.reach_abroad": Uncertainty(low=0.0, high=0.5),
            "channels.botnet.sends_per_bot_hour": Uncertainty(low=50, high=400),
        },
        levers=Levers(combinations=["op25b", "submission_auth", "open_relay_prevention", "receiver_filtering"]),
        design=ExploreDesign(kind="lhs", worlds=worlds),
        reps=reps,
        seed=2011,
        worlds_per_block=block_worlds,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worlds", type=int, default=1024, help="Worlds in the timed fraction (whole blocks).")
    parser.add_argument("--reps", type=int, default=64)
    parser.add_argument(
        "--block-worlds", type=int, default=None, help="Worlds per vectorised block (default: the exploration's own)."
    )
    parser.add_argument("--json", type=Path, help="Write the raw numbers here.")
    args = parser.parse_args()
    base = ss.load(ROOT / "scenarios" / "japan-2011.yaml")
    explore = spec(args.worlds, args.reps, args.block_worlds)
    block_worlds = plan(explore, base).block_worlds
    points = args.worlds * len(explore.portfolios())
    rows, outcomes = [], {}
    for workers, make in [(1, lambda: Backend()), (2, lambda: LocalBackend(2))]:
        with make() as backend:
            warm = spec(2, args.reps, 2)  # imports and worker start-up, not timed
            run_explore(warm.model_copy(update={"levers": Levers(portfolios={"all": []})}), base, backend)
            print(f"timing {points} points on {workers} worker(s)...", file=sys.stderr, flush=True)
            load_before = os.getloadavg()[0]
            start, cpu = time.perf_counter(), time.process_time()
            outcomes[workers] = run_explore(explore, base, backend).outcomes
            seconds = time.perf_counter() - start
            # CPU time of this process: the whole work with one (inline) worker; with local
            # workers it is only the coordination, so it is recorded for 1 worker alone.
            cpu = time.process_time() - cpu if workers == 1 else float("nan")
        rate = points / seconds
        full = FULL_WORLDS * len(explore.portfolios()) / rate
        rows.append(
            {
                "workers": workers,
                "points": points,
                "replications": points * args.reps,
                "seconds": seconds,
                "points_per_second": rate,
                "full_size_minutes": full / 60,
                "target_met": full < TARGET_SECONDS,
                "cpu_seconds": cpu,
                "load_average": max(load_before, os.getloadavg()[0]),
            }
        )
    pd.testing.assert_frame_equal(outcomes[1], outcomes[2])
    print(
        f"japan-2011, {len(explore.portfolios())} portfolios, {args.reps} reps per point, "
        f"{block_worlds} worlds ({block_worlds * args.reps:,} replications) per block; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; outcomes identical on 1 and 2 workers\n"
    )
    print("| workers | points timed | wall (s) | points/s | replications/s | full size (10,000 worlds) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['workers']} | {row['points']:,} | {row['seconds']:.1f} | {row['points_per_second']:.2f} | "
            f"{row['points_per_second'] * args.reps:,.0f} | {row['full_size_minutes']:.0f} min "
            f"({'meets' if row['target_met'] else 'misses'} < 30 min) |"
        )
    single = rows[0]
    per_point = single["cpu_seconds"] / points
    ideal = FULL_WORLDS * len(explore.portfolios()) * per_point / 2
    print(
        f"\nCPU time with 1 worker: {single['cpu_seconds']:.1f} s ({per_point * 1000:.0f} ms per point, "
        f"{per_point / args.reps * 1000:.2f} ms per replication); on 2 idle cores the full size would take "
        f"~{ideal / 60:.0f} min (CPU time / 2). Load average during the runs: "
        + ", ".join(f"{r['load_average']:.1f}" for r in rows)
        + f" on {os.cpu_count()} cores."
    )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
