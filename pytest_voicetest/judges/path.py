"""Path assertions (`expect:`) on a finished call."""

from __future__ import annotations

import json
import math

from ..engine.tools import arguments_match
from ..models.results import CheckResult, ToolCallRecord
from ..models.testcase import Expect


def _is_subsequence(wanted: list[str], path: list[str]) -> bool:
    iterator = iter(path)
    return all(node in iterator for node in wanted)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def check_path(
    expect: Expect,
    *,
    nodes_visited: list[str],
    tools_called: list[ToolCallRecord],
    end_reason: str | None,
    turn_count: int,
    variables: dict[str, str],
    latencies_ms: list[float],
) -> list[CheckResult]:
    results: list[CheckResult] = []
    shown = " -> ".join(nodes_visited) or "(none)"
    if expect.visited:
        results.append(
            CheckResult(
                kind="expect",
                name=f"visited {expect.visited}",
                passed=_is_subsequence(expect.visited, nodes_visited),
                evidence=f"path was {shown}",
            )
        )
    for node in expect.not_visited:
        results.append(CheckResult(kind="expect", name=f"not_visited {node}", passed=node not in nodes_visited, evidence=f"path was {shown}"))
    if expect.final_node is not None:
        final = nodes_visited[-1] if nodes_visited else None
        results.append(
            CheckResult(kind="expect", name=f"final_node {expect.final_node}", passed=final == expect.final_node, evidence=f"call ended at {final}")
        )
    if expect.end_reason is not None:
        results.append(
            CheckResult(
                kind="expect",
                name=f"end_reason {expect.end_reason}",
                passed=end_reason in expect.end_reason,
                evidence=f"call ended with {end_reason}",
            )
        )
    called = ", ".join(f"{c.name}({json.dumps(c.arguments, sort_keys=True)})" for c in tools_called) or "no tools"
    for wanted in expect.tools_called:
        ok = any(c.name == wanted.name and arguments_match(wanted.arguments, c.arguments) for c in tools_called)
        label = wanted.name + (f" {json.dumps(wanted.arguments, sort_keys=True)}" if wanted.arguments else "")
        results.append(CheckResult(kind="expect", name=f"tools_called {label}", passed=ok, evidence=f"called {called}"))
    for name in expect.tools_not_called:
        results.append(
            CheckResult(kind="expect", name=f"tools_not_called {name}", passed=all(c.name != name for c in tools_called), evidence=f"called {called}")
        )
    for name, value in expect.variables.items():
        actual = variables.get(name)
        ok = actual is not None and str(actual).strip().casefold() == str(value).strip().casefold()
        results.append(CheckResult(kind="expect", name=f"variables.{name} == {value!r}", passed=ok, evidence=f"{name} = {actual!r}"))
    if expect.max_turns is not None:
        results.append(
            CheckResult(
                kind="expect", name=f"max_turns {expect.max_turns}", passed=turn_count <= expect.max_turns, evidence=f"{turn_count} caller turns"
            )
        )
    if expect.max_latency_ms is not None:
        results.append(_latency(expect.max_latency_ms, latencies_ms))
    return results


def _latency(budget: float, latencies: list[float]) -> CheckResult:
    name = f"max_latency_ms {budget:g} (p95)"
    if not latencies:
        return CheckResult(kind="expect", name=name, passed=True, evidence="no model-generated agent turns")
    p95 = percentile(latencies, 0.95)
    slow = [f"turn {i} {value:.0f} ms" for i, value in enumerate(latencies) if value > budget]
    evidence = f"p95 {p95:.0f} ms over {len(latencies)} agent turns" + (f"; slow: {', '.join(slow)}" if slow else "")
    return CheckResult(kind="expect", name=name, passed=p95 <= budget, evidence=evidence)
