"""`agent: retell://AGENT_ID` in a test file: pulled once per session into a cache, then
offline with --vt-offline, the same through pytest and `voicetest run`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import PLATFORMS

TEST_FILE = """agent: retell://{agent}
tests:
  - {{name: greets, includes: [hello], script: [{{agent: Hello there}}, {{hangup: true}}]}}
  - {{name: says bye, includes: [hello], script: [{{agent: Hello again}}, {{hangup: true}}]}}
"""


def test_a_remote_agent_is_pulled_once_per_session_and_cached(project: pytest.Pytester, serve: Any) -> None:
    fake = serve("retell")
    agent = fake.seed(json.loads((PLATFORMS / "retell/sample_llm_dashboard_export.json").read_text()))
    project.makefile(".yaml", test_remote=TEST_FILE.format(agent=agent))
    first = project.runpytest("--vt-report", "r.json")
    first.assert_outcomes(passed=2)
    pulls = [r for r in fake.requests if "get-agent" in r.path]
    assert len(pulls) == 1  # one pull for the whole session, both tests share it
    cached = project.path / ".voicetest" / "agents" / "retell" / f"{agent}.json"
    assert cached.is_file()
    fake.stop()  # the platform is gone: offline still runs from the cache
    offline = project.runpytest("--vt-offline")
    offline.assert_outcomes(passed=2)
    online = project.runpytest()
    online.assert_outcomes(errors=1)
    online.stdout.fnmatch_lines(["*test_remote.yaml:1: agent: retell*pass --vt-offline*"])


def test_offline_without_a_cached_copy_says_how_to_get_one(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_remote.yaml").write_text(TEST_FILE.format(agent="agent_missing"))
    done = subprocess.run(
        [sys.executable, "-m", "pytest_voicetest.cli", "run", "test_remote.yaml", "--offline"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert "retell://agent_missing is not in the agent cache" in done.stdout and "voicetest platform pull retell agent_missing" in done.stdout


def test_the_api_has_the_platform_verbs(serve: Any, tmp_path: Path) -> None:
    from pytest_voicetest import api

    fake = serve("vapi")
    assistant = fake.seed("assistant", json.loads((PLATFORMS / "vapi/sample_assistant_simple.json").read_text()))
    assert [a["id"] for a in api.platform_agents("vapi")] == [assistant]
    config = api.pull_agent("vapi", assistant)
    graph = api.import_agent(config)
    assert api.diff_agent("vapi", graph, assistant) == []
    changed = graph.model_copy(update={"begin_message": "Hi from the API"})
    assert any("Hi from the API" in line for line in api.diff_agent("vapi", changed, assistant))
    assert api.sync_agent("vapi", changed, assistant)["pushed"] is False
    assert api.sync_agent("vapi", changed, assistant, push=True)["pushed"] is True
    assert api.diff_agent("vapi", changed, assistant) == []
    created = api.push_agent("vapi", graph, name="copy")
    assert created["created"] and created["id"] != assistant
