"""Statistical verdicts (repeat, pass_rate, Wilson interval), cost/call budgets, latency budgets."""

from __future__ import annotations

import json
import random
import xml.etree.ElementTree as ET

import pytest

from pytest_voicetest.run.runner import wilson_interval

FLAKY = """
agent: agents/retell/sample_config.json
tests:
  - name: mostly polite
    repeat: 10
    pass_rate: {rate}
    pass_rate_mode: {mode}
    metrics: [The agent was polite]
    script:
      turns: [{{agent: Hello}}, {{hangup: true}}]
      flaky: {{fail: 3, of: 10, seed: 11}}
"""


def results(pytester: pytest.Pytester) -> list[dict]:
    return json.loads((pytester.path / "r.json").read_text())["results"]


@pytest.mark.parametrize(
    ("rate", "mode", "outcome"), [(0.7, "point", "pass"), (0.75, "point", "fail"), (0.7, "lower_bound", "fail"), (0.35, "lower_bound", "pass")]
)
def test_pass_rate_decides_on_the_rate_or_its_lower_bound(project: pytest.Pytester, rate: float, mode: str, outcome: str) -> None:
    project.makefile(".yaml", test_flaky=FLAKY.format(rate=rate, mode=mode))
    run = project.runpytest("--vt-report", "r.json", "--junitxml", "j.xml")
    run.assert_outcomes(**{"passed" if outcome == "pass" else "failed": 1})
    [entry] = results(project)
    stats = entry["repeat"]
    failing = set(random.Random(11).sample(range(10), 3))
    assert [r["status"] for r in entry["runs"]] == ["fail" if i in failing else "pass" for i in range(10)]
    low, high = wilson_interval(7, 10)
    assert stats == {
        "runs": 10,
        "passed": 7,
        "rate": 0.7,
        "pass_all": False,
        "ci_low": round(low, 4),
        "ci_high": round(high, 4),
        "required": rate,
        "mode": mode,
    }
    run.stdout.fnmatch_lines(["repeat test_flaky.yaml::mostly polite: 7/10 (rate 0.70, 95% CI 0.40-0.89, pass^k no)"])
    properties = {p.get("name"): p.get("value") for p in ET.parse(project.path / "j.xml").getroot().iter("property")}
    assert properties["voicetest.repeat.passed"] == "7" and properties["voicetest.repeat.ci95"] == f"{low:.4f}-{high:.4f}"


def test_vt_repeat_applies_to_llm_tests_and_keys_cassettes_by_run(project: pytest.Pytester, llm_server) -> None:
    project.makefile(
        ".yaml",
        test_calls="""
agent: agents/retell/sample_config.json
defaults:
  models: {agent: openai/a, simulator: openai/s, judge: openai/j}
tests:
  - {name: llm test, user_prompt: hi, metrics: [helpful]}
  - {name: recorded, transcript: agents/own/transcript_native.yaml, includes: [A-123]}
""",
    )
    recorded = project.runpytest("--vt-repeat", "3", "--vt-record", "--vt-api-base", llm_server.api_base, "--vt-report", "r.json")
    recorded.assert_outcomes(passed=2)
    by_name = {r["test_name"]: r for r in results(project)}
    assert by_name["llm test"]["repeat"]["runs"] == 3 and by_name["recorded"]["repeat"] is None
    [path] = (project.path / "cassettes/test_calls").glob("llm_test-*.json")
    cassette = json.loads(path.read_text())
    keys = [entry["key"] for entry in cassette["interactions"] if entry["request"]["kind"] == "judge"]
    assert len(keys) == len(set(keys)) == 3  # the judge sees the same transcript three times; the run index keeps them apart
    replayed = project.runpytest("--vt-repeat", "3", "--vt-replay", "--vt-report", "r.json")
    replayed.assert_outcomes(passed=2)


