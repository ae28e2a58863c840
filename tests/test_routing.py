"""Equations, templating and the edges a node offers."""

from __future__ import annotations

import pytest

from pytest_voicetest.engine.routing import evaluate_equation, offered_edges
from pytest_voicetest.engine.templating import missing_names, render
from pytest_voicetest.engine.tools import ToolMocker, arguments_match
from pytest_voicetest.importers import import_agent
from pytest_voicetest.models.graph import Equation
from pytest_voicetest.models.testcase import ToolMock

from .conftest import PLATFORMS

VARS = {"age": "42", "tier": "Premium", "dob_year": "1985", "expected_year": "1985", "notes": "likes cats", "empty": ""}


@pytest.mark.parametrize(
    ("left", "operator", "right", "expected"),
    [
        ("tier", "==", "premium", True),
        ("tier", "!=", "premium", False),
        ("age", ">", "9", True),  # numeric, not text, comparison
        ("age", "<=", "42", True),
        ("{{dob_year}}", "==", "{{expected_year}}", True),
        ("notes", "contains", "CATS", True),
        ("notes", "not_contains", "dogs", True),
        ("notes", "exists", "", True),
        ("empty", "exists", "", False),
        ("missing", "not_exist", "", True),
        ("missing", "==", "x", False),
        ("missing", "!=", "x", True),
        ("{{missing}}", "==", "{{missing}}", False),
    ],
)
def test_equations(left: str, operator: str, right: str, expected: bool) -> None:
    assert evaluate_equation(Equation(left=left, operator=operator, right=right), VARS) is expected


def test_templating_snippets_then_variables() -> None:
    text = "{%intro%} Call {{office_phone}}. {{unknown}} {%missing%}"
    rendered = render(text, {"name": "Acme", "office_phone": "555"}, {"intro": "Welcome to {{name}}."})
    assert rendered == "Welcome to Acme. Call 555. {{unknown}} {%missing%}"
    assert missing_names(text, {"office_phone": "555", "name": "x"}, {"intro": "hi"}) == ["{%missing%}", "{{unknown}}"]


def test_offered_edges_include_globals_and_go_back() -> None:
    flow = import_agent(PLATFORMS / "retell/sample_config_global_nodes.json")
    edges = offered_edges(flow, flow.nodes["customize_order"], None)
    assert [(e.target, e.kind) for e in edges] == [("confirm_order", "edge"), ("cancel_request", "global"), ("ask_about_specials", "global")]
    specials = offered_edges(flow, flow.nodes["ask_about_specials"], "customize_order")
    assert [(e.target, e.kind) for e in specials] == [("cancel_request", "global"), ("customize_order", "go_back"), ("customize_order", "go_back")]
    assert len({e.tool_name for e in specials}) == 3  # unique function names


def test_argument_matching() -> None:
    assert arguments_match({"day": "Tuesday", "n": 2}, {"day": "tuesday ", "n": "2.0", "extra": 1})
    assert arguments_match({"who": {"name": "Ann"}}, {"who": {"name": "ann", "age": 3}})
    assert not arguments_match({"day": "monday"}, {"day": "tuesday"})
    assert not arguments_match({"day": "monday"}, {})
    assert arguments_match({"ok": True}, {"ok": "true"})


def test_mocks_match_in_order_and_sequences_run_out() -> None:
    mocker = ToolMocker(
        [
            ToolMock(tool="slots", when={"day": "mon"}, returns=["9:00"]),
            ToolMock(tool="slots", sequence=[["10:00"], ["11:00"]]),
        ]
    )
    assert mocker.answer("slots", {"day": "mon"}).result == ["9:00"]
    assert mocker.answer("slots", {"day": "tue"}).result == ["10:00"]
    assert mocker.answer("slots", {"day": "tue"}).result == ["11:00"]
    exhausted = mocker.answer("slots", {"day": "tue"})
    assert not exhausted.mocked and "no tool mock answers slots" in exhausted.result["error"]
    assert mocker.answer("slots", {"day": "mon"}).result == ["9:00"]  # `returns` repeats
