"""Collection speed: 1,000 test_*.yaml files with 5 tests each, and the plugin's import time.

Reports:
- seconds for `pytest --collect-only -q` over the 5,000 tests (goal: under 2 s): the
  collection time pytest prints, the whole command's wall time, and the same command on
  an empty folder (pytest's own start-up with the installed plugins);
- the plugin's own import time: `import pytest_voicetest.plugin` after pytest is
  imported (goal: under 150 ms), median of several fresh interpreters.

Usage: python benchmarks/collection.py [--files 1000] [--repeat 3]
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
AGENT = ROOT / "tests/fixtures/platforms/retell/sample_config_complex.json"

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


# As on a usual machine: bytecode caching on (this sandbox sets PYTHONDONTWRITEBYTECODE).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(command: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 5):
        raise SystemExit(f"command failed ({done.returncode}): {' '.join(command)}\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed, done.stdout


def import_time(repeat: int) -> float:
    code = "import pytest, time; t = time.perf_counter(); import pytest_voicetest.plugin; print(time.perf_counter() - t)"
    samples = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=ENV).stdout) for _ in range(repeat)]
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vt-collect-") as folder:
        project = Path(folder)
        (project / "pytest.ini").write_text("[pytest]\nmarkers =\n    slow: slow\n")
        shutil.copy(AGENT, project / "agent.json")
        for n in range(args.files):
            (project / f"test_suite_{n:04d}.yaml").write_text(TEST_FILE.format(n=n))
        empty = project / "empty"
        empty.mkdir()
        (empty / "pytest.ini").write_text("[pytest]\n")
        command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
        timed(command, project)  # warm-up: fills the bytecode caches
        runs = []
        for _ in range(args.repeat):
            elapsed, out = timed(command, project)
            runs.append(elapsed)
        collected = [line for line in out.splitlines() if "tests collected" in line]
        baseline = statistics.median(timed(command, empty)[0] for _ in range(args.repeat))
    print(f"collection: {args.files} files x 5 tests -> {collected[-1].strip() if collected else out.splitlines()[-1]} (goal < 2 s)")
    print(f"  pytest --collect-only wall: median {statistics.median(runs):.2f} s, best {min(runs):.2f} s")
    print(f"  same command on an empty folder: {baseline:.2f} s (pytest start-up, for reference)")
    print(f"  plugin import time (after pytest): median {import_time(7) * 1000:.1f} ms (goal < 150 ms)")


if __name__ == "__main__":
    main()
