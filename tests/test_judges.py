"""Rule checks, path assertions, LLM metric parsing, the flow judge and status rules."""

from __future__ import annotations

import asyncio
import time

import pytest

from pytest_voicetest.api import run_test
from pytest_voicetest.importers import import_agent
from pytest_voicetest.judges.flow import structural_violations
from pytest_voicetest.judges.metrics import parse_json_object
from pytest_voicetest.judges.path import check_path, percentile
from pytest_voicetest.judges.rules import check_rules
from pytest_voicetest.models.graph import MetricsConfig
from pytest_voicetest.models.results import ToolCallRecord, Turn
from pytest_voicetest.models.testcase import Expect
from pytest_voicetest.run.runner import wilson_interval

from .conftest import OWN, PLATFORMS, TESTS

TURNS = [
    Turn(role="agent", content="Welcome to Acme Healthcare! How can I help?"),
    Turn(role="user", content="My social security number is 123-45-6789"),
    Turn(role="agent", content="Your confirmation is A-123. STRASSE confirmed."),
]


def by_name(results):
    return {(r.kind, r.name): r for r in results}


def test_includes_excludes_patterns_on_agent_turns() -> None:
    results = by_name(check_rules(TURNS, ["acme", "confirm"], ["social security"], [r"A-\d{3}", r"\d{3}-\d{2}-\d{4}"]))
    assert results[("includes", "acme")].passed and results[("includes", "confirm")].passed
    assert results[("excludes", "social security")].passed  # said by the user, not the agent
    assert results[("pattern", r"A-\d{3}")].passed
    assert results[("pattern", r"A-\d{3}")].evidence.startswith('turn 2: "Your confirmation is A-123')
    assert not results[("pattern", r"\d{3}-\d{2}-\d{4}")].passed


def test_rules_on_user_and_all() -> None:
    user = by_name(check_rules(TURNS, [], ["social security"], [], rules_on="user"))
    failed = user[("excludes", "social security")]
    assert not failed.passed and 'turn 1: "My social security number' in failed.evidence
    everything = by_name(check_rules(TURNS, ["social", "welcome"], [], [], rules_on="all"))
    assert all(r.passed for r in everything.values())


def test_unicode_case_folding() -> None:
    results = by_name(check_rules(TURNS, ["straße"], [], []))
    assert results[("includes", "straße")].passed


def test_missing_phrase_evidence() -> None:
    result = check_rules(TURNS, ["goodbye"], [], [])[0]
    assert not result.passed and result.evidence == "not found in any of 2 agent turns"


def test_catastrophic_regex_is_cut_off() -> None:
    turns = [Turn(role="agent", content="a" * 60 + "b")]
    started = time.perf_counter()
    [result] = check_rules(turns, [], [], [r"(a|aa)+$"])
    assert time.perf_counter() - started < 5
    assert not result.passed and "catastrophic backtracking" in result.evidence


def test_path_assertions() -> None:
    calls = [ToolCallRecord(name="book", arguments={"time": "14:00", "day": "tue"})]
    expect = Expect(
        visited=["greeting", "book"],
        not_visited=["transfer"],
        final_node="goodbye",
        end_reason=["agent_ended"],
        tools_called=[{"name": "book", "arguments": {"time": "14:00"}}],
        tools_not_called=["cancel"],
        variables={"dob": "1985"},
        max_turns=3,
        max_latency_ms=500,
    )
    ok = check_path(
        expect,
        nodes_visited=["greeting", "verify", "book", "goodbye"],
        tools_called=calls,
        end_reason="agent_ended",
        turn_count=3,
        variables={"dob": "1985"},
        latencies_ms=[100, 200, 450],
    )
    assert all(r.passed for r in ok), [r for r in ok if not r.passed]
    bad = check_path(
        expect,
        nodes_visited=["book", "greeting", "transfer"],
        tools_called=[ToolCallRecord(name="cancel")],
        end_reason="max_turns",
        turn_count=4,
        variables={},
        latencies_ms=[100, 900],
    )
    assert not any(r.passed for r in bad)
    latency = next(r for r in bad if r.name.startswith("max_latency_ms"))
    assert latency.evidence == "p95 900 ms over 2 agent turns; slow: turn 1 900 ms"


def test_percentile_nearest_rank() -> None:
    assert percentile(list(range(1, 21)), 0.95) == 19
    assert percentile([5.0], 0.95) == 5.0


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ('{"score": 0.8, "reasoning": "ok"}', 0.8),
        ('Sure! Here is my verdict:\n{"score": 1, "reasoning": "x"}\nThanks', 1),
        ("no json at all", None),
    ],
)
def test_judge_reply_parsing(text: str, score) -> None:
    parsed = parse_json_object(text)
    assert (parsed or {}).get("score") == score


