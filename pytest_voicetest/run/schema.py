"""JSON Schemas of the YAML formats, for editor autocompletion (`voicetest schema`).

The models accept some shorthands before validation (a metric as a plain string, a
tool call as its name, a single end reason, a script as a list, legacy test types and
`llm_model`); the schemas allow them too.
"""

from __future__ import annotations

import copy
from typing import Any

from ..models.scenario import CampaignFile
from ..models.testcase import DEFAULT_KEYS, TestCase, TestFile

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def _shorthands(schema: dict[str, Any]) -> None:
    defs = schema["$defs"]
    case = defs["TestCase"]["properties"]
    case["type"] = {"enum": ["llm", "rule", "simulation", "unit"], "default": "llm", "description": "llm | rule (legacy: simulation, unit)"}
    case["metrics"]["items"] = {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/Metric"}]}
    case["script"] = {"anyOf": [{"type": "array", "items": {"$ref": "#/$defs/ScriptStep"}}, {"$ref": "#/$defs/Script"}, {"type": "null"}]}
    case["llm_model"] = {"type": "string", "description": "Retell test format: the agent's model"}
    expect = defs["Expect"]["properties"]
    expect["end_reason"] = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}, {"type": "null"}]}
    expect["tools_called"]["items"] = {"anyOf": [{"type": "string"}, {"$ref": "#/$defs/ExpectedToolCall"}]}


def test_file_schema() -> dict[str, Any]:
    """The schema of `test_*.yaml` files."""
    case = TestCase.model_json_schema()
    defs = case.pop("$defs", {})
    defs["TestCase"] = case
    schema = TestFile.model_json_schema()
    schema["$defs"] = defs
    schema["properties"]["tests"]["items"] = {"$ref": "#/$defs/TestCase"}
    schema["properties"]["tests_from"] = {"anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
    _shorthands(schema)
    defaults = copy.deepcopy(defs["TestCase"])
    defaults["properties"] = {k: v for k, v in defaults["properties"].items() if k in DEFAULT_KEYS}
    defaults.pop("required", None)
    defaults["title"] = "Defaults merged into every test"
    schema["properties"]["defaults"] = defaults
    return {"$schema": DRAFT, "title": "pytest-voicetest test file (test_*.yaml)", **schema}


def campaign_schema() -> dict[str, Any]:
    """The schema of `scenario_*.yaml` campaign files."""
    return {"$schema": DRAFT, "title": "pytest-voicetest campaign (scenario_*.yaml)", **CampaignFile.model_json_schema()}


def sweep_schema() -> dict[str, Any]:
    """The schema of `voicesim_*.yaml` sweep files."""
    from ..voicesim.sweep import SweepSpec

    return {"$schema": DRAFT, "title": "pytest-voicetest VoiceSim sweep (voicesim_*.yaml)", **SweepSpec.model_json_schema()}


SCHEMAS = {"test": test_file_schema, "campaign": campaign_schema, "sweep": sweep_schema}
