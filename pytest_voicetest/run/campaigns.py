"""Scenario campaigns: simulated calls judged against an expected result, and their summary.

Each (scenario, call) is one simulated call whose caller follows the scenario's
description, with a voice picked per call (seeded) from `selected_voices`, and speaking
time capped at `max_call_duration_in_minutes` (150 words per minute). The judge decides
pass/fail against `expected_result` and classifies the caller's sentiment. The summary
counts passes per scenario and sentiments, and has the judge write what went wrong and
what to improve from the failed calls.
"""

from __future__ import annotations

import random
from typing import Any

from ..judges.metrics import ask_judge, transcript_text
from ..llm.client import LLMClient
from ..models.results import CallOutcome, TestResult
from ..models.scenario import CampaignFile, CampaignScenario, CampaignSummary
from ..models.testcase import TestCase
from .runner import DEFAULT_END_REASONS, ExtraJudge

CALL_JUDGE = """You judge a phone call between a voice agent and a simulated caller.
Decide whether the call achieved the expected result, and classify the caller's sentiment
at the end of the call. Reply with JSON only:
{"passed": true|false, "sentiment": "Positive"|"Negative"|"Neutral", "reasoning": "<one or two sentences>"}"""

SUMMARY_JUDGE = """You review the failed calls of a test campaign for a voice agent.
Reply with JSON only: {"what_went_wrong": ["<short finding>", ...],
"suggestions_for_improvement": ["<concrete change to the agent>", ...]}"""

SENTIMENTS = ("Positive", "Negative", "Neutral")


def call_name(scenario: CampaignScenario, call: int) -> str:
    return f"{scenario.name} - call {call}"


def pick_voice(campaign: CampaignFile, scenario: CampaignScenario, call: int) -> dict[str, str] | None:
    if not scenario.selected_voices:
        return None
    voice = random.Random(f"{campaign.seed}:{scenario.name}:{call}").choice(scenario.selected_voices)
    return voice.model_dump()


def call_case(campaign: CampaignFile, scenario: CampaignScenario, call: int) -> TestCase:
    """The simulated call of one (scenario, call) as a test case (judged by the campaign judge)."""
    return TestCase(
        name=call_name(scenario, call),
        user_prompt=scenario.description,
        dynamic_variables=scenario.dynamic_variables,
        script=scenario.script,
        max_turns=campaign.max_turns,
        max_call_minutes=campaign.max_call_duration_in_minutes,
    )


async def judge_call(llm: LLMClient, model: str, scenario: CampaignScenario, result: TestResult, context: dict[str, Any]) -> tuple[bool, str, str]:
    question = f"Expected result: {scenario.expected_result}\n\nTranscript:\n{transcript_text(result.transcript)}"
    verdict, raw = await ask_judge(llm, "campaign", model, CALL_JUDGE, question, context)
    passed = verdict.get("passed")
    sentiment = verdict.get("sentiment")
    if not isinstance(passed, bool) or sentiment not in SENTIMENTS:
        raise ValueError(f"the campaign judge's reply is not a verdict: {raw[:160]!r}")
    return passed, str(sentiment), str(verdict.get("reasoning", ""))


def call_outcome(campaign: CampaignFile, scenario: CampaignScenario, call: int, name: str) -> CallOutcome:
    """The campaign facts of one call, before it is judged."""
    total = campaign.number_of_call_to_make * len(campaign.scenarios)
    settings = campaign.model_dump(include={"number_of_call_to_make", "concurrent_call_count", "max_call_duration_in_minutes"})
    return CallOutcome(
        campaign=name, scenario=scenario.name, call=call, total_calls=total, voice=pick_voice(campaign, scenario, call), settings=settings
    )


def campaign_judge(scenario: CampaignScenario, outcome: CallOutcome) -> ExtraJudge:
    """The judge of one campaign call: expected result met, caller sentiment; fills `outcome`."""

    async def judge(result: TestResult, llm: LLMClient) -> None:
        context = {"script": scenario.script.model_dump()} if scenario.script else {}
        try:
            outcome.passed, outcome.sentiment, outcome.reasoning = await judge_call(  # type: ignore[assignment]
                llm, result.models_used.get("judge") or "scripted", scenario, result, context
            )
        except ValueError as exc:
            result.status, result.error_message = "error", str(exc)
            return
        ended_well = result.end_reason in DEFAULT_END_REASONS
        result.status = "pass" if outcome.passed and ended_well and result.status == "pass" else "fail"
        if not ended_well:
            result.constraint_violations.append(f"the call ended with {result.end_reason}")

    return judge


def status_of(finished: int, total: int, interrupted: bool) -> str:
    if interrupted:
        return "Stopped"
    if total == 0:
        return "Draft"
    if finished == 0:
        return "Pending"
    return "In Progress" if finished < total else "Calculating Summary"


def tally(name: str, outcomes: list[dict[str, Any]], total: int, interrupted: bool) -> CampaignSummary:
    """Counts from finished calls (result dicts carrying `campaign` and `status`). Progress is
    the share of calls judged: a skipped or errored call is finished but not progress."""
    judged = sum(1 for r in outcomes if r["status"] in {"pass", "fail"})
    summary = CampaignSummary(
        campaign=name,
        status=status_of(len(outcomes), total, interrupted),  # type: ignore[arg-type]
        total_calls=total,
        finished_calls=len(outcomes),
        judged_calls=judged,
        progress=round(100 * judged / total, 1) if total else 0.0,
    )
    for result in outcomes:
        call = result["campaign"]
        row = summary.per_scenario.setdefault(call["scenario"], {"calls": 0, "passed": 0, "failed": 0, "errors": 0, "skipped": 0})
        row["calls"] += 1
        row[{"pass": "passed", "fail": "failed", "skipped": "skipped"}.get(result["status"], "errors")] += 1
        if result["status"] in {"pass", "fail"}:
            summary.analytics[call["sentiment"]] += 1
    return summary


async def write_findings(llm: LLMClient, model: str, failed: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The judge's what_went_wrong and suggestions_for_improvement from the failed calls."""
    if not failed:
        return [], []
    lines = [
        f"{r['campaign']['scenario']} (call {r['campaign']['call']}): {r['campaign'].get('reasoning') or r.get('error_message') or r['status']}"
        for r in failed
    ]
    question = "Failed calls:\n" + "\n".join(f"- {line}" for line in lines)
    data, _ = await ask_judge(llm, "campaign_summary", model, SUMMARY_JUDGE, question, {"failures": lines})
    wrong = [str(x) for x in data.get("what_went_wrong") or []]
    suggestions = [str(x) for x in data.get("suggestions_for_improvement") or []]
    return wrong, suggestions
