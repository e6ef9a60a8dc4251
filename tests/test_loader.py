"""Loading scenarios: every problem reported at once, with FILE:LINE:COL and a useful message."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

import spamsim
from spamsim.scenario import ScenarioError, load

from .conftest import LECTURE_MINIMAL


def problems(path, overrides=()):
    with pytest.raises(ScenarioError) as info:
        load(path, overrides)
    return [str(p) for p in info.value.problems]


def test_valid_minimal_scenario_loads(write):
    sc = load(write(LECTURE_MINIMAL))
    assert sc.market.success_rate == 0.01
    assert sc.spammers[0].campaign.messages_per_send == 1_000_000
    assert sc.horizon_days == 1.0


def test_every_problem_reported_at_once_with_line_and_column(write):
    path = write(
        """
        name: bad
        market:
          profit_per_sale: -500
          sucess_rate: 0.01
          success_rate: 1.5
        spammers:
          - name: a
            campaign:
              messages_per_send: lots
          - name: b
            location: mars
            campaign: {messages_per_send: 10}
        enforcement:
          fines: {individual: 1e6, individual: 2e6}
        """
    )
    found = problems(path)
    f = str(path)
    assert f"{f}:14:28: enforcement.fines.individual: duplicate key (first given on line 14)" in found
    assert f"{f}:3:20: market.profit_per_sale: an amount of money must be between 0 and 1e+15, got -500" in found
    assert f"{f}:5:17: market.success_rate: a probability must be between 0 and 1, got 1.5" in found
    assert f"{f}:4:3: market.sucess_rate: unknown field 'sucess_rate'; did you mean 'success_rate'?" in found
    assert any(p.startswith(f"{f}:9:26: spammers.0.campaign.messages_per_send: ") for p in found)
    assert any("expected a number, got the string 'lots'" in p for p in found)
    assert f"{f}:11:15: spammers.1.location: Input should be 'domestic' or 'abroad'" in found
    assert len(found) == 6


def test_missing_field_points_at_the_parent(write):
    path = write(
        """
        name: x
        market:
          success_rate: 0.01
        spammers:
          - campaign: {messages_per_send: 5}
        """
    )
    assert problems(path) == [f"{path}:3:3: market.profit_per_sale: required field is missing"]


def test_missing_top_level_field(write):
    path = write("name: x\nmarket: {success_rate: 0.01, profit_per_sale: 1}\n")
    assert problems(path) == [f"{path}:1:1: spammers: required field is missing"]


def test_counts_up_to_1e15_are_valid_and_above_are_not(write):
    ok = write(LECTURE_MINIMAL.replace("1000000", "1e15"))
    assert load(ok).spammers[0].campaign.messages_per_send == 1e15
    bad = write(LECTURE_MINIMAL.replace("1000000", "1.5e15"))
    (p,) = problems(bad)
    assert "a count must be between 0 and 1e+15" in p and ":5:35:" in p


def test_counts_must_be_whole(write):
    (p,) = problems(write(LECTURE_MINIMAL.replace("1000000", "10.5")))
    assert "must be a whole number" in p


def test_yaml_1_2_exponents_are_numbers(write):
    sc = load(write(LECTURE_MINIMAL.replace("1000000", "1e6").replace("0.01", "1e-2")))
    assert sc.spammers[0].campaign.messages_per_send == 1e6
    assert sc.market.success_rate == 0.01


def test_booleans_are_not_numbers(write):
    (p,) = problems(write(LECTURE_MINIMAL.replace("0.01", "true")))
    assert "market.success_rate: expected a number or a distribution, got a boolean (true)" in p
    # With the YAML 1.2 core schema `yes` is text; the message says what YAML 1.1 made of it.
    (p,) = problems(write(LECTURE_MINIMAL.replace("0.01", "yes")))
    assert "market.success_rate: expected a number, got the string 'yes' (YAML 1.1 read it as a boolean" in p


def test_success_rate_or_funnel_exactly_one(write):
    path = write(
        """
        name: x
        market: {profit_per_sale: 1}
        spammers: [{campaign: {messages_per_send: 1}}]
        """
    )
    (p,) = problems(path)
    assert p == f"{path}:2:9: market: give exactly one of success_rate or funnel"


def test_unknown_top_level_key_suggests(write):
    path = write(LECTURE_MINIMAL + "enforcment: {}\n")
    (p,) = problems(path)
    assert p == f"{path}:6:1: enforcment: unknown field 'enforcment'; did you mean 'enforcement'?"


def test_unknown_key_inside_distribution_suggests(write):
    path = write(LECTURE_MINIMAL.replace("0.01", "{dist: beta, mean: 0.01, sdev: 0.004}"))
    found = problems(path)
    assert any("unknown field 'sdev'; did you mean 'sd'?" in p for p in found)


def test_unknown_distribution_kind(write):
    (p,) = problems(write(LECTURE_MINIMAL.replace("0.01", "{dist: gamma, mean: 1}")))
    assert "unknown distribution" in p and "market.success_rate" in p


def test_distribution_outside_field_range(write):
    (p,) = problems(write(LECTURE_MINIMAL.replace("0.01", "{dist: uniform, low: 0.5, high: 2}")))
    assert "a probability must be between 0 and 1" in p


def test_beta_with_impossible_sd(write):
    (p,) = problems(write(LECTURE_MINIMAL.replace("0.01", "{dist: beta, mean: 0.01, sd: 0.2}")))
    assert "sd too large" in p


def test_unsafe_tag_is_refused(write):
    path = write(LECTURE_MINIMAL.replace("0.01", "!!python/object/apply:os.system ['echo hi']"))
    found = problems(path)
    assert any("is not allowed: scenario files are data, never code" in p for p in found)


def test_syntax_error_has_position(write):
    path = write("name: x\nmarket: {success_rate: 0.01\n")
    (p,) = problems(path)
    assert p.startswith(f"{path}:") and "YAML syntax error" in p


def test_file_level_problems(tmp_path, write):
    assert problems(tmp_path / "nope.yaml") == [f"{tmp_path / 'nope.yaml'}: no such file"]
    assert problems(tmp_path) == [f"{tmp_path}: is a directory, not a scenario file"]
    assert problems(write("", "empty.yaml")) == [f"{tmp_path / 'empty.yaml'}: the file is empty"]
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"name: x\nmarket: \xff\xfe\n")
    (p,) = problems(binary)
    assert p.startswith(f"{binary}:2:9:") and "UTF-8" in p
    (p,) = problems(write("- 1\n- 2\n", "list.yaml"))
    assert "expected a mapping of fields (Scenario)" in p


def test_alias_bomb_is_refused_quickly(write):
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    path = write("\n".join(lines) + "\n")
    (p,) = problems(path)
    assert "alias bomb" in p


def test_overrides_edit_and_validate(write):
    path = write(LECTURE_MINIMAL)
    sc = load(path, ["spammers.s.campaign.messages_per_send=10000", "market.success_rate=0.02"])
    assert sc.spammers[0].campaign.messages_per_send == 10_000
    assert sc.market.success_rate == 0.02
    sc = load(path, ["spammers.0.campaign.messages_per_send={dist: uniform, low: 1, high: 9}"])
    assert sc.spammers[0].campaign.messages_per_send.dist == "uniform"
    assert problems(path, ["market.success_rate=2"]) == [
        "--set market.success_rate=2: market.success_rate: a probability must be between 0 and 1, got 2"
    ]
    (p,) = problems(path, ["spammers.nobody.campaign.days=2"])
    assert "no list item 'nobody'" in p and "items: s" in p
    (p,) = problems(path, ["market.succes_rate=0.1"])
    assert "did you mean 'success_rate'" in p and p.startswith("--set market.succes_rate=0.1:")
    (p,) = problems(path, ["nonsense"])
    assert "expected dotted.path=value" in p


def test_load_accepts_mapping_and_scenario():
    data = {
        "name": "m",
        "market": {"success_rate": 0.01, "profit_per_sale": 500},
        "spammers": [{"campaign": {"messages_per_send": 10}}],
    }
    sc = spamsim.load(data)
    assert spamsim.load(sc) is sc
    assert spamsim.load(sc, ["market.profit_per_sale=600"]).market.profit_per_sale == 600


def test_scenario_is_frozen(write):
    sc = load(write(LECTURE_MINIMAL))
    with pytest.raises(ValidationError, match="frozen"):
        sc.market.profit_per_sale = 1  # type: ignore[misc]
