"""The `voicetest` command: summaries, exports, settings, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_voicetest.cli import main

from .conftest import PLATFORMS


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_voicetest.cli", *args], capture_output=True, text=True, timeout=120)


def test_import_prints_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(PLATFORMS / "retell/sample_config_complex.json")]) == 0
    out = capsys.readouterr().out
    assert "source: retell_flow" in out
    assert "nodes: 11 (11 conversation)" in out
    assert "entry: greeting" in out
    assert "tools: book_appointment, cancel_appointment, end_call" in out


def test_import_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(PLATFORMS / "vapi/sample_squad.json"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["entry_node_id"] == "greeting" and len(data["nodes"]) == 5


def test_export_mermaid_and_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(PLATFORMS / "retell/sample_config.json"), "--format", "mermaid"]) == 0
    assert capsys.readouterr().out.startswith("flowchart TD")
    target = tmp_path / "out.json"
    assert main(["export", str(PLATFORMS / "retell/sample_config.json"), "--format", "vapi", "-o", str(target)]) == 0
    assert json.loads(target.read_text())["members"][0]["assistant"]["name"] == "greeting"


def test_settings_set_and_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings", "--dir", str(tmp_path), "--set", "models.judge=openai/gpt-4o", "--set", "env.MY_API_KEY=sk-abcdefgh123"]) == 0
    out = capsys.readouterr().out
    assert "models.judge = openai/gpt-4o" in out
    assert "sk-abcdefgh123" not in out and "env.MY_API_KEY = ***" in out
    assert (tmp_path / ".voicetest.toml").is_file()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "missing.json"], "missing.json: file not found"),
        (["export", str(PLATFORMS / "retell/sample_config.json"), "--format", "pdf"], "unknown export format 'pdf'"),
        (["import", str(PLATFORMS / "retell/sample_tests.json")], "not a recognised agent config"),
        (["import", str(PLATFORMS / "retell/sample_config.json"), "--agent-format", "bogus"], "unknown agent format 'bogus'"),
        (["settings", "--set", "nonsense"], "--set expects KEY=VALUE"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str, tmp_path: Path) -> None:
    result = run_cli(*args) if args[0] != "settings" else run_cli(*args, "--dir", str(tmp_path))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("voicetest: error: ")
    assert message in lines[0]
    assert "Traceback" not in result.stderr


def test_malformed_agent_file(tmp_path: Path) -> None:
    bad = tmp_path / "agent.json"
    bad.write_text('{"nodes": [ {"id": "a", }')
    result = run_cli("import", str(bad))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "agent.json:1: invalid JSON" in result.stderr
