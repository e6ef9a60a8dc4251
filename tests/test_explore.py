"""Explorations: the file, the batched and paired engine, robustness, scenario discovery, the command."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from spamsim.analysis.discovery import cart_rules, prim_boxes
from spamsim.analysis.robustness import pareto_front, robustness
from spamsim.runner.backends import Backend, LocalBackend
from spamsim.runner.errors import RefusedError
from spamsim.runner.explore import plan, run_explore
from spamsim.runner.replications import replicate
from spamsim.runner.sweep import point_overrides
from spamsim.scenario.errors import ScenarioError
from spamsim.scenario.explore import load_explore
from spamsim.scenario.loader import load

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"

LECTURE_EXPLORE = f"""\
name: lecture-explore
base: {SCENARIOS / "lecture.yaml"}
set:
  - 'countermeasures.open_relay_prevention={{"adoption": 0.9}}'
  - 'countermeasures.receiver_filtering={{"catch_rate": 0.5}}'
  - 'enforcement.caught_probability=0.1'
  - 'costs.per_message=2.0e-5'
uncertainties:
  market.success_rate: {{low: 1.0e-5, high: 1.0e-4, scale: log}}
  enforcement.caught_probability: {{low: 0.0, high: 0.3}}
levers:
  combinations: [open_relay_prevention, receiver_filtering]
