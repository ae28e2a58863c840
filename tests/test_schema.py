"""The published JSON Schemas match the models and accept every example file."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from pytest_voicetest.schema import SCHEMAS

ROOT = Path(__file__).parents[1]
PUBLISHED = {"test": "test-schema.json", "campaign": "campaign-schema.json", "sweep": "voicesim-schema.json"}
PATTERNS = {"test": "test_*.yaml", "campaign": "scenario_*.yaml", "sweep": "voicesim_*.yaml"}


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_published_schema_is_current_and_valid(kind: str) -> None:
    published = json.loads((ROOT / PUBLISHED[kind]).read_text())
    assert published == SCHEMAS[kind](), f"regenerate with: voicetest schema --kind {kind} > {PUBLISHED[kind]}"
    jsonschema.Draft202012Validator.check_schema(published)


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_example_files_validate(kind: str) -> None:
    validator = jsonschema.Draft202012Validator(SCHEMAS[kind]())
    files = sorted((ROOT / "example_project").glob(PATTERNS[kind]))
    assert files
    for path in files:
        errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
        assert errors == [], f"{path.name}: {errors}"


def test_schema_flags_typos() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMAS["test"]())
    messages = [e.message for e in validator.iter_errors({"agent": "a.json", "tests": [{"name": "t", "user_promt": "x"}]})]
    assert messages == ["Additional properties are not allowed ('user_promt' was unexpected)"]
