"""Under pytest-xdist: the same outcomes as a serial run, one merged JSON report, per-test JUnit data."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

FILES = {
    "test_routing": """
agent: agents/retell/sample_config_logic_split.json
tests:
  - name: premium
    dynamic_variables: {account_type: premium}
    script: &s [{agent: Hi}, {user: "123"}, {goto: router}, {agent: Welcome}, {hangup: true}]
    expect: {final_node: premium_support}
  - name: standard expected premium
    dynamic_variables: {account_type: standard}
    script: *s
    expect: {final_node: premium_support}
  - name: no edge for gold
    dynamic_variables: {account_type: gold}
    script: *s
    includes: [Hi]
""",
    "test_rules": """
agent: agents/retell/sample_config.json
tests:
  - {name: greets, script: [{agent: Hello and welcome}], includes: [welcome]}
  - {name: says goodbye, script: [{agent: Hello and welcome}], includes: [goodbye]}
  - {name: unscripted, user_prompt: hi, metrics: [polite]}
  - {name: skipped by mark, script: [{agent: Hi}], includes: [Hi], marks: [{skip: later}]}
""",
    "test_broken": "agent: agents/retell/sample_config.json\ntests:\n  - {name: t, includez: [x]}\n",
}


def outcomes(report: dict) -> dict[str, str]:
    return {r["nodeid"]: r["status"] for r in report["results"]}


def test_xdist_matches_serial(project: pytest.Pytester) -> None:
    for name, body in FILES.items():
        project.makefile(".yaml", **{name: body})
    serial = project.runpytest("--vt-report", "serial.json", "--junitxml", "serial.xml")
    parallel = project.runpytest("-n", "2", "--vt-report", "parallel.json", "--junitxml", "parallel.xml")
    expected = {"passed": 2, "failed": 3, "skipped": 2, "errors": 1}
    serial.assert_outcomes(**expected)
    parallel.assert_outcomes(**expected)
    assert serial.ret == parallel.ret == pytest.ExitCode.TESTS_FAILED
    serial_report = json.loads((project.path / "serial.json").read_text())
    parallel_report = json.loads((project.path / "parallel.json").read_text())
    assert outcomes(parallel_report) == outcomes(serial_report)
    assert len(parallel_report["results"]) == 7  # the skip-marked test too
    assert outcomes(parallel_report)["test_rules.yaml::skipped by mark"] == "skipped"
    assert [e["file"] for e in parallel_report["file_errors"]] == ["test_broken.yaml"]
    assert parallel_report["summary"]["file_errors"] == serial_report["summary"]["file_errors"] == 1
    assert parallel_report["summary"]["by_file"] == serial_report["summary"]["by_file"]
    for path in ("serial.xml", "parallel.xml"):
        cases = {c.get("name"): c for c in ET.parse(project.path / path).getroot().iter("testcase")}
        properties = {p.get("name"): p.get("value") for p in cases["premium"].iter("property")}
        assert properties["voicetest.status"] == "pass"
        assert properties["voicetest.nodes_visited"] == "greeting -> router -> premium_support"
        assert "[premium_support] agent: Welcome" in cases["premium"].find("system-out").text
        assert cases["says goodbye"].find("failure") is not None
