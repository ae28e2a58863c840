"""The executor keeps `window` calls running, in whatever order they finish, and hands
results back in the order they are asked for."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest

from pytest_voicetest.config.resolve import Layer, resolve_config
from pytest_voicetest.importers import import_agent
from pytest_voicetest.run.executor import Executor
from pytest_voicetest.run.testfile import plan_case
from pytest_voicetest.server.runner import CANCELLED, CancellableSession
from pytest_voicetest.testing.server import FakeLLMServer

AGENT = Path(__file__).parent / "fixtures/platforms/retell/sample_config.json"


class Recorder:
    """Jobs that sleep, recording when each started and ended and the most running at once."""

    def __init__(self) -> None:
        self.started: dict[str, float] = {}
        self.ended: dict[str, float] = {}
        self.running = 0
        self.most = 0

    def job(self, name: str, seconds: float) -> Callable[[], Coroutine[Any, Any, str]]:
        async def call() -> str:
            self.started[name] = time.perf_counter()
            self.running += 1
            self.most = max(self.most, self.running)
            try:
                await asyncio.sleep(seconds)
            finally:
                self.running -= 1
                self.ended[name] = time.perf_counter()
            return name

        return call


@pytest.fixture
def executor():
    running = Executor()
    yield running
    running.close()


def test_a_slow_call_does_not_hold_back_the_ones_behind_it(executor: Executor) -> None:
    record = Recorder()
    jobs = [("slow", record.job("slow", 0.6))] + [(f"fast{n}", record.job(f"fast{n}", 0.05)) for n in range(4)]
    assert executor.wait(*jobs[0], jobs[1:], 2) == "slow"
    # the four fast calls ran one after another beside the slow one, never more than 2 at once
    assert all(record.ended[f"fast{n}"] < record.ended["slow"] for n in range(4))
    assert record.most == 2
    assert [executor.wait(key, job, (), 2) for key, job in jobs[1:]] == ["fast0", "fast1", "fast2", "fast3"]
    assert len(record.started) == 5  # finished calls are handed back, not run again


def test_a_window_of_one_runs_calls_one_at_a_time(executor: Executor) -> None:
    record = Recorder()
    jobs = [(f"call{n}", record.job(f"call{n}", 0.02)) for n in range(3)]
    assert [executor.wait(key, job, jobs[index + 1 :], 1) for index, (key, job) in enumerate(jobs)] == ["call0", "call1", "call2"]
    assert record.most == 1


def test_a_cancelled_call_frees_its_slot(executor: Executor) -> None:
    record = Recorder()
    jobs = [(f"call{n}", record.job(f"call{n}", 0.8)) for n in range(3)]
    threading.Timer(0.05, executor.cancel, ["call1"]).start()
    assert executor.wait(*jobs[0], jobs[1:], 2) == "call0"
    assert record.started["call2"] < record.ended["call0"]  # started in call1's slot
    assert executor.wait(*jobs[2], (), 2) == "call2"


def test_no_queued_call_starts_once_the_wait_is_over(executor: Executor) -> None:
    """As after a failure that stops the session (-x) or Ctrl-C: the next wait never comes."""
    record = Recorder()
    jobs = [("head", record.job("head", 0.05))] + [(f"queued{n}", record.job(f"queued{n}", 0.2)) for n in range(6)]
    executor.wait(*jobs[0], jobs[1:], 2)
    time.sleep(0.8)
    assert len(record.started) <= 3  # the head, the one beside it, at most one started as the head ended


@pytest.mark.parametrize("cancelled", [True, False])
def test_a_cancelled_server_run_starts_no_queued_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cancelled: bool) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test-key")
    case = {"name": "t", "user_prompt": "hi", "includes": ["happy"], "models": {"agent": "openai/fake", "simulator": "openai/fake"}}
    cancel, stopping = threading.Event(), threading.Event()
    if cancelled:
        cancel.set()
    with FakeLLMServer() as server:
        config = resolve_config(tmp_path, [Layer(label="test", values={"api_base": server.api_base})])
        planned = plan_case(case, import_agent(AGENT), test_id="t", base=tmp_path, config=config)
        session = CancellableSession(config, cancel, stopping)
        try:
            result = session.executor.loop.run(session.execute(planned))
        finally:
            session.close()
        requests = server.stats.requests
    if cancelled:
        assert (requests, result.status, result.error_message) == (0, "error", CANCELLED)
    else:
        assert requests > 0 and result.status == "pass"
