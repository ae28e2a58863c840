"""Test cases in the voicetest harness's shapes (its TestCase, its stored test records,
Retell's test cases) as our test entries, with the harness's meaning kept.

- ids and timestamps of stored records go to `metadata`; null fields mean unset;
- `type`: simulation/llm -> llm, unit/rule -> rule, anything else -> llm (as the harness
  does); a unit test that also has metrics runs them (we are stricter) and says so;
- `tool_mocks`: `{name, response}` and Retell's `{tool_name, input_match_rule, output}`
  become `{tool, when, returns}`;
- rules match the whole transcript (`rules_on: transcript`) and patterns are globs
  unless the file's defaults or the `pattern_engine` setting say regex.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

RECORD_KEYS = ("id", "agent_id", "created_at", "updated_at", "source_path", "source_index", "creation_timestamp", "user_modified_timestamp")
TYPES = {"simulation": "llm", "llm": "llm", "unit": "rule", "rule": "rule"}
PATTERN_SYNTAX = {"fnmatch": "glob", "re2": "regex", "regex": "regex", "glob": "glob"}


def tool_mock(mock: Any) -> Any:
    """One harness or Retell tool mock as ours (anything else is left for the validator to name)."""
    if not isinstance(mock, Mapping):
        return mock
    if "tool_name" in mock and "output" in mock:
        rule = mock.get("input_match_rule") or {}
        converted: dict[str, Any] = {"tool": mock["tool_name"], "returns": _json_or_text(mock["output"])}
        if isinstance(rule, Mapping) and rule.get("type") == "partial_match" and rule.get("args"):
            converted["when"] = dict(rule["args"])
        return converted
    if "name" in mock and "response" in mock and "tool" not in mock:
        return {"tool": mock["name"], "returns": mock["response"]}
    return mock


def _json_or_text(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def harness_test(raw: Any, defaults: Mapping[str, Any], pattern_engine: str) -> Any:
    """A harness-format test entry as ours (non-mappings are left for the loader to refuse)."""
    if not isinstance(raw, Mapping):
        return raw
    data = {key: value for key, value in raw.items() if value is not None}
    metadata = {key: data.pop(key) for key in RECORD_KEYS if key in data}
    given_type = data.pop("type", "llm")
    kind = TYPES.get(given_type, "llm") if isinstance(given_type, str) else "llm"
    if kind == "rule" and data.get("metrics"):
        kind = "llm"
        metadata["note"] = "a unit test with metrics: the harness ignores the metrics, pytest-voicetest judges them"
    if given_type != kind:
        metadata["type"] = given_type
    data["type"] = kind
    if isinstance(data.get("tool_mocks"), list):
        data["tool_mocks"] = [tool_mock(m) for m in data["tool_mocks"]]
    for key, value in (("rules_on", "transcript"), ("pattern_syntax", PATTERN_SYNTAX.get(pattern_engine, "glob"))):
        if key not in defaults:
            data.setdefault(key, value)
    data["harness"] = True
    if metadata:
        data["metadata"] = {**metadata, **data.get("metadata", {})}
    return data
