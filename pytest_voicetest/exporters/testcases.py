"""Test cases in the Retell (and voicetest) JSON test format.

`type: llm` becomes `simulation`, `rule` becomes `unit`; metrics become criterion strings
(a per-metric threshold has no place there and is dropped); rule checks, dynamic
variables, tool mocks and the agent model are kept. The format loads back with `tests_from:`.
"""

from __future__ import annotations

from typing import Any

from ..models.testcase import TestCase


def to_retell_test(test: TestCase) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": test.name,
        "user_prompt": test.user_prompt,
        "type": "simulation" if test.type == "llm" else "unit",
        "metrics": [m.criterion for m in test.metrics],
        "dynamic_variables": dict(test.dynamic_variables),
        "tool_mocks": [m.model_dump(exclude_none=True) for m in test.tool_mocks],
    }
    if test.type == "rule" or test.rule_checks:
        out.update(includes=list(test.includes), excludes=list(test.excludes), patterns=list(test.patterns))
    if test.models.agent:
        out["llm_model"] = test.models.agent
    return out


def to_retell_tests(tests: list[TestCase]) -> list[dict[str, Any]]:
    return [to_retell_test(test) for test in tests]
