"""The HTML report: one self-contained page of every call, from the JSON report's data.

`render_html(report)` takes the body of the JSON report (`report.json.ResultLog.body`)
and renders the Jinja2 templates beside this module: the run summary, every test with
its checks, transcript, tool calls, latency and path over the agent graph (SVG), repeat
runs, campaigns and VoiceSim sweeps. CSS and JS are inlined and allowed by hash in a
Content-Security-Policy that forbids every network request; the page is complete with
JS off (everything expanded), and the JS only filters, searches and folds.

Every string is autoescaped, and the data is redacted again (`redact_data`) before use.
Work is linear in the number of results: each agent graph is laid out once and drawn
once; a call's graph is a `<use>` of that drawing with its own path on top.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from ..models.results import Run
from ..redact import redact_data
from .svg import GraphLayout, Heatmap, Overlay, heatmap, layout_graph, path_overlay

STATUSES = ("fail", "error", "xfail", "pass", "skipped")
EXIT_STATUS = {0: "all passed", 1: "tests failed", 2: "interrupted", 3: "internal error", 4: "usage error", 5: "no test ran"}
USAGE_KEYS = ("calls", "scripted_calls", "replayed_calls", "prompt_tokens", "completion_tokens", "cost_usd", "retries")
METRIC_DEFAULTS: dict[str, Any] = {"metric": "", "passed": False, "score": 0.0, "threshold": 0.0, "reasoning": "", "confidence": None, "error": None}
ROLE_NAMES = {"agent": "agent", "user": "caller", "tool": "tool"}


# ------------------------------------------------------------------ view model


@dataclass
class TurnView:
    role: str
    who: str
    content: str
    node: str
    node_name: str
    at_ms: float
    latency_ms: float | None


@dataclass
class ToolView:
    name: str
    node: str
    arguments: str
    result: str
    mocked: bool


@dataclass
class GraphView:
    """A call's path drawn over its agent's shared layout (`ref` is that drawing's id)."""

    ref: str
    agent: str
    layout: GraphLayout
    overlay: Overlay


@dataclass
class CallView:
    """One test (or one repeat run of it) as the templates show it."""

    anchor: str
    nodeid: str
    name: str
    file: str
    status: str
    error: str
    xfail: str
    wall_ms: float | None
    end_reason: str
    turn_count: int
    checks: list[dict[str, Any]]
    metrics: list[dict[str, Any]]
    violations: list[str]
    turns: list[TurnView]
    latencies: list[float]
    latency_on_turns: bool
    tools: list[ToolView]
    variables: list[tuple[str, str]]
    path: list[str]
    graph: GraphView | None
    repeat: dict[str, Any] | None
    runs: list[CallView]
    campaign: dict[str, Any] | None
    voicesim: dict[str, Any] | None
    models: list[tuple[str, str]]
    overrides: list[dict[str, Any]]
    usage: dict[str, Any]
    is_call: bool

    @property
    def failed_checks(self) -> int:
        return sum(not c["passed"] for c in self.checks) + sum(not m["passed"] for m in self.metrics)


@dataclass
class AgentView:
    key: str
    ref: str
    source_type: str
    entry: str
    layout: GraphLayout
    tests: int = 0


@dataclass
class FileGroup:
    file: str
    calls: list[CallView] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)


def display_status(result: Mapping[str, Any]) -> str:
    """pass, fail, error, skipped, or xfail for a failure that was expected."""
    status = str(result.get("status") or "error")
    if status == "fail" and (result.get("xfail") or result.get("outcome") == "skipped"):
        return "xfail"
    return status if status in STATUSES else "error"


