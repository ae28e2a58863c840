"""Crash safety, a corpus of hostile input, and a scan of every artifact for secrets."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pytest_voicetest.voicesim.store import open_store

SCRIPTED = "\n".join(f"  - {{name: t{i}, script: [{{agent: hello {i}}}, {{hangup: true}}], includes: [hello]}}" for i in range(8))
KILLER = """
import os, signal

def pytest_runtest_call(item):
    if item.name == "t4":
        os.kill(os.getpid(), signal.SIGKILL)
"""


@pytest.mark.slow
def test_killed_xdist_worker_loses_only_its_test(project: pytest.Pytester) -> None:
    project.makefile(".yaml", test_many=f"agent: agents/retell/sample_config.json\ntests:\n{SCRIPTED}\n")
    project.makefile(".yaml", voicesim_small="n_points: 12\nscenarios: [normal_faq, crisis_at_10]\nthresholds: {min_score: 0}\n")
    project.makeconftest(KILLER)
    result = project.runpytest("-n", "2", "--vt-report", "r.json", "--junitxml", "j.xml")
    result.stdout.fnmatch_lines(["*worker 'gw*' crashed while running 'test_many.yaml::t4'*"])
    report = json.loads((project.path / "r.json").read_text())
    status = {r["nodeid"]: r["status"] for r in report["results"]}
    expected = {f"test_many.yaml::t{i}" for i in range(8)} | {"voicesim_small.yaml::normal_faq", "voicesim_small.yaml::crisis_at_10"}
    assert set(status) == expected  # the crashed test is in the report too, as an error
    assert {k: v for k, v in status.items() if v != "pass"} == {"test_many.yaml::t4": "error"}
    crashed = next(r for r in report["results"] if r["nodeid"] == "test_many.yaml::t4")
    assert "crashed" in crashed["error_message"]
    assert report["summary"]["error"] == 1 and report["exit_status"] == 1
    [summary] = report["voicesim"].values()
    assert summary["evaluations"] == 24
    store = open_store(project.path / ".voicetest" / "voicesim.db")
    [run] = store.list_runs(5)
    assert len(store.evaluations(run.id)) == 24
    store.close()


def test_killed_session_keeps_finished_results_in_the_journal(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    agent = Path(__file__).parent / "fixtures/platforms/retell/sample_config.json"
    (tmp_path / "test_many.yaml").write_text(f"agent: {agent}\ntests:\n{SCRIPTED}\n")
    (tmp_path / "conftest.py").write_text(KILLER)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--vt-report", "r.json", "--vt-allow-outside-paths"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == -signal.SIGKILL
    assert not (tmp_path / "r.json").exists()
    journal = [json.loads(line) for line in (tmp_path / "r.json.partial.jsonl").read_text().splitlines()]
    assert [entry["nodeid"] for entry in journal] == [f"test_many.yaml::t{i}" for i in range(4)]


HOSTILE = {
    "malformed.yaml": (
        "agent: [unclosed\ntests: x\n",
        "*test_malformed.yaml:2: invalid YAML: did not find expected *(while parsing a flow sequence at line 1)*",
    ),
    "wrong_types.yaml": (
        "agent: agents/retell/sample_config.json\ntests:\n  - name: [not, a, string]\n    includes: x\n",
        "*test_wrong_types.yaml:3: tests[[]0[]].name: Input should be a valid string*",
    ),
    "object_tag.yaml": ("agent: !!python/object/new:os.system [echo pwned]\n", "*test_object_tag.yaml:1: *tags that build objects are not allowed*"),
    "deep.yaml": ("agent: x\ntests: " + "[" * 150 + "]" * 150 + "\n", "*test_deep.yaml:2: the document nests deeper than 100 levels*"),
    "bomb.yaml": (
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        + "\n".join(f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(7))
        + "\n",
        "*alias bomb*",
    ),
    "binary.yaml": (b"\xff\xfe\x00\x01garbage", "*test_binary.yaml: not UTF-8 text (byte 0) Fix: save the file as UTF-8*"),
    "transcript_escape.yaml": (
        "agent: agents/retell/sample_config.json\ntests:\n  - {name: t, transcript: ../../../../etc/passwd, includes: [x]}\n",
        "*tests[[]0[]].transcript: '../../../../etc/passwd' resolves to *, outside the project*",
    ),
    "dangling.yaml": (
        "agent: agents/bad/dangling.json\ntests:\n  - {name: t, includes: [x]}\n",
        "*dangling.json: node 'a' transitions[[]0[]].target_node_id: transition to unknown node 'nowhere'*(agent of test_dangling.yaml)",
    ),
    "loop.yaml": (
        "agent: agents/bad/loop.json\ntests:\n  - {name: t, includes: [x]}\n",
        "*loop.json: node 'check' transitions: logic nodes check -> recheck -> check form a loop with no spoken turn*",
    ),
    "regex.yaml": (
        "agent: agents/retell/sample_config.json\ntests:\n  - {name: t, patterns: ['(?P<x']}\n",
        "*test_regex.yaml:3: tests[[]0[]].patterns: patterns[[]0[]] is not a valid regex*",
    ),
}


def test_hostile_input_gives_clear_errors_and_the_rest_runs(project: pytest.Pytester) -> None:
    bad = project.path / "agents" / "bad"
    bad.mkdir()
    (bad / "dangling.json").write_text(
        json.dumps(
            {"nodes": {"a": {"id": "a", "transitions": [{"target_node_id": "nowhere", "condition": {"type": "always"}}]}}, "entry_node_id": "a"}
        )
    )
    logic = {"type": "equation", "equations": [{"left": "x", "operator": "==", "right": "1"}]}
    (bad / "loop.json").write_text(
        json.dumps(
            {
                "nodes": {
                    "start": {"id": "start", "transitions": [{"target_node_id": "check", "condition": {"type": "llm_prompt", "value": "go"}}]},
                    "check": {
                        "id": "check",
                        "node_type": "logic",
                        "transitions": [
                            {"target_node_id": "start", "condition": logic},
                            {"target_node_id": "recheck", "condition": {"type": "always"}},
                        ],
                    },
                    "recheck": {"id": "recheck", "node_type": "logic", "transitions": [{"target_node_id": "check", "condition": {"type": "always"}}]},
                },
                "entry_node_id": "start",
            }
        )
    )
    for name, (body, _) in HOSTILE.items():
        path = project.path / f"test_{name}"
        path.write_bytes(body if isinstance(body, bytes) else body.encode())
    (project.path / "test_huge.yaml").write_text("agent: x\n# " + "x" * (6 * 1024 * 1024) + "\n")
    project.makefile(".yaml", test_good="agent: agents/retell/sample_config.json\ntests:\n  - {name: fine, script: [{agent: hi}], includes: [hi]}\n")
    started = time.perf_counter()
    result = project.runpytest()
    assert time.perf_counter() - started < 60
    result.stdout.fnmatch_lines_random([message for _, message in HOSTILE.values()] + ["*test_huge.yaml: file is 6.3 MB, more than the 5 MB limit*"])
    result.assert_outcomes(passed=1, errors=len(HOSTILE) + 1)
    assert "Traceback" not in result.stdout.str()
    assert not (project.path / "pwned").exists()


def test_catastrophic_regex_is_cut_off_in_a_run(project: pytest.Pytester) -> None:
    project.makefile(
        ".yaml",
        test_backtrack="""
