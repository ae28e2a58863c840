"""Importing the package (or the pytest plugin) must not load heavy modules."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("litellm", "scipy", "openpyxl", "numpy", "matplotlib", "openai", "httpx")


def loaded_after(code: str) -> list[str]:
    probe = f"import sys, json\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120).stdout
    return json.loads(out.strip().splitlines()[-1])


def test_package_import_is_light() -> None:
    assert loaded_after("import pytest_voicetest") == []


def test_plugin_import_is_light() -> None:
    assert loaded_after("import pytest_voicetest.plugin") == []


def test_pytest_in_a_project_without_voicetest_loads_nothing_of_ours(tmp_path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_plain.py").write_text("def test_one():\n    assert True\n")
    code = (
        "import pytest, sys\n"
        f"pytest.main(['-q', '-p', 'no:cacheprovider', {str(tmp_path)!r}])\n"
        "print(sorted(m for m in ('pydantic', 'yaml', 'pytest_voicetest.run.session') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_collecting_yaml_tests_does_not_load_litellm(tmp_path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "agent.json").write_text('{"nodes": {"a": {"id": "a"}}, "entry_node_id": "a"}')
    (tmp_path / "test_x.yaml").write_text("agent: agent.json\ntests:\n  - name: t\n    includes: [hi]\n")
    code = f"import pytest\npytest.main(['-q', '--collect-only', '-p', 'no:cacheprovider', {str(tmp_path)!r}])"
    assert loaded_after(code) == []
