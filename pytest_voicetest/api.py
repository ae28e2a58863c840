"""The Python API: one function per harness operation (SPEC section 8)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from .errors import InputError
from .models.graph import AgentGraph
from .models.results import TestResult
from .models.testcase import Models, TestCase, parse_test
from .yamlio import parse_yaml


def _graph(agent: AgentGraph | str | Path | dict[str, Any]) -> AgentGraph:
    if isinstance(agent, AgentGraph):
        return agent
    from .importers import import_agent

    return import_agent(agent)


def _case(case: TestCase | dict[str, Any] | str) -> tuple[TestCase, dict[str, Any]]:
    if isinstance(case, TestCase):
        return case, case.models.model_dump()
    raw = parse_yaml(case, "<test case>") if isinstance(case, str) else case
    if not isinstance(raw, dict):
        raise InputError("a test case must be a mapping", field="case", fix="pass a dict or a YAML mapping")
    test = parse_test(raw, {}, "<test case>", (), raw)
    own = dict(raw.get("models") or {})
    if raw.get("llm_model"):
        own.setdefault("agent", raw["llm_model"])
    return test, Models.model_validate(own).model_dump()


def run_test_case(
    case: TestCase | dict[str, Any] | str,
    agent: AgentGraph | str | Path | dict[str, Any],
    *,
    session: Any = None,
    test_id: str | None = None,
) -> TestResult:
    """Run one test case (a TestCase, dict or YAML snippet) against an agent."""
    from .runner import run_test

    test, own_models = _case(case)
    graph = _graph(agent)
    identifier = test_id or test.name
    if session is not None:
        run = session.test_run(test=test, test_id=identifier, graph=graph, test_models=own_models)
        return session.run_coroutine(run_test(run, session.client))
    raise NotImplementedError