agent: agents/retell/sample_config.json
tests:
  - name: evil pattern
    script: [{agent: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"}]
    patterns: ['(a|aa)+$']
""",
    )
    started = time.perf_counter()
    result = project.runpytest()
    assert time.perf_counter() - started < 30
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*the search took over 1 s (catastrophic backtracking?) and was stopped at turn 0; simplify the pattern"])


SECRETS = {
    "OPENAI_API_KEY": "sk-test-AbCdEf0123456789xyzSECRET",
    "ANTHROPIC_API_KEY": "sk-ant-api03-ZZZfakeFAKEfake999",
    "RETELL_AUTH_TOKEN": "key_9f8e7d6c5b4a3210fake",
}


def test_no_secret_reaches_any_artifact(project: pytest.Pytester, llm_server, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    token = SECRETS["RETELL_AUTH_TOKEN"]
    llm_server.responder = default_echo(llm_server.responder, f"my token is {token}")
    project.makefile(
        ".yaml",
        test_secrets=f"""
agent: agents/retell/sample_config.json
defaults:
  models: {{agent: openai/gpt-4o-mini, simulator: openai/gpt-4o-mini, judge: openai/gpt-4o-mini}}
tests:
  - name: leaks everywhere
    user_prompt: "Read out the key {SECRETS["OPENAI_API_KEY"]} and the bearer Bearer {token}"
    dynamic_variables: {{api_key: "{SECRETS["ANTHROPIC_API_KEY"]}"}}
    metrics: [The agent helped]
    includes: ["{token}"]
""",
    )
    result = project.runpytest(
        "--vt-record",
        "--vt-api-base",
        llm_server.api_base,
        "--vt-report",
        "r.json",
        "--junitxml",
        "j.xml",
        "-v",
        "-o",
        "log_level=DEBUG",
        "-o",
        "log_file=debug.log",
        "-o",
        "log_file_level=DEBUG",
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("failed", 0) == 1
    assert any(h.endswith(SECRETS["OPENAI_API_KEY"]) for h in llm_server.stats.authorization_seen)  # it was really used
    artifacts = {
        "terminal": result.stdout.str() + result.stderr.str(),
        "report": (project.path / "r.json").read_text(),
        "junit": (project.path / "j.xml").read_text(),
        "log": (project.path / "debug.log").read_text(),
        **{str(p): p.read_text() for p in (project.path / "cassettes").rglob("*.json")},
    }
    assert len(artifacts) >= 5
    for where, text in artifacts.items():
        for name, value in SECRETS.items():
            assert value not in text, f"{name} leaked into {where}"
    assert "***" in artifacts["report"]


def default_echo(responder, line: str):
    """The default responder, with the agent repeating `line` (so secrets flow back too)."""

    def respond(body):
        answer = responder(body)
        system = str((body.get("messages") or [{}])[0].get("content", ""))
        if "Current step" in system and answer.get("content"):
            answer = {**answer, "content": f"{answer['content']} {line}"}
        return answer

    return respond
