"""Concurrency: simulated calls against a local OpenAI-compatible server, 200 ms per response.

Each call is 4 sequential model requests (agent greeting, caller line, agent reply,
caller hang-up), so 256 calls need 204.8 s in series and, at `--vt-concurrency 32`,
ideally 6.4 s (waiting only). Measured in one run, --repeat times, each time back to
back: the same pytest command against a server with no latency (the floor: start-up,
imports, CPU per request) and against the 200 ms server. The figure is the median of
wall / max(ideal, zero-latency wall) (goal: <= 1.2).

The zero-latency run is broken down so the next bottleneck is named:
- start-up: the same command on an empty folder (pytest and its plugins);
- collection: pytest's collection phase of the project (`--collect-only`), timed inside the run;
- litellm: `import litellm` plus the one warm-up request, in a fresh interpreter;
- the rest, per request: the client, litellm, the engine and the local server's CPU.

Usage: python benchmarks/concurrency.py [--calls 256] [--latency 0.2] [--concurrency 32] [--repeat 3]
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

from collection import PROBE  # noqa: E402  (the collection benchmark beside this one times the phase the same way)

from pytest_voicetest.testing.server import FakeLLMServer, default_responder  # noqa: E402

REQUESTS_PER_CALL = 4
GOAL = 1.2
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS")} | {"OPENAI_API_KEY": "sk-local-benchmark"}
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
IMPORT_LITELLM = (
    "import asyncio, time; t = time.perf_counter()\n"
    "from pytest_voicetest.llm import client\n"
    "asyncio.run(client.warm_up(client.litellm_module())); print(time.perf_counter() - t)"
)


def make_project(folder: Path, calls: int) -> None:
    shutil.copy(ROOT / "tests/fixtures/platforms/retell/sample_config.json", folder / "agent.json")
    (folder / "pytest.ini").write_text("[pytest]\n")
    tests = "\n".join(f"  - {{name: call {i:03d}, user_prompt: Ask about your bill., includes: [happy]}}" for i in range(calls))
    (folder / "test_calls.yaml").write_text(
        f"agent: agent.json\ndefaults:\n  models: {{agent: openai/gpt-4o-mini, simulator: openai/gpt-4o-mini}}\ntests:\n{tests}\n"
    )


def collection_phase(folder: Path, probe_dir: Path) -> float:
    """Seconds pytest spends collecting `folder`, measured by a probe plugin in the run (a
    difference of two noisy wall times can come out below zero)."""
    done = subprocess.run(
        [*PYTEST, "--collect-only", "-p", "vt_probe"], cwd=folder, capture_output=True, text=True, env=ENV | {"PYTHONPATH": str(probe_dir)}
    )
    found = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("COLLECTION ")]
    if done.returncode != 0 or not found:
        raise SystemExit(f"collection failed in {folder}\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return float(found[0])


def timed(command: list[str], folder: Path, expect: str | None = None) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 5) or (expect and expect not in done.stdout):
        raise SystemExit(f"run failed: {' '.join(command)}\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return elapsed


def run_calls(folder: Path, calls: int, latency: float, concurrency: int) -> float:
    """Wall time of the pytest run against a server answering after `latency` seconds."""
    with FakeLLMServer(default_responder(caller_lines=1), latency=latency, max_requests=1_000_000) as server:
        command = [*PYTEST, "--vt-api-base", server.api_base, "--vt-concurrency", str(concurrency)]
        wall = timed(command, folder, f"{calls} passed")
        assert len(server.requests) == calls * REQUESTS_PER_CALL, len(server.requests)
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=256)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    requests = args.calls * REQUESTS_PER_CALL
    ideal = requests * args.latency / args.concurrency
    with tempfile.TemporaryDirectory(prefix="vt-concurrency-") as tmp:
        project, empty = Path(tmp) / "project", Path(tmp) / "empty"
        project.mkdir(), empty.mkdir()
        (empty / "pytest.ini").write_text("[pytest]\n")
        make_project(project, args.calls)
        run_calls(project, args.calls, 0.0, args.concurrency)  # warm-up: bytecode caches
        pairs = [
            (run_calls(project, args.calls, 0.0, args.concurrency), run_calls(project, args.calls, args.latency, args.concurrency))
            for _ in range(args.repeat)
        ]
        startup = statistics.median(timed(PYTEST, empty) for _ in range(args.repeat))
        (Path(tmp) / "vt_probe.py").write_text(PROBE)
        collect = statistics.median(collection_phase(project, Path(tmp)) for _ in range(args.repeat))
        litellm = statistics.median(
            float(subprocess.run([sys.executable, "-c", IMPORT_LITELLM], capture_output=True, text=True, env=ENV, check=True).stdout)
            for _ in range(args.repeat)
        )
    ratios = [wall / max(ideal, floor) for floor, wall in pairs]
    floor = statistics.median(p[0] for p in pairs)
    wall = statistics.median(p[1] for p in pairs)
    rest = floor - startup - collect - litellm
    print(
        f"concurrency: {args.calls} calls x {REQUESTS_PER_CALL} requests, {args.latency * 1000:.0f} ms per response, "
        f"--vt-concurrency {args.concurrency}, {args.repeat} back-to-back pairs"
    )
    print(f"  200 ms server wall: median {wall:.2f} s; ideal {ideal:.2f} s; zero-latency wall: median {floor:.2f} s")
    print(
        f"  wall / max(ideal, zero-latency): median {statistics.median(ratios):.2f} (goal <= {GOAL}: "
        f"{'met' if statistics.median(ratios) <= GOAL else 'NOT met'}); pairs {min(ratios):.2f}-{max(ratios):.2f}"
    )
    print(f"  zero-latency run broken down ({floor:.2f} s):")
    print(f"    pytest start-up (empty folder)       {startup:5.2f} s")
    print(f"    collection of the {args.calls} tests          {collect:5.2f} s")
    print(f"    litellm import + warm-up request     {litellm:5.2f} s")
    print(
        f"    the rest: {requests} requests            {rest:5.2f} s = {rest / requests * 1000:.2f} ms per request (client, litellm, engine, server)"
    )


if __name__ == "__main__":
    main()
