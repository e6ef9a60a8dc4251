"""Sweeps: designs, determinism across backends, interruption and resume; sensitivity."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

import spamsim
from spamsim.runner.backends import Backend, DaskBackend, LocalBackend
from spamsim.runner.sweep import partial_folder, run_sweep
from spamsim.scenario import ScenarioError
from spamsim.scenario.sweep import load_sweep

from .conftest import ROOT, SCENARIOS, spamsim_cli

SWEEP = """
name: small
base: {base}
set: ["horizon.days=3", "spammers.0.campaign={{messages_per_send: 100000, sends_per_day: 2, days: 3}}"]
design:
  kind: grid
  parameters:
    enforcement.fines.individual: [0, 1.0e+6, 3.0e+7]
    enforcement.caught_probability: {{low: 0.01, high: 0.5, num: 3, scale: log}}
reps: 40
seed: 7
metrics: [revenue, net_profit, convictions]
"""


@pytest.fixture
def small_sweep(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(SWEEP.format(base=SCENARIOS / "lecture.yaml"))
    return path


def test_designs_expand_deterministically(small_sweep):
    spec, _ = load_sweep(small_sweep)
    points = spec.expand()
    assert len(points) == 9 and points[0] == {"enforcement.fines.individual": 0, "enforcement.caught_probability": 0.01}
    lhs = spec.model_copy(
        update={
            "design": spec.design.model_copy(
                update={
                    "kind": "lhs",
                    "samples": 16,
                    "parameters": {
                        "enforcement.caught_probability": spec.design.parameters["enforcement.caught_probability"]
                    },
                }
            )
        }
    )
    a, b = lhs.expand(), lhs.expand()
    assert a == b and len(a) == 16
    values = sorted(p["enforcement.caught_probability"] for p in a)
    assert 0.01 <= values[0] and values[-1] <= 0.5


def test_bad_sweep_files_get_located_errors(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nbase: nowhere.yaml\ndesign: {kind: grid, paramters: {}}\nreps: 1\n")
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    text = str(info.value)
    assert f"{path}:3:22: design.paramters: unknown field 'paramters'; did you mean 'parameters'?" in text
    assert f"{path}:4:7: reps:" in text
    path.write_text(SWEEP.format(base="missing.yaml"))
    with pytest.raises(ScenarioError, match="base: no such scenario file"):
        load_sweep(path)
    path.write_text(
        SWEEP.format(base=SCENARIOS / "lecture.yaml").replace(
            "enforcement.fines.individual", "enforcement.fine.individual"
        )
    )
    spec, base = load_sweep(path)
    with pytest.raises(ScenarioError, match="unknown field 'fine'; did you mean 'fines'"):
        run_sweep(spec, spamsim.load(base), Backend())


def test_same_numbers_on_1_and_2_workers_and_dask(small_sweep):
    spec, base_path = load_sweep(small_sweep)
    base = spamsim.load(base_path)
    one = run_sweep(spec, base, Backend()).replications
    with LocalBackend(2) as two_workers:
        two = run_sweep(spec, base, two_workers).replications
    pd.testing.assert_frame_equal(one, two)
    with DaskBackend(workers=2) as dask:  # a real LocalCluster with two worker processes
        on_dask = run_sweep(spec, base, dask).replications
    pd.testing.assert_frame_equal(one, on_dask)


def test_independent_streams_per_point(small_sweep):
    spec, base_path = load_sweep(small_sweep)
    base = spamsim.load(base_path)
    crn = run_sweep(spec, base, Backend()).replications
    independent = run_sweep(spec.model_copy(update={"common_random_numbers": False}), base, Backend()).replications
    # With common random numbers the fine does not change sales; with independent streams it does.
    sales_crn = crn.groupby("point")["revenue"].sum().to_numpy()
    assert sales_crn[0] == sales_crn[3]
    assert not crn["revenue"].equals(independent["revenue"])


@pytest.mark.slow
def test_sweep_killed_part_way_resumes_without_loss_or_recomputation(tmp_path, small_sweep):
    # Slow points (many steps) so that the kill lands part-way.
    slow = (
        small_sweep.read_text()
        .replace("reps: 40", "reps: 300")
        .replace('set: ["horizon.days=3"', 'set: ["horizon.step_hours=1", "horizon.days=3"')
    )
    small_sweep.write_text(slow)
    out = tmp_path / "out"
    exe = str(Path(sys.executable).with_name("spamsim"))
    cmd = [exe, "sweep", str(small_sweep), "--out", str(out), "--workers", "1", "--json"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    points = partial_folder(out) / "points"  # unfinished points wait next to OUT until the sweep is done
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(points.glob("point-*.parquet"))) < 3:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    finished_before = {p.name: p.stat().st_mtime_ns for p in points.glob("point-*.parquet")}
    assert 3 <= len(finished_before) < 9, "the kill should land part-way"
    refused = spamsim_cli("sweep", str(small_sweep), "--out", str(out), "--workers", "1")
    assert refused.returncode == 2 and "--resume" in refused.stderr
    resumed = spamsim_cli("sweep", str(small_sweep), "--out", str(out), "--workers", "1", "--resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    payload = json.loads(resumed.stdout)
    assert payload["points"] == 9 and payload["computed"] == 9 - len(finished_before)
    after = {p.name: p.stat().st_mtime_ns for p in (out / "points").glob("point-*.parquet")}
    assert all(after[name] == mtime for name, mtime in finished_before.items())  # not recomputed
    assert not list(tmp_path.rglob("*.tmp")), "no partial file remains"
    assert not partial_folder(out).exists()  # the finished sweep was swapped into OUT whole
    fresh = spamsim_cli("sweep", str(small_sweep), "--out", str(tmp_path / "fresh"), "--workers", "2", "--json")
    assert fresh.returncode == 0, fresh.stderr
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "replications.parquet"), pd.read_parquet(tmp_path / "fresh" / "replications.parquet")
    )


@pytest.mark.slow
def test_deterrence_sweep_file_runs_through_the_cli(tmp_path):
    res = spamsim_cli(
        "sweep", str(SCENARIOS / "deterrence-sweep.yaml"), "--out", str(tmp_path / "d"), "--workers", "2", "--json"
    )
    assert res.returncode == 0, res.stderr
    payload = json.loads(res.stdout)
    assert payload["points"] == 72
    frame = pd.DataFrame(payload["summary"])
    no_fine = frame[frame["enforcement.fines.individual"] == 0]
    assert (no_fine["net_profit.mean"] > 0).all()
    huge = frame[(frame["enforcement.fines.individual"] == 1e10) & (frame["enforcement.caught_probability"] > 0.5)]
    assert (huge["net_profit.mean"] < 0).all()
    assert (tmp_path / "d" / "summary.parquet").exists() and len(list((tmp_path / "d" / "points").iterdir())) == 72


def test_sensitivity_sobol_and_morris():
    params = ["market.success_rate=0.001:0.02", "market.profit_per_sale=100:1000", "costs.per_message=0:0.001"]
    sobol = spamsim.sensitivity(SCENARIOS / "lecture.yaml", params, method="sobol", n=64, reps=5, seed=1)
    idx = sobol.indices
    # Revenue = N s p: success rate and profit dominate; the per-message cost barely matters.
    assert idx.loc["costs.per_message", "ST"] < 0.01 < idx.loc["market.success_rate", "ST"]
    assert (idx["S1_ci_low"] <= idx["S1"]).all() and (idx["S1"] <= idx["S1_ci_high"]).all()
    morris = spamsim.sensitivity(SCENARIOS / "lecture.yaml", params, method="morris", n=10, reps=5, seed=1)
    assert morris.indices["mu_star"].idxmax() in ("market.success_rate", "market.profit_per_sale")


def test_sensitivity_cli_json(tmp_path):
    res = spamsim_cli(
        "sensitivity",
        str(SCENARIOS / "lecture.yaml"),
        "--method",
        "morris",
        "--n",
        "4",
        "--reps",
        "3",
        "-p",
        "market.success_rate=0.001:0.02",
        "-p",
        "market.profit_per_sale=100:1000",
        "--metric",
        "revenue",
        "--workers",
        "1",
        "--json",
        "--out",
        str(tmp_path / "s"),
    )
    assert res.returncode == 0, res.stderr
    payload = json.loads(res.stdout)
    assert payload["method"] == "morris" and set(payload["indices"]) == {
        "market.success_rate",
        "market.profit_per_sale",
    }
    assert (tmp_path / "s" / "indices.parquet").exists()
    bad = spamsim_cli("sensitivity", str(SCENARIOS / "lecture.yaml"), "-p", "market.success_rate=0.5")
    assert bad.returncode == 2 and "PATH=LOW:HIGH" in bad.stderr
