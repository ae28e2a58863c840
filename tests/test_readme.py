"""README.md stays true: its test file collects against the example project as described,
and it has exactly the two set-up commands a new user copies."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def block_after(heading: str, language: str) -> str:
    """The first fenced `language` block under `heading`."""
    section = README.split(f"\n{heading}\n", 1)[1]
    match = re.search(rf"```{language}\n(.*?)```", section, re.S)
    assert match, f"no {language} block under {heading}"
    return match.group(1)


def test_the_readme_test_file_collects_against_the_example_project(pytester: pytest.Pytester) -> None:
    shutil.copytree(ROOT / "example_project" / "agents", pytester.path / "agents")
    (pytester.path / "test_clinic.yaml").write_text(block_after("## A test file", "yaml"), encoding="utf-8")
    result = pytester.runpytest("--collect-only", "-q", "test_clinic.yaml")
    result.stdout.fnmatch_lines(["test_clinic.yaml::books a checkup", "1 test collected*"])
    assert result.ret == 0


def test_the_readme_has_two_set_up_commands() -> None:
    section = README.split("\n## Set up\n", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.*?)```", section, re.S)
    assert [len(c.strip().splitlines()) for c in commands] == [1, 1]
    assert "pytest example_project" in commands[0] and "pytest tests" in commands[1]
    # .ci/run runs the README's test command: the first line matching its pattern
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    pattern = re.search(r"grep -m1 -E '([^']+)' README.md", ci)
    assert pattern and [line for line in README.splitlines() if re.search(pattern.group(1), line)][0] == commands[1].strip()
