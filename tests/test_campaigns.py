"""Scenario campaigns in pytest: items, voices, limits, judging, the summary and its lifecycle."""

from __future__ import annotations

import json

import pytest

CAMPAIGN = """
agent: agents/retell/sample_config_function_node.json
name: Pizza campaign
number_of_call_to_make: 3
concurrent_call_count: 2
max_call_duration_in_minutes: 2
seed: 4
scenarios:
  - name: Order pizza
    description: "1. Act as a customer. 2. Order a large margherita. 3. End the call with thank you."
    expected_result: Order placed and confirmation given
    selected_voices: [{id: v1, provider: eleven_labs}, {id: v2, provider: cartesia}, {id: v3, provider: rime}]
    script:
      turns:
        - {agent: What pizza would you like?}
        - {user: A large margherita please.}
        - {goto: submit_order}
        - {agent: Your pizza is in! Ready in 20 minutes.}
        - {user: Thank you!, hangup: true}
      campaign: {passed: true, sentiment: Positive, reasoning: Order placed and confirmed.}
  - name: Cold pizza complaint
    description: Complain that the last pizza was cold.
    expected_result: The agent apologises and offers a refund
    script:
      turns:
        - {agent: What pizza would you like?}
        - {user: Your last pizza was cold!}
        - {agent: Sorry to hear that.}
        - {hangup: true}
      campaign: {passed: false, sentiment: Negative, reasoning: No refund was offered.}
"""


def campaign_report(project: pytest.Pytester) -> dict:
    return json.loads((project.path / "r.json").read_text())


def test_items_per_scenario_and_call(project: pytest.Pytester) -> None:
    project.makefile(".yaml", scenario_pizza=CAMPAIGN)
    result = project.runpytest("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        ["scenario_pizza.yaml::Order pizza - call 1", "scenario_pizza.yaml::Cold pizza complaint - call 3", "6 tests collected*"]
    )


def test_campaign_runs_judges_and_summarises(project: pytest.Pytester) -> None:
    project.makefile(".yaml", scenario_pizza=CAMPAIGN)
    result = project.runpytest("--vt-report", "r.json")
    result.assert_outcomes(passed=3, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*x campaign judge: the expected result was not met (Negative caller): No refund was offered.",
            "*campaign summary*",
            "Pizza campaign: Completed: 6/6 calls finished (progress 100%), 3 passed",
            "  Order pizza: 3/3 passed",
            "  Cold pizza complaint: 0/3 passed (3 failed)",
            "  sentiment: Positive 3, Negative 3, Neutral 0",
            "  went wrong: Cold pizza complaint (call 1): No refund was offered.",
        ]
    )
    data = campaign_report(project)
    summary = data["campaigns"]["Pizza campaign"]
    assert summary["status"] == "Completed" and summary["progress"] == 100.0
    assert [h["status"] for h in summary["history"]] == ["Pending", "In Progress", "Calculating Summary", "Completed"]
    assert summary["per_scenario"]["Order pizza"] == {"calls": 3, "passed": 3, "failed": 0, "errors": 0, "skipped": 0}
    assert summary["analytics"] == {"Positive": 3, "Negative": 3, "Neutral": 0}
    assert summary["suggestions_for_improvement"] == []  # the scripted judge invents no advice
    voices = {r["campaign"]["call"]: r["campaign"]["voice"]["id"] for r in data["results"] if r["campaign"]["scenario"] == "Order pizza"}
    again = project.runpytest("--vt-report", "r.json")
    again.assert_outcomes(passed=3, failed=3)
    assert {
        r["campaign"]["call"]: r["campaign"]["voice"]["id"] for r in campaign_report(project)["results"] if r["campaign"]["scenario"] == "Order pizza"
    } == voices
    assert set(voices.values()) <= {"v1", "v2", "v3"}


def test_speaking_time_limit_cuts_the_call(project: pytest.Pytester) -> None:
    long_line = " ".join(["word"] * 160)
    project.makefile(
        ".yaml",
        scenario_long=f"""
agent: agents/retell/sample_config.json
max_call_duration_in_minutes: 1
scenarios:
  - name: Talkative
    description: Talk a lot.
    expected_result: Anything
    script:
      turns: [{{agent: "{long_line}"}}, {{user: hi}}, {{agent: more}}]
      campaign: {{passed: true, sentiment: Neutral}}
""",
    )
    result = project.runpytest("--vt-report", "r.json")
    result.assert_outcomes(failed=1)
    [entry] = campaign_report(project)["results"]
    assert entry["end_reason"] == "call_timeout"
    assert entry["transcript"][-1]["content"] == long_line  # cut right after 160 words > 150 words per minute
    assert "the call ended with call_timeout" in entry["constraint_violations"]


def test_ctrl_c_stops_the_campaign_and_keeps_finished_calls(project: pytest.Pytester) -> None:
    project.makefile(".yaml", scenario_pizza=CAMPAIGN)
    project.makeconftest("""
def pytest_runtest_call(item):
    if item.name == "Order pizza - call 3":
        raise KeyboardInterrupt
""")
    result = project.runpytest("--vt-report", "r.json", no_reraise_ctrlc=True)
    assert result.ret == pytest.ExitCode.INTERRUPTED
    summary = campaign_report(project)["campaigns"]["Pizza campaign"]
    assert summary["status"] == "Stopped"
    assert (summary["finished_calls"], summary["total_calls"]) == (2, 6)
    assert summary["progress"] == pytest.approx(33.3)
    assert [h["status"] for h in summary["history"]] == ["Pending", "In Progress", "Stopped"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("number_of_call_to_make: 3", "number_of_call_to_make: 4"),
            "*scenario_pizza.yaml:3: number_of_call_to_make: Input should be less than or equal to 3*",
        ),
        (
            ("concurrent_call_count: 2", "concurrent_call_count: 0"),
            "*scenario_pizza.yaml:4: concurrent_call_count: Input should be greater than or equal to 1*",
        ),
        (
            ("max_call_duration_in_minutes: 2", "max_call_duration_in_minutes: 11"),
            "*max_call_duration_in_minutes: Input should be less than or equal to 10*",
        ),
        (
            ("provider: cartesia", "provider: polly"),
            "*scenarios[[]0[]].selected_voices[[]1[]].provider: *eleven_labs*play_ht*deepgram*cartesia*rime*got 'polly'*",
        ),
        (
            ("expected_result: Order placed and confirmation given", "expected_reslt: x"),
            "*unknown key 'expected_reslt' (did you mean 'expected_result'?)*",
        ),
    ],
)
def test_out_of_range_values_are_clear_errors(project: pytest.Pytester, change: tuple[str, str], message: str) -> None:
    project.makefile(".yaml", scenario_pizza=CAMPAIGN.replace(*change))
    result = project.runpytest()
    result.stdout.fnmatch_lines([message])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_campaign_without_judge_model_is_skipped(project: pytest.Pytester) -> None:
    project.makefile(
        ".yaml",
        scenario_plain="""
agent: agents/retell/sample_config.json
scenarios:
  - {name: Plain, description: Ask for help., expected_result: Help given}
""",
    )
    result = project.runpytest("-rs")
    result.assert_outcomes(skipped=1)
    result.stdout.fnmatch_lines(["SKIPPED [[]1[]] scenario_plain.yaml:3: no agent, simulator, judge model configured*"])
