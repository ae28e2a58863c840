"""LLM metrics: a judge model scores each criterion 0..1 against the transcript."""

from __future__ import annotations

import asyncio
import json
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


def _number(value: Any, default: float | None) -> float | None:
    try:
        return min(1.0, max(0.0, float(value)))
    except (TypeError, ValueError):
        return default


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
    score = _number(verdict.get("score"), None)
    if score is None:
        return MetricResult(
            metric=criterion,
            passed=False,
            score=0.0,
            threshold=threshold,
            error=f"the judge's reply had no score: {raw[:120]!r}",
        )
    return MetricResult(
        metric=criterion,
        passed=score >= threshold,
        score=score,
        threshold=threshold,
        reasoning=str(verdict.get("reasoning", "")),
        confidence=_number(verdict.get("confidence"), None),
    )


async def judge_metrics(
    llm: LLMClient, model: str, metrics: list[tuple[str, float]], turns: list[Turn], context: dict[str, Any], repeat_index: int = 0
) -> list[MetricResult]:
    """All metrics judged concurrently, in the order given."""
    text = transcript_text(turns)
    return list(await asyncio.gather(*(judge_metric(llm, model, c, t, text, context, repeat_index) for c, t in metrics)))
