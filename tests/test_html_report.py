"""The HTML report: structure checked with an HTML parser, offline-only assets, escaping,
redaction, the SVG layout, `voicetest report`, pytest-html extras, and 1,000 tests."""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from pytest_voicetest.cli.common import Parser
from pytest_voicetest.cli.report import add_parsers
from pytest_voicetest.exporters.view import graph_view
from pytest_voicetest.importers import import_agent
from pytest_voicetest.models.results import (
    CallOutcome,
    CheckResult,
    FileError,
    MetricResult,
    RepeatStats,
    Run,
    Sentiment,
    SweepOutcome,
    TestResult,
    ToolCallRecord,
    Turn,
    Usage,
)
from pytest_voicetest.report.html import failing_nodes, render_html, run_report, write_html
from pytest_voicetest.report.svg import heatmap, layout_graph, path_overlay, score_color

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "example_project"
AGENT = "agents/clinic_flow.json"
XSS = "<script>alert('x')</script>\"><img src=x onerror=alert(1)>"
SECRET = "hunter2-very-secret-value"
SENTIMENTS: tuple[tuple[int, Sentiment], ...] = ((1, "Positive"), (2, "Negative"))
BOOKING = ("greeting", "identify", "extract_identity", "lookup", "schedule", "goodbye")

# ------------------------------------------------------------------ a tiny DOM

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element] = []
        self.content: list[str | Element] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(part if isinstance(part, str) else part.text() for part in self.content)

    def iter(self) -> Iterator[Element]:
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag)
            and (cls is None or cls in e.classes)
            and all(e.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Element:
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag} class={cls} {attrs}>"
        return found[0]


