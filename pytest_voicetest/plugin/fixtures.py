"""The plugin's fixtures for Python tests: settings, agents, inline test runs, VoiceSim cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .state import state


@pytest.fixture
def voicesim_result(request: pytest.FixtureRequest) -> Any:
    """The evaluation of this (point, scenario) case of a @pytest.mark.voicesim test."""
    from ..run.sweeps import Case, result_for

    case = getattr(request, "param", None)
    if not isinstance(case, Case):
        raise pytest.UsageError(f"{request.node.nodeid}: voicesim_result needs @pytest.mark.voicesim(...) on the test")
    store = state(request.config).core.config.store
    result = result_for(case, store)
    request.node.voicesim = {"run_id": result.run_id, "store": store, "plot": None}
    return result


@pytest.fixture
def voicetest_settings(request: pytest.FixtureRequest) -> Any:
    """The project's voicetest Settings (settings file, with the run options resolved)."""
    return state(request.config).settings


@pytest.fixture
def voicetest_agent(request: pytest.FixtureRequest) -> Any:
    """The AgentGraph named by `@pytest.mark.voicetest(agent="path")` (relative to the test file)."""
    from ..errors import InputError
    from ..importers import load_agent_file

    marker = request.node.get_closest_marker("voicetest")
    agent = marker.kwargs.get("agent") if marker else None
    if not agent:
        raise pytest.UsageError(f"{request.node.nodeid}: the voicetest_agent fixture needs @pytest.mark.voicetest(agent='path/to/agent.json')")
    path = (Path(request.node.path).parent / agent).resolve()
    try:
        return load_agent_file(path, marker.kwargs.get("agent_format", "auto"))
    except InputError as exc:
        raise pytest.UsageError(f"{request.node.nodeid}: cannot load agent: {exc}") from None


@pytest.fixture
def voicetest_run(request: pytest.FixtureRequest) -> Any:
    """Run a test case (a dict or a YAML snippet) against the marked agent; returns the TestResult."""
    from ..run.testfile import plan_case

    core = state(request.config).core

    def run(case: dict[str, Any] | str, agent: Any = None) -> Any:
        graph = agent if agent is not None else request.getfixturevalue("voicetest_agent")
        planned = plan_case(case, graph, test_id=f"{request.node.nodeid}::inline", base=Path(request.node.path).parent, config=core.config)
        return core.run_one(planned)

    return run
