"""Reliability under faults: 200 calls with 20% of model requests failing in every way.

The same suite of 200 tests (each one simulated call plus one judged metric; half of
them set a threshold the judge's score misses, so outcomes are mixed) runs twice through
pytest against the local OpenAI-compatible server: once fault-free, once with 20% of
requests hit by a fault drawn from latency, 429 with Retry-After, 500, malformed JSON,
a truncated body and a hung connection. Reports calls completed, requests, retries,
faults injected, whether every test has the same outcome as in the fault-free run, and
the wall times. The per-request timeout is 2 s (hangs are cut), up to 6 retries.

Then two crashes, each printing results kept vs lost (a result is kept when the JSON report
holds it with its real outcome; every collected test must be in the report either way):
an xdist worker killed (SIGKILL) in the middle of a test, and a double Ctrl-C (two SIGINTs
0.2 s apart) once a quarter of the calls have finished.

Usage: python benchmarks/faults.py [--calls 200] [--rate 0.2] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_voicetest.testing.server import FAULTS, FakeLLMServer, default_responder  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {
    "OPENAI_API_KEY": "sk-local-benchmark",
    "VOICETEST_LLM_TIMEOUT": "2",
    "VOICETEST_MAX_RETRIES": "6",
}


def make_project(folder: Path, calls: int) -> None:
    shutil.copy(ROOT / "tests/fixtures/platforms/retell/sample_config.json", folder / "agent.json")
    (folder / "pytest.ini").write_text("[pytest]\n")
    tests = "\n".join(
        f"  - {{name: call {i:03d}, user_prompt: Ask about your bill., metrics: [{{criterion: The agent helped, threshold: {0.95 if i % 2 else 0.8}}}]}}"
        for i in range(calls)
    )
    (folder / "test_calls.yaml").write_text(
        "agent: agent.json\ndefaults:\n  models: {agent: openai/gpt-4o-mini, simulator: openai/gpt-4o-mini, judge: openai/gpt-4o-mini}\n"
        f"tests:\n{tests}\n"
    )


KILLER = """
import os, signal

def pytest_runtest_call(item):
    if item.name == os.environ.get("KILL_AT"):
        os.kill(os.getpid(), signal.SIGKILL)
"""


def pytest_command(server: FakeLLMServer, concurrency: int, report: str, *extra: str) -> list[str]:
    """pytest against the local server, writing the JSON report."""
    head = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--vt-api-base", server.api_base]
    return [*head, "--vt-concurrency", str(concurrency), "--vt-report", report, *extra]


def kept_and_lost(report: dict, calls: int) -> str:
    """How many tests the report holds with a real outcome, as not run, and not at all."""
    statuses = [r["status"] for r in report["results"]]
    kept = sum(status in {"pass", "fail"} for status in statuses)
    unrun = sum(status in {"skipped", "error"} for status in statuses)
    return (
        f"results kept {kept}, reported as not run or crashed {unrun}, lost {calls - len(statuses)} of {calls}; exit status {report['exit_status']}"
    )


def run(folder: Path, server: FakeLLMServer, concurrency: int, report: str) -> tuple[float, dict]:
    command = pytest_command(server, concurrency, report)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=ENV, timeout=3600)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"pytest crashed ({done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return elapsed, json.loads((folder / report).read_text())


def killed_worker(folder: Path, server: FakeLLMServer, calls: int) -> str:
    """Two xdist workers; the one running the middle test is killed."""
    (folder / "conftest.py").write_text(KILLER)
    command = pytest_command(server, 4, "killed.json", "-n", "2")
    env = ENV | {"KILL_AT": f"call {calls // 2:03d}"}
    try:
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env, timeout=3600)
    finally:
        (folder / "conftest.py").unlink()
    if "crashed while running" not in done.stdout:
        raise SystemExit(f"no worker was killed:\n{done.stdout[-2000:]}")
    report = json.loads((folder / "killed.json").read_text())
    crashed = [r for r in report["results"] if r["nodeid"].endswith(env["KILL_AT"])]
    shown = f"{crashed[0]['status']} ({crashed[0]['error_message']})" if crashed else "MISSING from the report"
    return kept_and_lost(report, calls) + f"; the killed test: {shown}"


def double_ctrl_c(folder: Path, server: FakeLLMServer, calls: int) -> str:
    """Two SIGINTs 0.2 s apart once a quarter of the calls have finished."""
    journal = folder / "interrupted.json.partial.jsonl"
    process = subprocess.Popen(
        pytest_command(server, 4, "interrupted.json"), cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and (not journal.exists() or journal.read_text().count("\n") < calls // 4):
        time.sleep(0.05)
    finished = journal.read_text().count("\n") if journal.exists() else 0
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=600)
    report = json.loads((folder / "interrupted.json").read_text())
    return kept_and_lost(report, calls) + f"; {finished} had finished at the first Ctrl-C"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rate", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    responder = default_responder(caller_lines=1)
    with tempfile.TemporaryDirectory(prefix="vt-faults-") as folder:
        project = Path(folder)
        make_project(project, args.calls)
        with FakeLLMServer(responder, max_requests=100_000) as clean:
            clean_wall, clean_report = run(project, clean, args.concurrency, "clean.json")
            clean_requests = clean.stats.requests
        with FakeLLMServer(
            responder, fault_rate=args.rate, fault_kinds=FAULTS, seed=5, max_requests=100_000, max_hang=5.0, retry_after=0.2
        ) as faulty:
            faulty_wall, faulty_report = run(project, faulty, args.concurrency, "faulty.json")
            stats = faulty.stats
        with FakeLLMServer(responder, max_requests=100_000, latency=0.02) as server:
            killed = killed_worker(project, server, args.calls)
            interrupted = double_ctrl_c(project, server, args.calls)
    clean_outcomes = {r["nodeid"]: r["status"] for r in clean_report["results"]}
    faulty_outcomes = {r["nodeid"]: r["status"] for r in faulty_report["results"]}
    different = sorted(k for k in clean_outcomes if clean_outcomes[k] != faulty_outcomes.get(k))
    summary = faulty_report["summary"]
    print(f"faults: {args.calls} calls, {args.rate:.0%} of requests faulted, concurrency {args.concurrency}, timeout 2 s, up to 6 retries")
    print(
        f"  fault-free run: {clean_report['summary']['pass']} pass, {clean_report['summary']['fail']} fail, {clean_requests} requests, wall {clean_wall:.1f} s"
    )
    print(
        f"  faulty run:     {summary['pass']} pass, {summary['fail']} fail, {summary['error']} error; "
        f"{len(faulty_outcomes)}/{args.calls} results, {stats.requests} requests, {summary['retries']} retries, wall {faulty_wall:.1f} s"
    )
    print(f"  faults injected: {sum(stats.faults.values())} ({', '.join(f'{k} {v}' for k, v in sorted(stats.faults.items()))})")
    print(
        f"  outcomes identical to the fault-free run: {'yes' if not different and len(faulty_outcomes) == args.calls else 'NO: ' + ', '.join(different[:5])}"
    )
    print(f"  killed xdist worker: {killed}")
    print(f"  double Ctrl-C: {interrupted}")


if __name__ == "__main__":
    main()
