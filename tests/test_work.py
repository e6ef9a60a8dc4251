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
from spamsim.runner.sweep import partial_folder
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
    import json, sys, tempfile

    import pandas, pyarrow, pyarrow.parquet  # imported by the CLI before any run, as here
    import scipy.stats  # code a run with distributions loads (validation no longer does): not data
    from spamsim.analysis.result import Result
    from spamsim.outputs import save_run
    from spamsim.runner.replications import memory_estimate, replicate
    from spamsim.scenario.loader import load

    def status(field):
        with open("/proc/self/status") as handle:
            return next(int(line.split()[1]) * 1024 for line in handle if line.startswith(field + ":"))

    def rss():
        return status("VmRSS")

    path, reps = sys.argv[1], int(sys.argv[2])
    scenario = load(path)
    baseline = rss()
    # What `spamsim run FILE --reps N --out DIR` does: replicate, print the tables, save the files.
    result = Result(replicate(scenario, reps=reps, seed=1))
    result.summary, result.by_channel, result.by_spammer
    with tempfile.TemporaryDirectory() as folder:
        save_run(result, folder)
    # VmHWM, this address space's own peak: ru_maxrss survives exec(), so a child of a large
    # process (a pytest-xdist worker) would report its parent's peak as its own.
    peak = status("VmHWM")
    print(json.dumps({"measured": peak - baseline, "estimate": memory_estimate(scenario, reps)["peak_bytes"]}))
    """
)

# Per scenario, a replication count at which the run's own memory (tens to hundreds of MB)
# dominates the noise of a process, yet the run takes a few seconds: one or a few blocks for
# long horizons (a block costs the same whatever its size), many blocks for short ones.
_SLOW = pytest.mark.slow  # the other scenarios run in `make test-slow` (CI runs both)
MEASURED_RUNS = [
    ("lecture.yaml", 60_000),
    ("japan-2011.yaml", 256),
    pytest.param("lecture-uncertain.yaml", 40_000, marks=_SLOW),
    pytest.param("internet-scale.yaml", 256, marks=_SLOW),
    pytest.param("open-relay-era.yaml", 1280, marks=_SLOW),
    pytest.param("relay-prevention.yaml", 256, marks=_SLOW),
    pytest.param("smtp-auth.yaml", 512, marks=_SLOW),
    pytest.param("spambot-era.yaml", 768, marks=_SLOW),
    pytest.param("timeline.yaml", 64, marks=_SLOW),  # one block of 783 steps
]


def test_every_shipped_scenario_is_measured():
    # pytest.param(...) is a named tuple (values, marks, id); a plain case is (name, reps).
    measured = {case.values[0] if hasattr(case, "marks") else case[0] for case in MEASURED_RUNS}
    shipped = {p.name for p in SCENARIOS.glob("*.yaml") if "sweep" not in p.name and not p.name.startswith("explore-")}
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
    assert 1 / 1.5 <= ratio <= 1.5, (name, reps, numbers, ratio)


def test_a_run_beyond_the_memory_available_is_refused_before_it_starts(monkeypatch):
    monkeypatch.setenv("SPAMSIM_MAX_MEMORY_GB", "0.02")
    scenario = load(SCENARIOS / "lecture.yaml")
    estimate = memory_estimate(scenario, 200_000)["total_bytes"]
    assert estimate > 0.02 * 2**30
    with pytest.raises(RefusedError, match=r"about 0\.\d+ GiB of memory .*0\.02 GiB available.*fewer replications"):
        replicate(scenario, reps=200_000, seed=1)


def test_the_estimate_counts_worker_processes():
    scenario = load(SCENARIOS / "japan-2011.yaml")
    one, two = memory_estimate(scenario, 2048, workers=1), memory_estimate(scenario, 2048, workers=2)
    assert one["workers_bytes"] == 0 and two["total_bytes"] > one["total_bytes"] + 2 * 100 * 2**20


# -- sweeps: total work ------------------------------------------------------------------------


def _sweep_file(tmp_path: Path, reps: int, num: int = 6, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(
        textwrap.dedent(
            f"""
            name: work-test
            base: {SCENARIOS / "lecture.yaml"}
            design:
              kind: grid
              parameters:
                enforcement.fines.individual: {{low: 0, high: 1.0e+9, num: {num}}}
                enforcement.caught_probability: {{low: 0.001, high: 0.9, num: {num}}}
            reps: {reps}
            seed: 1
            metrics: [net_profit]
            """
        ).lstrip(),
        encoding="utf-8",
    )
    return path


def test_a_sweep_that_would_run_for_days_is_refused_with_its_size(tmp_path):
    sweep = _sweep_file(tmp_path, reps=1_000_000, num=100)
    out = tmp_path / "out"
    result = spamsim_cli("sweep", str(sweep), "--workers", "1", "--out", str(out))
    assert result.returncode == 2, result.stderr
    message = result.stderr
    assert "refused: this sweep would run 10,000 points x 1,000,000 replications, about" in message
    assert "on 1 worker " in message and "SPAMSIM_ACCEPT_LONG=1" in message
    assert not (out / "sweep.json").exists()  # refused before anything ran or was written


def test_a_long_sweep_runs_when_accepted(tmp_path, monkeypatch):
    from spamsim.runner.backends import Backend
    from spamsim.runner.replications import check_sweep_feasible
    from spamsim.scenario.sweep import load_sweep

    monkeypatch.setenv("SPAMSIM_MAX_SECONDS", "5")
    spec, base_path = load_sweep(_sweep_file(tmp_path, reps=10_000, num=30))
    base = load(base_path)
    points = spec.expand()
    with pytest.raises(RefusedError, match="900 points x 10,000 replications"):
        check_sweep_feasible(spec, base, points, Backend())
    monkeypatch.setenv("SPAMSIM_ACCEPT_LONG", "1")
    check_sweep_feasible(spec, base, points, Backend())


# -- preflight: where the work would run -------------------------------------------------------


def test_more_workers_than_cores_is_refused():
    cores = default_workers()
    many = str(cores + 998)
    for command in (["run", str(SCENARIOS / "lecture.yaml")], ["sweep", str(SCENARIOS / "deterrence-sweep.yaml")]):
        result = spamsim_cli(*command, "--workers", many)
        assert result.returncode == 2, result.stderr
        assert result.stderr.strip() == (
            f"refused: --workers {many}: this machine gives spamsim {cores} core{'s' if cores != 1 else ''}; "
            f"use --workers {cores} or fewer (or a Dask cluster with --scheduler)"
        )


def test_an_unknown_backend_is_refused():
    result = spamsim_cli("sweep", str(SCENARIOS / "deterrence-sweep.yaml"), "--backend", "spark")
    assert result.returncode == 2
    assert result.stderr.strip() == "refused: unknown --backend 'spark'; use local or dask"


def test_a_missing_dask_extra_names_the_install_command(tmp_path):
    shadow = tmp_path / "shadow" / "distributed"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named distributed (test shadow)')\n")
    result = subprocess.run(
        [EXE, "sweep", str(SCENARIOS / "deterrence-sweep.yaml"), "--backend", "dask", "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        env=_env(PYTHONPATH=f"{tmp_path / 'shadow'}{os.pathsep}{ROOT}"),
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert "the dask backend needs the optional Dask extra" in result.stderr
    assert "pip install" in result.stderr and "[distributed]" in result.stderr
    assert "internal error" not in result.stderr and not (tmp_path / "o").exists()


def test_an_unreachable_scheduler_is_refused_before_any_simulation(tmp_path):
    out = tmp_path / "o"
    result = spamsim_cli(
        "sweep", str(SCENARIOS / "deterrence-sweep.yaml"), "--scheduler", "tcp://127.0.0.1:1", "--out", str(out)
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("refused: cannot reach the Dask scheduler at tcp://127.0.0.1:1 (")
    assert "internal error" not in result.stderr and not out.exists()


# -- no worker outlives its parent -------------------------------------------------------------


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                    ppid = int(handle.read().rpartition(")")[2].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _descendants(pid: int) -> list[int]:
    tree, found, todo = _children(), [], [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rpartition(")")[2].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _threads(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except OSError:
        return 0


def _kill_and_check(command: list[str], ready, tmp_path: Path) -> None:
    """Start ``command``, wait until ``ready(descendants)``, SIGKILL it; its descendants must end."""
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env(), cwd=tmp_path)
    found: list[int] = []
    try:
        deadline = time.monotonic() + 120  # hang guard only
        while time.monotonic() < deadline and proc.poll() is None:
            found = _descendants(proc.pid)
            if ready(found):
                break
            time.sleep(0.3)
        assert proc.poll() is None, "the job finished before it could be killed; make it longer"
        found = _descendants(proc.pid)
        assert found
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 30  # hang guard only
        while time.monotonic() < deadline and any(_running(pid) for pid in found):
            time.sleep(0.3)
        assert [pid for pid in found if _running(pid)] == []
    finally:
        for pid in found + [proc.pid]:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


def _workers_started(minimum: int):
    # Initialised workers run the die-with-parent thread next to their main thread.
    return lambda found: sum(1 for pid in found if _threads(pid) >= 2) >= minimum


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_sigkill_of_run_leaves_no_worker_processes(tmp_path):
    command = [EXE, "run", str(SCENARIOS / "spambot-era.yaml"), "--reps", "20480", "--workers", "2", "--seed", "1"]
    _kill_and_check(command, _workers_started(2), tmp_path)


def _points(out: Path) -> list[Path]:
    """Finished point files of the sweep writing ``out`` (in its working folder until it ends)."""
    return sorted((partial_folder(out) / "points").glob("point-*.parquet"))


def _points_saved(out: Path):
    return lambda found: len(_points(out)) >= 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
# Dask's own LocalCluster workers already ended with their parent before this work: a guard.
@pytest.mark.parametrize("backend", ["local", pytest.param("dask", marks=pytest.mark.slow)])
def test_sigkill_of_sweep_leaves_no_worker_processes(tmp_path, backend):
    out = tmp_path / "out"
    sweep = _sweep_file(tmp_path, reps=50_000)
    command = [EXE, "sweep", str(sweep), "--workers", "2", "--backend", backend, "--out", str(out)]
    _kill_and_check(command, _points_saved(out), tmp_path)


# -- a Dask cluster whose workers all go away --------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_a_sweep_stops_with_a_message_when_every_dask_worker_is_gone(tmp_path):
    dask = str(Path(sys.executable).with_name("dask"))
    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    out = tmp_path / "out"
    env = _env(SPAMSIM_WORKERS_GONE_SECONDS="2")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "env": env, "cwd": tmp_path}
    scheduler = subprocess.Popen([dask, "scheduler", "--port", port, "--no-dashboard"], **quiet)
    worker = None
    try:
        worker = subprocess.Popen(
            [dask, "worker", address, "--nworkers", "1", "--nthreads", "1", "--no-nanny", "--no-dashboard"], **quiet
        )
        sweep = _sweep_file(tmp_path, reps=50_000)
        run = subprocess.Popen(
            [EXE, "sweep", str(sweep), "--scheduler", address, "--out", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        deadline = time.monotonic() + 120  # hang guard only
        while time.monotonic() < deadline and run.poll() is None and not _points_saved(out)([]):
            time.sleep(0.3)
        assert run.poll() is None, run.communicate()
        worker.kill()
        worker.wait()
        _, stderr = run.communicate(timeout=90)  # hang guard: without the fix the sweep waits forever
        saved = len(_points(out))
        assert run.returncode == 2, stderr
        assert f"all Dask workers are gone; {saved} of 36 points are saved in {out}; rerun with --resume" in stderr
        assert saved >= 1 and "internal error" not in stderr
    finally:
        for proc in (worker, scheduler):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()


# -- the Python API checks its arguments -------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"reps": 2.5}, TypeError, r"reps must be a whole number .* got 2\.5 \(float\)"),
        ({"reps": 1e6}, TypeError, r"reps must be a whole number .* got 1000000\.0"),
        ({"reps": True}, TypeError, r"reps .* got True \(bool\)"),
        ({"reps": 0}, ValueError, r"reps must be between 1 and 10,000,000, got 0"),
        ({"workers": 0}, ValueError, r"workers=0: use 1 or more"),
        ({"workers": 10_000}, ValueError, r"workers=10000: this machine gives spamsim \d+ cores?; use workers=\d+"),
        ({"workers": 2.0}, TypeError, r"workers must be an integer .* got 2\.0"),
        ({"seed": True}, ValueError, r"seed must be a non-negative integer, got True"),
        ({"seed": -1}, ValueError, r"seed must be a non-negative integer, got -1"),
        ({"overrides": "market.success_rate=0.02"}, TypeError, r"overrides must be a list .* single string"),
        ({"overrides": [1]}, TypeError, r"overrides must hold .* got 1 \(int\)"),
    ],
)
def test_api_arguments_are_checked_and_named(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        ss.run(SCENARIOS / "lecture.yaml", **{"reps": 10, "seed": 1, **kwargs})


def test_api_sweep_checks_workers_and_backend(tmp_path):
    sweep = _sweep_file(tmp_path, reps=10)
    with pytest.raises(ValueError, match=r"unknown backend='spark'; use local or dask"):
        ss.sweep(sweep, backend="spark")
    with pytest.raises(ValueError, match=r"workers=10000: "):
        ss.sweep(sweep, workers=10_000)


def test_api_accepts_numpy_integers():
    import numpy as np

    result = ss.run(SCENARIOS / "lecture.yaml", reps=np.int64(10), seed=np.int64(1), workers=np.int64(1))
    assert result.reps == 10
