"""litellm's import: once per process, only where a model is called, overlapping the session's start.

A probe plugin in each measured pytest process records every import of litellm (the
import system asks finders only for a module not yet loaded): its thread, when it began
and ended, when collection began and ended and when each item ran. Three runs:
1. scripted tests only: litellm must not be imported at all;
2. 20 files x 5 real-model tests (a local OpenAI-compatible server, no latency), serial,
   one call at a time: one import, when it began, how much of it overlapped collection,
   how long the session then waited for it before the first item, and the first item's
   duration against the median item's (the first item must not pay for the import);
3. a real-model file and a scripted file under `-n 2 --dist loadfile`: which processes
   imported litellm (the controller and the worker with the scripted file must not).
Figures are medians of --repeat runs of (2).

Usage: python benchmarks/litellm_import.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_voicetest.testing.server import FakeLLMServer, default_responder  # noqa: E402

ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTEST_ADDOPTS")} | {"OPENAI_API_KEY": "sk-local-benchmark"}

PROBE = """
import importlib.abc, importlib.machinery, json, sys, threading, time
import pytest

EVENTS = {"imports": [], "items": []}


class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "litellm":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        record = {"thread": threading.current_thread().name, "start": time.perf_counter()}
        EVENTS["imports"].append(record)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            record["end"] = time.perf_counter()

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, Watch())


def pytest_collection(session):
    EVENTS["collect_start"] = time.perf_counter()


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session):
    EVENTS["collect_end"] = time.perf_counter()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    start = time.perf_counter()
    yield
    EVENTS["items"].append([item.nodeid, start, time.perf_counter()])


def pytest_unconfigure(config):
    name = getattr(config, "workerinput", {}).get("workerid", "main")
    with open(f"litellm-probe-{name}.json", "w") as out:
        json.dump(EVENTS, out)
"""

SCRIPTED = """agent: agent.json
tests:
  - {name: scripted one, script: [{agent: Hello and welcome}, {hangup: true}], includes: [welcome]}
  - {name: scripted two, script: [{agent: Hello and welcome}, {hangup: true}], includes: [Hello]}
"""


def real_file(index: int) -> str:
    tests = "\n".join(f"  - {{name: call {index}-{i}, user_prompt: Ask about your bill., includes: [happy]}}" for i in range(5))
    return f"agent: agent.json\ndefaults:\n  models: {{agent: openai/gpt-4o-mini, simulator: openai/gpt-4o-mini}}\ntests:\n{tests}\n"


def project(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    shutil.copy(ROOT / "tests/fixtures/platforms/retell/sample_config.json", folder / "agent.json")
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "litellm_probe.py").write_text(PROBE)
    for name, body in files.items():
        (folder / name).write_text(body)
    return folder


def run(folder: Path, *args: str) -> dict[str, Any]:
    for old in folder.glob("litellm-probe-*.json"):
        old.unlink()
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "litellm_probe", *args]
    done = subprocess.run(
        command, cwd=folder, capture_output=True, text=True, env=ENV | {"PYTHONPATH": os.pathsep.join([str(folder), ENV.get("PYTHONPATH", "")])}
    )
    if done.returncode != 0:
        raise SystemExit(f"run failed: {' '.join(args)}\n{done.stdout[-3000:]}\n{done.stderr[-2000:]}")
    return {path.stem.removeprefix("litellm-probe-"): json.loads(path.read_text()) for path in folder.glob("litellm-probe-*.json")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    real = {f"test_real_{i:02d}.yaml": real_file(i) for i in range(20)}
    with tempfile.TemporaryDirectory(prefix="vt-litellm-") as tmp, FakeLLMServer(default_responder(caller_lines=1), max_requests=1_000_000) as server:
        base = ["--vt-api-base", server.api_base]
        scripted = run(project(Path(tmp) / "scripted", {"test_scripted.yaml": SCRIPTED}))["main"]
        folder = project(Path(tmp) / "real", real)
        run(folder, *base)  # warm-up: bytecode caches
        rows = []
        for _ in range(args.repeat):
            events = run(folder, *base)["main"]
            [record] = events["imports"]
            first_start = min(start for _, start, _ in events["items"])
            durations = sorted(end - start for _, start, end in events["items"])
            first = next(end - start for _, start, end in events["items"] if start == first_start)
            overlap = max(0.0, min(record["end"], events["collect_end"]) - max(record["start"], events["collect_start"]))
            rows.append(
                {
                    "wait": first_start - events["collect_end"],
                    "thread": record["thread"],
                    "import": record["end"] - record["start"],
                    "started": record["start"] - events["collect_start"],
                    "collection": events["collect_end"] - events["collect_start"],
                    "overlap": overlap,
                    "first": first,
                    "median": statistics.median(durations),
                }
            )
        mixed = project(Path(tmp) / "mixed", {"test_scripted.yaml": SCRIPTED, "test_real_00.yaml": real["test_real_00.yaml"]})
        by_process = run(mixed, *base, "-n", "2", "--dist", "loadfile")

    def median(key: str) -> float:
        return statistics.median(row[key] for row in rows)

    print("litellm_import: where and when litellm is imported")
    print(f"  scripted-only run: litellm imports {len(scripted['imports'])} (goal 0)")
    print(f"  100 real-model tests, serial ({args.repeat} runs): 1 import per run, in thread {sorted({r['thread'] for r in rows})}")
    print(
        f"    import took {median('import'):.2f} s, began {median('started'):.2f} s after collection began "
        f"(collection took {median('collection'):.2f} s; {median('overlap'):.2f} s of the import overlapped it)"
    )
    print(f"    then the session waited {median('wait'):.2f} s for it (and the warm-up request), after collection, before the first item")
    print(f"    first item {median('first'):.3f} s vs median item {median('median'):.3f} s: {median('first') / median('median'):.1f}x")
    print("  -n 2 --dist loadfile, one scripted file and one real-model file:")
    for name, events in sorted(by_process.items()):
        files = sorted({nodeid.split("::")[0] for nodeid, _, _ in events["items"]})
        print(f"    {name:5s} ran {', '.join(files) or 'no tests'}: litellm imports {len(events['imports'])}")


if __name__ == "__main__":
    main()
