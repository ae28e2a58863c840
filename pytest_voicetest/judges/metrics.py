"""LLM metrics: a judge model scores each criterion 0..1 against the transcript."""

from __future__ import annotations

import asyncio
import json
import math
import re
from typing import Any

from ..llm.client import LLMClient, LLMRequest
from ..models.results import MetricResult, Turn

JUDGE_SYSTEM = """You grade phone calls between a voice agent and a caller.
Score how well the call satisfies the criterion, from 0 (not at all) to 1 (fully).
Judge only from the transcript. Reply with JSON only:
{"score": <0..1>, "reasoning": "<one or two sentences citing the transcript>", "confidence": <0..1>}"""

_OBJECT = re.compile(r"\{.*\}", re.DOTALL)


def transcript_text(turns: list[Turn]) -> str:
    lines = []
    for turn in turns:
        if turn.role == "tool":
            continue
        speaker = {"agent": "Agent", "user": "Caller"}.get(turn.role, turn.role.title())
        node = turn.metadata.get("node_id")
        lines.append(f"{speaker}{f' [{node}]' if node else ''}: {turn.content}")
    return "\n".join(lines) or "(empty call)"


def parse_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in a model reply (models sometimes wrap it in prose)."""
    for candidate in (text, *(m.group(0) for m in _OBJECT.finditer(text))):
        try:
            value = json.loads(candidate)
        except (json.JSONDecodeError, TypeError):
            continue
        if isinstance(value, dict):
            return value
    return None


async def ask_judge(
    llm: LLMClient, kind: str, model: str, system: str, user: str, context: dict[str, Any], repeat_index: int = 0
) -> tuple[dict[str, Any], str]:
    """Ask the judge model for a JSON verdict: (the parsed object or {}, the raw reply)."""
    request = LLMRequest(
        role="judge",
        kind=kind,
        model=model,
        messages=[{"role": "system", "content": system}, {"role": "user", "content": user}],
        params={"temperature": 0, "response_format": {"type": "json_object"}},
        context=context,
        repeat_index=repeat_index,
    )
    reply = await llm.complete(request)
    return parse_json_object(reply.content) or {}, reply.content


def unit_number(value: Any) -> float | None:
    """A number from 0 to 1 as the judge gave it; None for anything else (never clamped:
    "3" out of 10, a boolean or NaN is not a score)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) and 0.0 <= number <= 1.0 else None


async def judge_metric(
    llm: LLMClient, model: str, criterion: str, threshold: float, transcript: str, context: dict[str, Any], repeat_index: int = 0
) -> MetricResult:
    verdict, raw = await ask_judge(
        llm,
        "judge",
        model,
        JUDGE_SYSTEM,
        f"Criterion: {criterion}\n\nTranscript:\n{transcript}",
        context | {"criterion": criterion, "repeat": repeat_index},
        repeat_index,
    )
    score = unit_number(verdict.get("score"))
    if score is None:
        given = f"its score {verdict['score']!r} is not a number from 0 to 1" if "score" in verdict else "it had no score"
        return MetricResult(
            metric=criterion, passed=False, score=0.0, threshold=threshold, error=f"the judge's reply is not a verdict: {given}: {raw[:120]!r}"
        )
    return MetricResult(
        metric=criterion,
        passed=score >= threshold,
        score=score,
        threshold=threshold,
        reasoning=str(verdict.get("reasoning", "")),
        confidence=unit_number(verdict.get("confidence")),
    )


async def judge_metrics(
    llm: LLMClient, model: str, metrics: list[tuple[str, float]], turns: list[Turn], context: dict[str, Any], repeat_index: int = 0
) -> list[MetricResult]:
    """All metrics judged concurrently, in the order given."""
    text = transcript_text(turns)
    return list(await asyncio.gather(*(judge_metric(llm, model, c, t, text, context, repeat_index) for c, t in metrics)))
