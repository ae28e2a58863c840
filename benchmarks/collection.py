"""Collection speed and memory: 5,000 YAML tests, and the peak RSS of collection and of a scripted run.

Reports:
- the collection of 1,000 test_*.yaml files of 5 tests each inside pytest (goal: <= 1.0 s):
  the time from pytest's `pytest_collection` to `pytest_collection_finish`, measured by a
  probe plugin in the run (median of --repeat runs), next to the whole command's wall
  time and the same command on an empty folder (pytest's own start-up); and, measured in
  pairs with it, pytest collecting 1,000 Python files of 5 empty test functions each, so
  the figure can be read against pytest's own speed on the machine of the day;
- the plugin's own import time (after pytest), median of fresh interpreters;
- the peak RSS of that collection and of a run of 1,000 scripted calls (200 copies of
  example_project/test_clinic_routing.yaml), each at 1x, 2x and 4x the size, with the
  growth per test between the sizes: linear growth keeps it flat (it must not rise).

Usage: python benchmarks/collection.py [--files 1000] [--repeat 5] [--skip-memory]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AGENT = ROOT / "tests/fixtures/platforms/retell/sample_config_complex.json"
ROUTING = ROOT / "example_project/test_clinic_routing.yaml"
GOAL = 1.0

TEST_FILE = """agent: agent.json
defaults:
  max_turns: 8
  models: {{agent: openai/gpt-4o-mini, simulator: openai/gpt-4o-mini, judge: openai/gpt-4o-mini}}
tests:
  - name: books a checkup {n}
    user_prompt: You are John Smith, born 1985-01-15. Book a checkup next week.
    tool_mocks:
      - {{tool: get_available_slots, when: {{start_date: "2026-01-05"}}, returns: {{slots: ["10:00"]}}}}
    metrics: [Agent verified the caller's identity before booking.]
    expect: {{visited: [greeting, verify_identity], not_visited: [transfer_billing]}}
  - name: office hours {n}
    user_prompt: Ask for the office hours.
    includes: [Monday]
    excludes: [social security]
  - name: billing question {n}
    user_prompt: Ask about a charge on your bill.
    patterns: ['\\$\\d+']
    marks: [slow]
  - name: cancel {n}
    user_prompt: Cancel your appointment A-1.
    tool_mocks: [{{tool: cancel_appointment, returns: {{ok: true}}}}]
    expect: {{tools_called: [{{name: cancel_appointment}}]}}
  - name: nurse {n}
    user_prompt: Ask to talk to a nurse.
    metrics: [{{criterion: Agent offered a transfer, threshold: 0.8}}]
"""

PYTHON_FILE = "".join(f"def test_{name}():\n    pass\n\n\n" for name in ("a", "b", "c", "d", "e"))

# Loaded with -p into the measured run: the collection phase as pytest runs it.
PROBE = """
import time

_started = []


def pytest_collection(session):
    _started.append(time.perf_counter())


def pytest_collection_finish(session):
    print(f"COLLECTION {time.perf_counter() - _started[0]:.4f} {len(session.items)}")
"""

# As on a usual machine: bytecode caching on (this sandbox sets PYTHONDONTWRITEBYTECODE).
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS")}
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider"]


def run(command: list[str], cwd: Path, env: dict[str, str] = ENV) -> tuple[float, str]:
    """Wall seconds and stdout of one command in a fresh process."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 5):
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(command)}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed, done.stdout


def peak_rss(command: list[str], cwd: Path) -> int:
    """Peak RSS in MB of one command, read from the kernel's accounting of the child."""
    process = subprocess.Popen(command, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) not in (0, 5):
        raise SystemExit(f"command failed: {' '.join(command)}\n{process.stderr.read().decode()[-2000:] if process.stderr else ''}")
    return usage.ru_maxrss // 1024


def collection_project(folder: Path, files: int) -> Path:
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\nmarkers =\n    slow: slow\n")
    shutil.copy(AGENT, folder / "agent.json")
    for n in range(files):
        (folder / f"test_suite_{n:05d}.yaml").write_text(TEST_FILE.format(n=n))
    return folder


def python_project(folder: Path, files: int) -> Path:
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\n")
    for n in range(files):
        (folder / f"test_suite_{n:05d}.py").write_text(PYTHON_FILE)
    return folder


