"""The pytest plugin, end to end with pytester: collection, ids, marks, outcomes, reports."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

SCRIPTED = """
agent: agents/retell/sample_config_logic_split.json
defaults:
  max_turns: 6
tests:
  - name: premium caller reaches premium support
    dynamic_variables: {account_type: premium}
    script: &script
      - agent: Hi! What's your account number?
      - user: It's 12345.
      - goto: router
      - agent: Welcome, premium member.
      - hangup: true
    expect: {visited: [router, premium_support], not_visited: [standard_support]}
    includes: [premium]
  - name: standard caller does not reach premium
    dynamic_variables: {account_type: standard}
    script: *script
    expect: {visited: [premium_support]}
    marks: [slow]
  - name: needs a real model
    user_prompt: Ask about your bill.
    metrics: [The agent explained the charge]
"""


def test_collection_ids_and_counts(project: pytest.Pytester) -> None:
    project.makefile(".yaml", test_flow=SCRIPTED)
    project.makefile(".yml", test_other="agent: agents/retell/sample_config.json\ntests:\n  - name: t\n    includes: [x]\n")
    project.makefile(".yaml", helper="not: a test file\n")
    result = project.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "test_flow.yaml::premium caller reaches premium support",
            "test_flow.yaml::standard caller does not reach premium",
            "test_flow.yaml::needs a real model",
            "test_other.yml::t",
            "4 tests collected*",
        ]
    )
    assert result.ret == 0


def test_outcomes_skip_reason_summary_and_exit_code(project: pytest.Pytester) -> None:
    project.makefile(".yaml", test_flow=SCRIPTED)
    result = project.runpytest("-rs", "-p", "no:randomly")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*_ test_flow.yaml::standard caller does not reach premium (test_flow.yaml line 15) _*",
            "*voicetest: 'standard caller does not reach premium' fail: ended user_ended, 1 caller turns, path greeting -> router -> standard_support",
            "*x expect visited [[]'premium_support'[]]: path was greeting -> router -> standard_support",
            "*[[]standard_support[]] agent: Welcome, premium member.",
            "*voicetest summary*",
            "test_flow.yaml: 1 pass, 1 fail, 0 error, 1 skipped",
            "model calls: 0 to real models (0 retries), * prompt + * completion tokens, $0.0000; answered offline: * scripted",
            "1 LLM test(s) skipped: no model configured*",
            "SKIPPED [[]1[]] test_flow.yaml:20: no agent, simulator, judge model configured*",
        ]
    )


def test_all_pass_exits_zero_and_error_status_fails(project: pytest.Pytester) -> None:
    project.makefile(
        ".yaml",
        test_ok="""
agent: agents/retell/sample_config.json
tests:
  - name: greets
    script: [{agent: "Hello, how can I help?"}, {hangup: true}]
    includes: [help]
""",
    )
    assert project.runpytest().ret == 0
    project.makefile(
        ".yaml",
        test_broken="""
agent: agents/retell/sample_config_logic_split.json
tests:
  - name: no edge applies
    dynamic_variables: {account_type: gold}
    script: [{agent: Hi}, {user: "1"}, {goto: router}]
    includes: [Hi]
""",
    )
    result = project.runpytest("test_broken.yaml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*error: logic node 'router' has no edge that applies*"])


def test_schema_errors_name_file_line_and_fix_and_other_files_still_run(project: pytest.Pytester) -> None:
    project.makefile(".yaml", test_ok="agent: agents/retell/sample_config.json\ntests:\n  - name: t\n    script: [{agent: hi}]\n    includes: [hi]\n")
    project.makefile(
        ".yaml",
        test_typo="""
agent: agents/retell/sample_config.json
tests:
  - name: typo
    user_promt: hi
    includes: [x]
""",
    )
    project.makefile(
        ".yaml",
        test_type="""
agent: agents/retell/sample_config.json
tests:
  - name: wrong type
    includes: [x]
    max_turns: ten
