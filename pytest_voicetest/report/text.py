"""What people read in a terminal: failure reports and end-of-run summaries.

Everything written here passes through `redact` first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from ..models.results import TestResult
from ..redact import redact

MAX_TRANSCRIPT_TURNS = 60


def transcript_lines(turns: Iterable[Any]) -> list[str]:
    """`[node] agent: ...` / `caller: ...` lines of a transcript (dicts or Turns)."""
    lines = []
    for turn in turns:
        data = turn if isinstance(turn, dict) else turn.model_dump()
        role = {"agent": "agent", "user": "caller"}.get(data["role"], data["role"])
        node = (data.get("metadata") or {}).get("node_id")
        prefix = f"[{node}] " if node else ""
        lines.append(f"  {prefix}{role}: {data['content']}")
    return lines


def failure_text(result: TestResult, verbose: int = 0) -> str:
    """The failure report of one test: what failed with evidence, then the call."""
    if result.voicesim is not None:
        return _sweep_failure(result)
    path = " -> ".join(result.nodes_visited) or "(no nodes)"
    lines = [
        f"voicetest: '{result.test_name}' {result.status}: ended {result.end_reason or 'unknown'}, {result.turn_count} caller turns, path {path}"
    ]
    if result.error_message:
        lines.append(f"error: {result.error_message}")
    if result.repeat:
        stats = result.repeat
        lines.append(
            f"repeat: {stats.passed}/{stats.runs} passed (rate {stats.rate:.2f}, 95% CI {stats.ci_low:.2f}-{stats.ci_high:.2f}, "
            f"pass^k {'yes' if stats.pass_all else 'no'}); needs {stats.mode} >= {stats.required:.2f}"
        )
    failed = result.failures()
    if result.end_reason and result.status == "fail" and not failed:
        failed.append(f"the call ended with {result.end_reason}, which the test does not allow (set expect.end_reason to allow it)")
    if failed:
        lines.append("failed:")
        lines += [f"  x {line}" for line in failed]
    metrics = result.metric_results if verbose > 0 else [m for m in result.metric_results if not m.passed]
    for metric in metrics:
        if metric.reasoning:
            confidence = f", confidence {metric.confidence:.2f}" if metric.confidence is not None else ""
            lines.append(f"  metric '{metric.metric}' {metric.score:.2f}{confidence}: {metric.reasoning}")
    other = [v for v in result.constraint_violations if not v.startswith("flow judge")]
    if other:
        lines.append("constraint violations:")
        lines += [f"  - {v}" for v in other]
    if result.transcript:
        lines.append("transcript:")
        turns = result.transcript
        if len(turns) > MAX_TRANSCRIPT_TURNS and verbose <= 0:  # -q is negative: still truncated
            lines += transcript_lines(turns[: MAX_TRANSCRIPT_TURNS // 2])
            lines.append(f"  ... {len(turns) - MAX_TRANSCRIPT_TURNS} turns omitted (use -v) ...")
            lines += transcript_lines(turns[-MAX_TRANSCRIPT_TURNS // 2 :])
        else:
            lines += transcript_lines(turns)
    if result.tools_called:
        lines.append("tools called:")
        for call in result.tools_called:
            mocked = "" if call.mocked else " (unmocked)"
            lines.append(f"  {call.name}({json.dumps(call.arguments, sort_keys=True)}) -> {json.dumps(call.result, default=str)[:200]}{mocked}")
    return redact("\n".join(lines))


def summary_lines(summary: Mapping[str, Any], results: list[dict[str, Any]], slowest: int = 3) -> list[str]:
    """The compact end-of-run summary, from a JSON report's summary and results."""
    lines = []
    if results and all(r["status"] == "skipped" for r in results):
        lines.append(f"NO TEST RAN: all {len(results)} were skipped, so this run tested nothing")
    for file, row in sorted(summary["by_file"].items()):
        if "file_error" in row:
            lines.append(f"{file}: failed to load, no test ran")
            continue
        cost = f", ${row['cost_usd']:.4f}" if row["cost_usd"] else ""
        lines.append(f"{file}: {row['pass']} pass, {row['fail']} fail, {row['error']} error, {row['skipped']} skipped{cost}")
    offline = []
    if summary["scripted_calls"]:
        offline.append(f"{summary['scripted_calls']} scripted")
    if summary["replayed_calls"]:
        offline.append(f"{summary['replayed_calls']} replayed from cassettes")
    lines.append(
        f"model calls: {summary['llm_calls']} to real models ({summary['retries']} retries), "
        f"{summary['prompt_tokens']} prompt + {summary['completion_tokens']} completion tokens, ${summary['cost_usd']:.4f}"
        + (f"; answered offline: {', '.join(offline)}" if offline else "")
    )
    no_model = [r for r in results if r["status"] == "skipped" and "model configured" in (r.get("error_message") or "")]
    if no_model:
        lines.append(f"{len(no_model)} LLM test(s) skipped: no model configured (set VOICETEST_MODEL or --vt-*-model; --vt-strict makes them fail)")
    timed = sorted((r for r in results if r["status"] != "skipped"), key=lambda r: r["wall_ms"], reverse=True)[:slowest]
    if timed:
        lines.append("slowest: " + "; ".join(f"{r['wall_ms'] / 1000:.2f}s {r['nodeid']}" for r in timed))
    for result in results:
        stats = result.get("repeat")
        if stats:
            lines.append(
                f"repeat {result['nodeid']}: {stats['passed']}/{stats['runs']} (rate {stats['rate']:.2f}, "
                f"95% CI {stats['ci_low']:.2f}-{stats['ci_high']:.2f}, pass^k {'yes' if stats['pass_all'] else 'no'})"
            )
    return lines