def failing_nodes(result: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(failing, missing) nodes of a call: nodes a failed `expect` names or the call ended
    at by mistake, else the node where a failing call ended; expected nodes never reached."""
    visited = list(result.get("nodes_visited") or [])
    failing: list[str] = []
    missing: list[str] = []
    for check in result.get("checks") or []:
        if check.get("passed") or check.get("kind") != "expect":
            continue
        name = str(check.get("name") or "")
        if name.startswith("not_visited "):
            failing.append(name.removeprefix("not_visited "))
        elif name.startswith("final_node ") and visited:
            failing.append(visited[-1])
        elif name.startswith("visited "):
            try:
                wanted = ast.literal_eval(name.removeprefix("visited "))
            except (ValueError, SyntaxError):
                continue
            missing += [str(node) for node in wanted if node not in visited]
    if not failing and visited and result.get("status") in ("fail", "error"):
        failing.append(visited[-1])
    return failing, missing


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, indent=1, sort_keys=True, ensure_ascii=False, default=str)


class _Builder:
    """Turns the report's data into the views, in one pass over the results."""

    def __init__(self, report: Mapping[str, Any]) -> None:
        self.report = report
        self.agents: dict[str, AgentView] = {}
        for index, (key, view) in enumerate((report.get("agents") or {}).items()):
            self.agents[key] = AgentView(
                key, f"vt-agent-{index}", str(view.get("source_type") or ""), str(view.get("entry") or ""), layout_graph(view)
            )
        self.names = {
            key: {str(n["id"]): str(n.get("name") or n["id"]) for n in view.get("nodes", [])} for key, view in (report.get("agents") or {}).items()
        }

    def call(self, result: Mapping[str, Any], anchor: str, nodeid: str, name: str | None = None) -> CallView:
        agent_key = result.get("agent")
        names = self.names.get(agent_key or "", {})
        turns_data = result.get("transcript") or []
        latencies = [float(x) for x in result.get("latencies_ms") or []]
        agent_turns = sum(turn.get("role") == "agent" for turn in turns_data)
        on_turns = bool(latencies) and len(latencies) == agent_turns
        replies = iter(latencies if on_turns else [])
        turns = []
        for turn in turns_data:
            role = str(turn.get("role") or "")
            node = str((turn.get("metadata") or {}).get("node_id") or "")
            turns.append(
                TurnView(
                    role,
                    ROLE_NAMES.get(role, role),
                    str(turn.get("content") or ""),
                    node,
                    names.get(node, ""),
                    float(turn.get("timestamp") or 0.0),
                    next(replies, None) if role == "agent" else None,
                )
            )
        path = [str(node) for node in result.get("nodes_visited") or []]
        graph = None
        agent = self.agents.get(agent_key or "")
        if agent is not None and path:
            failing, missing = failing_nodes(result)
            graph = GraphView(agent.ref, agent.key, agent.layout, path_overlay(agent.layout, path, failing, missing))
        usage = {key: (result.get("usage") or {}).get(key, 0) for key in USAGE_KEYS}
        return CallView(
            anchor=anchor,
            nodeid=nodeid,
            name=name or str(result.get("test_name") or nodeid.split("::")[-1]),
            file=nodeid.split("::")[0],
            status=display_status(result),
            error=str(result.get("error_message") or ""),
            xfail=str(result.get("xfail") or ""),
            wall_ms=result.get("wall_ms"),
            end_reason=str(result.get("end_reason") or ""),
            turn_count=int(result.get("turn_count") or 0),
            checks=[
                {
                    "kind": str(c.get("kind") or ""),
                    "name": str(c.get("name") or ""),
                    "passed": bool(c.get("passed")),
                    "evidence": str(c.get("evidence") or ""),
                }
                for c in result.get("checks") or []
            ],
            metrics=[{**METRIC_DEFAULTS, **m} for m in result.get("metric_results") or []],
            violations=[str(v) for v in result.get("constraint_violations") or []],
            turns=turns,
            latencies=latencies,
            latency_on_turns=on_turns,
            tools=[
                ToolView(
                    str(t.get("name")),
                    str(t.get("node_id") or ""),
                    _json(t.get("arguments") or {}),
                    _json(t.get("result")),
                    bool(t.get("mocked", True)),
                )
                for t in result.get("tools_called") or []
            ],
            variables=[(str(k), str(v)) for k, v in (result.get("variables") or {}).items()],
            path=path,
            graph=graph,
            repeat=result.get("repeat"),
            runs=[
                self.call({**run, "agent": run.get("agent") or agent_key}, f"{anchor}-run{i}", f"{nodeid} run {i}", f"run {i}")
                for i, run in enumerate(result.get("runs") or [], start=1)
            ],
            campaign=result.get("campaign"),
            voicesim=result.get("voicesim"),
            models=[(str(role), str(model)) for role, model in (result.get("models_used") or {}).items() if model],
            overrides=list(result.get("model_overrides") or []),
            usage=usage,
            is_call="transcript" in result or "checks" in result,
        )


def _campaigns(report: Mapping[str, Any], calls: Iterable[CallView]) -> list[dict[str, Any]]:
    by_scenario: dict[tuple[str, str], list[CallView]] = {}
    for call in calls:
        if call.campaign:
            by_scenario.setdefault((str(call.campaign.get("campaign")), str(call.campaign.get("scenario"))), []).append(call)
    shown = []
    for name, summary in (report.get("campaigns") or {}).items():
        wrong, suggestions = summary.get("what_went_wrong") or [], summary.get("suggestions_for_improvement") or []
        shown.append(
            {
                "name": name,
                "summary": summary,
                "scenarios": [
                    {"name": scenario, **row, "calls_shown": by_scenario.get((name, scenario), [])}
                    for scenario, row in (summary.get("per_scenario") or {}).items()
                ],
                "analytics": summary.get("analytics") or {},
                "what_went_wrong": [wrong] if isinstance(wrong, str) else list(wrong),
                "suggestions": [suggestions] if isinstance(suggestions, str) else list(suggestions),
            }
        )
    return shown


def _sweeps(report: Mapping[str, Any], calls: Iterable[CallView]) -> list[dict[str, Any]]:
    tests: dict[str, list[CallView]] = {}
    for call in calls:
        if call.voicesim:
            tests.setdefault(str(call.voicesim.get("run_id")), []).append(call)
    shown = []
    for run_id, summary in (report.get("voicesim") or {}).items():
        diff = summary.get("config_diff") or {}
        chart: Heatmap | None = heatmap(summary.get("influence") or [])
        shown.append({"run_id": run_id, "summary": summary, "diff": diff, "heatmap": chart, "tests": tests.get(run_id, [])})
    return shown


def build_page(report: Mapping[str, Any]) -> dict[str, Any]:
    """Everything the page shows, computed once from the (redacted) report data."""
    builder = _Builder(report)
    groups: dict[str, FileGroup] = {}
    counts: Counter[str] = Counter()
    usage: Counter[str] = Counter()
    models: dict[str, Counter[str]] = {}
    calls = []
    for index, result in enumerate(report.get("results") or []):
        nodeid = str(result.get("nodeid") or result.get("test_id") or f"result {index}")
        call = builder.call(result, f"t{index}", nodeid)
        calls.append(call)
        counts[call.status] += 1
        group = groups.setdefault(call.file, FileGroup(call.file))
        group.calls.append(call)
        group.counts[call.status] += 1
        usage.update({key: value for key, value in call.usage.items() if value})
        for role, model in call.models:
            models.setdefault(role, Counter())[model] += 1
        agent = builder.agents.get(result.get("agent") or "")
        if agent is not None:
            agent.tests += 1
    summary = report.get("summary") or {}
    exit_status = report.get("exit_status")
    file_errors = [{"file": str(e.get("file")), "error": str(e.get("error"))} for e in report.get("file_errors") or []]
    return {
        "created_at": str(report.get("created_at") or ""),
        "exit_status": exit_status,
        "verdict": EXIT_STATUS.get(exit_status, "") if isinstance(exit_status, int) else "",
        "counts": {status: counts[status] for status in STATUSES},
        "total": len(calls),
        "file_errors": file_errors,
        "usage": {key: usage[key] for key in USAGE_KEYS},
        "wall_s": summary.get("wall_s"),
        "models": {role: sorted(found.items(), key=lambda item: (-item[1], item[0])) for role, found in sorted(models.items())},
        "groups": list(groups.values()),
        "problems": [c for c in calls if c.status in ("fail", "error")],
        "agents": list(builder.agents.values()),
        "campaigns": _campaigns(report, calls),
        "sweeps": _sweeps(report, calls),
    }


# ------------------------------------------------------------------ rendering


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("pytest_voicetest.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["ms"] = lambda value: f"{float(value):,.0f} ms"
    environment.filters["pct"] = lambda value: f"{float(value) * 100:.0f}%"
    environment.filters["score"] = lambda value: "-" if value is None else f"{float(value):.3f}"
    return environment


@cache
def _asset(name: str) -> str:
    return (resources.files("pytest_voicetest.report") / "templates" / name).read_text(encoding="utf-8")


def _digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


def render_html(report: Mapping[str, Any]) -> str:
    """The self-contained HTML page of a JSON report body (see `report.json.ResultLog.body`)."""
    from markupsafe import Markup

    page = build_page(redact_data(dict(report)))
    css, js = _asset("report.css") + _asset("chat.css"), _asset("report.js")
    policy = f"default-src 'none'; style-src {_digest(css)}; script-src {_digest(js)}; img-src data:; base-uri 'none'; form-action 'none'"
    page_html: str = _environment().get_template("report.html.j2").render(page=page, css=Markup(css), js=Markup(js), policy=policy)
    return page_html


def write_html(report: Mapping[str, Any], path: Path) -> Path:
    """Render `report` to `path` atomically (a reader never sees half a page)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary.write_text(render_html(report), encoding="utf-8")
    temporary.replace(path)
    return path


def call_fragment(result: Mapping[str, Any], agents: Mapping[str, Any] | None = None) -> str:
    """One call's transcript and path SVG as an HTML fragment (for pytest-html's extras)."""
    from markupsafe import Markup

    clean = redact_data({"results": [dict(result)], "agents": dict(agents or {})})
    call = _Builder(clean).call(clean["results"][0], "vt-extra", str(result.get("test_id") or ""))
    fragment: str = _environment().get_template("fragment.html.j2").render(call=call, css=Markup(_asset("chat.css")))
    return fragment


def run_report(run: Run) -> dict[str, Any]:
    """The JSON report shape of a `Run` (`voicetest run`, the API), for `render_html`."""
    results = []
    for result in run.results:
        data = result.model_dump(mode="json")
        results.append({"nodeid": result.test_id, "file": result.test_id.split("::")[0], "wall_ms": result.duration_ms, **data})
    wall = None
    if run.completed_at:
        wall = round((datetime.fromisoformat(run.completed_at) - datetime.fromisoformat(run.started_at)).total_seconds(), 3)
    return {
        "created_at": run.started_at,
        "exit_status": 0 if run.ok else 1,
        "summary": {"wall_s": wall},
        "results": results,
        "file_errors": [error.model_dump() for error in run.errors],
        "agents": run.agents,
        "campaigns": run.campaigns,
        "voicesim": run.voicesim,
    }
