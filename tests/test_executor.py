"""The executor keeps `window` calls running, in whatever order they finish, and hands
results back in the order they are asked for."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from pytest_voicetest.run.executor import Executor


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


def test_dropped_calls_never_start(executor: Executor) -> None:
    record = Recorder()
    jobs = [(f"call{n}", record.job(f"call{n}", 0.8)) for n in range(3)]
    threading.Timer(0.05, executor.drop_queued).start()  # while the first call runs
    assert executor.wait(*jobs[0], jobs[1:], 1) == "call0"
    time.sleep(0.2)
    assert list(record.started) == ["call0"]


def test_a_cancelled_call_frees_its_slot(executor: Executor) -> None:
    record = Recorder()
    jobs = [(f"call{n}", record.job(f"call{n}", 0.8)) for n in range(3)]
    threading.Timer(0.05, executor.cancel, ["call1"]).start()
    assert executor.wait(*jobs[0], jobs[1:], 2) == "call0"
    assert record.started["call2"] < record.ended["call0"]  # started in call1's slot
    assert executor.wait(*jobs[2], (), 2) == "call2"