def campaign_lines(summaries: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Campaign summaries: progress (calls finished), pass counts per scenario, sentiment, findings."""
    lines = []
    for name, summary in summaries.items():
        passed = sum(row["passed"] for row in summary["per_scenario"].values())
        lines.append(
            f"{name}: {summary['status']}: {summary['finished_calls']}/{summary['total_calls']} calls finished "
            f"(progress {summary['progress']:.0f}%), {passed} passed"
        )
        for scenario, row in summary["per_scenario"].items():
            other = ", ".join(f"{row[k]} {k}" for k in ("failed", "errors", "skipped") if row[k])
            lines.append(f"  {scenario}: {row['passed']}/{row['calls']} passed" + (f" ({other})" if other else ""))
        lines.append("  sentiment: " + ", ".join(f"{k} {v}" for k, v in summary["analytics"].items()))
        lines += [f"  went wrong: {item}" for item in summary["what_went_wrong"]]
        lines += [f"  suggestion: {item}" for item in summary["suggestions_for_improvement"]]
    return lines


def voicesim_lines(summaries: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """VoiceSim run summaries: best point per scenario, penalties, changes from the defaults."""
    from ..voicesim.summary import summary_lines as run_lines

    lines = []
    for run_id, data in summaries.items():
        if "error" in data:
            lines.append(f"{run_id}: {data['error']}")
            continue
        lines.append(f"{data['name']} (run {run_id}, {data['store']}):")
        lines += run_lines(dict(data))
        if data.get("plot"):
            lines.append(f"  plot: {data['plot']}")
    return lines


def _sweep_failure(result: TestResult) -> str:
    assert result.voicesim is not None
    sweep = result.voicesim
    lines = [f"voicesim '{sweep.scenario}': the best point misses its thresholds (run {sweep.run_id}):"]
    lines += [f"  x {c.name}: {c.evidence}" for c in result.checks if not c.passed]
    if result.error_message:
        lines.append(f"error: {result.error_message}")
    return redact("\n".join(lines))