""",
    )
    result = project.runpytest()
    result.stdout.fnmatch_lines_random(
        [
            "*test_typo.yaml:4: tests[[]0[]].user_promt: unknown key 'user_promt' (did you mean 'user_prompt'?) Fix: remove it or fix the spelling",
            "*test_type.yaml:5: tests[[]0[]].max_turns: Input should be a valid integer*",
            "ERROR test_typo.yaml",
            "ERROR test_type.yaml",
        ]
    )
    result.assert_outcomes(passed=1, errors=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("tests:\n  - name: t\n    includes: [x]\n", "*test_bad.yaml:2: agent: test 't' simulates a call but the file names no agent*"),
        (
            "agent: agents/retell/sample_config.json\ntests:\n  - name: t\n    user_prompt: hi\n",
            "*test_bad.yaml:3: tests[[]0[]]: test 't' has no checks, so it could never fail*",
        ),
        (
            "agent: agents/retell/sample_config.json\ntests:\n  - {name: t, includes: [x]}\n  - {name: t, includes: [y]}\n",
            "*test_bad.yaml:4: tests[[]1[]].name: duplicate test name 't' (first at line 3)*",
        ),
        ("agent: agents/missing.json\ntests:\n  - {name: t, includes: [x]}\n", "*test_bad.yaml:1: agent: 'agents/missing.json' does not exist*"),
        (
            "agent: ../../../etc/passwd\ntests:\n  - {name: t, includes: [x]}\n",
            "*test_bad.yaml:1: agent: '../../../etc/passwd' resolves to *, outside the project*allow_outside_paths*",
        ),
        (
            "agent: agents/retell/sample_config.json\ntests:\n  - {name: t, expect: {visited: [biling]}}\n",
            "*tests[[]0[]].expect.visited[[]0[]]: the agent has no node 'biling' (did you mean 'billing'?) Fix: use one of: greeting, billing, support, end_call",
        ),
        (
            "agent: agents/retell/sample_config_complex.json\ntests:\n  - {name: t, includes: [x], tool_mocks: [{tool: lookup, returns: 1}]}\n",
            "*the agent has no tool 'lookup'*",
        ),
        (
            "agent: agents/retell/sample_config.json\ntests:\n  - {name: t, patterns: ['(unclosed']}\n",
            "*tests[[]0[]].patterns: patterns[[]0[]] is not a valid regex*",
        ),
        (
            "agent: agents/retell/sample_config.json\ntests:\n  - {name: t, includes: [x], type: unit, metrics: [m]}\n",
            "*a rule test cannot have metrics; use type: llm*",
        ),
        (
            "agent: agents/retell/sample_config.json\ndefaults:\n  max_turn: 3\ntests:\n  - {name: t, includes: [x]}\n",
            "*test_bad.yaml:3: defaults.max_turn: unknown key 'max_turn' (did you mean 'max_turns'?)*",
        ),
        ("agent: agents/retell/sample_config.json\ntests: {name: t}\n", "*test_bad.yaml:2: tests: Input should be a valid list*"),
        ("- just\n- a list\n", "*test_bad.yaml:1: expected a mapping at the top level, got LineList*"),
        (
            "agent: agents/retell/sample_config.json\ntests:\n  - name: t\n    includes: [x]\n    marks: [{'not valid': 1}]\n",
            "*mark name 'not valid' is not a valid identifier*",
        ),
        ("agent: !!python/object/apply:os.system [echo]\n", "*test_bad.yaml:1: *tags that build objects are not allowed*"),
    ],
)
def test_bad_files_are_clear_collection_errors(project: pytest.Pytester, body: str, message: str) -> None:
    project.makefile(".yaml", test_bad=body)
    result = project.runpytest()
    result.stdout.fnmatch_lines([message])
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert "Traceback" not in result.stdout.str()


def test_marks_k_and_strict_markers(project: pytest.Pytester) -> None:
    project.makefile(
        ".yaml",
        test_marks="""
agent: agents/retell/sample_config.json
tests:
  - {name: slow one, includes: [hello], marks: [slow, {owner: billing-team}], script: &s [{agent: Hello there}, {hangup: true}]}
  - {name: skipped one, includes: [hello], marks: [{skip: waiting for new prompt}], script: *s}
  - {name: known bug, includes: [goodbye], marks: [{xfail: known routing bug}], script: *s}
  - {name: strict xfail, includes: [hello], marks: [{xfail: {reason: fixed?, strict: true}}], script: *s}