@pytest.mark.slow
def test_cost_budget_stops_scheduling_under_xdist(project: pytest.Pytester, llm_server) -> None:
    tests = "\n".join(f"  - {{name: call {i:02d}, user_prompt: hi, includes: [happy]}}" for i in range(16))
    project.makefile(
        ".yaml",
        test_budget=f"""
agent: agents/retell/sample_config.json
defaults:
  models: {{agent: openai/gpt-4o-mini, simulator: openai/gpt-4o-mini}}
tests:
{tests}
""",
    )
    result = project.runpytest("-n", "2", "--vt-max-cost", "0.001", "--vt-api-base", llm_server.api_base, "--vt-report", "r.json", "-rs")
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) >= 2 and outcomes.get("skipped", 0) >= 2
    assert outcomes.get("passed", 0) + outcomes.get("skipped", 0) == 16
    result.stdout.fnmatch_lines(["SKIPPED * cost budget reached: spent $0.00* of the $0.001 budget (--vt-max-cost) over * calls"])
    entries = results(project)
    spent = sum(r["usage"]["cost_usd"] for r in entries)
    per_call = max(r["usage"]["cost_usd"] / max(r["usage"]["calls"], 1) for r in entries if r["status"] == "pass")
    assert 0.001 <= spent <= 0.001 + 2 * 8 * per_call  # at most the calls already in flight on 2 workers overshoot
    assert len(llm_server.requests) < 16 * 6
    result.stdout.fnmatch_lines(["test_budget.yaml: * pass, 0 fail, 0 error, * skipped, $0.00*"])
    assert not list((project.path / ".voicetest").glob("budget-*.json"))  # the ledger is cleaned up


def test_call_budget(project: pytest.Pytester, llm_server) -> None:
    project.makefile(
        ".yaml",
        test_calls="""
agent: agents/retell/sample_config.json
defaults:
  models: {agent: openai/a, simulator: openai/s}
tests:
  - {name: first, user_prompt: hi, includes: [happy]}
  - {name: second, user_prompt: hi, includes: [happy]}
  - {name: third, user_prompt: hi, includes: [happy]}
  - {name: scripted calls are free, script: [{agent: hi}], includes: [hi]}
""",
    )
    result = project.runpytest("--vt-max-calls", "7", "--vt-api-base", llm_server.api_base, "--vt-report", "r.json", "-rs")
    result.assert_outcomes(passed=2, skipped=2)
    result.stdout.fnmatch_lines(["SKIPPED * call budget reached: 7 of 7 model calls made (--vt-max-calls), $0.0000* spent"])
    assert [r["status"] for r in results(project)] == ["pass", "skipped", "skipped", "pass"]
    assert len(llm_server.requests) == 7


def test_latency_budget_against_a_slow_server(project: pytest.Pytester, llm_server) -> None:
    llm_server.latency = 0.3
    project.makefile(
        ".yaml",
        test_latency="""
agent: agents/retell/sample_config.json
defaults:
  models: {agent: openai/a, simulator: openai/s}
tests:
  - {name: fast enough, user_prompt: hi, expect: {max_latency_ms: 2000}}
  - {name: too slow, user_prompt: hi, expect: {max_latency_ms: 200}}
""",
    )
    result = project.runpytest("--vt-api-base", llm_server.api_base, "--vt-report", "r.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*x expect max_latency_ms 200 (p95): p95 * ms over 3 agent turns; slow: turn 0 * ms, turn 1 * ms, turn 2 * ms"])
    for entry in results(project):
        assert len(entry["latencies_ms"]) == 3 and all(300 <= value < 1500 for value in entry["latencies_ms"])


def test_scripted_latency_is_deterministic(project: pytest.Pytester) -> None:
    project.makefile(
        ".yaml",
        test_scripted_latency="""
agent: agents/retell/sample_config.json
tests:
  - name: p95 from the script
    script: [{agent: hi, latency_ms: 120}, {user: a}, {agent: b, latency_ms: 900}, {user: c}, {agent: d, latency_ms: 150}, {hangup: true}]
    expect: {max_latency_ms: 800}
""",
    )
    result = project.runpytest("--vt-report", "r.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*p95 900 ms over 3 agent turns; slow: turn 1 900 ms"])
    assert results(project)[0]["latencies_ms"] == [120.0, 900.0, 150.0]


def test_budget_ini_keys_are_validated(project: pytest.Pytester) -> None:
    project.makeini("[pytest]\nvoicetest_max_cost = lots\n")
    project.makefile(".yaml", test_x="agent: agents/retell/sample_config.json\ntests:\n  - {name: t, script: [{agent: hi}], includes: [hi]}\n")
    result = project.runpytest()
    result.stderr.fnmatch_lines(["ERROR: voicetest settings: ini file: voicetest_max_cost: Input should be a valid number*got 'lots'*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
