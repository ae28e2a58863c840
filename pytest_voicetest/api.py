"""The Python API: one function per harness operation, on the same core as pytest and the CLI.

- `import_agent` (a config dict, a file path, or uploaded bytes with a filename) and
  `export_agent`;
- `run_test` (one case) and `run_tests` (voicetest files, or cases and an agent) giving
  a `Run` with an id, start and end times, the results and the files that failed to load;
- `evaluate_transcript`: LLM metrics on a recorded call;
- `get_settings`, `save_settings`, `update_settings`;
- `get_metrics_config`, `set_metrics_config` (the agent's threshold and global metrics);
- `export_tests`: test cases in the retell, voicetest or native format;
- `platform_agents`, `pull_agent`, `push_agent`, `diff_agent`, `sync_agent`: agents on
  Retell, VAPI, Bland and Telnyx.

Options are a `RunOptions` or a plain dict of its fields, resolved with the project's
settings and environment exactly as pytest does. Bad input raises `InputError` naming
the argument, file, line or field and the fix; a run that executes no test raises
`NothingRan` (its `run` attribute holds what happened).
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from .config.files import find_project_root
from .config.resolve import Config, Layer, resolve_config
from .config.settings import RunOptions, Settings, load_settings, write_settings
from .config.settings import update_settings as _update_settings
from .errors import InputError, VoicetestError
from .exporters import export_agent as _export
from .exporters.testcases import export_tests as export_test_cases
from .importers import import_agent as _import
from .importers import load_agent_file
from .importers.detect import METRICS_SIDECAR
from .models.graph import AgentGraph, MetricsConfig
from .models.results import MetricResult, Run, TestResult
from .models.testcase import TestCase
from .run.kinds import file_kind
from .run.session import Door, Session
from .run.testfile import PlannedTest, load_file, plan_case

__all__ = [
    "NothingRan",
    "VoicetestWarning",
    "diff_agent",
    "evaluate_transcript",
    "export_agent",
    "export_tests",
    "get_metrics_config",
    "get_settings",
    "import_agent",
    "platform_agents",
    "pull_agent",
    "push_agent",
    "run_test",
    "run_tests",
    "save_settings",
    "set_metrics_config",
    "sync_agent",
    "update_settings",
]
ROLES = ("agent", "simulator", "judge")
API = Door(model_flag="models={{'{role}': ...}}", record_command="api.run_tests(..., options={{'record': True}}) for '{test_id}'")


class VoicetestWarning(UserWarning):
    """Settings that load but mean nothing here (the harness's audio, cache, ...)."""


class NothingRan(VoicetestError):
    """A run that executed no test (every file broken, nothing selected, everything skipped)."""

    def __init__(self, message: str, run: Run) -> None:
        super().__init__(message)
        self.run = run


def _kind(value: Any, name: str, *types: type, what: str) -> None:
    if isinstance(value, bool) and bool not in types or not isinstance(value, types):
        raise InputError(f"{name} must be {what}, not {type(value).__name__}", field=name)


def _options(options: RunOptions | Mapping[str, Any] | None) -> dict[str, Any]:
    if options is None:
        return {}
    if isinstance(options, RunOptions):
        return options.model_dump(exclude_unset=True)
    _kind(options, "options", Mapping, what="a RunOptions or a dict of its fields")
    return dict(options)


def _models(models: Mapping[str, str | None] | None) -> dict[str, str | None]:
    if models is None:
        return {}
    _kind(models, "models", Mapping, what="a dict of role -> model name")
    for role, model in models.items():
        if role not in ROLES:
            raise InputError(f"unknown model role '{role}'", field="models", fix="use agent, simulator or judge")
        if model is not None and not isinstance(model, str):
            raise InputError(f"models['{role}'] must be a model name, not {type(model).__name__}", field=f"models.{role}")
    return dict(models)


def _config(
    root: Path,
    options: RunOptions | Mapping[str, Any] | None,
    models: Mapping[str, str | None] | None = None,
    **arguments: Any,
) -> Config:
    """The project's Config with the caller's options and keyword arguments on top."""
    given = {key: value for key, value in arguments.items() if value is not None}
    config = resolve_config(
        root,
        [
            Layer("options", _options(options), models=_models(models), pattern="options['{}']"),
            Layer("arguments", given),
        ],
    )
    for warning in config.warnings:
        warnings.warn(warning, VoicetestWarning, stacklevel=3)
    return config


def _root(project: str | Path | None, near: Path | None) -> Path:
    if project is not None:
        _kind(project, "project", str, Path, what="a folder path")
        return Path(project).resolve()
    return find_project_root(near) if near is not None else Path.cwd().resolve()


def import_agent(source: dict[str, Any] | str | Path | bytes, *, format: str = "auto", filename: str | None = None) -> AgentGraph:
    """An agent graph from a config dict, a file path, or uploaded bytes (give the filename)."""
    _kind(format, "format", str, what="a format name")
    if isinstance(source, bytes) and not filename:
        raise InputError("uploaded bytes need a filename to tell JSON, YAML, Python and .xlsx apart", field="filename")
    return _import(source, format=format, filename=filename)


def export_agent(agent: AgentGraph | dict[str, Any] | str | Path, format: str) -> str:
    """The agent in `format`: mermaid, retell_llm, retell_flow, vapi, native, native_yaml."""
    _kind(format, "format", str, what="a format name")
    return _export(_graph(agent), format)


def _graph(agent: AgentGraph | str | Path | dict[str, Any]) -> AgentGraph:
    if isinstance(agent, AgentGraph):
        return agent
    if isinstance(agent, (str, Path)):
        return load_agent_file(Path(agent))
    if isinstance(agent, dict):
        return _import(agent)
    raise InputError(f"an agent is an AgentGraph, a dict or a path, not {type(agent).__name__}", field="agent")


def run_test(
    case: TestCase | dict[str, Any] | str,
    agent: AgentGraph | str | Path | dict[str, Any] | None = None,
    *,
    models: Mapping[str, str | None] | None = None,
    options: RunOptions | Mapping[str, Any] | None = None,
    api_base: str | None = None,
    transcript: str | Path | None = None,
    project: str | Path | None = None,
    test_id: str | None = None,
) -> TestResult:
    """Run one test case against an agent (or judge a `transcript`). `models` sit where
    command-line flags do; the project's settings (found from `project`, default the
    current folder) and the environment fill the rest."""
    if not isinstance(case, (TestCase, dict, str)):
        raise InputError(f"a test case is a mapping, not {type(case).__name__}", field="case", fix="pass a dict or a YAML mapping")
    if test_id is not None:
        _kind(test_id, "test_id", str, what="text")
    if transcript is not None:
        _kind(transcript, "transcript", str, Path, what="a file path")
        transcript = Path(transcript).resolve()
    root = _root(project, transcript)
    config = _config(root, options, models, api_base=api_base)
    graph = _graph(agent) if agent is not None else None
    planned = plan_case(case, graph, test_id=test_id or "", base=root, config=config, transcript=transcript)
    planned.test_id = test_id or planned.name
    session = Session(config, door=API)
    try:
        return session.run_one(planned)
    finally:
        session.close()


def run_tests(
    source: str | Path | Sequence[str | Path] | Sequence[TestCase | dict[str, Any]],
    agent: AgentGraph | str | Path | dict[str, Any] | None = None,
    *,
    select: str | None = None,
    models: Mapping[str, str | None] | None = None,
    options: RunOptions | Mapping[str, Any] | None = None,
    api_base: str | None = None,
    project: str | Path | None = None,
    concurrency: int | None = None,
) -> Run:
    """Run voicetest files (`test_*`, `scenario_*`, `voicesim_*`; a path or a list of paths)
    or a list of test cases against `agent`; returns the Run.

    `select` keeps tests whose name contains it (case-insensitive); up to `concurrency`
    calls run at once. Raises `NothingRan` when no test executed.
    """
    if select is not None:
        _kind(select, "select", str, what="text to look for in test names")
    if concurrency is not None:
        _kind(concurrency, "concurrency", int, what="a whole number 1..256")
    if isinstance(source, (str, Path)):
        paths: list[Path] | None = [Path(source)]
    elif isinstance(source, Sequence) and source and all(isinstance(s, (str, Path)) for s in source):
        paths = [Path(s) for s in source]  # type: ignore[arg-type]
    elif isinstance(source, Sequence):
        paths = None
    else:
        raise InputError(f"source must be a file path, a list of paths or a list of test cases, not {type(source).__name__}", field="source")
    root = _root(project, paths[0] if paths else None)
    config = _config(root, options, models, api_base=api_base, concurrency=concurrency)
    session = Session(config, door=API)
    try:
        wanted = (lambda p: select.lower() in p.name.lower()) if select else None
        if paths is not None:
            for path in paths:
                if file_kind(path) is None:
                    raise InputError("not a voicetest file", source=path, fix="name it test_*.yaml, scenario_*.yaml or voicesim_*.yaml")
            run = session.run_files(paths, wanted)
        else:
            if agent is None:
                raise InputError("running a list of test cases needs an agent", field="agent")
            graph = _graph(agent)
            planned = [plan_case(case, graph, test_id="", base=root, config=config) for case in cast(Sequence[Any], source)]
            for item in planned:
                item.test_id = item.name
            run = session.run_planned_as_run([p for p in planned if wanted is None or wanted(p)])
    finally:
        session.close()
    reason = run.nothing_ran()
    if reason:
        raise NothingRan(reason, run)
    return run


def evaluate_transcript(
    transcript: str | Path | list[dict[str, Any]],
    metrics: Sequence[str | dict[str, Any]],
    *,
    judge_model: str | None = None,
    threshold: float | None = None,
    agent: AgentGraph | str | Path | dict[str, Any] | None = None,
    api_base: str | None = None,
    project: str | Path | None = None,
    options: RunOptions | Mapping[str, Any] | None = None,
) -> list[MetricResult]:
    """Score a recorded call (a file, or a list of {role, content} turns) against metrics.

    The agent's metrics config, when an agent is given, adds its global metrics and
    supplies the default threshold (0.7 otherwise).
    """
    if isinstance(metrics, (str, bytes)) or not isinstance(metrics, Sequence) or not metrics:
        raise InputError("metrics must be a non-empty list of criteria", field="metrics", fix='pass ["criterion", ...]')
    if threshold is not None:
        _kind(threshold, "threshold", int, float, what="a number 0..1")
        if not math.isfinite(threshold) or not 0 <= threshold <= 1:
            raise InputError(f"threshold must be 0..1, got {threshold}", field="threshold")
    if judge_model is not None:
        _kind(judge_model, "judge_model", str, what="a model name")
    graph = _graph(agent) if agent is not None else None
    case: dict[str, Any] = {"name": "evaluate", "metrics": list(metrics)}
    if threshold is not None:
        case["threshold"] = threshold
    recording = None
    if isinstance(transcript, list):
        from .engine.recorded import parse_turns

        recording = parse_turns(transcript, "<transcript>")
        transcript_path: Path | None = None
    else:
        _kind(transcript, "transcript", str, Path, what="a file path or a list of turns")
        transcript_path = Path(transcript).resolve()
        if not transcript_path.is_file():
            raise InputError("file not found", source=transcript, fix="check the path")
    root = _root(project, transcript_path)
    config = _config(root, options, {"judge": judge_model} if judge_model else None, api_base=api_base)
    if recording is not None:
        planned = plan_case(case, graph, test_id="evaluate", base=root, config=config, recording=recording)
    else:
        planned = plan_case(case, graph, test_id="evaluate", base=root, config=config, transcript=transcript_path)
    session = Session(config, door=Door(model_flag="judge_model=", record_command="options={{'record': True}}"))
    try:
        result = session.run_one(planned)
    finally:
        session.close()
    if not result.metric_results:
        raise InputError(result.error_message or "the judge gave no verdict", field="judge_model")
    return result.metric_results


def get_settings(project: str | Path | None = None) -> Settings:
    """The settings of the project at `project` (default: the current folder)."""
    return load_settings(_root(project, None) if project is not None else None)


def save_settings(settings: Settings, project: str | Path | None = None) -> Path:
    """Write `.voicetest.toml` in the project folder (default: the current folder)."""
    _kind(settings, "settings", Settings, what="a Settings")
    return write_settings(settings, Path(project) if project else Path.cwd())


def update_settings(assignments: dict[str, str], project: str | Path | None = None) -> Settings:
    """Apply dotted assignments ({"models.agent": "..."}) and save them."""
    _kind(assignments, "assignments", dict, what='a dict like {"models.agent": "openai/gpt-4o"}')
    for key, value in assignments.items():
        _kind(key, "assignments", str, what='a dict of "table.key" names to values')
        _kind(value, f"assignments['{key}']", str, int, float, bool, what="text, a number or true/false")
    settings = _update_settings(get_settings(project), assignments)
    save_settings(settings, project)
    return settings


def get_metrics_config(agent: AgentGraph | str | Path | dict[str, Any]) -> MetricsConfig:
    return _graph(agent).metrics_config


def set_metrics_config(agent_path: str | Path, config: MetricsConfig | dict[str, Any]) -> Path:
    """Store an agent file's metrics config in `<file>.metrics.json` beside it (any format)."""
    _kind(agent_path, "agent_path", str, Path, what="the agent file's path")
    path = Path(agent_path)
    if not path.is_file():
        raise InputError("file not found", source=path, fix="give the agent file the metrics belong to")
    if not isinstance(config, (MetricsConfig, dict)):
        raise InputError(f"config must be a MetricsConfig or a dict, not {type(config).__name__}", field="config")
    from .validation import validate

    checked = config if isinstance(config, MetricsConfig) else validate(MetricsConfig, config, source="config")
    sidecar = path.with_name(path.name + METRICS_SIDECAR)
    sidecar.write_text(json.dumps(checked.model_dump(), indent=2) + "\n", encoding="utf-8")
    return sidecar


def export_tests(
    source: str | Path | Sequence[TestCase | dict[str, Any]],
    format: str = "retell",
    *,
    test_ids: Sequence[str] | None = None,
    select: str | None = None,
    project: str | Path | None = None,
) -> list[dict[str, Any]]:
    """Test cases (a test file, `tests_from` included, or a list) as `retell`, `voicetest` or
    `native` entries. `test_ids` keeps the tests with those ids or names, `select` those whose
    name contains it. What the format cannot hold is named in a VoicetestWarning each."""
    _kind(format, "format", str, what="retell, voicetest or native")
    if isinstance(source, (str, Path)):
        path = Path(source)
        config = _config(_root(project, path), None)
        planned = [p for p in load_file(path, config) if isinstance(p, PlannedTest)]
    elif isinstance(source, Sequence):
        root = _root(project, None)
        config = _config(root, None)
        planned = [plan_case(case, None, test_id="", base=root, config=config, check=False) for case in source]
        for item in planned:
            item.test_id = item.name
    else:
        raise InputError(f"source must be a test file or a list of test cases, not {type(source).__name__}", field="source")
    if test_ids is not None:
        if isinstance(test_ids, str) or not isinstance(test_ids, Sequence):
            raise InputError("test_ids must be a list of test ids or names", field="test_ids")
        wanted = set(test_ids)
        unknown = sorted(wanted - {p.test_id for p in planned} - {p.name for p in planned})
        if unknown:
            raise InputError(f"no test with id or name {unknown[0]!r}", field="test_ids", fix="use ids like file.yaml::name, or names")
        planned = [p for p in planned if p.test_id in wanted or p.name in wanted]
    if select is not None:
        _kind(select, "select", str, what="text to look for in test names")
        planned = [p for p in planned if select.lower() in p.name.lower()]
    entries, losses = export_test_cases([p.test for p in planned], format)
    for loss in losses:
        warnings.warn(f"{format} cannot hold {loss}", VoicetestWarning, stacklevel=2)
    return entries


# Platforms: agents on Retell, VAPI, Bland and Telnyx (keys from RETELL_API_KEY-style
# variables or `voicetest platform login`; base URLs from --base-url or RETELL_BASE_URL, ...)


def platform_agents(platform: str, *, base_url: str | None = None) -> list[dict[str, Any]]:
    """The platform's agents: `[{id, name, kind}]`."""
    from .platforms.ops import list_agents

    _kind(platform, "platform", str, what="retell, vapi, bland or telnyx")
    return [agent.to_data() for agent in list_agents(platform, base_url=base_url)]


def pull_agent(platform: str, agent_id: str, *, base_url: str | None = None) -> dict[str, Any]:
    """The agent's full config as the platform has it (what `import_agent` reads)."""
    from .platforms.ops import pull

    _kind(agent_id, "agent_id", str, what="the platform's agent id")
    return pull(platform, agent_id, base_url=base_url)


def push_agent(
    platform: str,
    agent: AgentGraph | str | Path | dict[str, Any],
    *,
    agent_id: str | None = None,
    name: str | None = None,
    base_url: str | None = None,
) -> dict[str, Any]:
    """Create the agent on the platform, or update `agent_id`: `{platform, id, name, created}`."""
    from .platforms.ops import push

    result = push(platform, _graph(agent), agent_id=agent_id, name=name, base_url=base_url)
    return {"platform": result.platform, "id": result.id, "name": result.name, "created": result.created}


def diff_agent(platform: str, agent: AgentGraph | str | Path | dict[str, Any], agent_id: str, *, base_url: str | None = None) -> list[str]:
    """What a push of `agent` over `agent_id` would change, one line per change (none: in sync)."""
    from .platforms.ops import diff

    return diff(platform, _graph(agent), agent_id, base_url=base_url)


def sync_agent(
    platform: str, agent: AgentGraph | str | Path | dict[str, Any], agent_id: str, *, push: bool = False, base_url: str | None = None
) -> dict[str, Any]:
    """Compare with the platform and push the changes when `push` is true: `{platform, id, changes, pushed}`."""
    from .platforms.ops import sync

    return sync(platform, _graph(agent), agent_id, lambda changes: push, base_url=base_url).to_data()