""",
    )
    result = project.runpytest("--strict-markers", "-rsxX")
    result.assert_outcomes(passed=1, skipped=1, xfailed=1, failed=1)
    result.stdout.fnmatch_lines_random(["*waiting for new prompt*", "*known routing bug*", "*[[]XPASS(strict)[]]*fixed?*"])
    selected = project.runpytest("--strict-markers", "-m", "slow")
    selected.assert_outcomes(passed=1, deselected=3)
    by_keyword = project.runpytest("-k", "known and not strict")
    by_keyword.assert_outcomes(xfailed=1, deselected=3)


def test_last_failed(project: pytest.Pytester) -> None:
    project.makefile(".yaml", test_flow=SCRIPTED)
    project.runpytest("-p", "cacheprovider")
    result = project.runpytest("-p", "cacheprovider", "--lf")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["collected 1 item", "run-last-failure: rerun previous 1 failure"])


def test_tests_from_retell_json(project: pytest.Pytester) -> None:
    project.makefile(".yaml", test_imported="agent: agents/retell/sample_llm_config.json\ntests_from: agents/retell/demo_healthcare_tests.json\n")
    result = project.runpytest("--collect-only", "-q", "--vt-report", "collected.json")
    result.stdout.fnmatch_lines(["test_imported.yaml::Schedule appointment", "test_imported.yaml::Professional tone", "8 tests collected*"])
    collected = json.loads((project.path / "collected.json").read_text())["results"]
    assert len(collected) == 8 and {(r["status"], r["error_message"]) for r in collected} == {("skipped", "not run: --collect-only")}
    run = project.runpytest("-rs")
    run.assert_outcomes(skipped=8)
    # each skip points at the test's line in the JSON file that holds it, not at the YAML
    run.stdout.fnmatch_lines(["SKIPPED [[]1[]] agents/retell/demo_healthcare_tests.json:*: *"])
    run.stdout.no_fnmatch_line("SKIPPED*test_imported.yaml*")
    run.stdout.fnmatch_lines(["NO TEST RAN: all 8 were skipped, so this run tested nothing"])


def test_json_report_and_junit_xml(project: pytest.Pytester) -> None:
    project.makefile(".yaml", test_flow=SCRIPTED)
    project.runpytest("--vt-report", "out/report.json", "--junitxml", "junit.xml")
    report = json.loads((project.path / "out/report.json").read_text())
    assert report["summary"]["pass"] == 1 and report["summary"]["fail"] == 1 and report["summary"]["skipped"] == 1
    assert report["exit_status"] == 1
    first = next(r for r in report["results"] if r["test_name"] == "premium caller reaches premium support")
    assert first["nodes_visited"] == ["greeting", "router", "premium_support"]
    assert first["models_used"] == {"agent": "scripted", "simulator": "scripted", "judge": "scripted"}
    assert not (project.path / "out/report.json.partial.jsonl").exists()
    root = ET.parse(project.path / "junit.xml").getroot()
    cases = {c.get("name"): c for c in root.iter("testcase")}
    passed = cases["premium caller reaches premium support"]
    properties = {p.get("name"): p.get("value") for p in passed.iter("property")}
    assert properties["voicetest.status"] == "pass"
    assert properties["voicetest.end_reason"] == "user_ended"
    assert properties["voicetest.nodes_visited"] == "greeting -> router -> premium_support"
    assert properties["voicetest.turn_count"] == "1"
    assert "[premium_support] agent: Welcome, premium member." in passed.find("system-out").text
    failed = cases["standard caller does not reach premium"]
    assert "expect visited ['premium_support']" in failed.find("failure").text
    assert cases["needs a real model"].find("skipped") is not None


def test_verbose_shows_metric_reasoning(project: pytest.Pytester) -> None:
    project.makefile(
        ".yaml",
        test_metrics="""
agent: agents/retell/sample_config.json
tests:
  - name: scored
    script:
      turns: [{agent: Hi}, {hangup: true}]
      judge: {Agent was warm: 0.95, Agent was brief: 0.2}
    metrics: [Agent was warm, Agent was brief]
