"""CLI tables fit ordinary terminals: at 80 and 120 columns no number is cut off (no ellipsis,
no line wider than the terminal) or split across lines, for every table the CLI prints.

A number is "whole" when every number token of the table's widest layout (rendered 400
columns wide) appears, as a token, in the narrow rendering too.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from rich.cells import cell_len

import spamsim as ss
from spamsim import cli
from spamsim.analysis.analytic import expected
from spamsim.analysis.calibration import calibrate
from spamsim.tables import ELLIPSIS, Cell, Column, Grid, fit, is_table_line, render_text

from .conftest import ROOT, SCENARIOS, spamsim_cli

# Its data is computed once per test process (module fixtures, caches): keep the module on one
# xdist worker (`make test` runs with --dist loadgroup) so that it is not computed twice.
pytestmark = pytest.mark.xdist_group("test_tables")

WIDTHS = (80, 120)
SHORT = ["horizon.days=10", "spammers.adaptive-spammer.campaign.days=10"]
NUMBER = re.compile(r"[−\-+\[]?\d[\d.,]*(?:[KMBT%]|万|億|兆)?\]?,?")


def numbers(text: str) -> set[str]:
    return set(NUMBER.findall(text))


def check_fits(make_table, width: int) -> None:
    """``make_table(width)`` rendered at ``width``: nothing cut off, every number whole."""
    wide = render_text(make_table(400), 400)
    narrow = render_text(make_table(width), width)
    assert ELLIPSIS not in narrow, narrow
    too_long = [line for line in narrow.splitlines() if is_table_line(line) and cell_len(line) > width]
    assert not too_long, narrow
    missing = numbers(wide) - numbers(narrow)
    assert not missing, f"numbers split or lost at {width} columns: {sorted(missing)}\n{narrow}"


@pytest.fixture(scope="module")
def japan() -> ss.Result:
    return ss.run(SCENARIOS / "japan-2011.yaml", reps=8, seed=1)


@pytest.fixture(scope="module")
def smtp_auth() -> ss.Result:
    return ss.run(SCENARIOS / "smtp-auth.yaml", reps=8, seed=1)


@pytest.fixture(scope="module")
def comparison():
    # Shapley over the three countermeasures of relay-prevention.yaml, over 10 days, keeps this cheap.
    scenario = ss.load(SCENARIOS / "relay-prevention.yaml", SHORT)
    return ss.compare(scenario, reps=4, seed=2011, shapley=True)


@pytest.mark.parametrize("width", WIDTHS)
def test_run_tables_fit(japan, smtp_auth, width):
    for result in (japan, smtp_auth):
        check_fits(lambda w, r=result: cli.result_table(r, width=w), width)
        check_fits(lambda w, r=result: cli.channel_table(r, width=w), width)
        check_fits(lambda w, r=result: cli.spammer_table(r, width=w), width)


@pytest.mark.parametrize("width", WIDTHS)
def test_comparison_table_fits(comparison, width):
    check_fits(lambda w: cli.comparison_table(comparison, width=w), width)
    check_fits(lambda w: cli.comparison_table(comparison, width=w, lang="ja"), width)
    check_fits(lambda w: cli.cost_table(comparison, width=w), width)
    check_fits(lambda w: cli.cost_table(comparison, width=w, lang="ja"), width)
    # The cost table stays a table at 80 columns (CIs below the means), not one block per countermeasure.
    assert "┃ countermeasure" in render_text(cli.cost_table(comparison, width=80), 80)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ["lecture", "japan-2011"])
def test_analytic_tables_fit(name, width):
    scenario = ss.load(SCENARIOS / f"{name}.yaml")
    result = expected(scenario)
    check_fits(lambda w: cli.analytic_table(scenario.name, result, "JPY", width=w), width)
    check_fits(lambda w: cli.frontier_table(result, "JPY", width=w), width)


@pytest.mark.parametrize("width", WIDTHS)
def test_sweep_sensitivity_and_calibration_tables_fit(width):
    summary = pd.DataFrame(
        {
            "point": range(6),
            "enforcement.fines.individual": [0, 1e6, 3e7, 1e8, 1e9, 1e10],
            "enforcement.caught_probability": [0.001, 0.0034, 0.0118, 0.0403, 0.138, 0.9],
            "revenue.mean": [5e8, 5e8, 4.99e8, 4.5e8, 2.1e8, 1.23e7],
            "revenue.ci95_low": [4.9e8] * 6,
            "net_profit.mean": [5e8, 4.98e8, -1.2e8, -3.4e9, -1.23e10, -9.9e9],
            "fines.mean": [0, 1e6, 3e7, 1e8, 1e9, 1e10],
            "convictions.mean": [0.001, 0.0034, 0.0118, 0.0403, 0.138, 0.9],
        }
    )
    check_fits(lambda w: cli.sweep_table("deterrence-sweep", summary, 72, 50, width=w), width)
    indices = pd.DataFrame(
        {"S1": [0.61234, 0.0012], "S1_conf": [0.05, 0.002], "ST": [0.9, 0.013], "ST_conf": [0.06, 0.004]},
        index=["market.profit_per_sale", "enforcement.reach_abroad"],
    )
    sens = SimpleNamespace(indices=indices)
    check_fits(lambda w: cli.sensitivity_table("japan-2011", "sobol", "net_profit", sens, 640, 20, width=w), width)
    scenario = ss.load(SCENARIOS / "lecture.yaml")
    observed = SCENARIOS / "observed" / "spamalytics.yaml"
    cal = calibrate(scenario, observed, ["market.success_rate"])
    check_fits(lambda w: cli.calibration_table("lecture", str(observed), cal, width=w), width)


def test_a_table_too_wide_for_the_terminal_is_stacked():
    grid = Grid(title="t", corner="row", columns=[Column(f"column {i}") for i in range(8)])
    grid.add("first", [Cell("123,456,789", "[123,456,000, 123,457,000]") for _ in range(8)])
    narrow = render_text(fit(grid, 80), 80)
    assert ELLIPSIS not in narrow and "123,456,789 [123,456,000, 123,457,000]" in narrow
    assert max(len(line) for line in narrow.splitlines() if is_table_line(line)) <= 80


def test_names_come_from_the_catalogue(japan, comparison):
    text = render_text(cli.comparison_table(comparison, width=200), 200)
    assert "Open relay prevention" in text and "open relay prevention" not in text
    text = render_text(cli.channel_table(japan, width=200), 200)
    assert "Blocked by" in text and "Open relay" in text and "blocked: " not in text
    ja = render_text(cli.comparison_table(comparison, width=200, lang="ja"), 200)
    assert "オープンリレー対策" in ja


# -- through the real CLI ------------------------------------------------------------------------


def spamsim80(*args: str) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("spamsim")
    env = {**os.environ, "COLUMNS": "80"}
    env.pop("SPAMSIM_DEBUG", None)
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


@pytest.mark.parametrize(
    "args",
    [
        ["analytic", "scenarios/lecture.yaml"],
        ["run", "scenarios/japan-2011.yaml", "--reps", "8", "--seed", "1"],
        # the demo compares japan-2011 with --shapley --reps 100 (checked by hand); the same table, smaller world
        ["compare", "scenarios/relay-prevention.yaml", "--shapley", "--reps", "2", "--seed", "2011"]
        + [arg for override in SHORT for arg in ("--set", override)],
    ],
    ids=["analytic", "run", "compare"],
)
def test_cli_tables_fit_80_columns(args):
    res = spamsim80(*args)
    assert res.returncode == 0, res.stderr
    assert ELLIPSIS not in res.stdout, res.stdout
    table_lines = [line for line in res.stdout.splitlines() if is_table_line(line)]
    assert table_lines
    assert max(len(line) for line in table_lines) <= 80, res.stdout


def test_an_interval_never_reads_as_a_certainty() -> None:
    # 1,000 lecture replications: revenue 5,000,000 JPY with a CI of about ±3,000. At three
    # significant digits both ends read "5M" ([5M, 5M], a certainty the run does not have).
    from spamsim import fmt

    assert fmt.separating_digits(4_996_900, 5_003_100) == 4
    assert fmt.separating_digits(5e6, 5e6) == 3
    res = spamsim_cli("run", str(SCENARIOS / "lecture.yaml"), "--reps", "1000", "--seed", "2011")
    line = next(line for line in res.stdout.splitlines() if "Revenue" in line)
    low, high = line.split("[")[1].split("]")[0].split(", ")
    assert low != high, line
