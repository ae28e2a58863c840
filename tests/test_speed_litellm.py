"""litellm is imported once per process, only by processes that call a model, in the
background as soon as the session knows (so never inside a call's timeouts)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_voicetest.testing.server import FakeLLMServer

from .conftest import PLATFORMS

# Loaded into the pytest run under test: records every import of litellm (the finder is
# asked only when the module is not yet in sys.modules) with its thread, and when the
# items start, in a file per process.
PROBE = """
import importlib.abc, json, sys, threading, time

EVENTS = []


class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "litellm":
            EVENTS.append(["import", threading.current_thread().name, time.perf_counter()])
        return None


sys.meta_path.insert(0, Watch())


def pytest_runtest_call(item):
    EVENTS.append(["item", item.name, time.perf_counter()])


def pytest_unconfigure(config):
    name = getattr(config, "workerinput", {}).get("workerid", "main")
    with open(f"events-{name}.json", "w") as out:
        json.dump(EVENTS, out)
"""

SCRIPTED = """
agent: agent.json
tests:
  - name: scripted greeting
    script: [{agent: Hello and welcome}, {hangup: true}]
    includes: [welcome]
"""

# The first model call must fit in half a second: it cannot if it imports litellm (3-5 s).
REAL = """
agent: agent.json
defaults:
  models: {agent: openai/gpt-4o-mini, simulator: openai/gpt-4o-mini}
tests:
  - {name: first real call, user_prompt: Ask about your bill., includes: [happy], turn_timeout: 0.5}
  - {name: second real call, user_prompt: Ask about your bill., includes: [happy]}
"""


def run(folder: Path, files: dict[str, str], *args: str, api_base: str = "http://127.0.0.1:9/v1") -> dict[str, list[list]]:
    """Run pytest on `files` in a fresh process; the probe's events by process."""
    shutil.copy(PLATFORMS / "retell/sample_config.json", folder / "agent.json")
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "probe.py").write_text(PROBE)
    for name, body in files.items():
        (folder / name).write_text(body)
    env = os.environ | {"PYTHONPATH": str(folder), "OPENAI_API_KEY": "sk-local"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "probe", "--vt-api-base", api_base, *args]
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    return {path.stem.removeprefix("events-"): json.loads(path.read_text()) for path in folder.glob("events-*.json")}


def imports(events: list[list]) -> list[list]:
    return [event for event in events if event[0] == "import"]


def test_a_scripted_only_run_never_imports_litellm(tmp_path: Path) -> None:
    events = run(tmp_path, {"test_scripted.yaml": SCRIPTED})["main"]
    assert [e[1] for e in events if e[0] == "item"] == ["scripted greeting"]
    assert imports(events) == []


def test_a_real_model_run_imports_litellm_once_in_the_background_before_any_call(tmp_path: Path, llm_server: FakeLLMServer) -> None:
    events = run(tmp_path, {"test_scripted.yaml": SCRIPTED, "test_real.yaml": REAL}, "--vt-concurrency", "2", api_base=llm_server.api_base)["main"]
    [(_, thread, started)] = imports(events)
    assert thread == "voicetest-litellm-import"
    first_item = min(e[2] for e in events if e[0] == "item")
    assert started < first_item  # started with the session, not by the first call
    assert llm_server.requests  # and every test passed: the first call kept its 0.5 s turn timeout


@pytest.mark.slow
def test_an_xdist_worker_imports_litellm_only_for_items_that_call_a_model(tmp_path: Path, llm_server: FakeLLMServer) -> None:
    files = {"test_scripted.yaml": SCRIPTED, "test_real.yaml": REAL}
    by_process = run(tmp_path, files, "-n", "2", "--dist", "loadfile", api_base=llm_server.api_base)
    assert imports(by_process.pop("main", [])) == []  # the controller calls no model
    workers = {tuple(sorted(e[1] for e in events if e[0] == "item")): imports(events) for events in by_process.values()}
    assert workers[("scripted greeting",)] == []
    [(_, thread, _)] = workers[("first real call", "second real call")]
    assert thread == "voicetest-litellm-import"
