"""Concurrency: 64 simulated calls against a local OpenAI-compatible server, 200 ms per response.

Each call is 4 sequential model requests (agent greeting, caller line, agent reply,
caller hang-up), so one call needs at least 0.8 s and 64 calls in series 51.2 s.
For `--vt-concurrency` 1, 8 and 32 and for `-n 4` (xdist), the benchmark reports the
pytest run's wall time, the ideal (51.2 s divided by the parallelism: waiting only),
and their ratio. For reference it also reports the same run against a server with no
latency: pytest start-up, litellm's import (in every xdist worker) and litellm's CPU
work per request, which the waiting can overlap with but never goes below.

Usage: python benchmarks/concurrency.py [--calls 64] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_voicetest.testing.server import FakeLLMServer, default_responder  # noqa: E402

REQUESTS_PER_CALL = 4
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"OPENAI_API_KEY": "sk-local-benchmark"}


def make_project(folder: Path, calls: int) -> None:
    shutil.copy(ROOT / "tests/fixtures/platforms/retell/sample_config.json", folder / "agent.json")
    (folder / "pytest.ini").write_text("[pytest]\n")
    tests = "\n".join(f"  - {{name: call {i:02d}, user_prompt: Ask about your bill., includes: [happy]}}" for i in range(calls))
    (folder / "test_calls.yaml").write_text(
        f"agent: agent.json\ndefaults:\n  models: {{agent: openai/gpt-4o-mini, simulator: openai/gpt-4o-mini}}\ntests:\n{tests}\n"
    )


def run(folder: Path, api_base: str, extra: list[str], calls: int) -> float:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--vt-api-base", api_base, *extra]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or f"{calls} passed" not in done.stdout:
        raise SystemExit(f"run failed: {' '.join(extra)}\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    modes = [
        ("--vt-concurrency 1", ["--vt-concurrency", "1"], 1),
        ("--vt-concurrency 8", ["--vt-concurrency", "8"], 8),
        ("--vt-concurrency 32", ["--vt-concurrency", "32"], 32),
        ("-n 4", ["-n", "4"], 4),
    ]
    serial_ideal = args.calls * REQUESTS_PER_CALL * args.latency
    with tempfile.TemporaryDirectory(prefix="vt-concurrency-") as folder:
        project = Path(folder)
        make_project(project, args.calls)
        responder = default_responder(caller_lines=1)
        with FakeLLMServer(responder, latency=0.0, max_requests=100_000) as instant:
            run(project, instant.api_base, [], args.calls)  # warm-up: bytecode caches
            startup = {label: run(project, instant.api_base, extra, args.calls) for label, extra, _ in modes}
        print(
            f"concurrency: {args.calls} calls x {REQUESTS_PER_CALL} requests, {args.latency * 1000:.0f} ms per response "
            f"(serial ideal {serial_ideal:.1f} s)"
        )
        for label, extra, parallel in modes:
            with FakeLLMServer(responder, latency=args.latency, max_requests=100_000) as server:
                wall = run(project, server.api_base, extra, args.calls)
                assert len(server.requests) == args.calls * REQUESTS_PER_CALL, len(server.requests)
            ideal = serial_ideal / parallel
            print(
                f"  {label:20s} wall {wall:6.2f} s  ideal {ideal:6.2f} s  ratio {wall / ideal:5.2f}  (same run, zero latency: {startup[label]:.2f} s)"
            )


if __name__ == "__main__":
    main()