""",
    )
    quiet = project.runpytest()
    quiet.stdout.fnmatch_lines(
        ["*x metric 'Agent was brief': score 0.20 < threshold 0.70", "*metric 'Agent was brief' 0.20, confidence 1.00: scripted score 0.2"]
    )
    assert "metric 'Agent was warm' 0.95" not in quiet.stdout.str()
    verbose = project.runpytest("-v")
    verbose.stdout.fnmatch_lines(["*metric 'Agent was warm' 0.95, confidence 1.00: scripted score 0.95"])


def test_bad_options_are_usage_errors(project: pytest.Pytester) -> None:
    project.makefile(".yaml", test_flow=SCRIPTED)
    both = project.runpytest("--vt-record", "--vt-replay")
    assert both.ret == pytest.ExitCode.USAGE_ERROR
    both.stderr.fnmatch_lines(["*--vt-record and --vt-replay cannot both be on; pick one*"])
    zero = project.runpytest("--vt-concurrency", "0")
    assert zero.ret == pytest.ExitCode.USAGE_ERROR
    zero.stderr.fnmatch_lines(["*command line: --vt-concurrency: Input should be greater than or equal to 1*"])


def test_settings_errors_are_usage_errors(project: pytest.Pytester) -> None:
    project.makefile(".yaml", test_flow=SCRIPTED)
    (project.path / ".voicetest.toml").write_text("[run]\nmax_turns = -1\n")
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*voicetest settings: *.voicetest.toml: run.max_turns: Input should be greater than or equal to 1*"])


def test_models_from_ini_and_cli_precedence(project: pytest.Pytester, llm_server) -> None:
    project.makeini("[pytest]\nvoicetest_simulator_model = scripted\n")
    project.makefile(
        ".yaml",
        test_models="""
agent: agents/retell/sample_config.json
tests:
  - name: caller scripted, agent from the command line
    models: {agent: openai/from-test}
    script: [{user: Hi}, {hangup: true}]
    includes: [happy]
""",
    )
    result = project.runpytest("--vt-agent-model", "openai/from-cli", "--vt-api-base", llm_server.api_base, "--vt-report", "r.json")
    result.assert_outcomes(passed=1)
    [entry] = json.loads((project.path / "r.json").read_text())["results"]
    # the command line beats the test's explicit model, and says so; the script pins the rest
    assert entry["models_used"] == {"agent": "openai/from-cli", "simulator": "scripted", "judge": "scripted"}
    assert entry["model_overrides"] == [
        {"role": "agent", "requested": "openai/from-test", "actual": "openai/from-cli", "reason": "the command line overrides the test model"}
    ]
    assert {r["model"] for r in llm_server.requests} == {"from-cli"}


def test_record_then_replay_through_pytest(project: pytest.Pytester, llm_server) -> None:
    """Recorded with models on the command line, replayed with no model configured at all."""
    project.makefile(
        ".yaml",
        test_calls="""
agent: agents/retell/sample_config.json
tests:
  - {name: helpful, user_prompt: Ask for help, metrics: [The agent helped], includes: [happy]}
""",
    )
    models = [f"--vt-{role}-model=openai/gpt-4o-mini" for role in ("agent", "simulator", "judge")]
    recorded = project.runpytest("--vt-record", "--vt-api-base", llm_server.api_base, "--vt-report", "a.json", *models)
    recorded.assert_outcomes(passed=1)
    cassette = project.path / "cassettes" / "test_calls" / "helpful.json"
    assert cassette.is_file()
    replayed = project.runpytest("--vt-replay", "--vt-api-base", "http://127.0.0.1:9/v1", "--vt-report", "b.json")
    replayed.assert_outcomes(passed=1)
    first, second = (json.loads((project.path / name).read_text())["results"][0] for name in ("a.json", "b.json"))
    assert (first["usage"]["calls"], first["usage"]["replayed_calls"]) == (7, 0)
    assert (second["usage"]["calls"], second["usage"]["replayed_calls"]) == (0, 7)
    for entry in (first, second):
        entry.pop("wall_ms")
        entry.pop("usage")
        entry.pop("model_overrides")
        entry.pop("started_at")
    assert first == second
    cassette.unlink()
    missing = project.runpytest("--vt-replay")
    missing.assert_outcomes(failed=1)
    missing.stdout.fnmatch_lines(
        [
            "*--vt-replay: no recording for this test at *helpful.json. Record it once with a model configured: "
            "pytest --vt-record 'test_calls.yaml::helpful'*"
        ]
    )


def test_concurrency_keeps_order_and_outcomes(project: pytest.Pytester, llm_server) -> None:
    llm_server.latency = 0.1
    tests = "\n".join(f"  - {{name: call {i}, user_prompt: hi, includes: [happy]}}" for i in range(8))
    project.makefile(
        ".yaml",
        test_many=f"""
