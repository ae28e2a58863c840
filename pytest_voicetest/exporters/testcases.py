"""Test cases out, in three formats, each saying what it cannot hold.

- `native`: our test entries (what `tests:` in a test_*.yaml file holds), everything kept;
- `voicetest`: the voicetest harness's TestCase (`type` llm/rule, metrics as strings,
  `tool_mocks` as `{name, response}`, `llm_model` = the caller simulator's model);
- `retell`: Retell's test cases (`type` simulation/unit, `tool_mocks` as `{tool_name,
  input_match_rule, output}`).

Both JSON formats load back with `tests_from:`. `export_tests` returns the entries and one
line per thing a format dropped or changed the meaning of.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from ..errors import InputError, did_you_mean
from ..models.testcase import TestCase, ToolMock

FORMATS = ("native", "voicetest", "retell")
# fields the harness formats have no place for: (field, why it matters)
UNHELD = {
    "expect": "path assertions",
    "script": "the scripted turns",
    "transcript": "the recorded call to judge",
    "flow_judge": "the flow judge",
    "repeat": "repeated runs",
    "marks": "pytest marks",
    "max_turns": "the caller's turn limit",
    "start_node": "the start node",
    "models": "per-role models",
    "threshold": "the test's metric threshold",
    "turn_timeout": "timeouts",
    "call_timeout": "timeouts",
    "max_call_minutes": "the speaking-time limit",
    "allow_real_tools": "real tool calls",
}


def _native(test: TestCase) -> dict[str, Any]:
    data = test.model_dump(mode="json", exclude_defaults=True, exclude={"harness"})
    data["name"] = test.name
    return data


def _mock(mock: ToolMock, retell: bool) -> dict[str, Any]:
    answer = mock.returns if mock.sequence is None else mock.sequence[0]
    if not retell:
        return {"name": mock.tool, "response": answer}
    rule: dict[str, Any] = {"type": "partial_match", "args": mock.when} if mock.when else {"type": "any"}
    output = answer if isinstance(answer, str) else json.dumps(answer)
    return {"tool_name": mock.tool, "input_match_rule": rule, "output": output}


def _harness(test: TestCase, retell: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"name": test.name, "user_prompt": test.user_prompt}
    out["type"] = ("simulation" if retell else "llm") if test.type == "llm" else ("unit" if retell else "rule")
    if test.metrics:
        out["metrics"] = [m.criterion for m in test.metrics]
    if test.dynamic_variables:
        out["dynamic_variables"] = dict(test.dynamic_variables)
    if test.tool_mocks:
        out["tool_mocks"] = [_mock(m, retell) for m in test.tool_mocks]
    if test.llm_model:
        out["llm_model"] = test.llm_model
    for key in ("includes", "excludes", "patterns"):
        if getattr(test, key):
            out[key] = list(getattr(test, key))
    out.update({k: v for k, v in test.metadata.items() if k in {"creation_timestamp", "user_modified_timestamp"}})
    return out


def _losses(test: TestCase, format: str) -> list[str]:
    """What `format` cannot hold of `test`, or holds with another meaning."""
    if format == "native":
        return []
    given = test.model_dump(exclude_defaults=True)
    lost = [f"'{test.name}': {field} ({why}) dropped" for field, why in UNHELD.items() if field in given]
    if any(m.threshold is not None for m in test.metrics):
        lost.append(f"'{test.name}': per-metric thresholds dropped (the harness uses one threshold)")
    if any(m.sequence is not None or m.error is not None for m in test.tool_mocks):
        lost.append(f"'{test.name}': tool mock sequences and errors become their first answer")
    if test.tool_mocks and format == "voicetest":
        lost.append(f"'{test.name}': tool mock argument matchers (when) dropped")
    if test.rule_checks and not test.harness and test.rules_on != "transcript":
        lost.append(f"'{test.name}': rule checks will match the whole transcript there, not only {test.rules_on} turns")
    if test.patterns and test.pattern_syntax == "regex":
        lost.append(f"'{test.name}': patterns are regexes: set pattern_engine = \"re2\" in the harness's settings, or they are read as globs")
    if test.type == "llm" and test.rule_checks:
        lost.append(f"'{test.name}': an llm test's rule checks are ignored by the harness")
    return lost


BUILDERS: dict[str, Callable[[TestCase], dict[str, Any]]] = {
    "native": _native,
    "voicetest": lambda test: _harness(test, retell=False),
    "retell": lambda test: _harness(test, retell=True),
}


def export_tests(tests: Sequence[TestCase], format: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The tests in `format`, and a line for each thing the format cannot hold."""
    if format not in BUILDERS:
        raise InputError(f"unknown test export format '{format}'{did_you_mean(format, FORMATS)}", field="format", fix="use " + ", ".join(FORMATS))
    build = BUILDERS[format]
    return [build(test) for test in tests], [line for test in tests for line in _losses(test, format)]
