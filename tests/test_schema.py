"""The published JSON Schemas match the models and accept every example file."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from pytest_voicetest.cli import main
from pytest_voicetest.run.schema import SCHEMAS

ROOT = Path(__file__).parents[1]
SCHEMAS_DIR = ROOT / "schemas"
PATTERNS = {"test": "test_*.yaml", "campaign": "scenario_*.yaml", "sweep": "voicesim_*.yaml"}


@pytest.mark.parametrize("kind", sorted(SCHEMAS))
def test_published_schema_is_what_voicetest_schema_prints(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "--kind", kind]) == 0
    printed = json.loads(capsys.readouterr().out)
    published = json.loads((SCHEMAS_DIR / f"{kind}.json").read_text())
    assert published == printed, f"regenerate with: voicetest schema --kind {kind} > schemas/{kind}.json"
    jsonschema.Draft202012Validator.check_schema(published)


def test_schemas_folder_holds_exactly_the_published_kinds_and_the_examples_point_at_it() -> None:
    assert sorted(p.stem for p in SCHEMAS_DIR.glob("*.json")) == sorted(SCHEMAS)
    for path in (ROOT / "example_project").glob("*.yaml"):
        header = path.read_text().splitlines()[0]
        target = header.split("$schema=")[1]
        assert (path.parent / target).resolve().parent == SCHEMAS_DIR, path.name


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
