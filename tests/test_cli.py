"""The `voicetest` command: summaries, exports, settings, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_voicetest.cli import main

from .conftest import PLATFORMS, TESTS

CLINIC = TESTS.parent / "example_project" / "agents" / "clinic_flow.json"


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


def test_import_lists_node_ids_and_transitions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(CLINIC)]) == 0
    out = capsys.readouterr().out
    assert "  greeting (conversation, entry)" in out
    assert "  urgent (conversation, global)" in out
    assert "  nurse_transfer (transfer)" in out
    assert "    -> identify: " in out


def test_export_highlights_a_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    agent = str(CLINIC)
    assert main(["export", agent, "--format", "mermaid", "--path", "greeting,identify"]) == 0
    assert "class n_greeting,n_identify visited" in capsys.readouterr().out
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"results": [{"test_id": "t.yaml::hours", "test_name": "hours", "nodes_visited": ["greeting", "hours"]}]}))
    assert main(["export", agent, "--format", "mermaid", "--from-report", str(report), "--test", "hours"]) == 0
    assert "class n_greeting,n_hours visited" in capsys.readouterr().out
    report.write_text(json.dumps({"results": [{"test_id": "t.yaml::hours", "status": "skipped", "error_message": "not run: --collect-only"}]}))
    assert main(["export", agent, "--format", "mermaid", "--from-report", str(report), "--test", "t.yaml::hours"]) == 2
    assert "test 't.yaml::hours' has no path in the report (not run: --collect-only)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "vapi", "--path", "greeting"], "a highlighted path needs --format mermaid"),
        (["--format", "mermaid", "--path", "greeting,lobby"], "the agent has no node 'lobby'"),
        (["--format", "mermaid", "--from-report", str(CLINIC), "--test", "x"], "not a voicetest JSON report"),
        (["--format", "mermaid", "--from-report", str(CLINIC)], "--from-report needs --test"),
        (["--format", "mermaid", "--from-report", str(CLINIC), "--test", "x", "--path", "greeting"], "--path and --from-report both name a path"),
    ],
)
def test_export_path_errors(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(CLINIC), *args]) == 2
    assert message in capsys.readouterr().err


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
