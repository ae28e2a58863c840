"""No voicetest item pays a one-time cost the others do not: the run's modules and its
event loop's thread are ready before the first item starts."""

from __future__ import annotations

import json

import pytest

SCRIPTED = """
agent: agents/retell/sample_config.json
tests:
  - {name: first, script: [{agent: Hello and welcome}, {hangup: true}], includes: [welcome]}
  - {name: second, script: [{agent: Hello and welcome}, {hangup: true}], includes: [welcome]}
"""

# Records, for each item, the modules it imported and the threads it started.
PROBE = """
import json, sys, threading
import pytest

SEEN = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    modules, threads = set(sys.modules), {t.name for t in threading.enumerate()}
    yield
    SEEN[item.name] = {
        "modules": sorted(set(sys.modules) - modules),
        "threads": sorted({t.name for t in threading.enumerate()} - threads),
    }


def pytest_unconfigure(config):
    with open("seen.json", "w") as out:
        json.dump(SEEN, out)
"""


def test_the_first_item_imports_nothing_and_starts_no_thread(project: pytest.Pytester) -> None:
    project.makefile(".yaml", test_twice=SCRIPTED)
    project.makeconftest(PROBE)
    result = project.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    seen = json.loads((project.path / "seen.json").read_text())
    assert seen == {"first": {"modules": [], "threads": []}, "second": {"modules": [], "threads": []}}


def test_collection_keeps_the_cyclic_collector_off_what_was_imported(project: pytest.Pytester) -> None:
    """The objects alive when the first voicetest file is collected are frozen; a session
    without voicetest files is left alone."""
    project.makefile(".yaml", test_twice=SCRIPTED)
    project.makeconftest("import gc\n\ndef pytest_collection_finish(session):\n    print('FROZEN', gc.get_freeze_count())\n")
    frozen = project.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only", "-s")
    count = int(next(line.split()[1] for line in frozen.outlines if line.startswith("FROZEN")))
    assert count > 10_000  # pytest's, its plugins' and the core's objects
    plain = project.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only", "-s", "conftest.py")
    assert [line for line in plain.outlines if line.startswith("FROZEN")] == ["FROZEN 0"]