def scripted_project(folder: Path, calls: int) -> Path:
    folder.mkdir()
    (folder / "pytest.ini").write_text("[pytest]\nmarkers =\n    guardrail: guardrail\n")
    shutil.copytree(ROUTING.parent / "agents", folder / "agents")
    for n in range(calls // 5):
        shutil.copy(ROUTING, folder / f"test_routing_{n:04d}.yaml")
    return folder


def import_time(repeat: int) -> float:
    code = "import pytest, time; t = time.perf_counter(); import pytest_voicetest.plugin; print(time.perf_counter() - t)"
    return statistics.median(
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=ENV).stdout) for _ in range(repeat)
    )


def growth(label: str, unit: str, sizes: list[int], peaks: list[int]) -> None:
    steps = [(peaks[i + 1] - peaks[i]) / (sizes[i + 1] - sizes[i]) * 1024 for i in range(len(sizes) - 1)]
    print(f"  peak RSS, {label}: " + ", ".join(f"{size:,} {unit}: {peak} MB" for size, peak in zip(sizes, peaks, strict=True)))
    print(
        f"    growth per {unit[:-1]}: "
        + ", ".join(f"{step:.1f} KB" for step in steps)
        + (" (linear or better)" if steps[-1] <= steps[0] * 1.25 else " (FASTER than linear)")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vt-collect-") as tmp:
        project = collection_project(Path(tmp) / "tests", args.files)
        empty = Path(tmp) / "empty"
        empty.mkdir()
        (empty / "pytest.ini").write_text("[pytest]\n")
        (Path(tmp) / "vt_probe.py").write_text(PROBE)
        probe_env = ENV | {"PYTHONPATH": tmp}
        command = [*PYTEST, "--collect-only", "-q", "-p", "vt_probe"]
        python = python_project(Path(tmp) / "python", args.files)
        run(command, project, probe_env)  # warm-up: fills the bytecode caches
        run(command, python, probe_env)
        phases, walls, printed, ratios = [], [], [], []
        for _ in range(args.repeat):
            wall, out = run(command, project, probe_env)
            [(phase, count)] = re.findall(r"COLLECTION (\S+) (\d+)", out)
            phases.append(float(phase))
            walls.append(wall)
            printed += [float(seconds) for seconds in re.findall(r"tests collected in (\S+)s", out)]
            [(reference, _)] = re.findall(r"COLLECTION (\S+) (\d+)", run(command, python, probe_env)[1])
            ratios.append(float(phase) / float(reference))
        baseline = statistics.median(run([*PYTEST, "-q"], empty)[0] for _ in range(args.repeat))
        phase = statistics.median(phases)
        print(f"collection: {args.files} files x 5 tests = {count} items, median of {args.repeat} runs")
        print(
            f"  collection inside pytest (pytest_collection -> pytest_collection_finish): median {phase:.2f} s (goal <= {GOAL} s: {'met' if phase <= GOAL else 'NOT met'})"
        )
        print(
            f"  the same number of empty Python tests, in pairs: voicetest / Python median {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}x)"
        )
        print(f"  pytest's own 'collected in': median {statistics.median(printed):.2f} s (session start to the summary line, after the listing)")
        print(f"  pytest --collect-only wall: median {statistics.median(walls):.2f} s; the same on an empty folder: {baseline:.2f} s")
        print(f"  plugin import time (after pytest): median {import_time(7) * 1000:.1f} ms")
        if args.skip_memory:
            return
        sizes = [args.files, 2 * args.files, 4 * args.files]
        peaks = []
        for size in sizes:
            folder = collection_project(Path(tmp) / f"collect-{size}", size)
            peaks.append(peak_rss([*PYTEST, "--collect-only", "-qq"], folder))
            shutil.rmtree(folder)
        growth("collecting", "tests", [5 * size for size in sizes], peaks)
        sizes, peaks = [1000, 2000, 4000], []
        for calls in sizes:
            folder = scripted_project(Path(tmp) / f"run-{calls}", calls)
            peaks.append(peak_rss([*PYTEST, "-q"], folder))
            shutil.rmtree(folder)
        growth("running scripted calls", "calls", sizes, peaks)


if __name__ == "__main__":
    main()