def test_flow_structural_violations() -> None:
    flow = import_agent(PLATFORMS / "retell/sample_config_global_nodes.json")
    assert structural_violations(flow, ["greeting", "customize_order", "ask_about_specials", "customize_order"]) == []
    [violation] = structural_violations(flow, ["greeting", "confirm_order"])
    assert "moved from 'greeting' to 'confirm_order' without an edge" in violation


def test_flow_judge_violations_fail_the_test() -> None:
    flow = import_agent(PLATFORMS / "retell/sample_config.json")
    case = {
        "name": "flow",
        "flow_judge": True,
        "script": {"turns": [{"agent": "Hi"}, {"hangup": True}], "flow_violations": ["greeting: did not ask how to help"]},
    }
    result = run_test(case, flow, project=PLATFORMS)
    assert result.status == "fail"
    assert "flow judge: greeting: did not ask how to help" in result.failures()


def test_metrics_with_thresholds_and_global_metrics() -> None:
    flow = import_agent(PLATFORMS / "retell/sample_config.json")
    flow = flow.model_copy(update={"metrics_config": MetricsConfig(threshold=0.6, global_metrics=["Agent was polite"])})
    case = {
        "name": "metrics",
        "metrics": ["Agent greeted", {"criterion": "Agent was concise", "threshold": 0.9}],
        "script": {
            "turns": [{"agent": "Hi"}, {"hangup": True}],
            "judge": {"Agent greeted": 0.65, "Agent was concise": 0.85, "Agent was polite": 0.7},
        },
    }
    result = run_test(case, flow, project=PLATFORMS)
    scores = {m.metric: (m.score, m.threshold, m.passed) for m in result.metric_results}
    assert scores == {
        "Agent greeted": (0.65, 0.6, True),
        "Agent was concise": (0.85, 0.9, False),
        "Agent was polite": (0.7, 0.6, True),
    }
    assert result.status == "fail"
    assert result.failures() == ["metric 'Agent was concise': score 0.85 < threshold 0.90"]


def test_unparseable_judge_reply_is_an_error_not_a_pass(llm_server) -> None:
    llm_server.responder = lambda body: {"content": "I think it went well."}
    flow = import_agent(PLATFORMS / "retell/sample_config.json")
    case = {"name": "m", "metrics": ["Agent helped"], "script": [{"agent": "Hi"}, {"hangup": True}], "models": {"judge": "openai/x"}}
    result = run_test(case, flow, api_base=llm_server.api_base, project=PLATFORMS)
    assert result.status == "error"
    assert "the judge's reply is not a verdict: it had no score" in result.error_message


def test_transcript_tests_judge_recordings_without_simulation() -> None:
    flow = import_agent(PLATFORMS / "retell/sample_config_complex.json")
    native = run_test(
        {
            "name": "t",
            "includes": ["A-123"],
            "patterns": [r"A-\d{3}"],
            "expect": {
                "visited": ["greeting", "verify_identity", "schedule_appointment"],
                "tools_called": [{"name": "lookup_patient", "arguments": {"full_name": "john smith"}}],
            },
        },
        flow,
        transcript=OWN / "transcript_native.yaml",
        project=TESTS,
    )
    assert native.status == "pass", native.failures()
    assert native.end_reason == "user_ended" and native.usage.calls == 0
    retell = run_test(
        {"name": "r", "includes": ["Monday to Friday"], "expect": {"visited": ["greeting", "general_inquiry"], "end_reason": "agent_ended"}},
        flow,
        transcript=OWN / "retell_call.json",
        project=TESTS,
    )
    assert retell.status == "pass", retell.failures()
    assert retell.transcript[1].timestamp == 4100.0
    assert [c.name for c in retell.tools_called] == ["end_call"]


def test_wilson_interval() -> None:
    low, high = wilson_interval(8, 10)
    assert (round(low, 3), round(high, 3)) == (0.49, 0.943)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert wilson_interval(5, 5)[1] == 1.0


def test_no_configured_model_skips_with_one_reason() -> None:
    flow = import_agent(PLATFORMS / "retell/sample_config.json").model_copy(update={"default_model": None})
    result = run_test({"name": "m", "user_prompt": "hi", "metrics": ["x"]}, flow, project=PLATFORMS)
    assert result.status == "skipped"
    assert result.error_message.startswith("no agent, simulator, judge model configured")


def test_async_judges_run_concurrently() -> None:
    from pytest_voicetest.judges import metrics

    assert asyncio.iscoroutinefunction(metrics.judge_metrics)