class Tree(HTMLParser):
    """Parses a page into Elements; fails on a closing tag that closes nothing open."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = self.current = Element("#document", {}, None)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(element)
        self.current.content.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(element)
        self.current.content.append(element)

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        assert node is not None and node.parent is not None, f"</{tag}> closes nothing"
        self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.content.append(data)


def parse(page: str) -> Element:
    tree = Tree()
    tree.feed(page)
    tree.close()
    assert tree.current is tree.root, f"<{tree.current.tag}> left open"
    return tree.root


# ------------------------------------------------------------------ report data


def entry(result: TestResult, *, outcome: str = "", wall_ms: float = 12.0) -> dict[str, Any]:
    """A result as the JSON report stores it."""
    data = result.model_dump(mode="json")
    outcome = outcome or {"pass": "passed", "fail": "failed", "error": "failed", "skipped": "skipped"}[result.status]
    return {"nodeid": result.test_id, "file": result.test_id.split("::")[0], "outcome": outcome, "wall_ms": wall_ms, **data}


def call(test_id: str, status: str = "pass", path: tuple[str, ...] = ("greeting", "identify"), **fields: Any) -> TestResult:
    turns = []
    for node in path:
        turns += [
            Turn(role="agent", content=f"Agent speaking at {node}.", metadata={"node_id": node}),
            Turn(role="user", content=f"Caller answers {node}."),
        ]
    defaults: dict[str, Any] = {
        "transcript": turns,
        "nodes_visited": list(path),
        "latencies_ms": [float(100 * (i + 1)) for i in range(len(path))],
        "checks": [CheckResult(kind="includes", name="hello", passed=status == "pass", evidence="found in turn 0")],
        "end_reason": "agent_ended",
        "turn_count": len(path),
        "agent": AGENT,
        "models_used": {"agent": "openai/gpt-4o-mini", "simulator": "scripted", "judge": "openai/gpt-4o-mini"},
        "usage": Usage(calls=3, prompt_tokens=900, completion_tokens=60, cost_usd=0.0021, retries=1, scripted_calls=2),
    }
    return TestResult(test_id=test_id, test_name=test_id.split("::")[-1], status=status, **{**defaults, **fields})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def clinic_view() -> dict[str, Any]:
    return graph_view(import_agent(EXAMPLE / AGENT))


@pytest.fixture
def report(clinic_view: dict[str, Any]) -> dict[str, Any]:
    """Every kind of result: pass, path failure, error, skip, xfail, repeat, campaign, sweep, plain pytest."""
    failing = call(
        "test_paths.yaml::wrong turn",
        "fail",
        ("greeting", "hours"),
        checks=[
            CheckResult(kind="expect", name="visited ['greeting', 'identify', 'schedule']", passed=False, evidence="path was greeting -> hours"),
            CheckResult(kind="expect", name="not_visited hours", passed=False, evidence="path was greeting -> hours"),
            CheckResult(kind="includes", name="confirm", passed=True, evidence="found in turn 2"),
        ],
        metric_results=[MetricResult(metric="Agent was polite", passed=False, score=0.4, threshold=0.7, reasoning="curt answers", confidence=0.9)],
        tools_called=[ToolCallRecord(name="get_available_slots", arguments={"day": "tuesday"}, result={"slots": ["14:00"]}, node_id="hours")],
    )
    runs = [call("test_paths.yaml::flaky", status, ("greeting", "hours")) for status in ("pass", "fail", "pass")]
    repeat = call(
        "test_paths.yaml::flaky",
        "fail",
        ("greeting", "hours"),
        runs=runs,
        repeat=RepeatStats(runs=3, passed=2, rate=0.6667, pass_all=False, ci_low=0.2077, ci_high=0.9385, required=0.8, mode="point"),
    )
    campaign_calls = [
        call(
            f"scenario_clinic.yaml::Opening hours - call {n}",
            "pass",
            ("greeting", "hours"),
            campaign=CallOutcome(
                campaign="Launch",
                scenario="Opening hours",
                call=n,
                total_calls=2,
                passed=True,
                sentiment=sentiment,
                voice={"id": "maya", "provider": "eleven_labs"},
                reasoning="hours given",
            ),
        )
        for n, sentiment in SENTIMENTS
    ]
    sweep = TestResult(
        test_id="voicesim_clinic.yaml::crisis_at_10",
        test_name="crisis_at_10",
        status="fail",
        checks=[CheckResult(kind="threshold", name="min_score 0.9", passed=False, evidence="best score 0.700")],
        voicesim=SweepOutcome(run_id="run42", store=".voicetest/voicesim.db", scenario="crisis_at_10", best_score=0.7, best_point=[1] * 18),
    )
    results = [
        entry(
            call(
                "test_paths.yaml::books a checkup",
                "pass",
                BOOKING,
                tools_called=[
                    ToolCallRecord(name="book_appointment", arguments={"time": "14:00"}, result={"confirmation": "A-123"}, node_id="schedule")
                ],
            )
        ),
        entry(failing),
        entry(call("test_paths.yaml::script ran out", "error", ("greeting", "identify"), error_message="the script has no agent response #3")),
        entry(TestResult(test_id="test_paths.yaml::needs a model", test_name="needs a model", status="skipped", error_message="no model configured")),
        entry(call("test_paths.yaml::known bug", "fail", ("greeting",)), outcome="skipped"),
        entry(repeat),
        *(entry(c) for c in campaign_calls),
        entry(sweep),
        {
            "nodeid": "test_plain.py::test_math",
            "file": "test_plain.py",
            "outcome": "passed",
            "wall_ms": 1.0,
            "test_id": "test_plain.py::test_math",
            "test_name": "test_math",
            "status": "pass",
            "error_message": None,
        },
    ]
    return {
        "version": 2,
        "created_at": "2026-01-01T00:00:00Z",
        "exit_status": 1,
        "summary": {"wall_s": 3.5},
        "results": results,
        "file_errors": [{"file": "test_broken.yaml", "error": "test_broken.yaml:4: tests[0].bogus: unknown key 'bogus'"}],
        "agents": {AGENT: clinic_view},
        "campaigns": {
            "Launch": {
                "campaign": "Launch",
                "status": "Completed",
                "total_calls": 2,
                "finished_calls": 2,
                "progress": 100.0,
                "per_scenario": {"Opening hours": {"calls": 2, "passed": 2, "failed": 0, "errors": 0, "skipped": 0}},
                "analytics": {"Positive": 1, "Negative": 1, "Neutral": 0},
                "what_went_wrong": ["one caller was annoyed"],
                "suggestions_for_improvement": ["greet faster"],
            }
        },
        "voicesim": {
            "run42": {
                "name": "clinic sweep",
                "store": ".voicetest/voicesim.db",
                "status": "running",
                "evaluations": 12,
                "best_per_scenario": {"crisis_at_10": {"point": [1] * 18, "score": 0.7, "values": {}}},
                "penalty_frequency": [{"type": "dead_air", "evaluations": 6, "share": 0.5, "occurrences": 9, "total_cost": 1.25}],
                "config_diff": {
                    "best_point": [1] * 18,
                    "best_mean_score": 0.7,
                    "default_mean_score": 0.6,
                    "scenarios": 1,
                    "changes": [{"dimension": "tts_speed", "default": 1.0, "best": 1.1, "description": "Speaking rate."}],
                },
                "influence": [
                    {"dimension": "tts_speed", "spread": 0.3, "bin_means": {"0.9": 0.4, "1.0": 0.6, "1.1": 0.7}},
                    {"dimension": "filler_style", "spread": 0.1, "bin_means": {"none": 0.5, "minimal": 0.6}},
                ],
                "run_id": "run42",
            }
        },
    }


def article(page: Element, nodeid: str) -> Element:
    return page.find("article", "test", data_nodeid=nodeid)


# ------------------------------------------------------------------ the page


def test_every_result_and_file_error_is_on_the_page_with_its_status(report: dict[str, Any]) -> None:
    page = parse(render_html(report))
    shown = {a.attrs["data-nodeid"]: a.attrs["data-status"] for a in page.find_all("article", "test")}
    assert shown == {
        "test_paths.yaml::books a checkup": "pass",
        "test_paths.yaml::wrong turn": "fail",
        "test_paths.yaml::script ran out": "error",
        "test_paths.yaml::needs a model": "skipped",
        "test_paths.yaml::known bug": "xfail",
        "test_paths.yaml::flaky": "fail",
        "scenario_clinic.yaml::Opening hours - call 1": "pass",
        "scenario_clinic.yaml::Opening hours - call 2": "pass",
        "voicesim_clinic.yaml::crisis_at_10": "fail",
        "test_plain.py::test_math": "pass",
    }
    assert [e.attrs["data-file"] for e in page.find_all("li", "file-error")] == ["test_broken.yaml"]
    assert "unknown key 'bogus'" in page.find("li", "file-error").text()
    cards = {e.attrs["data-count"]: int(e.find("span", "n").text()) for e in page.find_all("li", "card") if "data-count" in e.attrs}
    assert cards == {"pass": 4, "fail": 3, "error": 1, "xfail": 1, "skipped": 1, "file_errors": 1}
    problems = [a.attrs["href"] for a in page.find("ul", "problems").find_all("a")]
    assert len(problems) == 4 and all(page.find_all(id=href[1:]) for href in problems)
    assert "needs a model" in page.find("article", "test", data_status="skipped").text() and "no model configured" in page.text()


def test_summary_shows_usage_split_by_kind_of_model_call_and_models(report: dict[str, Any]) -> None:
    page = parse(render_html(report))
    usage = {e.attrs["data-usage"]: " ".join(e.text().split()) for e in page.find_all("dd") if "data-usage" in e.attrs}
    calls = 7  # results made by call(): 3 real model calls, 1 retry, 2 scripted answers each; repeat runs count once
    assert usage["calls"] == f"{3 * calls} to real models ({calls} retries), {2 * calls} scripted, 0 replayed from cassettes"
    assert usage["tokens"] == f"{900 * calls} prompt + {60 * calls} completion"
    assert usage["cost"] == f"${0.0021 * calls:.4f}"
    assert usage["wall"] == "3.50 s"
    assert "openai/gpt-4o-mini" in usage["models"] and "simulator: scripted" in usage["models"]


def test_filter_controls_and_inline_script_only(report: dict[str, Any]) -> None:
    text = render_html(report)
    page = parse(text)
    form = page.find("form", id="controls")
    assert sorted(i.attrs["value"] for i in form.find_all("input", name="status")) == ["error", "fail", "pass", "skipped", "xfail"]
    assert form.find("input", id="search").attrs["type"] == "search"
    scripts = page.find_all("script")
    assert len(scripts) == 1 and "src" not in scripts[0].attrs and "data-search" not in scripts[0].text()
    assert all(a.attrs["data-search"] == a.attrs["data-nodeid"].lower() for a in page.find_all("article", "test"))


def test_page_needs_no_network_and_its_policy_allows_exactly_its_own_style_and_script(report: dict[str, Any]) -> None:
    text = render_html(report)
    page = parse(text)
    assert not re.search(r"https?://", text, re.IGNORECASE)
    assert not page.find_all("link") and not page.find_all("img") and not page.find_all("iframe")
    for element in page.iter():
        for name in ("src", "href", "xlink:href", "action"):
            value = element.attrs.get(name)
            assert value is None or value.startswith("#"), (element.tag, name, value)
    policy = page.find("meta", http_equiv="Content-Security-Policy").attrs["content"]
    assert "default-src 'none'" in policy and "unsafe" not in policy

    def digest(content: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(content.encode()).digest()).decode() + "'"

    assert f"style-src {digest(page.find('style').text())}" in policy
    assert f"script-src {digest(page.find('script').text())}" in policy


def test_with_js_off_everything_is_expanded(report: dict[str, Any]) -> None:
    page = parse(render_html(report))
    details = page.find_all("details")
    assert len(details) >= 13 and all("open" in d.attrs for d in details)
    assert page.find("html").attrs["class"] == "no-js"


def test_transcript_is_a_chat_with_node_labels_latency_and_tool_calls(report: dict[str, Any]) -> None:
    test = article(parse(render_html(report)), "test_paths.yaml::books a checkup")
    turns = test.find_all("li", "vt-turn")
    assert len(turns) == 12
    agent_turns = [t for t in turns if "vt-agent" in t.classes]
    assert [t.find("span", "vt-node").text().split(" ")[0] for t in agent_turns] == list(BOOKING)
    assert "Identify caller" in agent_turns[1].find("span", "vt-node").text()
    assert [t.find("span", "vt-lat").text() for t in agent_turns] == [f"{100 * i} ms" for i in range(1, 7)]
    assert {t.find("span", "vt-who").text() for t in turns if "vt-user" in t.classes} == {"caller"}
    tool = test.find("ol", "vt-tools")
    assert tool.find("code", "vt-tool").text() == "book_appointment"
    assert '"time": "14:00"' in tool.text() and '"confirmation": "A-123"' in tool.text()


def test_checks_and_metrics_show_their_evidence(report: dict[str, Any]) -> None:
    test = article(parse(render_html(report)), "test_paths.yaml::wrong turn")
    rows = test.find("table", "checks").find_all("tr")[1:]
    assert [("bad" in r.classes, r.find_all("td")[2].text()) for r in rows] == [
        (True, "path was greeting -> hours"),
        (True, "path was greeting -> hours"),
        (False, "found in turn 2"),
        (True, "score 0.40 (threshold 0.70, confidence 0.90): curt answers"),
    ]


def test_path_svg_highlights_the_visited_path_and_marks_the_failing_step(report: dict[str, Any]) -> None:
    page = parse(render_html(report))
    agent = page.find("section", id="agents")
    drawing = agent.find("g", id="vt-agent-0")
    assert {g.attrs["data-node"] for g in drawing.find_all("g", "node")} == {"*", *BOOKING, "not_found", "hours", "urgent", "nurse_transfer"}
    good = article(page, "test_paths.yaml::books a checkup").find("svg", "vt-graph")
    assert good.find("use").attrs["href"] == "#vt-agent-0"
    assert [g.attrs["data-node"] for g in good.find_all("g", "step")] == list(BOOKING)
    assert len(good.find_all("path", "taken")) == 5 and not good.find_all("g", "failing")
    bad = article(page, "test_paths.yaml::wrong turn").find("svg", "vt-graph")
    assert [g.attrs["data-node"] for g in bad.find_all("g", "failing")] == ["hours"]
    assert [g.attrs["data-node"] for g in bad.find_all("g", "missing")] == ["identify", "schedule"]
    errored = article(page, "test_paths.yaml::script ran out").find("svg", "vt-graph")
    assert [g.attrs["data-node"] for g in errored.find_all("g", "failing")] == ["identify"]
    assert not article(page, "test_plain.py::test_math").find_all("svg")


def test_repeat_runs_show_pass_rate_interval_and_each_run(report: dict[str, Any]) -> None:
    test = article(parse(render_html(report)), "test_paths.yaml::flaky")
    text = " ".join(test.find("div", "repeat").text().split())
    assert "2/3 runs passed: pass rate 67%, 95% interval 21%–94%; needs the rate ≥ 80%" in text
    interval = test.find("svg", "interval")
    assert float(interval.find("circle", "rate").attrs["cx"]) == pytest.approx(10 + 0.6667 * 300)
    assert float(interval.find("rect", "ci").attrs["width"]) == pytest.approx((0.9385 - 0.2077) * 300)
    assert [r.attrs["data-status"] for r in test.find_all("div", "run")] == ["pass", "fail", "pass"]
    assert all(r.find("svg", "vt-graph") for r in test.find_all("div", "run"))


def test_campaigns_show_per_scenario_counts_and_sentiment(report: dict[str, Any]) -> None:
    section = parse(render_html(report)).find("section", id="campaigns")
    row = section.find("table", "scenarios").find_all("tr")[1]
    assert [td.text() for td in row.find_all("td")[:6]] == ["Opening hours", "2", "2", "0", "0", "0"]
    assert [a.text() for a in row.find_all("a")] == ["call 1: Positive", "call 2: Negative"]
    sentiment = " ".join(section.find("p", "sentiments").text().split())
    assert "1 positive 0 neutral 1 negative" in sentiment
    assert "one caller was annoyed" in section.text() and "greet faster" in section.text()
    assert "Completed: 2/2 calls finished (progress 100%)" in section.text()


def test_voicesim_shows_heatmap_penalties_and_config_diff(report: dict[str, Any]) -> None:
    page = parse(render_html(report))
    sweep = page.find("article", "sweep", id="sweep-run42")
    cells = sweep.find("svg", "heatmap").find_all("g", "cell")
    assert [c.find_all("text")[1].text() for c in cells] == ["0.40", "0.60", "0.70", "0.50", "0.60"]
    assert [td.text() for td in sweep.find("table", "penalties").find_all("td")[:2]] == ["dead_air", "6"]
    assert [td.text() for td in sweep.find("table", "diff").find_all("td")[:3]] == ["tts_speed", "1.0", "1.1"]
    assert "Best mean score 0.700 over 1 scenarios, defaults 0.600" in sweep.text()
    assert sweep.find("a", "chip").attrs["href"] == "#" + article(page, "voicesim_clinic.yaml::crisis_at_10").attrs["id"]


def test_hostile_text_is_escaped(report: dict[str, Any]) -> None:
    hostile = call(f"test_x.yaml::{XSS}", "fail", ("greeting",), error_message=XSS, tools_called=[ToolCallRecord(name=XSS, arguments={"q": XSS})])
    hostile.transcript.append(Turn(role="user", content=XSS, metadata={"node_id": XSS}))
    report["results"].append(entry(hostile))
    report["campaigns"]["Launch"]["what_went_wrong"] = [XSS]
    text = render_html(report)
    page = parse(text)
    assert len(page.find_all("script")) == 1 and not page.find_all("img")
    assert "<script>alert" not in text and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in text
    test = article(page, f"test_x.yaml::{XSS}")
    assert test.find("div", "vt-bubble").text() != XSS and test.find_all("div", "vt-bubble")[-1].text() == XSS
    assert test.find("pre", "message").text() == XSS


def test_secrets_never_reach_the_page(report: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLINIC_API_KEY", SECRET)
    tool = ToolCallRecord(name="crm", arguments={"api_key": "plain-value-here", "q": f"use {SECRET}"})
    leaky = call("test_x.yaml::leaky", "pass", ("greeting",), tools_called=[tool])
    leaky.transcript.append(Turn(role="user", content=f"my key is sk-abcdefghijklmnopqrstuvwx and {SECRET}"))
    report["results"].append(entry(leaky))
    report["file_errors"].append({"file": "test_leak.yaml", "error": f"Authorization: Bearer abcdefghijklmnop123 {SECRET}"})
    text = render_html(report)
    for secret in (SECRET, "sk-abcdefghijklmnopqrstuvwx", "abcdefghijklmnop123", "plain-value-here"):
        assert secret not in text
    assert "my key is *** and ***" in text


@pytest.mark.parametrize("empty", [{}, {"results": [], "file_errors": [], "agents": {}, "campaigns": {}, "voicesim": {}}])
def test_an_empty_report_is_a_complete_page(empty: dict[str, Any]) -> None:
    page = parse(render_html(empty))
    assert not page.find_all("article", "test")
    assert page.find("p", "empty").text() == "No test ran."
    assert page.find("li", "card", data_count="fail").find("span", "n").text() == "0"
    assert not page.find_all(id="campaigns") and not page.find_all(id="voicesim") and not page.find_all(id="agents")


def test_a_thousand_tests_render_fast_and_small(report: dict[str, Any]) -> None:
    template = report["results"]
    report["results"] = [{**template[i % len(template)], "nodeid": f"test_many.yaml::case {i}"} for i in range(1000)]
    started = time.perf_counter()
    text = render_html(report)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"{elapsed:.1f} s"
    assert len(text) < 1000 * 8_000, f"{len(text)} bytes"
    page = parse(text)
    assert len(page.find_all("article", "test")) == 1000
    assert len(page.find_all("g", "node")) == 11  # each agent drawn once, referenced by every call


def test_write_html_replaces_the_file_atomically(report: dict[str, Any], tmp_path: Path) -> None:
    target = tmp_path / "out" / "report.html"
    write_html(report, target)
    first = target.read_text()
    report["results"] = report["results"][:1]
    write_html(report, target)
    assert target.read_text() != first and len(parse(target.read_text()).find_all("article", "test")) == 1
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]


def test_a_run_from_the_api_renders_like_a_report(report: dict[str, Any], clinic_view: dict[str, Any]) -> None:
    run = Run(
        run_id="r1",
        started_at="2026-01-01T00:00:00+00:00",
        completed_at="2026-01-01T00:00:02.500000+00:00",
        results=[call("test_a.yaml::one", "pass"), call("test_a.yaml::two", "fail", ("greeting", "hours"))],
        errors=[FileError(file="test_b.yaml", error="bad key")],
        agents={AGENT: clinic_view},
    )
    data = run_report(run)
    assert data["exit_status"] == 1 and data["summary"]["wall_s"] == 2.5
    page = parse(render_html(data))
    assert [a.attrs["data-nodeid"] for a in page.find_all("article", "test")] == ["test_a.yaml::one", "test_a.yaml::two"]
    assert page.find_all("li", "file-error") and article(page, "test_a.yaml::two").find("g", "failing")


# ------------------------------------------------------------------ geometry


def test_layout_is_layered_by_depth_from_the_entry() -> None:
    view = {
        "entry": "a",
        "nodes": [{"id": n, "type": "conversation", "name": n.upper()} for n in "abcdez"],
        "edges": [
            {"source": "a", "target": "b", "label": "", "kind": "llm_prompt"},
            {"source": "a", "target": "c", "label": "", "kind": "llm_prompt"},
            {"source": "b", "target": "d", "label": "", "kind": "equation"},
            {"source": "d", "target": "a", "label": "", "kind": "always"},
            {"source": "*", "target": "e", "label": "urgent", "kind": "global"},
            {"source": "a", "target": "ghost", "label": "", "kind": "always"},
        ],
    }
    layout = layout_graph(view)
    assert layout.layers == {"a": 0, "*": 0, "b": 1, "c": 1, "e": 1, "d": 2, "z": 3}
    ys = {node: box.y for node, box in layout.boxes.items()}
    assert ys["a"] == ys["*"] < ys["b"] == ys["c"] == ys["e"] < ys["d"] < ys["z"]
    assert all(box.x >= 0 and box.x + box.w <= layout.width and box.y + box.h <= layout.height for box in layout.boxes.values())
    assert len(layout.edges) == 5  # the edge to an unknown node is not drawn
    overlay = path_overlay(layout, ["a", "b", "d", "a", "c", "e", "nowhere"], failing=["e"], missing=["z"])
    assert [(s.box.id, s.label) for s in overlay.steps] == [("a", "1,4"), ("b", "2"), ("d", "3"), ("c", "5"), ("e", "6")]
    assert len(overlay.edges) == 4 and len(overlay.jumps) == 1  # c -> e has no edge: a jump
    assert [b.id for b in overlay.failing] == ["e"] and [b.id for b in overlay.missing] == ["z"] and overlay.unknown == ["nowhere"]


def test_failing_nodes_come_from_failed_path_checks_else_the_last_node() -> None:
    def result(status: str, checks: list[tuple[str, bool]]) -> dict[str, Any]:
        return {"status": status, "nodes_visited": ["a", "b", "c"], "checks": [{"kind": "expect", "name": n, "passed": p} for n, p in checks]}

    assert failing_nodes(result("fail", [("not_visited b", False), ("visited ['a', 'x', 'c']", False)])) == (["b"], ["x"])
    assert failing_nodes(result("fail", [("final_node z", False)])) == (["c"], [])
    assert failing_nodes(result("error", [])) == (["c"], [])
    assert failing_nodes(result("pass", [("not_visited q", True)])) == ([], [])


def test_heatmap_cells_and_colours() -> None:
    assert heatmap([]) is None and heatmap([{"dimension": "x", "bin_means": {}}]) is None
    chart = heatmap(
        [{"dimension": "d1", "spread": 0.5, "bin_means": {"a": 0.0, "b": 1.0}}, {"dimension": "d2", "spread": 0.1, "bin_means": {"c": 0.5}}]
    )
    assert chart is not None and [(c.bin, c.color) for c in chart.cells] == [("a", "#d73027"), ("b", "#1a9850"), ("c", "#fee08b")]
    assert chart.cells[2].y > chart.cells[0].y and chart.width >= max(c.x for c in chart.cells) + chart.cell_w
    assert score_color(-1) == score_color(0) and score_color(2) == score_color(1)


# ------------------------------------------------------------------ voicetest report


def cli(*args: str) -> int:
    parser = Parser(prog="voicetest")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def command(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--json", action="store_true")
        cmd.set_defaults(handler=handler)
        return cmd

    add_parsers(command)
    parsed = parser.parse_args(list(args))
    from pytest_voicetest.errors import VoicetestError

    try:
        return int(parsed.handler(parsed))
    except VoicetestError as exc:
        print(f"voicetest: error: {exc}", file=sys.stderr)
        return 2


def test_report_command_renders_a_saved_report(report: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    saved = tmp_path / "r.json"
    saved.write_text(json.dumps(report))
    assert cli("report", str(saved), "-o", str(tmp_path / "r.html")) == 0
    assert capsys.readouterr().out.strip() == f"wrote {tmp_path / 'r.html'} (10 tests)"
    assert len(parse((tmp_path / "r.html").read_text()).find_all("article", "test")) == 10


@pytest.mark.parametrize(
    ("content", "output", "message"),
    [
        (None, "out.html", "missing.json: no such file Fix: give the JSON file written by --vt-report"),
        ("{\n  'results': []\n}", "out.html", "r.json:2: is not valid JSON (Expecting property name enclosed in double quotes)"),
        ('{"results": {}}', "out.html", "r.json: is not a voicetest JSON report (no 'results' list)"),
        ('{"results": [1]}', "out.html", "r.json: results: is not a voicetest JSON report (a result is not an object)"),
        ('{"results": []}', "nowhere/out.html", "does not exist Fix: create it first"),
        ('{"results": []}', ".", "is a folder"),
    ],
)
def test_report_command_errors_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, output: str, message: str
) -> None:
    saved = tmp_path / ("missing.json" if content is None else "r.json")
    if content is not None:
        saved.write_text(content)
    assert cli("report", str(saved), "-o", str(tmp_path / output)) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("voicetest: error: ") and message in error


# ------------------------------------------------------------------ pytest-html extras


def test_pytest_html_report_carries_each_calls_transcript_and_path(project: pytest.Pytester) -> None:
    pytest.importorskip("pytest_html")
    shutil.copy(EXAMPLE / AGENT, project.path / "agents" / "clinic_flow.json")
    project.makeconftest("from pytest_voicetest.plugin.html_extras import register\n\ndef pytest_configure(config):\n    register(config)\n")
    project.makefile(
        ".yaml",
        test_extras="""
