"""Results in the voice-agent harness API's shape (seed 001's TestRun and TestResult).

`run_id`, `started_at`, `completed_at` and `results`; each result with ISO 8601 turn
timestamps (the test's start plus the turn's offset), the role `assistant` for the agent,
`end_reason` "" when unknown, `duration_ms` as a whole number, tool results as text, and our
rule and path checks as metric results the way the harness reports its rule checks
(`{metric: "includes: x", passed, reasoning, score: null, threshold: null, confidence: 1.0}`).
Statuses keep their meaning (`skipped` stays `skipped`: the harness has no word for it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

ROLES = {"agent": "assistant", "user": "user", "tool": "tool", "system": "system"}
KEYS = (
    "test_id",
    "test_name",
    "status",
    "transcript",
    "metric_results",
    "nodes_visited",
    "tools_called",
    "constraint_violations",
    "turn_count",
    "duration_ms",
    "end_reason",
    "error_message",
    "models_used",
    "model_overrides",
)


def _when(start: datetime | None, offset_ms: Any) -> str | None:
    if start is None:
        return None
    moment = start + timedelta(milliseconds=float(offset_ms or 0))
    return moment.isoformat().replace("+00:00", "Z")


def seed_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """One TestResult (as data) in the harness's shape."""
    started = result.get("started_at")
    start = datetime.fromisoformat(started) if isinstance(started, str) else None
    transcript = [
        {
            "role": ROLES.get(t["role"], t["role"]),
            "content": t["content"],
            "timestamp": _when(start, t.get("timestamp")),
            "metadata": t.get("metadata") or {},
        }
        for t in result.get("transcript") or []
    ]
    checks = [
        {
            "metric": f"{c['kind']}: {c['name']}",
            "passed": c["passed"],
            "reasoning": c["evidence"],
            "score": None,
            "threshold": None,
            "confidence": 1.0,
        }
        for c in result.get("checks") or []
    ]
    metrics = [
        {k: m.get(k) for k in ("metric", "passed", "reasoning", "score", "threshold", "confidence")} for m in result.get("metric_results") or []
    ]
    tools = [
        {
            "name": c["name"],
            "arguments": c.get("arguments") or {},
            "result": c["result"] if isinstance(c.get("result"), str) else json.dumps(c.get("result")),
        }
        for c in result.get("tools_called") or []
    ]
    out = {key: result.get(key) for key in KEYS}
    out.update(
        transcript=transcript,
        metric_results=checks + metrics,
        tools_called=tools,
        duration_ms=int(round(float(result.get("duration_ms") or 0))),
        end_reason=result.get("end_reason") or "",
        test_id=result.get("test_id") or result.get("nodeid"),
        test_name=result.get("test_name") or "",
        constraint_violations=result.get("constraint_violations") or [],
        nodes_visited=result.get("nodes_visited") or [],
        turn_count=result.get("turn_count") or 0,
        models_used=result.get("models_used") or None,
        model_overrides=result.get("model_overrides") or [],
    )
    return out


def seed_run(run: Mapping[str, Any]) -> dict[str, Any]:
    """A Run or a JSON report (as data) as the harness's TestRun."""
    return {
        "run_id": run.get("run_id") or "",
        "started_at": run.get("started_at"),
        "completed_at": run.get("completed_at") or run.get("created_at"),
        "results": [seed_result(r) for r in run.get("results") or []],
    }
