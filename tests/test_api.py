"""The Python API and the matching CLI commands, on the shared fixtures, with bad input."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_voicetest import api
from pytest_voicetest.config.settings import Settings
from pytest_voicetest.errors import InputError
from pytest_voicetest.models.graph import AgentGraph, MetricsConfig

from .conftest import OWN, PLATFORMS, TESTS

SCRIPTED_FILE = """agent: {agent}
tests:
  - name: premium
    dynamic_variables: {{account_type: premium}}
    script: &s [{{agent: Hi}}, {{user: "1"}}, {{goto: router}}, {{agent: Welcome}}, {{hangup: true}}]
    expect: {{final_node: premium_support}}
  - name: standard
    dynamic_variables: {{account_type: standard}}
    script: *s
    expect: {{final_node: premium_support}}
  - name: recorded
    transcript: {transcript}
    includes: [A-123]
"""


@pytest.fixture
def test_file(tmp_path: Path) -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    shutil.copy(PLATFORMS / "retell/sample_config_logic_split.json", tmp_path / "agent.json")
    shutil.copy(OWN / "transcript_native.yaml", tmp_path / "call.yaml")
    path = tmp_path / "test_flow.yaml"
    path.write_text(SCRIPTED_FILE.format(agent="agent.json", transcript="call.yaml"))
    return path


def test_import_agent_from_dict_path_and_upload() -> None:
    path = PLATFORMS / "retell/sample_config.json"
    from_path = api.import_agent(path)
    from_dict = api.import_agent(json.loads(path.read_text()))
    from_bytes = api.import_agent(path.read_bytes(), filename="flow.json")
    assert from_path == from_dict == from_bytes
    assert isinstance(from_path, AgentGraph)
    with pytest.raises(InputError, match="uploaded bytes need a filename"):
        api.import_agent(path.read_bytes())
    with pytest.raises(InputError, match="unknown agent format 'vapy'"):
        api.import_agent(path, format="vapy")
    with pytest.raises(InputError, match="missing.json: file not found"):
        api.import_agent(Path("missing.json"))


def test_export_agent() -> None:
    assert api.export_agent(PLATFORMS / "vapi/sample_squad.json", "mermaid").startswith("flowchart TD")
    assert json.loads(api.export_agent(PLATFORMS / "vapi/sample_assistant.json", "retell_llm"))["states"][0]["name"] == "main"
    with pytest.raises(InputError, match="unknown export format"):
        api.export_agent(PLATFORMS / "vapi/sample_assistant.json", "docx")
    with pytest.raises(InputError, match="an agent is an AgentGraph, a dict or a path, not int"):
        api.export_agent(42, "mermaid")  # type: ignore[arg-type]


def test_run_one_test() -> None:
    result = api.run_test(
        "name: t\nscript: [{agent: Hello and welcome}]\nincludes: [welcome]\n",
        PLATFORMS / "retell/sample_config.json",
        project=PLATFORMS,
    )
    assert result.status == "pass"
    with pytest.raises(InputError, match=r"<test case>: includez: unknown key 'includez' \(did you mean 'includes'\?\)"):
        api.run_test({"name": "t", "includez": ["x"]}, PLATFORMS / "retell/sample_config.json")
    with pytest.raises(InputError, match="a test case is a mapping, not list"):
        api.run_test([1, 2], PLATFORMS / "retell/sample_config.json")  # type: ignore[arg-type]


def test_run_many_gives_a_run(test_file: Path) -> None:
    run = api.run_tests(test_file, concurrency=2)
    assert len(run.run_id) == 12 and run.started_at <= run.completed_at
    assert [(r.test_id, r.status) for r in run.results] == [
        ("test_flow.yaml::premium", "pass"),
        ("test_flow.yaml::standard", "fail"),
        ("test_flow.yaml::recorded", "pass"),
    ]
    assert run.counts() == {"pass": 2, "fail": 1, "error": 0, "skipped": 0, "xfail": 0, "file_errors": 0}
    assert [r.test_name for r in api.run_tests(test_file, select="stand").results] == ["standard"]
    cases = [{"name": "a", "script": [{"agent": "hi"}], "includes": ["hi"]}]
    assert api.run_tests(cases, PLATFORMS / "retell/sample_config.json").results[0].status == "pass"
    with pytest.raises(InputError, match="running a list of test cases needs an agent"):
        api.run_tests(cases)
    with pytest.raises(InputError, match="concurrency: Input should be greater than or equal to 1"):
        api.run_tests(test_file, concurrency=0)


def test_evaluate_transcript(llm_server) -> None:
    turns = [{"role": "agent", "content": "Welcome"}, {"role": "user", "content": "Hi"}]
    results = api.evaluate_transcript(
        turns, ["Agent greeted", {"criterion": "Agent was brief", "threshold": 0.95}], judge_model="openai/judge", api_base=llm_server.api_base
    )
    assert [(m.metric, m.score, m.passed) for m in results] == [("Agent greeted", 0.9, True), ("Agent was brief", 0.9, False)]
    from_file = api.evaluate_transcript(
        OWN / "retell_call.json",
        ["x"],
        judge_model="openai/judge",
        api_base=llm_server.api_base,
        agent=PLATFORMS / "retell/sample_config_complex.json",
    )
    assert from_file[0].threshold == 0.7
    with pytest.raises(InputError, match="no judge model configured"):
        api.evaluate_transcript(turns, ["x"], project=PLATFORMS)
    with pytest.raises(InputError, match=r"\[0\].role: unknown role 'robot'"):
        api.evaluate_transcript([{"role": "robot", "content": "x"}], ["x"], judge_model="openai/j")


def test_settings_read_write(tmp_path: Path) -> None:
    assert api.get_settings(tmp_path) == Settings()
    updated = api.update_settings({"models.judge": "openai/gpt-4o", "run.max_turns": "7"}, tmp_path)
    assert api.get_settings(tmp_path) == updated
    assert updated.run.max_turns == 7
    with pytest.raises(InputError, match="run.max_turns"):
        api.update_settings({"run.max_turns": "lots"}, tmp_path)


def test_metrics_config(tmp_path: Path) -> None:
    agent = tmp_path / "flow.json"
    agent.write_text((PLATFORMS / "retell/sample_config.json").read_text())
    assert api.get_metrics_config(agent) == MetricsConfig()
    api.set_metrics_config(agent, {"threshold": 0.8, "global_metrics": ["Agent was polite"]})
    assert api.get_metrics_config(agent) == MetricsConfig(threshold=0.8, global_metrics=["Agent was polite"])
    with pytest.raises(Exception, match="less than or equal to 1"):
        api.set_metrics_config(agent, {"threshold": 3})
    with pytest.raises(InputError, match="file not found"):
        api.set_metrics_config(tmp_path / "nope.json", MetricsConfig())


def test_global_metrics_run_on_every_llm_test(tmp_path: Path) -> None:
    agent = tmp_path / "flow.json"
    agent.write_text((PLATFORMS / "retell/sample_config.json").read_text())
    api.set_metrics_config(agent, {"threshold": 0.8, "global_metrics": ["Agent was polite"]})
    result = api.run_test({"name": "t", "script": {"turns": [{"agent": "Hi"}], "judge": {"Agent was polite": 0.75}}}, agent, project=tmp_path)
    assert [(m.metric, m.threshold, m.passed) for m in result.metric_results] == [("Agent was polite", 0.8, False)]
    assert result.status == "fail"


def test_export_tests_to_retell_format(test_file: Path) -> None:
    with pytest.warns(api.VoicetestWarning) as lost:
        exported = api.export_tests(test_file)
    messages = {str(w.message) for w in lost}
    assert {
        "retell cannot hold 'premium': script (the scripted turns) dropped",
        "retell cannot hold 'standard': expect (path assertions) dropped",
    } <= messages
    assert "retell cannot hold 'recorded': transcript (the recorded call to judge) dropped" in messages
    assert [t["name"] for t in exported] == ["premium", "standard", "recorded"]
    assert exported[2]["includes"] == ["A-123"] and exported[0]["type"] == "simulation"
    back = json.loads(json.dumps(exported))
    with pytest.warns(api.VoicetestWarning):
        assert api.export_tests(back) == exported
    with pytest.raises(InputError, match="unknown test export format 'csv'"):
        api.export_tests(test_file, "csv")


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_voicetest.cli", *args], capture_output=True, text=True, timeout=180, cwd=cwd)


def test_cli_run_export_tests_and_metrics(test_file: Path, tmp_path: Path) -> None:
    done = cli("run", str(test_file), "--json")
    assert done.returncode == 1  # one test fails
    data = json.loads(done.stdout)
    assert [r["status"] for r in data["results"]] == ["pass", "fail", "pass"]
    text = cli("run", str(test_file), "-k", "premium")
    assert text.returncode == 0 and "PASS    test_flow.yaml::premium" in text.stdout
    exported = cli("export-tests", str(test_file))
    assert json.loads(exported.stdout)[0]["name"] == "premium"
    agent = tmp_path / "a.json"
    agent.write_text((PLATFORMS / "retell/sample_config.json").read_text())
    changed = cli("metrics", str(agent), "--threshold", "0.9", "--add", "Agent was polite", "--json")
    assert json.loads(changed.stdout) == {
        "threshold": 0.9,
        "global_metrics": [{"name": "Agent was polite", "criteria": "Agent was polite", "enabled": True, "threshold": None}],
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "missing_tests.yaml"], "missing_tests.yaml: file not found"),
        (["evaluate", str(OWN / "transcript_native.yaml"), "--metric", "x"], "no judge model configured"),
        (["evaluate", "nope.json", "--metric", "x", "--judge-model", "m"], "nope.json: file not found"),
        (["export-tests", str(PLATFORMS / "retell/sample_config.json")], "sample_config.json: not a voicetest file"),
        (["metrics", str(PLATFORMS / "retell/sample_config.json"), "--threshold", "-1"], "threshold: Input should be greater than or equal to 0"),
        (["run", str(TESTS / "fixtures"), "--concurrency", "x"], "no voicetest files here"),
    ],
)
def test_cli_bad_input(args: list[str], message: str, tmp_path: Path) -> None:
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1 and message in done.stderr and "Traceback" not in done.stderr