agent: agents/clinic_flow.json
tests:
  - name: hours
    script:
      - agent: Hello there, Riverside clinic.
      - user: When are you open?
      - goto: hours
      - agent: Eight to six.
      - {hangup: true}
    expect: {visited: [greeting, hours], final_node: goodbye}
""",
    )
    run = project.runpytest("--html", "out.html", "--self-contained-html")
    run.assert_outcomes(failed=1)
    page = (project.path / "out.html").read_text()
    blob = parse(page).find(id="data-container").attrs["data-jsonblob"]
    [test] = [t for tests in json.loads(blob)["tests"].values() for t in tests if t["result"] == "Failed"]
    [extra] = [e for e in test["extras"] if e["format_type"] == "html"]
    fragment = parse(extra["content"])
    turns = [t.find("div", "vt-bubble").text() for t in fragment.find_all("li", "vt-turn")]
    assert turns == ["Hello there, Riverside clinic.", "When are you open?", "Eight to six."]
    svg = fragment.find("svg", "vt-graph")
    assert svg.find("g", id="vt-agent-0") and [g.attrs["data-node"] for g in svg.find_all("g", "step")] == ["greeting", "hours"]
    assert [g.attrs["data-node"] for g in svg.find_all("g", "failing")] == ["hours"]


def test_without_html_option_no_extras_are_made(project: pytest.Pytester) -> None:
    pytest.importorskip("pytest_html")
    project.makeconftest(
        "from pytest_voicetest.plugin.html_extras import PLUGIN_NAME, register\n\n"
        "def pytest_configure(config):\n    register(config)\n    print('extras:', config.pluginmanager.has_plugin(PLUGIN_NAME))\n"
    )
    project.makepyfile(test_x="def test_x():\n    pass\n")
    project.runpytest("-s").stdout.fnmatch_lines(["extras: False"])


# ------------------------------------------------------------------ the example project


def run_example(folder: Path) -> dict[str, Any]:
    """Run a copy of the example project offline and return its JSON report."""
    project = folder / "example_project"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".voicetest", "reports", "__pycache__", ".pytest_cache"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOICETEST_", "PYTEST_", "HYPOTHESIS"))}
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--vt-report", "report.json"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return json.loads((project / "report.json").read_text())


@pytest.mark.slow
def test_the_example_projects_report_shows_every_test(tmp_path: Path) -> None:
    report = run_example(tmp_path)
    page = parse(render_html(report))
    assert {a.attrs["data-nodeid"] for a in page.find_all("article", "test")} == {r["nodeid"] for r in report["results"]}
    assert len(report["results"]) > 30 and page.find_all("article", "campaign") and page.find_all("svg", "heatmap")
    assert len(page.find_all("svg", "vt-graph")) >= 10
