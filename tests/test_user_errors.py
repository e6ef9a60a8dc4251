"""Every user mistake is a user error: exit 2 and one message naming what was typed (issue 13).

Each case here was reported as ``internal error`` (exit 1) or as a flood of messages about
values the user never typed before it was fixed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import SCENARIOS, spamsim_cli

# Its data is computed once per test process (module fixtures, caches): keep the module on one
# xdist worker (`make test` runs with --dist loadgroup) so that it is not computed twice.
pytestmark = pytest.mark.xdist_group("test_user_errors")


@pytest.fixture(scope="module")
def lecture_results(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("results") / "lecture"
    spamsim_cli("run", str(SCENARIOS / "lecture.yaml"), "--reps", "20", "--seed", "1", "--out", str(out), check=True)
    return out


def _one_user_error(proc, *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "internal error" not in proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_plot_to_an_unsupported_format_names_the_file_and_the_formats(lecture_results: Path, tmp_path: Path) -> None:
    proc = spamsim_cli("plot", "funnel", str(lecture_results), "-o", str(tmp_path / "x.jpg"))
    _one_user_error(proc, "x.jpg", ".png", ".svg", ".pdf")
    assert not (tmp_path / "x.jpg").exists()


def test_report_into_a_folder_says_to_give_a_file(tmp_path: Path) -> None:
    proc = spamsim_cli("report", str(SCENARIOS / "lecture.yaml"), "-o", str(tmp_path), "--reps", "2")
    _one_user_error(proc, str(tmp_path), "is a folder")


def test_report_into_a_missing_folder_is_refused_before_any_work(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "report.html"
    proc = spamsim_cli("report", str(SCENARIOS / "lecture.yaml"), "-o", str(target), "--reps", "2")
    _one_user_error(proc, str(target), "does not exist")


def test_a_sensitivity_typo_is_one_message_about_the_param_typed() -> None:
    proc = spamsim_cli(
        "sensitivity", str(SCENARIOS / "lecture.yaml"), "-p", "market.sucess_rate=0.001:0.02", "--n", "4", "--reps", "2"
    )
    _one_user_error(proc, "--param market.sucess_rate=0.001:0.02", "did you mean 'success_rate'")
    assert "--set" not in proc.stderr


def test_a_sensitivity_range_outside_the_field_names_the_param() -> None:
    proc = spamsim_cli(
        "sensitivity", str(SCENARIOS / "lecture.yaml"), "-p", "market.success_rate=0.5:2", "--n", "4", "--reps", "2"
    )
    _one_user_error(proc, "--param market.success_rate=0.5:2", "between 0 and 1")
