"""Results folders are transactions: a manifest, no mixing, one writer, interrupts leave old or new.

Each test is a probe a hostile tester ran against the folder that ``--out`` writes; most run
the CLI in-process (fast), the kill and Ctrl-C probes run the real console script.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from spamsim import folder as folder_module
from spamsim import stored
from spamsim.cli import app
from spamsim.folder import Identity, ResultsFolder
from spamsim.runner.backends import Backend
from spamsim.runner.replications import RefusedError
from spamsim.runner.sweep import partial_folder, run_sweep
from spamsim.scenario.loader import load
from spamsim.scenario.sweep import load_sweep

from .conftest import ROOT, SCENARIOS, at_a_terminal

runner = CliRunner()
LECTURE = str(SCENARIOS / "lecture.yaml")
JAPAN = str(SCENARIOS / "japan-2011.yaml")
SMTP_AUTH = str(SCENARIOS / "smtp-auth.yaml")

SWEEP = """
name: {name}
base: {base}
design: {{kind: grid, parameters: {{market.success_rate: [0.001, 0.002, 0.003, 0.004]}}}}
reps: 3
seed: 1
metrics: [revenue]
"""


def invoke(*args: str) -> tuple[int, str, str]:
    """The CLI in-process: exit code, stdout, stderr."""
    result = runner.invoke(app, list(args), catch_exceptions=True)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"uncaught {type(result.exception).__name__}: {result.exception}") from result.exception
    return result.exit_code, result.stdout, result.stderr


def run_into(out: Path, scenario: str = LECTURE, seed: int = 1, *extra: str) -> tuple[int, str, str]:
    return invoke("run", scenario, "--reps", "5", "--seed", str(seed), "--out", str(out), *extra)


def leftovers(out: Path) -> list[str]:
    return sorted(p.name for p in out.parent.iterdir() if ".staging-" in p.name or ".old-" in p.name)


def write_sweep(path: Path, name: str) -> Path:
    path.write_text(SWEEP.format(name=json.dumps(name), base=SCENARIOS / "lecture.yaml"), encoding="utf-8")
    return path


# -- mixing -----------------------------------------------------------------------------------


def test_compare_into_a_run_folder_is_refused_and_force_replaces_it_whole(tmp_path):
    out = tmp_path / "D"
    assert run_into(out, LECTURE)[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    compare = ("compare", SMTP_AUTH, "-c", "op25b", "--reps", "4", "--seed", "1", "--out", str(out))
    code, stdout, stderr = invoke(*compare)
    assert code == 2 and stdout == ""  # refused before any simulation
    assert "holds results of `spamsim run` (scenario 'lecture' #" in stderr and ", seed 1)" in stderr
    assert "writing results of `spamsim compare` (scenario 'smtp-auth' #" in stderr and "--force" in stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    code, _, stderr = invoke(*compare, "--force")
    assert code == 0, stderr
    names = {p.name for p in out.iterdir()}
    assert "comparison.json" in names and not names & {"summary.json", "ledger.npz", "funnel.png"}
    code, _, stderr = invoke("plot", "funnel", str(out), "-o", str(tmp_path / "f.png"))
    assert code == 2 and "holds the results of `spamsim compare`, not of `spamsim run --out`" in stderr
    assert not (tmp_path / "f.png").exists()
    assert invoke("plot", "effects", str(out), "-o", str(tmp_path / "e.png"))[0] == 0
    assert stored.load_comparison(out).scenario.name == "smtp-auth"


def test_second_run_with_another_seed_is_refused_and_force_leaves_none_of_the_first(tmp_path):
    out = tmp_path / "D"
    assert run_into(out, JAPAN, 1)[0] == 0
    assert (out / "timeline.png").exists()
    code, stdout, stderr = run_into(out, JAPAN, 2)
    assert code == 2 and stdout == "" and "seed 1" in stderr and "--force" in stderr
    assert stored.load_result(out).entropy == 1
    code, _, stderr = run_into(out, LECTURE, 2, "--force")
    assert code == 0, stderr
    # lecture is one step: it draws no timeline, and the first run's timeline must not stay behind.
    assert not (out / "timeline.png").exists() and not (out / "populations.png").exists()
    assert stored.load_result(out).entropy == 2 and leftovers(out) == []


def test_a_folder_spamsim_did_not_write_is_never_replaced(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "thesis.tex").write_text("years of work")
    code, stdout, stderr = run_into(home, LECTURE, 1, "--force")
    assert code == 2 and stdout == "" and "not a spamsim results folder" in stderr and "thesis.tex" in stderr
    assert (home / "thesis.tex").read_text() == "years of work" and leftovers(home) == []


# -- concurrent writers -----------------------------------------------------------------------


def test_a_second_writer_is_refused_at_once_while_the_lock_is_held(tmp_path):
    out = tmp_path / "D"
    fd = os.open(tmp_path / ".D.lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{os.getpid()}\n".encode())
        code, stdout, stderr = run_into(out)
    finally:
        os.close(fd)
    assert code == 2 and stdout == ""  # refused before simulating
    assert f"another spamsim (pid {os.getpid()}) is writing {out}; wait for it or use another --out" in stderr
    assert not out.exists()
    assert run_into(out)[0] == 0  # the lock is free again


# -- interrupts -------------------------------------------------------------------------------


def _writer_caught_while_writing(tmp_path: Path, sig: signal.Signals) -> tuple[subprocess.Popen[str], Path]:
    """Start ``spamsim run --out D`` over an earlier result; send ``sig`` once it is writing its files."""
    out = tmp_path / "D"
    assert run_into(out, LECTURE, 1)[0] == 0
    exe = str(Path(sys.executable).with_name("spamsim"))
    cmd = [exe, "run", JAPAN, "--reps", "20", "--seed", "2", "--out", str(out), "--force"]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, preexec_fn=at_a_terminal
    )
    deadline = time.monotonic() + 120  # a hang guard, not a timing assertion
    caught = False
    while time.monotonic() < deadline and proc.poll() is None:
        # Writing has begun when the staging folder holds the first file but no manifest yet.
        for staging in tmp_path.glob(".D.staging-*"):
            if (staging / "summary.json").exists() and not (staging / "manifest.json").exists():
                proc.send_signal(sig)
                caught = True
                break
        if caught:
            break
        time.sleep(0.005)
    assert caught, "the writer finished before it could be interrupted"
    return proc, out


def test_kill_9_while_writing_leaves_the_old_result_and_the_next_run_cleans_up(tmp_path):
    proc, out = _writer_caught_while_writing(tmp_path, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    old = stored.load_result(out)  # still the complete earlier result, manifest and all
    assert old.entropy == 1 and old.scenario.name == "lecture"
    assert leftovers(out), "the dead writer's staging folder is there to clean up"
    assert run_into(out, LECTURE, 1)[0] == 0
    assert leftovers(out) == [] and not list(tmp_path.rglob("*.tmp"))


def test_ctrl_c_while_writing_says_truthfully_that_nothing_changed(tmp_path):
    proc, out = _writer_caught_while_writing(tmp_path, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert f"interrupted; {out} was not changed (it still holds the previous results)" in stderr
    assert "Traceback" not in stderr and "nothing partial" not in stderr
    assert stored.load_result(out).entropy == 1 and leftovers(out) == []


def test_fallback_swap_died_between_renames_is_restored_by_the_next_writer(tmp_path, monkeypatch):
    out = tmp_path / "D"
    assert run_into(out, LECTURE, 1)[0] == 0
    # Where renameat2 is missing the swap is two renames; a writer killed between them leaves
    # the old folder renamed aside and no D. The next writer (holding the lock) puts it back.
    out.rename(tmp_path / ".D.old-99999-abcdef")
    (tmp_path / ".D.staging-99999-abcdef").mkdir()
    identity = Identity("run", "x", 3)
    with pytest.raises(RefusedError, match="holds results of `spamsim run`"):
        ResultsFolder(out, identity).open()
    assert stored.load_result(out).entropy == 1 and leftovers(out) == []
    monkeypatch.setattr(folder_module, "_renameat2_exchange", lambda a, b: False)
    assert run_into(out, LECTURE, 2, "--force")[0] == 0
    assert stored.load_result(out).entropy == 2 and leftovers(out) == []


# -- readers ----------------------------------------------------------------------------------


def test_a_tampered_file_is_refused_by_readers(tmp_path):
    out = tmp_path / "D"
    assert run_into(out)[0] == 0
    summary = json.loads((out / "summary.json").read_text())
    summary["metrics"]["revenue"]["mean"] *= 10
    (out / "summary.json").write_text(json.dumps(summary))
    code, _, stderr = invoke("plot", "funnel", str(out), "-o", str(tmp_path / "f.png"))
    assert code == 2 and f"{out}/summary.json does not match its manifest (changed after it was written)" in stderr
    assert "rerun `spamsim run FILE --out" in stderr and not (tmp_path / "f.png").exists()
    # The same kind, scenario and seed is the same result: written again whole without --force.
    assert run_into(out)[0] == 0
    assert invoke("plot", "funnel", str(out), "-o", str(tmp_path / "f.png"))[0] == 0


def test_a_folder_without_manifest_is_refused(tmp_path):
    out = tmp_path / "D"
    assert run_into(out)[0] == 0
    (out / "manifest.json").unlink()
    code, _, stderr = invoke("plot", "funnel", str(out), "-o", str(tmp_path / "f.png"))
    assert code == 2
    assert f"{out}: not a complete spamsim results folder (no manifest.json); rerun `spamsim run FILE --out" in stderr
    with pytest.raises(RefusedError, match="no manifest.json"):
        stored.load_result(out)
    # Writing over it needs --force: spamsim cannot tell whose results they are.
    assert run_into(out)[0] == 2 and run_into(out, LECTURE, 1, "--force")[0] == 0


# -- sweeps -----------------------------------------------------------------------------------


def test_sweep_into_a_run_folder_is_refused(tmp_path):
    out = tmp_path / "D"
    assert run_into(out)[0] == 0
    sweep = write_sweep(tmp_path / "s.yaml", "s")
    code, stdout, stderr = invoke("sweep", str(sweep), "--out", str(out), "--workers", "1")
    assert code == 2 and "holds results of `spamsim run`" in stderr and "--force" in stderr
    assert stored.load_result(out).entropy == 1
    assert not partial_folder(out).exists()


@pytest.mark.parametrize("name", ["../../../x", "ABSOLUTE"])
def test_a_sweep_name_never_chooses_where_output_goes(tmp_path, monkeypatch, name):
    name = str(tmp_path / "abs") if name == "ABSOLUTE" else name
    cwd = tmp_path / "a" / "b" / "c"
    cwd.mkdir(parents=True)
    sweep = write_sweep(tmp_path / "s.yaml", name)
    monkeypatch.chdir(cwd)
    code, _, stderr = invoke("sweep", str(sweep), "--workers", "1", "--json")
    assert code == 0, stderr
    written = {p for p in tmp_path.rglob("*") if p.is_file() and p.name != "s.yaml"}
    sweeps = cwd / "out" / "sweeps"
    assert written and all(sweeps in p.parents for p in written), sorted(map(str, written))
    assert len([p for p in sweeps.iterdir() if not p.name.startswith(".")]) == 1
    assert not name.startswith("/") or not Path(name).exists()


def test_a_zero_byte_point_file_is_computed_again_on_resume(tmp_path):
    out = tmp_path / "D"
    sweep = write_sweep(tmp_path / "s.yaml", "s")
    spec, base = load_sweep(sweep)

    def stop_after_two(done: int, total: int) -> None:
        if done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt, match=f"nothing was written to {out}"):
        run_sweep(spec, load(base), Backend(), out=out, progress=stop_after_two)
    points = sorted((partial_folder(out) / "points").glob("point-*.parquet"))
    assert len(points) == 2 and not out.exists()
    points[0].write_bytes(b"")  # a file system that lost the data, or a user's mistake
    code, stdout, stderr = invoke("sweep", str(sweep), "--out", str(out), "--workers", "1", "--resume", "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["computed"] == 3  # two missing, one unreadable
    fresh = tmp_path / "fresh"
    assert invoke("sweep", str(sweep), "--out", str(fresh), "--workers", "1")[0] == 0
    pd.testing.assert_frame_equal(stored.load_sweep_summary(out), stored.load_sweep_summary(fresh))
    assert not partial_folder(out).exists()
    # Resuming a finished sweep takes its points from OUT, checked against the manifest.
    resume = ("sweep", str(sweep), "--out", str(out), "--workers", "1", "--resume", "--json")
    code, stdout, stderr = invoke(*resume)
    assert code == 0 and json.loads(stdout)["computed"] == 0, stderr
    (out / "points" / "point-000001.parquet").write_bytes(b"")
    code, _, stderr = invoke(*resume)
    assert code == 2 and f"{out}/points/point-000001.parquet does not match its manifest" in stderr


# -- file modes and unwritable --out ------------------------------------------------------------


@pytest.mark.parametrize(("umask", "file_mode", "dir_mode"), [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)])
def test_output_modes_follow_the_umask(tmp_path, umask, file_mode, dir_mode):
    out = tmp_path / "D"
    old = os.umask(umask)
    try:
        code, _, stderr = run_into(out)
    finally:
        os.umask(old)
    assert code == 0, stderr
    assert stat.S_IMODE(out.stat().st_mode) == dir_mode
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()}
    assert modes == dict.fromkeys(modes, file_mode)


def test_out_under_a_regular_file_is_refused_before_simulating(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, stdout, stderr = run_into(blocker / "sub")
    assert code == 2 and stdout == ""  # no table: nothing was simulated
    assert f"cannot write results to {blocker / 'sub'}" in stderr and "is a file, not a folder" in stderr
    assert len(stderr.strip().splitlines()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_under_a_read_only_folder_is_refused_before_simulating(tmp_path):
    locked = tmp_path / "ro"
    locked.mkdir(mode=0o555)
    try:
        code, stdout, stderr = run_into(locked / "sub")
    finally:
        locked.chmod(0o755)
    assert code == 2 and stdout == "" and "Permission denied" in stderr and str(locked) in stderr