design: {{kind: lhs, worlds: 12}}
reps: 40
seed: 7
worlds_per_block: 4
"""


def write(tmp_path: Path, text: str, name: str = "e.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def lecture_explore(tmp_path):
    spec, base = load_explore(write(tmp_path, LECTURE_EXPLORE))
    return spec, load(base)


# -- the file ---------------------------------------------------------------------------------


def test_a_bad_exploration_file_is_located(tmp_path):
    text = LECTURE_EXPLORE.replace("design: {kind: lhs, worlds: 12}", "design: {kind: grid, worlds: 12}")
    with pytest.raises(ScenarioError) as info:
        load_explore(write(tmp_path, text))
    problem = info.value.problems[0]
    assert problem.line == text.splitlines().index("design: {kind: grid, worlds: 12}") + 1
    assert "design.kind" in str(problem)


def test_an_uncertainty_range_must_be_ordered_and_sampled(tmp_path):
    text = LECTURE_EXPLORE.replace("{low: 0.0, high: 0.3}", "{low: 0.3, high: 0.0, num: 4}")
    with pytest.raises(ScenarioError) as info:
        load_explore(write(tmp_path, text))
    assert "uncertainties.enforcement.caught_probability" in str(info.value.problems[0])


def test_an_unknown_path_or_an_out_of_range_value_names_the_uncertainty(tmp_path):
    for bad, words in (
        ("market.sucess_rate: {low: 1.0e-5, high: 1.0e-4, scale: log}", "market.sucess_rate"),
        ("market.success_rate: {low: 0.5, high: 2.0}", "market.success_rate"),
    ):
        text = LECTURE_EXPLORE.replace("market.success_rate: {low: 1.0e-5, high: 1.0e-4, scale: log}", bad)
        spec, base = load_explore(write(tmp_path, text))
        with pytest.raises(ScenarioError) as info:
            plan(spec, load(base))
        assert words in str(info.value.problems[0])


def test_combinations_give_every_on_off_portfolio(lecture_explore):
    spec, _ = lecture_explore
    portfolios = spec.portfolios()
    assert list(portfolios) == [
        "none",
        "receiver_filtering",
        "open_relay_prevention",
        "open_relay_prevention+receiver_filtering",
    ]
    assert portfolios["receiver_filtering"] == [
        "countermeasures.open_relay_prevention.enabled=false",
        "countermeasures.receiver_filtering.enabled=true",
    ]


def test_a_parameter_without_distributions_runs_world_by_world(tmp_path):
    text = LECTURE_EXPLORE.replace(
        "  enforcement.caught_probability: {low: 0.0, high: 0.3}\n",
        "  enforcement.caught_probability: {low: 0.0, high: 0.3}\n  spammers.0.campaign.days: {low: 1, high: 3}\n",
    )
    spec, base = load_explore(write(tmp_path, text))
    laid = plan(spec, load(base))
    assert laid.per_world == ["spammers.0.campaign.days"]
    assert laid.block_worlds == 1
    assert set(laid.stream_paths) == {"market.success_rate", "enforcement.caught_probability"}


# -- the engine -------------------------------------------------------------------------------


def test_a_countermeasure_that_cannot_act_leaves_every_world_identical(lecture_explore):
    # The lecture's spammer sends from its own server: open relay prevention has nothing to
    # stop, so on common random numbers its portfolios must match the others draw for draw,
    # while receiver filtering (which acts) must change the numbers.
    spec, base = lecture_explore
    outcomes = run_explore(spec, base, Backend()).outcomes.set_index(["world", "portfolio"])
    columns = [c for c in outcomes.columns if c.endswith((".mean", ".se"))]
    by = {p: outcomes.xs(p, level="portfolio")[columns] for p in spec.portfolios()}
    pd.testing.assert_frame_equal(by["none"], by["open_relay_prevention"])
    pd.testing.assert_frame_equal(by["receiver_filtering"], by["open_relay_prevention+receiver_filtering"])
    assert (by["none"]["lecturer.revenue.mean"] > by["receiver_filtering"]["lecturer.revenue.mean"]).all()


def test_batched_worlds_agree_with_worlds_run_one_by_one(lecture_explore):
    # A batched world draws from its slice of a shared block, a world run alone from its own
    # streams: the numbers differ draw by draw, so the means are held within 4 standard errors
    # of their difference (false-failure rate ~6e-5 per comparison, 24 comparisons).
    spec, base = lecture_explore
    laid = plan(spec, base)
    result = run_explore(spec, base, Backend())
    none = result.outcomes[result.outcomes["portfolio"] == "none"].set_index("world")
    for world, values in enumerate(laid.worlds):
        alone = load(laid.portfolios["none"], point_overrides(values))
        runs = replicate(alone, reps=spec.reps, seed=1000 + world)
        net = runs.ledger.flows["revenue"].sum(axis=(0, 1, 2)) - runs.ledger.flows["message_cost"].sum(axis=(0, 1, 2))
        net = net - runs.ledger.spammer["fines"].sum(axis=(0, 1)) - runs.ledger.spammer["fixed_cost"].sum(axis=(0, 1))
        for name, sample in (
            ("lecturer.revenue", runs.ledger.flows["revenue"].sum(axis=(0, 1, 2))),
            ("lecturer.net_profit", net),
        ):
            mean, se = float(sample.mean()), float(sample.std(ddof=1) / math.sqrt(len(sample)))
            gap = abs(none.loc[world, f"{name}.mean"] - mean)
            assert gap <= 4 * math.hypot(se, none.loc[world, f"{name}.se"]) + 1e-9, (world, name)


def test_results_do_not_depend_on_workers_and_resume_redoes_nothing(lecture_explore, tmp_path):
    spec, base = lecture_explore

    class Interrupting(Backend):
        """Finishes three blocks, then is interrupted."""

        def run(self, tasks):
            for n, (key, fn, args) in enumerate(tasks):
                if n == 3:
                    raise KeyboardInterrupt
                yield key, fn(*args)

    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_explore(spec, base, Interrupting(), out)
    assert len(list((tmp_path / ".out.partial" / "blocks").glob("block-*.parquet"))) == 3
    with pytest.raises(RefusedError, match="--resume"):
        run_explore(spec, base, Backend(), out)
    with LocalBackend(2) as two:
        resumed = run_explore(spec, base, two, out, resume=True)
    assert resumed.computed == 3 * 4 - 3
    inline = run_explore(spec, base, Backend())
    pd.testing.assert_frame_equal(resumed.outcomes, inline.outcomes)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "outcomes.parquet"), inline.outcomes)
    again = run_explore(spec, base, Backend(), out, resume=True)
    assert again.computed == 0


# -- robustness -------------------------------------------------------------------------------


def _outcomes(values: dict[str, list[tuple[float, float]]]) -> pd.DataFrame:
    rows = []
    for portfolio, worlds in values.items():
        for world, (a, b) in enumerate(worlds):
            rows.append({"world": world, "portfolio": portfolio, "a.net_profit.mean": a, "b.net_profit.mean": b})
    return pd.DataFrame(rows)


def test_robustness_metrics_match_hand_computed_values():
    # Two spammers a, b; three worlds; P = max(a, b) per world:
    #   x: P = [-1, 5, 2]   y: P = [3, -2, -4]   z: P = [-5, -1, 1]
    outcomes = _outcomes(
        {
            "x": [(-1, -3), (5, 0), (2, 1)],
            "y": [(3, -1), (-2, -2), (-9, -4)],
            "z": [(-6, -5), (-1, -8), (1, 0)],
        }
    )
    table = robustness(outcomes, ["a", "b"], {"x": 10.0, "y": 30.0, "z": 20.0})
    # satisficing: x 1/3, y 2/3, z 2/3; best per world: -5, -2, -4
    # regret x: [4, 7, 6], y: [8, 0, 0], z: [0, 1, 5]
    assert table.loc["x", "satisficing"] == pytest.approx(1 / 3)
    assert table.loc["y", "satisficing"] == pytest.approx(2 / 3)
    assert table.loc["z", "regret_mean"] == pytest.approx(2.0)
    assert table.loc["x", "regret_max"] == 7
    assert table.loc["y", "regret_max"] == 8
    assert table.loc["y", "p50"] == -2
    assert table.loc["z", "p90"] == pytest.approx(-1 + 0.8 * 2)
    # most robust first: y and z tie on satisficing, z has the smaller max regret
    assert list(table.index) == ["z", "y", "x"]
    # Pareto: z (2/3 at 20) dominates y (2/3 at 30); x is the cheapest
    assert table["pareto"].to_dict() == {"z": True, "y": False, "x": True}


def test_pareto_front_without_costs_keeps_the_most_robust():
    assert pareto_front(np.array([0.2, 0.5, 0.5]), np.full(3, np.nan)).tolist() == [False, True, True]


# -- scenario discovery -----------------------------------------------------------------------


def test_prim_finds_a_known_box():
    rng = np.random.default_rng(3)
    x = pd.DataFrame(rng.random((600, 3)), columns=["a", "b", "c"])
    y = ((x["a"] > 0.6) & (x["b"] < 0.3)).to_numpy()
    boxes = prim_boxes(x, y)
    assert boxes, "no box found"
    box = boxes[0]
    assert set(box.limits.index) == {"a", "b"}
    assert box.limits.loc["a", "min"] == pytest.approx(0.6, abs=0.03)
    assert box.limits.loc["b", "max"] == pytest.approx(0.3, abs=0.03)
    assert box.limits.loc["a", "qp_low"] < 1e-6 and math.isnan(box.limits.loc["a", "qp_high"])
    assert box.density > 0.95 and box.coverage > 0.9
    assert {"coverage", "density", "mass", "res_dim"} <= set(box.trajectory.columns)
    json.dumps(box.to_json())
    leaves = cart_rules(x, y)
    pure = leaves[leaves["density"] > 0.95]
    assert set(pure["uncertainty"]) == {"a", "b", "c"}
    assert pure.set_index("uncertainty").loc["a", "min"] == pytest.approx(0.6, abs=0.03)


def test_nothing_to_discover_gives_no_box():
    x = pd.DataFrame({"a": np.linspace(0, 1, 50)})
    assert prim_boxes(x, np.ones(50, dtype=bool)) == []
    assert cart_rules(x, np.zeros(50, dtype=bool)).empty


def test_without_the_workbench_discovery_refuses_with_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "ema_workbench.analysis.prim", None)
    x = pd.DataFrame({"a": np.linspace(0, 1, 50)})
    with pytest.raises(RefusedError, match=r"-m pip install (-e )?'[^']*\[explore\]'"):
        prim_boxes(x, x["a"].to_numpy() > 0.5)


# -- the command ------------------------------------------------------------------------------


def spamsim(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "spamsim.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def test_explore_command_refuses_a_bad_file_with_one_message(tmp_path):
    text = LECTURE_EXPLORE.replace("reps: 40", "reps: many")
    done = spamsim("explore", str(write(tmp_path, text)), "--out", str(tmp_path / "o"), cwd=tmp_path)
    assert done.returncode == 2
    assert "e.yaml:" in done.stderr and "reps" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o").exists()


@pytest.mark.slow
def test_explore_command_prints_robust_portfolios_and_writes_boxes_and_figures(tmp_path):
    out = tmp_path / "quick"
    done = spamsim("explore", str(SCENARIOS / "explore-quick.yaml"), "--out", str(out), "--workers", "2", cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "no profit" in done.stdout and "PRIM box 1" in done.stdout
    assert all(len(line) <= 80 for line in done.stdout.splitlines() if "│" in line or "┃" in line)
    for name in ("outcomes.parquet", "robustness.csv", "prim_boxes.csv", "prim_boxes.json", "pareto.png"):
        assert (out / name).is_file(), name
    boxes = json.loads((out / "prim_boxes.json").read_text())
    assert boxes["boxes"] and boxes["boxes"][0]["limits"]
    wrong = spamsim(
        "explore", str(SCENARIOS / "explore-quick.yaml"), "--out", str(out), "--resume", "--portfolio", "nope", cwd=ROOT
    )
    assert wrong.returncode == 2 and "nope" in wrong.stderr and "op25b" in wrong.stderr


def test_blocks_hold_65536_replications_unless_their_ledger_would_be_too_large(lecture_explore):
    spec, _ = lecture_explore
    free = spec.model_copy(update={"worlds_per_block": None, "reps": 64})
    assert free.block_worlds() == 1024
    assert free.block_worlds(bytes_per_replication=1e6) == (256 * 2**20 // 10**6) // 64
    assert free.block_worlds(bytes_per_replication=1e9) == 1
    assert spec.block_worlds(bytes_per_replication=1e9) == 4  # set in the file: kept


@pytest.mark.slow
def test_the_report_has_a_robust_portfolios_section(lecture_explore):
    from spamsim.exploration import analyse
    from spamsim.report import build_report

    spec, base = lecture_explore
    found = analyse(run_explore(spec, base, Backend()))
    for lang in ("en", "ja"):
        report = build_report(base, reps=20, seed=1, lang=lang, compare=False, exploration=found, theme="paper")
        assert 'id="robust"' in report.html
        assert "robustness" in report.figures
        assert ("prim" in report.figures) == bool(found.boxes)
    assert "Robust portfolios" in build_report(base, reps=20, seed=1, compare=False, exploration=found).html
    assert "Robust portfolios" not in build_report(base, reps=20, seed=1, compare=False).html


def test_an_exploration_beyond_the_time_limit_is_refused_before_any_work(tmp_path, monkeypatch):
    spec, base_path = load_explore(SCENARIOS / "explore-quick.yaml")
    monkeypatch.setenv("SPAMSIM_MAX_SECONDS", "1")
    monkeypatch.delenv("SPAMSIM_ACCEPT_LONG", raising=False)
    with pytest.raises(RefusedError, match=r"32 worlds x 4 portfolios x 16 replications.*SPAMSIM_ACCEPT_LONG=1"):
        run_explore(spec, load(base_path), Backend(), tmp_path / "out")
    assert not list(tmp_path.iterdir())  # no folder, no partial work
