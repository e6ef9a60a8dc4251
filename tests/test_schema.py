"""The JSON Schema that editors use accepts every shipped scenario and rejects broken ones."""

from __future__ import annotations

import json

import jsonschema
import pytest

from spamsim.scenario import Scenario, load
from spamsim.scenario.yamlio import parse_yaml

from .conftest import SCENARIOS

SCHEMA = Scenario.model_json_schema()
SWEEPS = sorted(p for p in SCENARIOS.glob("*.yaml") if p.name.endswith("-sweep.yaml"))
EXPLORATIONS = sorted(p for p in SCENARIOS.glob("explore-*.yaml"))
FILES = sorted(p for p in SCENARIOS.glob("*.yaml") if p not in SWEEPS and p not in EXPLORATIONS)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_shipped_scenarios_validate_against_json_schema(path):
    data = parse_yaml(path.read_text(encoding="utf-8"), str(path)).data
    jsonschema.validate(data, SCHEMA)
    load(path)  # and against the real loader


@pytest.mark.parametrize("path", FILES + SWEEPS + EXPLORATIONS, ids=lambda p: p.name)
def test_shipped_scenarios_start_with_a_comment(path):
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith(f"# {path.name}"), "every scenario starts by saying what it shows"


def test_schema_rejects_out_of_range_probability():
    data = {
        "name": "x",
        "market": {"success_rate": 1.5, "profit_per_sale": 1},
        "spammers": [{"campaign": {"messages_per_send": 1}}],
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


def test_every_field_has_a_description():
    missing = []
    for name, definition in SCHEMA["$defs"].items():
        for field, spec in definition.get("properties", {}).items():
            if "description" not in spec:
                missing.append(f"{name}.{field}")
    assert not missing, missing
    json.dumps(SCHEMA)


def test_readme_scenario_example_is_valid(tmp_path):
    readme = (SCENARIOS.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "my-scenario.yaml"
    path.write_text(block, encoding="utf-8")
    sc = load(path)
    assert sc.name == "my-scenario" and sc.enforcement.fines.corporation == 3e7


def test_numeric_fields_are_written_out_with_their_own_bounds():
    """Numeric types are shared aliases inside pydantic (one validator each); the published
    schema still gives each field its type, title and range, the field's own bounds included."""
    from spamsim.scenario.params import PARAM_ALIASES

    assert not set(PARAM_ALIASES) & set(SCHEMA["$defs"])
    assert "#/$defs/Probability" not in json.dumps(SCHEMA)
    reaction = SCHEMA["$defs"]["Strategy"]["properties"]["reaction_days"]
    assert reaction["minimum"] == 0.01 and reaction["title"] == "Reaction Days"  # Field(ge=0.01) on Days
    data = {
        "name": "x",
        "market": {"success_rate": 0.01, "profit_per_sale": 1},
        "spammers": [{"campaign": {"messages_per_send": 1}, "strategy": {"kind": "adaptive", "reaction_days": 0.001}}],
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)
