"""The Python API: one function per harness operation.

- `import_agent` (a config dict, a file path, or uploaded bytes with a filename) and
  `export_agent`;
- `run_test` (one case) and `run_tests` (a test file, or cases and an agent) giving a
  `Run` with an id, start and end times and the results;
- `evaluate_transcript`: LLM metrics on a recorded call;
- `get_settings`, `save_settings`, `update_settings`;
- `get_metrics_config`, `set_metrics_config` (the agent's threshold and global metrics);
- `export_tests`: test cases in the Retell test format.

Bad input raises `InputError` with the file, line, field and fix.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .errors import InputError
from .exporters import export_agent as _export
from .exporters.testcases import to_retell_tests
from .importers import import_agent as _import
from .importers import load_agent_file
from .importers.detect import METRICS_SIDECAR
from .llm.client import ClientOptions, LLMClient
from .llm.models import environment_models, resolve_models
from .models.graph import AgentGraph, MetricsConfig
from .models.results import MetricResult, Run, TestResult
from .models.testcase import Models, TestCase, own_models, parse_test, parse_test_file
from .runner import TestRun
from .settings import RunOptions, Settings, load_settings, update_settings as _update_settings, write_settings
from .validation import validate
from .yamlio import parse_yaml, read_text

__all__ = [
    "evaluate_transcript", "export_agent", "export_tests", "get_metrics_config", "get_settings", "import_agent",
    "run_test", "run_tests", "save_settings", "set_metrics_config", "update_settings",
]


def import_agent(source: dict[str, Any] | str | Path | bytes, *, format: str = "auto", filename: str | None = None) -> AgentGraph:
    """An agent graph from a config dict, a file path, or uploaded bytes (give the filename)."""
    if isinstance(source, bytes) and not filename:
        raise InputError("uploaded bytes need a filename to tell JSON, YAML, Python and .xlsx apart", field="filename")
    return _import(source, format=format, filename=filename)


def export_agent(agent: AgentGraph | dict[str, Any] | str | Path, format: str) -> str:
    """The agent in `format`: mermaid, retell_llm, retell_flow, vapi, native, native_yaml."""
    return _export(_graph(agent), format)


def _graph(agent: AgentGraph | str | Path | dict[str, Any]) -> AgentGraph:
    if isinstance(agent, AgentGraph):
        return agent
    if isinstance(agent, (str, Path)):
        return load_agent_file(Path(agent))
    if isinstance(agent, dict):
        return _import(agent)
    raise InputError(f"an agent is an AgentGraph, a dict or a path, not {type(agent).__name__}", field="agent")


def _case(case: TestCase | dict[str, Any] | str) -> tuple[TestCase, dict[str, Any]]:
    if isinstance(case, TestCase):
        return case, case.models.model_dump()
    raw = parse_yaml(case, "<test case>") if isinstance(case, str) else case
    if not isinstance(raw, dict):
        raise InputError(f"a test case is a mapping, not {type(raw).__name__}", field="case", fix="pass a dict or a YAML mapping")
    return parse_test(raw, {}, "<test case>", (), raw), own_models(raw)


def _test_run(
    test: TestCase,
    graph: AgentGraph | None,
    *,
    test_models: dict[str, Any],
    file_models: dict[str, Any] | None,
    models: dict[str, str | None] | None,
    settings: Settings,
    options: RunOptions | None,
    test_id: str,
    transcript: Path | None,
) -> TestRun:
    return TestRun(
        test=test,
        test_id=test_id,
        graph=graph,
        models=resolve_models(
            cli=models or {},
            test=test_models,
            file_defaults=file_models or {},
            settings=settings.models.model_dump(),
            environment=environment_models(),
            graph_default=graph.default_model if graph else None,
            test_model_precedence=settings.run.test_model_precedence,
            scripted=test.script is not None,
        ),
        options=options or settings.run,
        transcript_path=transcript,
    )


def run_test(
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
    """Run one test case against an agent. `models` sit where command-line flags do; the
    project's settings (found from `project`, default the current folder) and the
    environment fill the rest."""
    from .runner import run_test as run

    test, own_models = _case(case)
    graph = _graph(agent)
    identifier = test_id or test.name
    transcript_path = Path(transcript) if transcript else (Path(test.transcript) if test.transcript else None)
    if session is not None:
        prepared = session.test_run(test=test, test_id=identifier, graph=graph, test_models=own_models, transcript_path=transcript_path)
        return session.run_coroutine(run(prepared, session.client))
    settings = load_settings(Path(project) if project else None)
    prepared = _test_run(test, graph, test_models=own_models, file_models=None, models=models, settings=settings, options=options, test_id=identifier, transcript=transcript_path)
    client_options = ClientOptions(timeout=prepared.options.llm_timeout, max_retries=prepared.options.max_retries, api_base=api_base)
    return asyncio.run(run(prepared, lambda: LLMClient(client_options, cassette=cassette)))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def run_tests(
    source: str | Path | Sequence[TestCase | dict[str, Any]],
    agent: AgentGraph | str | Path | dict[str, Any] | None = None,
    *,
    select: str | None = None,
    models: dict[str, str | None] | None = None,
    options: RunOptions | None = None,
    api_base: str | None = None,
    project: str | Path | None = None,
    concurrency: int = 1,
) -> Run:
    """Run a `test_*.yaml` file (its agent unless `agent` is given) or a list of cases.

    `select` keeps tests whose name contains it; up to `concurrency` calls run at once.
    """
    from .runner import run_test as run

    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or not 1 <= concurrency <= 256:
        raise InputError(f"concurrency must be a whole number 1..256, got {concurrency!r}", field="concurrency")
    settings = load_settings(Path(project) if project else (Path(source).parent if isinstance(source, (str, Path)) else None))
    prepared: list[TestRun] = []
    if isinstance(source, (str, Path)):
        path = Path(source)
        data = parse_yaml(read_text(path), path)
        spec = parse_test_file(data, path)
        graph = _graph(agent) if agent is not None else (load_agent_file((path.parent / spec.agent).resolve(), spec.agent_format) if spec.agent else None)
        file_models = validate(Models, spec.defaults.get("models") or {}, source=path, root=data, prefix=("defaults", "models")).model_dump()
        for index, raw in enumerate(spec.tests):
            test = parse_test(raw, spec.defaults, path, ("tests", index), data)
            transcript = (path.parent / test.transcript).resolve() if test.transcript else None
            prepared.append(
                _test_run(test, graph, test_models=own_models(raw), file_models=file_models,
                          models=models, settings=settings, options=options, test_id=f"{path.name}::{test.name}", transcript=transcript)
            )
    else:
        if agent is None:
            raise InputError("running a list of test cases needs an agent", field="agent")
        graph = _graph(agent)
        for case in source:
            test, own = _case(case)
            prepared.append(_test_run(test, graph, test_models=own, file_models=None, models=models, settings=settings, options=options, test_id=test.name, transcript=None))
    prepared = [p for p in prepared if select is None or select.lower() in p.test.name.lower()]
    result = Run(id=uuid.uuid4().hex[:12], started_at=_now())
    client_options = ClientOptions(timeout=settings.run.llm_timeout, max_retries=settings.run.max_retries, api_base=api_base)

    async def run_all() -> list[TestResult]:
        gate = asyncio.Semaphore(concurrency)

        async def one(item: TestRun) -> TestResult:
            async with gate:
                return await run(item, lambda: LLMClient(client_options))

        return list(await asyncio.gather(*(one(item) for item in prepared)))

    result.results = asyncio.run(run_all())
    result.completed_at = _now()
    return result


def evaluate_transcript(
    transcript: str | Path | list[dict[str, Any]],
    metrics: Sequence[str | dict[str, Any]],
    *,
    judge_model: str | None = None,
    threshold: float | None = None,
    agent: AgentGraph | str | Path | dict[str, Any] | None = None,
    api_base: str | None = None,
    project: str | Path | None = None,
) -> list[MetricResult]:
    """Score a recorded call (a file, or a list of {role, content} turns) against metrics.

    The agent's metrics config, when an agent is given, adds its global metrics and
    supplies the default threshold (0.7 otherwise).
    """
    from .judges.metrics import judge_metrics
    from .transcripts import load_transcript, parse_turns

    turns = parse_turns(transcript, "<transcript>").transcript if isinstance(transcript, list) else load_transcript(Path(transcript)).transcript
    graph = _graph(agent) if agent is not None else None
    config = graph.metrics_config if graph else MetricsConfig()
    cutoff = config.threshold if threshold is None else threshold
    checked = TestCase.model_validate({"name": "evaluate", "metrics": list(metrics) + [m for m in config.global_metrics if m not in metrics]})
    settings = load_settings(Path(project) if project else None)
    judge = judge_model or settings.models.judge or environment_models().get("judge")
    if not judge:
        raise InputError("no judge model configured", field="judge_model", fix="pass judge_model=, set [tool.voicetest.models] judge, or VOICETEST_JUDGE_MODEL")
    pairs = [(m.criterion, m.threshold if m.threshold is not None else cutoff) for m in checked.metrics]
    client = LLMClient(ClientOptions(timeout=settings.run.llm_timeout, max_retries=settings.run.max_retries, api_base=api_base))
    return asyncio.run(judge_metrics(client, judge, pairs, turns, {}))


def get_settings(project: str | Path | None = None) -> Settings:
    return load_settings(Path(project) if project else None)


def save_settings(settings: Settings, project: str | Path | None = None) -> Path:
    """Write `.voicetest.toml` in the project folder (default: the current folder)."""
    return write_settings(settings, Path(project) if project else Path.cwd())


def update_settings(assignments: dict[str, str], project: str | Path | None = None) -> Settings:
    """Apply dotted assignments ({"models.agent": "..."}) and save them."""
    settings = _update_settings(get_settings(project), assignments)
    save_settings(settings, project)
    return settings


def get_metrics_config(agent: AgentGraph | str | Path | dict[str, Any]) -> MetricsConfig:
    return _graph(agent).metrics_config


def set_metrics_config(agent_path: str | Path, config: MetricsConfig | dict[str, Any]) -> Path:
    """Store an agent file's metrics config in `<file>.metrics.json` beside it (any format)."""
    path = Path(agent_path)
    if not path.is_file():
        raise InputError("file not found", source=path, fix="give the agent file the metrics belong to")
    checked = config if isinstance(config, MetricsConfig) else MetricsConfig.model_validate(config)
    sidecar = path.with_name(path.name + METRICS_SIDECAR)
    sidecar.write_text(json.dumps(checked.model_dump(), indent=2) + "\n", encoding="utf-8")
    return sidecar


def export_tests(source: str | Path | Sequence[TestCase | dict[str, Any]], format: str = "retell") -> list[dict[str, Any]]:
    """Test cases (a test file or a list) in the Retell test format."""
    if format != "retell":
        raise InputError(f"unknown test export format '{format}'", field="format", fix="use retell")
    if isinstance(source, (str, Path)):
        path = Path(source)
        data = parse_yaml(read_text(path), path)
        spec = parse_test_file(data, path)
        tests = [parse_test(raw, spec.defaults, path, ("tests", i), data) for i, raw in enumerate(spec.tests)]
    else:
        tests = [_case(case)[0] for case in source]
    return to_retell_tests(tests)
