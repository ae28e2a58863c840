"""Engine overhead: a 20-turn scripted call, timed per turn, apart from litellm.

Runs the healthcare flow (11 nodes, tools, transitions) with the scripted provider,
which answers through litellm's custom-provider path. Reports:
- the engine's own time per turn: wall time minus the time spent inside
  `litellm.acompletion`, divided by the 20 caller turns (goal: under 2 ms);
- litellm's overhead per model call: time inside `litellm.acompletion` minus the
  scripted provider's own answer time, divided by the number of calls.

Usage: python benchmarks/engine_overhead.py [--calls N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_voicetest.config.models import resolve_models  # noqa: E402
from pytest_voicetest.importers import import_agent  # noqa: E402
from pytest_voicetest.llm import client, scripted  # noqa: E402
from pytest_voicetest.llm.client import LLMClient  # noqa: E402
from pytest_voicetest.models.testcase import TestCase  # noqa: E402
from pytest_voicetest.run.runner import TestRun, run_test  # noqa: E402

TURNS = 20


def scripted_case() -> TestCase:
    steps: list[dict] = [{"agent": "Thank you for calling Acme Healthcare. How may I help?"}]
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


async def one_call(run: TestRun) -> tuple[float, float, float, int]:
    litellm = client.litellm_module()
    inside = {"litellm": 0.0, "provider": 0.0, "calls": 0}
    original_acompletion = litellm.acompletion
    original_respond = scripted.respond

    async def timed_acompletion(*args, **kwargs):
        started = time.perf_counter()
        try:
            return await original_acompletion(*args, **kwargs)
        finally:
            inside["litellm"] += time.perf_counter() - started
            inside["calls"] += 1

    def timed_respond(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original_respond(*args, **kwargs)
        finally:
            inside["provider"] += time.perf_counter() - started

    litellm.acompletion = timed_acompletion
    scripted.respond = timed_respond
    try:
        started = time.perf_counter()
        result = await run_test(run, LLMClient)
        wall = time.perf_counter() - started
    finally:
        litellm.acompletion = original_acompletion
        scripted.respond = original_respond
    assert result.status == "pass" and result.turn_count == TURNS, (result.status, result.error_message, result.turn_count)
    return wall, inside["litellm"], inside["provider"], int(inside["calls"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20, help="calls to time (after one warm-up call)")
    args = parser.parse_args()
    graph = import_agent(ROOT / "tests/fixtures/platforms/retell/sample_config_complex.json")
    case = scripted_case()
    models = resolve_models(cli={}, test={}, file_defaults={}, settings={}, environment={}, graph_default=None, scripted=True)
    run = TestRun(test=case, test_id="bench::twenty turns", graph=graph, models=models)
    asyncio.run(one_call(run))  # warm-up: imports and first-call setup
    samples = [asyncio.run(one_call(run)) for _ in range(args.calls)]
    engine_per_turn = [(wall - in_litellm) / TURNS * 1000 for wall, in_litellm, _, _ in samples]
    litellm_per_call = [(in_litellm - provider) / calls * 1000 for _, in_litellm, provider, calls in samples]
    calls = samples[0][3]
    print(f"engine_overhead: {args.calls} calls of {TURNS} caller turns, {calls} model calls each (scripted provider via litellm)")
    print(f"  engine time per turn:     median {statistics.median(engine_per_turn):.3f} ms, max {max(engine_per_turn):.3f} ms (goal < 2 ms)")
    print(f"  litellm overhead per call: median {statistics.median(litellm_per_call):.3f} ms, max {max(litellm_per_call):.3f} ms")
    print(f"  whole call wall time:     median {statistics.median(s[0] for s in samples) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
