"""One core, three doors: every voicetest file of example_project gives the same test ids,
statuses and checks through pytest, `voicetest run --json` and `api.run_tests`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_voicetest import api
from pytest_voicetest.run.kinds import file_kind

EXAMPLE = Path(__file__).parents[1] / "example_project"
FILES = sorted(p.name for p in EXAMPLE.iterdir() if file_kind(p))


def view(results: list[dict[str, Any]]) -> dict[str, tuple[str, list[tuple[str, str, bool]]]]:
    """test id -> (status, checks) for comparing doors."""
    return {
        r.get("test_id") or r["nodeid"]: (r["status"], sorted((c["kind"], c["name"], c["passed"]) for c in r.get("checks") or [])) for r in results
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("doors") / "example_project"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".voicetest", "reports", "__pycache__", ".pytest_cache"))
    return root


@pytest.fixture(scope="module")
def through_pytest(project: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--vt-report", "pytest.json", *FILES],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    return view(json.loads((project / "pytest.json").read_text())["results"])


@pytest.mark.slow
@pytest.mark.parametrize("name", FILES)
def test_the_three_doors_agree(name: str, project: Path, through_pytest: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    expected = {k: v for k, v in through_pytest.items() if k.split("::")[0] == name}
    assert expected, f"pytest ran nothing of {name}"
    done = subprocess.run(
        [sys.executable, "-m", "pytest_voicetest.cli", "run", name, "--json"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=600,
    )
    from_cli = view(json.loads(done.stdout)["results"])
    monkeypatch.chdir(project)
    try:
        run = api.run_tests(project / name)
    except api.NothingRan as exc:  # a file whose every test needs a model: all skipped, as under pytest
        run = exc.run
    from_api = view([r.model_dump(mode="json") for r in run.results])
    assert from_cli == expected
    assert from_api == expected
    statuses = {status for status, _ in expected.values()}
    assert done.returncode == (0 if statuses & {"pass"} and not statuses & {"fail", "error"} else 5), done.stderr


def test_the_doors_agree_on_a_broken_file(project: Path) -> None:
    broken = project / "test_broken.yaml"
    broken.write_text(
        "agent: agents/clinic_flow.json\ntests:\n  - {name: a, includes: [x], script: [{agent: x}]}\n  - {name: a, includes: [y], script: [{agent: y}]}\n"
    )
    message = "test_broken.yaml:4: tests[1].name: duplicate test name 'a' (first at line 3)"
    try:
        under_pytest = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", broken.name], cwd=project, capture_output=True, text=True, timeout=300
        )
        assert message in under_pytest.stdout and under_pytest.returncode == 1
        cli = subprocess.run(
            [sys.executable, "-m", "pytest_voicetest.cli", "run", broken.name], cwd=project, capture_output=True, text=True, timeout=300
        )
        assert message in cli.stdout and cli.returncode == 1
        with pytest.raises(api.NothingRan, match="duplicate test name 'a'") as raised:
            api.run_tests(broken)
        assert [e.file for e in raised.value.run.errors] == [str(broken)]
    finally:
        broken.unlink()
