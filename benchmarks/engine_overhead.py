"""Engine overhead: a 20-turn scripted call, in-process, timed whole and in parts.

Runs the healthcare flow (11 nodes, tools, transitions) with the scripted provider, which
answers in-process (no litellm). Reports, over --calls calls after one warm-up call:
- the whole call's wall time, p50 and p90 (goal: p50 <= 15 ms);
- where it goes: the scripted provider's answers, the result's redaction and validation
  (`runner.clean`), the judges, and the engine (the rest: turn loop, routing, tools,
  templating, the client), each as a share of the wall time (medians).

Usage: python benchmarks/engine_overhead.py [--calls 50]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_voicetest.config.models import resolve_models  # noqa: E402
from pytest_voicetest.importers import import_agent  # noqa: E402
from pytest_voicetest.llm import client  # noqa: E402
from pytest_voicetest.llm.client import LLMClient  # noqa: E402
from pytest_voicetest.models.testcase import TestCase  # noqa: E402
from pytest_voicetest.run import runner  # noqa: E402
from pytest_voicetest.run.runner import TestRun, run_test  # noqa: E402

TURNS = 20
GOAL_MS = 15.0


def scripted_case() -> TestCase:
    steps: list[dict[str, Any]] = [{"agent": "Thank you for calling Acme Healthcare. How may I help?"}]
    for turn in range(TURNS):
        steps.append({"user": f"Caller line {turn}: I have a question about my appointment."})
        if turn == 2:
            steps.append({"goto": "verify_identity"})
            steps.append({"tools": [{"name": "lookup_patient", "arguments": {"full_name": "Ann Lee", "date_of_birth": "1990-02-03"}}]})
        if turn == 5:
            steps.append({"goto": "schedule_appointment"})
            steps.append({"tools": [{"name": "get_available_slots", "arguments": {"start_date": "2026-01-05", "end_date": "2026-01-09"}}]})
        steps.append({"agent": f"Agent reply {turn}: let me check that for you."})
    steps.append({"hangup": True})
    return TestCase.model_validate(
        {
            "name": "twenty turns",
            "script": steps,
            "max_turns": TURNS + 1,
            "tool_mocks": [{"tool": "lookup_patient", "returns": {"id": "P1"}}, {"tool": "get_available_slots", "returns": ["10:00"]}],
            "expect": {"max_turns": TURNS + 1},
        }
    )


class Timers:
    """Wraps module functions to add up the time spent inside them."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self.restore: list[tuple[Any, str, Any]] = []

    def wrap(self, label: str, module: Any, name: str) -> None:
        original = getattr(module, name)
        self.spent[label] = 0.0
        if asyncio.iscoroutinefunction(original):

            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    self.spent[label] += time.perf_counter() - started

            wrapper: Callable[..., Any] = timed_async
        else:

            def timed(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    self.spent[label] += time.perf_counter() - started

            wrapper = timed
        setattr(module, name, wrapper)
        self.restore.append((module, name, original))

    def reset(self) -> None:
        self.spent = dict.fromkeys(self.spent, 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    graph = import_agent(ROOT / "tests/fixtures/platforms/retell/sample_config_complex.json")
    models = resolve_models(cli={}, test={}, file_defaults={}, settings={}, environment={}, graph_default=None, scripted=True)
    run = TestRun(test=scripted_case(), test_id="bench::twenty turns", graph=graph, models=models)
    timers = Timers()
    timers.wrap("scripted provider", client, "scripted_reply")
    timers.wrap("result redaction + validation", runner, "clean")
    timers.wrap("judges", runner, "_judge")
    walls, shares = [], []
    for index in range(args.calls + 1):
        timers.reset()
        started = time.perf_counter()
        result = asyncio.run(run_test(run, LLMClient))
        wall = time.perf_counter() - started
        assert result.status == "pass" and result.turn_count == TURNS, (result.status, result.error_message, result.turn_count)
        if index:  # the first call is the warm-up
            walls.append(wall * 1000)
            shares.append({"engine": wall - sum(timers.spent.values()), **timers.spent})
    assert "litellm" not in sys.modules
    walls.sort()
    p50 = statistics.median(walls)
    print(f"engine_overhead: {args.calls} in-process calls of {TURNS} caller turns (scripted provider, litellm not imported)")
    print(
        f"  whole call wall time: p50 {p50:.2f} ms, p90 {walls[int(0.9 * len(walls))]:.2f} ms (goal p50 <= {GOAL_MS:.0f} ms: {'met' if p50 <= GOAL_MS else 'NOT met'})"
    )
    print(f"  per caller turn: {p50 / TURNS:.3f} ms")
    for part in shares[0]:
        share = statistics.median(s[part] / sum(s.values()) for s in shares)
        print(f"  {part:30s} median {statistics.median(s[part] for s in shares) * 1000:6.2f} ms  {share:6.1%} of the call")


if __name__ == "__main__":
    main()