agent: agents/retell/sample_config.json
defaults:
  models: {{agent: openai/a, simulator: openai/s}}
tests:
{tests}
""",
    )
    serial = project.runpytest("--vt-api-base", llm_server.api_base, "-v")
    parallel = project.runpytest("--vt-api-base", llm_server.api_base, "--vt-concurrency", "8", "-v")
    serial.assert_outcomes(passed=8)
    parallel.assert_outcomes(passed=8)
    order = [line.split(" PASSED")[0] for line in parallel.stdout.lines if " PASSED" in line and "::" in line]
    assert order == [f"test_many.yaml::call {i}" for i in range(8)]
    assert parallel.duration < serial.duration * 0.6


def test_fixtures_and_marker(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_python="""
import pytest

@pytest.mark.voicetest(agent="agents/retell/sample_config_logic_split.json")
def test_routes_premium(voicetest_agent, voicetest_run, voicetest_settings):
    assert voicetest_agent.entry_node_id == "greeting"
    assert voicetest_settings.run.max_turns == 20
    result = voicetest_run('''
name: inline
dynamic_variables: {account_type: premium}
script: [{agent: Hi}, {user: "123"}, {goto: router}, {agent: Welcome}, {hangup: true}]
expect: {final_node: premium_support}
''')
    assert result.status == "pass", result.failures()
    assert result.nodes_visited[-1] == "premium_support"

def test_dict_cases(voicetest_run):
    from pytest_voicetest.importers import import_agent
    agent = import_agent("agents/retell/sample_config.json")
    result = voicetest_run({"name": "d", "script": [{"agent": "Hello"}], "includes": ["bye"]}, agent=agent)
    assert result.status == "fail"

def test_agent_needs_the_marker(voicetest_agent):
    pass
"""
    )
    result = project.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*the voicetest_agent fixture needs @pytest.mark.voicetest(agent='path/to/agent.json')*"])


def test_bad_default_models_are_a_located_error(project: pytest.Pytester) -> None:
    project.makefile(
        ".yaml", test_bad="agent: agents/retell/sample_config.json\ndefaults:\n  models: {agnt: openai/x}\ntests:\n  - {name: t, includes: [x]}\n"
    )
    result = project.runpytest()
    result.stdout.fnmatch_lines(["*test_bad.yaml:3: defaults.models.agnt: unknown key 'agnt' (did you mean 'agent'?)*"])
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize(("value", "recorded"), [("false", False), ("true", True)])
def test_ini_flags_are_parsed(project: pytest.Pytester, llm_server, value: str, recorded: bool) -> None:
    project.makeini(f"[pytest]\nvoicetest_record = {value}\nvoicetest_api_base = {llm_server.api_base}\n")
    project.makefile(
        ".yaml",
        test_x="agent: agents/retell/sample_config.json\ndefaults:\n  models: {agent: openai/a, simulator: openai/s}\ntests:\n  - {name: t, user_prompt: hi, includes: [happy]}\n",
    )
    project.runpytest().assert_outcomes(passed=1)
    assert (project.path / "cassettes" / "test_x" / "t.json").exists() is recorded


def test_bad_run_options_are_usage_errors(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nvoicetest_max_turns = many\nvoicetest_replay = maybe\n")
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: voicetest settings: ini file: voicetest_max_turns: Input should be a valid integer*"])
