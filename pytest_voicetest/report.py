"""What people read: failure reports, JUnit properties, the terminal summary, the JSON report.

Everything written here passes through `redact` first.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .redact import redact, redact_data

if TYPE_CHECKING:
    from .models.results import TestResult

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
    path = " -> ".join(result.nodes_visited) or "(no nodes)"
    lines = [
        f"voicetest: '{result.test_name}' {result.status}: ended {result.end_reason or 'unknown'}, "
        f"{result.turn_count} caller turns, path {path}"
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
    metrics = result.metric_results if verbose else [m for m in result.metric_results if not m.passed]
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
        if len(turns) > MAX_TRANSCRIPT_TURNS and not verbose:
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


def junit_properties(result: TestResult) -> list[tuple[str, object]]:
    """Per-test JUnit properties (xdist keeps these, unlike testsuite properties)."""
    properties: list[tuple[str, object]] = [
        ("voicetest.status", result.status),
        ("voicetest.end_reason", result.end_reason or ""),
        ("voicetest.turn_count", result.turn_count),
        ("voicetest.nodes_visited", " -> ".join(result.nodes_visited)),
        ("voicetest.llm_calls", result.usage.calls),
        ("voicetest.cost_usd", f"{result.usage.cost_usd:.6f}"),
    ]
    properties += [(f"voicetest.score.{m.metric[:80]}", f"{m.score:.2f}") for m in result.metric_results]
    if result.repeat:
        stats = result.repeat
        properties += [
            ("voicetest.repeat.runs", stats.runs),
            ("voicetest.repeat.passed", stats.passed),
            ("voicetest.repeat.rate", f"{stats.rate:.4f}"),
            ("voicetest.repeat.pass_all", str(stats.pass_all).lower()),
            ("voicetest.repeat.ci95", f"{stats.ci_low:.4f}-{stats.ci_high:.4f}"),
        ]
    return [(name, redact(str(value))) for name, value in properties]


class ResultLog:
    """Results gathered on the controller; journaled as they arrive, written at the end."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.results: list[dict[str, Any]] = []
        self.extra: dict[str, Any] = {}
        self.sweeps: dict[tuple[str, str], dict[str, Any]] = {}
        self.opened_at = time.time()
        self.started_at: dict[str, float] = {}
        self.journal = path.with_name(path.name + ".partial.jsonl") if path else None
        if self.journal:
            self.journal.parent.mkdir(parents=True, exist_ok=True)
            self.journal.write_text("", encoding="utf-8")

    def add(self, nodeid: str, result: dict[str, Any], wall_ms: float) -> None:
        if result.get("campaign"):
            self.started_at.setdefault(result["campaign"]["campaign"], time.time() - wall_ms / 1000)
        entry = redact_data({"nodeid": nodeid, "file": nodeid.split("::")[0], "wall_ms": round(wall_ms, 1), **result})
        self.results.append(entry)
        if self.journal:
            with self.journal.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, ensure_ascii=False) + "\n")

    def add_voicesim(self, data: dict[str, Any]) -> None:
        """Remember a VoiceSim run an item wrote to (its summary is built at the end)."""
        self.sweeps.setdefault((data["store"], data["run_id"]), {"plot": data.get("plot")})

    def summarise_voicesim(self) -> list[str]:
        """Summaries of every VoiceSim run of the session, from the store (so xdist workers' work is included)."""
        if not self.sweeps:
            return []
        from .errors import VoicetestError
        from .voicesim import runs
        from .voicesim.space import Space
        from .voicesim.store import open_store
        from .voicesim.summary import plot, summary_lines

        lines: list[str] = []
        summaries = self.extra.setdefault("voicesim", {})
        for (location, run_id), info in sorted(self.sweeps.items()):
            store = open_store(location)
            try:
                run = store.get_run(run_id)
                result = runs.summary(store, run_id)
                summaries[run_id] = {"name": run.name, "store": location} | result
                lines.append(f"{run.name} (run {run_id}, {location}):")
                lines += summary_lines(result)
                if info.get("plot"):
                    written = plot(Space.from_data(run.space), store.evaluations(run_id), Path(info["plot"]))
                    lines.append(f"  plot: {written}")
            except VoicetestError as exc:
                lines.append(f"{run_id}: {exc}")
            finally:
                store.close()
        return lines

    def summarise_campaigns(self, interrupted: bool, findings: Any) -> list[str]:
        """Campaign summaries from the finished calls; `findings(judge, failed)` asks the judge
        what went wrong (skipped when the session was interrupted)."""
        calls: dict[str, list[dict[str, Any]]] = {}
        for result in self.results:
            if result.get("campaign"):
                calls.setdefault(result["campaign"]["campaign"], []).append(result)
        if not calls:
            return []
        from .campaigns import summary_lines, tally

        lines: list[str] = []
        summaries = {}
        for name, finished in sorted(calls.items()):
            summary = tally(name, finished, finished[0]["campaign"]["total_calls"], interrupted)
            started = self.started_at.get(name, time.time())
            summary.history = [{"status": "Pending", "at": _stamp(self.opened_at)}, {"status": "In Progress", "at": _stamp(started)}]
            if not interrupted:
                summary.history.append({"status": "Calculating Summary", "at": _stamp(time.time())})
                failed = [r for r in finished if r["status"] in {"fail", "error"}]
                judge = next((r["models_used"].get("judge") for r in finished if r.get("models_used", {}).get("judge")), None)
                if failed and judge:
                    summary.what_went_wrong, summary.suggestions_for_improvement = findings(name, judge, failed)
                summary.status = "Completed" if summary.finished_calls == summary.total_calls else "Stopped"
            summary.history.append({"status": summary.status, "at": _stamp(time.time())})
            summaries[name] = summary.model_dump()
            lines += summary_lines(summary)
        if summaries:
            self.extra["campaigns"] = summaries
        return lines

    def summary(self) -> dict[str, Any]:
        totals = {"total": 0, "pass": 0, "fail": 0, "error": 0, "skipped": 0}
        usage = {"llm_calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0, "retries": 0}
        by_file: dict[str, dict[str, Any]] = {}
        for result in self.results:
            totals["total"] += 1
            totals[result["status"]] += 1
            spent = result.get("usage") or {}
            usage["llm_calls"] += spent.get("calls", 0)
            usage["prompt_tokens"] += spent.get("prompt_tokens", 0)
            usage["completion_tokens"] += spent.get("completion_tokens", 0)
            usage["cost_usd"] += spent.get("cost_usd", 0.0)
            usage["retries"] += spent.get("retries", 0)
            row = by_file.setdefault(result["file"], {"pass": 0, "fail": 0, "error": 0, "skipped": 0, "cost_usd": 0.0})
            row[result["status"]] += 1
            row["cost_usd"] += spent.get("cost_usd", 0.0)
        usage["cost_usd"] = round(usage["cost_usd"], 6)
        return {**totals, **usage, "by_file": by_file}

    def write(self, exit_status: int) -> None:
        if not self.path:
            return
        body = {
            "version": 1,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "exit_status": int(exit_status),
            "summary": self.summary(),
            "results": self.results,
            **self.extra,
        }
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(redact_data(body), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        temporary.replace(self.path)
        if self.journal and self.journal.exists():
            self.journal.unlink()


def _stamp(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def summary_lines(log: ResultLog, slowest: int = 3) -> list[str]:
    """The compact end-of-session summary."""
    if not log.results:
        return []
    summary = log.summary()
    lines = []
    for file, row in sorted(summary["by_file"].items()):
        cost = f", ${row['cost_usd']:.4f}" if row["cost_usd"] else ""
        lines.append(f"{file}: {row['pass']} pass, {row['fail']} fail, {row['error']} error, {row['skipped']} skipped{cost}")
    lines.append(
        f"LLM: {summary['llm_calls']} calls, {summary['prompt_tokens']} prompt + {summary['completion_tokens']} completion tokens, "
        f"${summary['cost_usd']:.4f}, {summary['retries']} retries"
    )
    timed = sorted((r for r in log.results if r["status"] != "skipped"), key=lambda r: r["wall_ms"], reverse=True)[:slowest]
    if timed:
        lines.append("slowest: " + "; ".join(f"{r['wall_ms'] / 1000:.2f}s {r['nodeid']}" for r in timed))
    repeated = [r for r in log.results if r.get("repeat")]
    for result in repeated:
        stats = result["repeat"]
        lines.append(
            f"repeat {result['nodeid']}: {stats['passed']}/{stats['runs']} (rate {stats['rate']:.2f}, "
            f"95% CI {stats['ci_low']:.2f}-{stats['ci_high']:.2f}, pass^k {'yes' if stats['pass_all'] else 'no'})"
        )
    return lines
