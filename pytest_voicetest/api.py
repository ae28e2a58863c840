"""The Python API: one function per harness operation (SPEC section 8)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from .errors import InputError
from .llm.client import ClientOptions, LLMClient
from .llm.models import environment_models, resolve_models
from .models.graph import AgentGraph
from .models.results import TestResult
from .models.testcase import Models, TestCase, parse_test
from .runner import TestRun
from .settings import RunOptions, load_settings
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
    models: dict[str, str | None] | None = None,
    options: RunOptions | None = None,
    api_base: str | None = None,
    cassette: Any = None,
    transcript: str | Path | None = None,
    project: str | Path | None = None,
    session: Any = None,
    test_id: str | None = None,
) -> TestResult:
    """Run one test case (a TestCase, dict or YAML snippet) against an agent.

    `models` sit where command-line flags do; the project's settings (found from
    `project`, default the current folder) and the environment fill the rest.
    """
    from .runner import run_test

    test, own_models = _case(case)
    graph = _graph(agent)
    identifier = test_id or test.name
    transcript_path = Path(transcript) if transcript else (Path(test.transcript) if test.transcript else None)
    if session is not None:
        run = session.test_run(test=test, test_id=identifier, graph=graph, test_models=own_models, transcript_path=transcript_path)
        return session.run_coroutine(run_test(run, session.client))
    settings = load_settings(Path(project) if project else None)
    run = TestRun(
        test=test,
        test_id=identifier,
        graph=graph,
        models=resolve_models(
            cli=models or {},
            test=own_models,
            file_defaults={},
            settings=settings.models.model_dump(),
            environment=environment_models(),
            graph_default=graph.default_model,
            test_model_precedence=settings.run.test_model_precedence,
            scripted=test.script is not None,
        ),
        options=options or settings.run,
        transcript_path=transcript_path,
    )
    client_options = ClientOptions(timeout=run.options.llm_timeout, max_retries=run.options.max_retries, api_base=api_base)
    return asyncio.run(run_test(run, lambda: LLMClient(client_options, cassette=cassette)))
