"""xdist: does `-n 2` help? Serial and `-n 2` runs measured back to back, --repeat times.

1. example_project (scripted, recorded, VoiceSim and Python tests; LLM tests skip without
   a model): `pytest` against `pytest -n 2`; the figure is the median of the pairs'
   ratios serial / -n 2 (goal: >= 1.0, i.e. -n 2 no slower).
2. an LLM suite: 64 calls of 4 requests each against a local OpenAI-compatible server
   answering after 200 ms, `pytest` (one call at a time: 51.2 s of waiting) against
   `pytest -n 2`; the figure is serial / -n 2 (goal: >= 1.7).

Each run's wall time is the whole command, start-up and teardown included. Beside the
first figure: xdist's own cost (serial and `-n 2` on one empty test), against the most
`-n 2` could save on example_project (half its serial time beyond pytest's start-up).

Usage: python benchmarks/xdist.py [--repeat 5] [--llm-repeat 2] [--calls 64] [--latency 0.2] [--skip-llm]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_voicetest.testing.server import FakeLLMServer, default_responder  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS")} | {"OPENAI_API_KEY": "sk-local-benchmark"}
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
REQUESTS_PER_CALL = 4


def timed(folder: Path, extra: list[str], expect: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([*PYTEST, *extra], cwd=folder, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - started
    if done.returncode != 0 or expect not in done.stdout:
        raise SystemExit(f"run failed in {folder} ({' '.join(extra)}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return elapsed


def llm_project(folder: Path, calls: int) -> None:
    folder.mkdir()
    shutil.copy(ROOT / "tests/fixtures/platforms/retell/sample_config.json", folder / "agent.json")
    (folder / "pytest.ini").write_text("[pytest]\n")
    tests = "\n".join(f"  - {{name: call {i:02d}, user_prompt: Ask about your bill., includes: [happy]}}" for i in range(calls))
    (folder / "test_calls.yaml").write_text(
        f"agent: agent.json\ndefaults:\n  models: {{agent: openai/gpt-4o-mini, simulator: openai/gpt-4o-mini}}\ntests:\n{tests}\n"
    )


def report(label: str, pairs: list[tuple[float, float]], goal: float) -> None:
    ratios = [serial / parallel for serial, parallel in pairs]
    ratio = statistics.median(ratios)
    print(f"  {label}: serial median {statistics.median(p[0] for p in pairs):.2f} s, -n 2 median {statistics.median(p[1] for p in pairs):.2f} s")
    print(
        f"    serial / -n 2: median {ratio:.2f}x over {len(pairs)} pairs ({min(ratios):.2f}-{max(ratios):.2f}) "
        f"(goal >= {goal}x: {'met' if ratio >= goal else 'NOT met'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--llm-repeat", type=int, default=2)
    parser.add_argument("--calls", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--skip-llm", action="store_true")
    args = parser.parse_args()
    print(f"xdist: serial vs -n 2, back-to-back pairs, on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="vt-xdist-") as tmp:
        example = Path(tmp) / "example_project"
        shutil.copytree(ROOT / "example_project", example, ignore=shutil.ignore_patterns(".voicetest", "reports", "__pycache__"))
        expect = "passed"
        timed(example, [], expect), timed(example, ["-n", "2"], expect)  # warm-up: bytecode caches
        example_pairs = [(timed(example, [], expect), timed(example, ["-n", "2"], expect)) for _ in range(args.repeat)]
        report("example_project", example_pairs, 1.0)
        trivial = Path(tmp) / "trivial"
        trivial.mkdir()
        (trivial / "pytest.ini").write_text("[pytest]\n")
        (trivial / "test_one.py").write_text("def test_one():\n    pass\n")
        floor = [(timed(trivial, [], "1 passed"), timed(trivial, ["-n", "2"], "1 passed")) for _ in range(args.repeat)]
        start = statistics.median(serial for serial, _ in floor)
        extra = statistics.median(parallel - serial for serial, parallel in floor)
        work = statistics.median(serial for serial, _ in example_pairs) - start
        print(f"  xdist's own cost, on one empty test: -n 2 takes {extra:.2f} s more than serial (median; starting and stopping two workers)")
        print(f"    example_project's serial run beyond that start-up: {work:.2f} s, of which -n 2 could save at most half: {work / 2:.2f} s")
        if args.skip_llm:
            return
        project = Path(tmp) / "llm"
        llm_project(project, args.calls)
        expect = f"{args.calls} passed"
        pairs = []
        with FakeLLMServer(default_responder(caller_lines=1), latency=args.latency, max_requests=1_000_000) as server:
            base = ["--vt-api-base", server.api_base]
            for _ in range(args.llm_repeat):
                pairs.append((timed(project, base, expect), timed(project, [*base, "-n", "2"], expect)))
            assert len(server.requests) == 2 * args.llm_repeat * args.calls * REQUESTS_PER_CALL, len(server.requests)
        waiting = args.calls * REQUESTS_PER_CALL * args.latency
        report(f"{args.calls} LLM calls, {args.latency * 1000:.0f} ms server ({waiting:.1f} s of waiting in series)", pairs, 1.7)


if __name__ == "__main__":
    main()
