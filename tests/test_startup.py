"""The command line starts light: ``--help`` and ``validate`` load none of the heavy libraries.

Start-up *time* is measured in ``benchmarks/run.py`` (row 6), never here; what a test can
hold without timing the machine is which modules a command imports. numpy, scipy, pandas
and matplotlib are what made every command take about two seconds before it did anything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from .conftest import ROOT, SCENARIOS

HEAVY = ("numpy", "scipy", "pandas", "matplotlib", "SALib", "dask")

PROBE = """
import json, sys
from spamsim.{entry} import main
sys.argv = ["spamsim", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
print("\\n" + json.dumps(sorted(m for m in {heavy} if m in sys.modules)), file=sys.stderr)
"""


def _heavy_modules_after(*args: str, heavy: tuple[str, ...] = HEAVY, entry: str = "entry") -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=heavy, entry=entry), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,  # hang guard only
    )
    return json.loads(proc.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("run", "--help"),
        ("validate", str(SCENARIOS / "lecture.yaml")),
        ("validate", str(SCENARIOS / "smtp-auth.yaml")),
        # distributions (beta, lognormal, normal) are checked in closed form, without scipy
        ("validate", str(SCENARIOS / "japan-2011.yaml"), str(SCENARIOS / "lecture-uncertain.yaml")),
    ],
    ids=["help", "run-help", "validate-lecture", "validate-smtp-auth", "validate-distributions"],
)
def test_the_command_loads_no_heavy_library(args: tuple[str, ...]) -> None:
    assert _heavy_modules_after(*args) == []


def test_validate_prints_without_rich() -> None:
    # `ok` and FILE:LINE:COL messages are plain lines; rich's import is a tenth of the budget.
    args = ("validate", str(SCENARIOS / "lecture.yaml"), str(SCENARIOS / "no-such-file.yaml"))
    assert _heavy_modules_after(*args, heavy=("rich",), entry="cli") == []
    # The console script answers a plain `validate FILE...` without the command line at all.
    assert _heavy_modules_after(*args, heavy=("rich", "typer", "click")) == []
    assert _heavy_modules_after("validate", "--help", heavy=("typer",)) == ["typer"]


def test_the_console_script_is_the_light_entry_point() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["scripts"]["spamsim"] == "spamsim.entry:main"


@pytest.mark.parametrize(
    "files",
    [
        ["lecture.yaml"],
        ["lecture.yaml", "japan-2011.yaml"],
        ["no-such-file.yaml"],
        ["."],
        ["deterrence-sweep.yaml", "lecture.yaml"],  # a sweep is checked as a sweep, with its base
        ["bad"],
        ["explore-quick.yaml", "bad-sweep"],
    ],
    ids=["valid", "two-valid", "missing", "directory", "sweep-and-valid", "invalid", "exploration-and-bad-sweep"],
)
def test_plain_validate_answers_as_the_full_command_line(files: list[str], tmp_path) -> None:
    """Same output, same exit code, whichever path answers `spamsim validate FILE...`."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmarket: {success_rate: 1.5, profit_per_sale: 500}\nspammers: []\n", encoding="utf-8")
    bad_sweep = tmp_path / "bad-sweep.yaml"
    sweep = (SCENARIOS / "deterrence-sweep.yaml").read_text(encoding="utf-8")
    bad_sweep.write_text(
        sweep.replace("base: lecture.yaml", f"base: {SCENARIOS / 'lecture.yaml'}").replace("reps: 50", "reps: 0")
    )
    named = {"bad": str(bad), "bad-sweep": str(bad_sweep)}
    paths = [named.get(f, str(SCENARIOS / f)) for f in files]
    runs = {
        entry: subprocess.run(
            [sys.executable, "-c", f"from spamsim.{entry} import main; main()", "validate", *paths],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,  # hang guard only
        )
        for entry in ("entry", "cli")
    }
    fast, full = runs["entry"], runs["cli"]
    assert (fast.returncode, fast.stdout, fast.stderr) == (full.returncode, full.stdout, full.stderr)
    valid = (["lecture.yaml"], ["lecture.yaml", "japan-2011.yaml"], ["deterrence-sweep.yaml", "lecture.yaml"])
    assert fast.returncode == (0 if files in valid else 2)


def test_importing_spamsim_is_light_and_names_load_on_use() -> None:
    code = (
        "import sys, spamsim\n"
        f"before = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
        "spamsim.run\n"
        "print(before, 'pandas' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.stdout.strip() == "[] True", out.stderr


def test_every_public_name_of_the_lazy_packages_resolves() -> None:
    import importlib

    for package in ("spamsim", "spamsim.scenario", "spamsim.runner", "spamsim.analysis", "spamsim.model"):
        module = importlib.import_module(package)
        for name in module.__all__:
            assert getattr(module, name) is not None, f"{package}.{name}"
        with pytest.raises(AttributeError):
            module.no_such_name  # noqa: B018


def test_a_run_without_out_loads_no_figure_or_statistics_library() -> None:
    # A run needs numpy, scipy.special and pandas; scipy.stats (half a second of import),
    # matplotlib, SALib and Dask only when a command uses them (figures, LHS sweeps, a
    # scenario with distributions, ...). smtp-auth has channels, countermeasures and
    # enforcement but no distribution.
    code = PROBE.replace("{entry}", "entry").replace("{heavy}", repr(("scipy.stats", "matplotlib", "SALib", "dask")))
    proc = subprocess.run(
        [sys.executable, "-c", code, "run", str(SCENARIOS / "smtp-auth.yaml"), "--reps", "2", "--seed", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,  # hang guard only
    )
    assert "Revenue" in proc.stdout, proc.stderr
    assert json.loads(proc.stderr.strip().splitlines()[-1]) == []
