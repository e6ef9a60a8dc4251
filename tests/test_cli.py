"""The CLI through its real entry point (a subprocess running the installed console script)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import yaml

import spamsim

from .conftest import LECTURE_MINIMAL, SCENARIOS, spamsim_cli

LECTURE = str(SCENARIOS / "lecture.yaml")
REQUIRED_METRICS = {"attempted", "delivered", "sales", "revenue", "cost", "fines", "net_profit"}


def test_validate_ok_and_bad(write):
    ok = spamsim_cli("validate", LECTURE)
    assert ok.returncode == 0 and ok.stdout.strip() == "ok"
    bad = write(LECTURE_MINIMAL.replace("0.01", "1.5"))
    res = spamsim_cli("validate", str(bad))
    assert res.returncode == 2
    assert f"{bad}:2:24: market.success_rate: a probability must be between 0 and 1" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_run_bad_scenario_exits_2_without_traceback(write):
    bad = write("name: x\nmarket: {success_rate: 0.01, profit_per_sale: -1}\nspammers: []\n")
    res = spamsim_cli("run", str(bad))
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert f"{bad}:2:47: market.profit_per_sale: an amount of money must be between 0 and 1e+15, got -1" in lines
    assert any(line.startswith(f"{bad}:3:11: spammers:") for line in lines)
    assert "Traceback" not in res.stderr
    missing = spamsim_cli("run", "no/such/file.yaml")
    assert missing.returncode == 2 and "no/such/file.yaml: no such file" in missing.stderr


def test_bad_set_is_reported_like_a_file_error():
    res = spamsim_cli("run", LECTURE, "--set", "market.success_rate=abc")
    assert res.returncode == 2
    assert res.stderr.startswith("--set market.success_rate=abc: market.success_rate: ")


def test_run_json_is_exactly_one_object_with_the_contract():
    res = spamsim_cli(
        "run",
        LECTURE,
        "--reps",
        "400",
        "--seed",
        "7",
        "--json",
        "--set",
        "spammers.lecturer.campaign.messages_per_send=10000",
    )
    assert res.returncode == 0, res.stderr
    payload = json.loads(res.stdout)  # fails if anything else is printed on stdout
    assert payload["scenario"] == "lecture" and payload["seed"] == 7 and payload["reps"] == 400
    assert REQUIRED_METRICS <= set(payload["metrics"])
    for metric in payload["metrics"].values():
        assert set(metric) == {"mean", "ci95"} and len(metric["ci95"]) == 2
    revenue = payload["metrics"]["revenue"]
    lo, hi = revenue["ci95"]
    assert lo <= revenue["mean"] <= hi
    # 50,000 JPY for 10,000 messages; the CI half-width is ~2 se, so 2 half-widths ~ 4 se.
    assert abs(revenue["mean"] - 50_000) <= 2 * (hi - lo)


def test_run_table_shows_the_lecture_numbers():
    res = spamsim_cli("run", LECTURE, "--reps", "200", "--seed", "1")
    assert res.returncode == 0, res.stderr
    assert "Revenue (JPY)" in res.stdout and "lecture" in res.stdout
    assert "repeat with --seed 1" in res.stdout


def test_run_out_writes_all_files_atomically(tmp_path):
    out = tmp_path / "out"
    res = spamsim_cli("run", LECTURE, "--reps", "300", "--seed", "5", "--out", str(out), "--json")
    assert res.returncode == 0, res.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "funnel.png",
        "ledger.npz",
        "manifest.json",
        "provenance.json",
        "replications.parquet",
        "scenario.resolved.yaml",
        "summary.json",
        "timeseries.parquet",
    ]  # and no leftover temporary files
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "out"]  # nor a staging folder
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "run" and manifest["seed"] == 5 and manifest["complete"] is True
    assert {f["path"] for f in manifest["files"]} == set(names) - {"manifest.json"}
    assert json.loads((out / "summary.json").read_text()) == json.loads(res.stdout)
    reps = pd.read_parquet(out / "replications.parquet")
    assert len(reps) == 300 and {"rep", "revenue", "net_profit"} <= set(reps.columns)
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["seed_entropy"] == 5 and prov["spamsim_version"] == spamsim.__version__
    assert prov["command"][:2] == ["spamsim", "run"] and "timestamp_utc" in prov
    # The resolved scenario is itself a valid scenario that reproduces the run.
    again = spamsim.run(out / "scenario.resolved.yaml", reps=300, seed=5)
    pd.testing.assert_frame_equal(again.replications, reps)
    assert yaml.safe_load((out / "scenario.resolved.yaml").read_text())["name"] == "lecture"


def test_schema_is_json_and_documents_fields():
    res = spamsim_cli("schema")
    schema = json.loads(res.stdout)
    market = schema["$defs"]["Market"]["properties"]
    assert "500 JPY" in market["profit_per_sale"]["description"]


@pytest.mark.parametrize(
    "command",
    [
        "run",
        "validate",
        "schema",
        "compare",
        "analytic",
        "sweep",
        "sensitivity",
        "calibrate",
        "plot",
        "report",
        "explore",
    ],
)
def test_every_command_has_help_with_an_example(command):
    res = spamsim_cli(command, "--help")
    assert res.returncode == 0 and "Example:" in res.stdout


def test_unwritable_out_is_one_line_before_any_work(monkeypatch, tmp_path):
    # An --out path under a file is refused when the results folder opens, before the run.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = spamsim_cli("run", LECTURE, "--reps", "10", "--out", str(blocker / "sub"))
    assert res.returncode == 2 and res.stdout == ""
    assert "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1


def test_calibrate_cli_writes_a_loadable_scenario(tmp_path):
    out = tmp_path / "calibrated.yaml"
    res = spamsim_cli(
        "calibrate",
        LECTURE,
        "--observed",
        str(SCENARIOS / "observed" / "spamalytics.yaml"),
        "--fit",
        "market.success_rate",
        "-o",
        str(out),
        "--json",
    )
    assert res.returncode == 0, res.stderr
    payload = json.loads(res.stdout)
    assert json.dumps(payload)  # one JSON object
    calibrated = spamsim.load(out)
    # Spamalytics: 28 sales from ~350 million messages.
    assert calibrated.market.success_rate == pytest.approx(28 / 350e6)
    refused = spamsim_cli(
        "calibrate",
        LECTURE,
        "--observed",
        str(SCENARIOS / "observed" / "spamalytics.yaml"),
        "--fit",
        "market.funnel.open_rate",
    )
    assert refused.returncode == 2 and "Traceback" not in refused.stderr


@pytest.mark.slow
def test_run_and_compare_write_figures_and_plot_redraws_them(tmp_path):
    run_dir, cmp_dir = tmp_path / "run", tmp_path / "cmp"
    res = spamsim_cli(
        "run", str(SCENARIOS / "relay-prevention.yaml"), "--reps", "20", "--seed", "1", "--out", str(run_dir)
    )
    assert res.returncode == 0, res.stderr
    for name in ("funnel.png", "timeline.png", "populations.png", "ledger.npz"):
        assert (run_dir / name).stat().st_size > 1000
    res = spamsim_cli(
        "plot", "timeline", str(run_dir), "-o", str(tmp_path / "t.pdf"), "--theme", "paper", "--lang", "ja"
    )
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "t.pdf").read_bytes().startswith(b"%PDF")
    res = spamsim_cli(
        "compare",
        str(SCENARIOS / "smtp-auth.yaml"),
        "-c",
        "op25b",
        "-c",
        "submission_auth",
        "--shapley",
        "--reps",
        "20",
        "--seed",
        "1",
        "--out",
        str(cmp_dir),
    )
    assert res.returncode == 0, res.stderr
    assert (cmp_dir / "effects.png").exists() and (cmp_dir / "shapley.png").exists()
    res = spamsim_cli("plot", "shapley", str(cmp_dir), "-o", str(tmp_path / "s.svg"))
    assert res.returncode == 0 and (tmp_path / "s.svg").read_text().lstrip().startswith("<?xml")
    wrong = spamsim_cli("plot", "timeline", str(cmp_dir))
    assert (
        wrong.returncode == 2 and "holds the results of `spamsim compare`, not of `spamsim run --out`" in wrong.stderr
    )
    one_step = tmp_path / "lecture"
    spamsim_cli("run", LECTURE, "--reps", "10", "--out", str(one_step))
    assert not (one_step / "timeline.png").exists()  # a one-step run has no time series figure
    res = spamsim_cli("plot", "timeline", str(one_step))
    assert res.returncode == 2 and "cannot draw timeline" in res.stderr
