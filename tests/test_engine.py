"""The conversation engine with scripted models: routing, tools, extraction, globals, limits."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_voicetest.api import run_test
from pytest_voicetest.importers import import_agent
from pytest_voicetest.models.graph import AgentGraph

from .conftest import OWN, PLATFORMS


def graph(name: str) -> AgentGraph:
    return import_agent(PLATFORMS / name)


def run(case: dict[str, Any], agent: AgentGraph, **kwargs: Any):
    return run_test({"name": "t", **case}, agent, project=PLATFORMS, **kwargs)


def test_logic_node_routes_by_equation() -> None:
    flow = graph("retell/sample_config_logic_split.json")
    script = [
        {"agent": "Hi! What's your account number?"},
        {"user": "It's 12345."},
        {"goto": "router"},
        {"agent": "Welcome to support."},
        {"hangup": True},
    ]
    premium = run({"dynamic_variables": {"account_type": "premium"}, "script": script, "expect": {"visited": ["router", "premium_support"]}}, flow)
    assert premium.status == "pass", premium.failures()
    assert premium.nodes_visited == ["greeting", "router", "premium_support"]
    assert premium.transcript[-1].metadata["node_id"] == "premium_support"
    standard = run({"dynamic_variables": {"account_type": "standard"}, "script": script, "expect": {"visited": ["router", "premium_support"]}}, flow)
    assert standard.status == "fail"
    assert standard.nodes_visited == ["greeting", "router", "standard_support"]
    assert "path was greeting -> router -> standard_support" in standard.failures()[0]


def test_logic_node_without_matching_edge_is_an_error() -> None:
    flow = graph("retell/sample_config_logic_split.json")
    result = run(
        {"dynamic_variables": {"account_type": "gold"}, "script": [{"agent": "Hi"}, {"user": "1"}, {"goto": "router"}], "includes": ["x"]}, flow
    )
    assert result.status == "error"
    assert "logic node 'router' has no edge that applies" in result.error_message
    assert result.end_reason == "error"


DOB_SCRIPT = [
    {"agent": "Please tell me your date of birth."},
    {"user": "January 15th, 1985."},
    {"goto": "extract_dob", "extract": {"dob_month": "1", "dob_day": "15", "dob_year": "1985"}},
    {"agent": "Thanks, you are verified."},
    {"hangup": True},
]


def test_extract_node_fills_variables_and_routes() -> None:
    flow = graph("retell/sample_config_extract_variables.json")
    expected = {"expected_month": "1", "expected_day": "15", "expected_year": "1985"}
    result = run(
        {"dynamic_variables": expected, "script": DOB_SCRIPT, "expect": {"final_node": "dob_match", "variables": {"dob_year": "1985"}}}, flow
    )
    assert result.status == "pass", result.failures()
    assert result.nodes_visited == ["ask_dob", "extract_dob", "dob_match"]
    assert result.variables["dob_month"] == "1"
    wrong = run({"dynamic_variables": expected | {"expected_year": "1990"}, "script": DOB_SCRIPT, "expect": {"final_node": "dob_match"}}, flow)
    assert wrong.nodes_visited[-1] == "dob_retry"
    assert wrong.status == "fail"


def test_function_node_calls_the_mocked_tool_with_generated_arguments() -> None:
    flow = graph("retell/sample_config_function_node.json")
    script = [
        {"agent": "What pizza would you like?"},
        {"user": "A large margherita."},
        {"goto": "submit_order", "function_args": {"pizza": "margherita", "size": "large"}},
        {"agent": "Your pizza is in, ready in 20 minutes."},
        {"hangup": True},
    ]
    case = {
        "script": script,
        "tool_mocks": [
            {"tool": "submit-order-to-kitchen", "when": {"pizza": "pepperoni"}, "returns": {"ticket": "WRONG"}},
            {"tool": "submit-order-to-kitchen", "when": {"pizza": "Margherita"}, "returns": {"ticket": "K-7"}},
        ],
        "expect": {
            "visited": ["greeting", "submit_order", "confirm_order"],
            "tools_called": [{"name": "submit-order-to-kitchen", "arguments": {"size": "large"}}],
        },
    }
    result = run(case, flow)
    assert result.status == "pass", result.failures()
    [call] = result.tools_called
    assert (call.arguments, call.result, call.node_id, call.mocked) == (
        {"pizza": "margherita", "size": "large"},
        {"ticket": "K-7"},
        "submit_order",
        True,
    )
    wrong_args = run(case | {"expect": {"tools_called": [{"name": "submit-order-to-kitchen", "arguments": {"size": "small"}}]}}, flow)
    assert wrong_args.status == "fail"
    assert 'called submit-order-to-kitchen({"pizza": "margherita", "size": "large"})' in wrong_args.failures()[0]


def test_unmocked_tool_is_recorded_and_answered_with_an_error() -> None:
    flow = graph("retell/sample_config_complex.json")
    script = [
        {"agent": "Thank you for calling. How may I help?"},
        {"user": "I need an appointment."},
        {"goto": "verify_identity"},
        {"tools": [{"name": "lookup_patient", "arguments": {"full_name": "Ann Lee", "date_of_birth": "1990-02-03"}}]},
        {"agent": "I could not find you."},
        {"hangup": True},
    ]
    result = run({"script": script, "includes": ["could not"]}, flow)
    assert result.status == "pass"
    [call] = result.tools_called
    assert call.mocked is False
    assert call.result == {"error": 'no tool mock answers lookup_patient({"date_of_birth": "1990-02-03", "full_name": "Ann Lee"})'}
    assert any("unmocked tool call lookup_patient" in v for v in result.constraint_violations)


def test_tool_mock_sequence_then_exhausted() -> None:
    flow = graph("retell/sample_config_complex.json")
    slots = {"tools": [{"name": "get_available_slots", "arguments": {"start_date": "2026-01-01", "end_date": "2026-01-07"}}]}
    script = [
        {"agent": "Hello"},
        {"user": "Slots please"},
        slots,
        {"agent": "First."},
        {"user": "Again"},
        slots,
        {"agent": "Second."},
        {"user": "Again"},
        slots,
        {"agent": "Third."},
        {"hangup": True},
    ]
    result = run({"script": script, "tool_mocks": [{"tool": "get_available_slots", "sequence": [["10:00"], ["14:00"]]}], "includes": ["Third"]}, flow)
    assert [c.result for c in result.tools_called][:2] == [["10:00"], ["14:00"]]
    assert result.tools_called[2].mocked is False


def test_error_mock_and_end_call_tool() -> None:
    flow = graph("retell/sample_config_complex.json")
    script = [
        {"agent": "Hello"},
        {"user": "Cancel appointment A-1"},
        {"tools": [{"name": "cancel_appointment", "arguments": {"appointment_id": "A-1"}}]},
        {"agent": "Sorry, that failed. Goodbye.", "end": True},
    ]
    result = run(
        {"script": script, "tool_mocks": [{"tool": "cancel_appointment", "error": "backend down"}], "expect": {"end_reason": "agent_ended"}}, flow
    )
    assert result.status == "pass", result.failures()
    assert result.tools_called[0].result == {"error": "backend down"}
    assert [c.name for c in result.tools_called] == ["cancel_appointment", "end_call"]
    assert result.end_reason == "agent_ended"


def test_global_node_and_go_back() -> None:
    flow = graph("retell/sample_config_global_nodes.json")
    script = [
        {"agent": "Welcome to Cosmic Slice! What pizza would you like?"},
        {"user": "A large pepperoni."},
        {"goto": "customize_order"},
        {"agent": "Great. Crust and delivery address?"},
        {"user": "Wait, any specials today?"},
        {"goto": "ask_about_specials"},
        {"agent": "Large pepperoni is $12.99 today."},
        {"user": "Nice, let's continue."},
        {"goto": "customize_order"},
        {"agent": "Back to your order: which crust?"},
        {"hangup": True},
    ]
    result = run({"script": script, "expect": {"visited": ["customize_order", "ask_about_specials", "customize_order"]}}, flow)
    assert result.status == "pass", result.failures()
    assert result.nodes_visited == ["greeting", "customize_order", "ask_about_specials", "customize_order"]
    assert result.constraint_violations == []


def test_end_node_speaks_and_ends_the_call() -> None:
    flow = graph("retell/sample_config_global_nodes.json")
    script = [
        {"agent": "Welcome! What pizza?"},
        {"user": "Actually, cancel. Goodbye."},
        {"goto": "cancel_request"},
        {"agent": "Are you sure you want to cancel?"},
        {"user": "Yes."},
        {"goto": "order_complete"},
        {"agent": "No problem, have a nice day!"},
    ]
    result = run(
        {"script": script, "expect": {"final_node": "order_complete", "end_reason": ["agent_ended"], "not_visited": ["confirm_order"]}}, flow
    )
    assert result.status == "pass", result.failures()
    assert result.end_reason == "agent_ended"
    assert result.transcript[-1].content == "No problem, have a nice day!"


def test_invalid_route_is_recorded_not_taken() -> None:
    flow = graph("retell/sample_config.json")
    script = [
        {"agent": "How can I help?"},
        {"user": "My bill is wrong."},
        {"agent": "Let me end this.", "goto": "end_call"},
        {"user": "Hello?"},
        {"agent": "Billing it is.", "goto": "billing"},
        {"hangup": True},
    ]
    result = run({"script": script, "expect": {"visited": ["billing"]}}, flow)
    assert result.status == "pass", result.failures()
    assert result.nodes_visited == ["greeting", "billing"]
    [violation] = result.constraint_violations
    assert "at node 'greeting' the agent chose edge 'route_to_end_call', which is not offered there" in violation
    assert "route_to_billing" in violation


def test_max_turns_fails_unless_allowed() -> None:
    flow = graph("retell/sample_config.json")
    script = [{"agent": "Hi"}] + [step for i in range(5) for step in ({"user": f"line {i}"}, {"agent": f"reply {i}"})]
    cut = run({"script": script, "max_turns": 3, "includes": ["reply"]}, flow)
    assert (cut.end_reason, cut.turn_count, cut.status) == ("max_turns", 3, "fail")
    allowed = run({"script": script, "max_turns": 3, "expect": {"end_reason": ["max_turns"]}}, flow)
    assert allowed.status == "pass"


def test_user_starts_when_the_graph_says_so() -> None:
    flow = graph("retell/sample_config.json").model_copy(update={"start_speaker": "user"})
    result = run({"script": [{"user": "Hello?"}, {"agent": "Hi there!"}, {"hangup": True}], "includes": ["Hi there"]}, flow)
    assert [t.role for t in result.transcript] == ["user", "agent"]


def test_platform_greeting_is_spoken_without_a_model_call() -> None:
    flow = graph("retell/sample_llm_config.json")
    result = run({"script": [{"user": "Hi"}, {"agent": "How can I help?"}, {"hangup": True}], "includes": ["Acme Healthcare"]}, flow)
    assert result.status == "pass"
    assert result.transcript[0].content.startswith("Hello! Thank you for calling Acme Healthcare")
    wrong = run({"script": [{"agent": "Hello"}, {"user": "Hi"}], "includes": ["x"]}, flow)
    assert wrong.status == "error"
    assert "follows caller line 0, but the engine asked for it at node 'greeting' after caller line 1" in wrong.error_message
    assert "fixed greeting" in wrong.error_message


def test_static_text_node_and_transfer() -> None:
    pathway = import_agent(OWN / "bland_pathway.json")
    script = [
        {"user": "I can't make it, I need a human."},
        {"goto": "reschedule"},
        {"agent": "These are the free slots: Monday 9am."},
        {"user": "None of those work."},
        {"goto": "human"},
        {"agent": "Connecting you to the front desk."},
    ]
    result = run(
        {
            "script": script,
            "tool_mocks": [{"tool": "find_new_slot", "returns": ["Mon 9am"]}],
            "expect": {"final_node": "human", "end_reason": "agent_ended"},
        },
        pathway,
    )
    assert result.status == "pass", result.failures()
    assert result.transcript[0].content.startswith("Hi, this is Maya")
    assert result.nodes_visited == ["1", "reschedule", "offer", "human"]


def test_variables_are_rendered_in_the_caller_persona_and_prompts() -> None:
    flow = graph("graphs/graph_with_dynamic_variables.json")
    calls: list[dict[str, Any]] = []
    from pytest_voicetest.llm import client

    original = client.LLMClient.complete

    async def spy(self, request):
        calls.append({"kind": request.kind, "messages": request.messages})
        return await original(self, request)

    client.LLMClient.complete = spy
    try:
        run(
            {
                "user_prompt": "You are {{customer_name}}.",
                "dynamic_variables": {"customer_name": "Ada", "account_status": "active", "company_name": "Acme"},
                "script": [{"agent": "Hi Ada"}, {"hangup": True}],
                "includes": ["Ada"],
            },
            flow,
        )
    finally:
        client.LLMClient.complete = original
    agent_system = next(c for c in calls if c["kind"] == "agent")["messages"][0]["content"]
    assert "You are an assistant for Acme." in agent_system
    assert "Hello Ada, your account is active." in agent_system
    simulator_system = next(c for c in calls if c["kind"] == "simulator")["messages"][0]["content"]
    assert "You are Ada." in simulator_system


def test_simulator_never_sees_routing_or_tools() -> None:
    flow = graph("retell/sample_config_complex.json")
    seen: list[list[dict[str, Any]]] = []
    from pytest_voicetest.llm import client

    original = client.LLMClient.complete

    async def spy(self, request):
        if request.kind == "simulator":
            seen.append(request.messages)
        return await original(self, request)

    client.LLMClient.complete = spy
    try:
        result = run(
            {
                "script": [
                    {"agent": "Hello"},
                    {"user": "Book please"},
                    {"goto": "verify_identity"},
                    {"tools": [{"name": "lookup_patient", "arguments": {"full_name": "A", "date_of_birth": "B"}}]},
                    {"agent": "Found you."},
                    {"user": "Great"},
                    {"agent": "Bye"},
                    {"hangup": True},
                ],
                "tool_mocks": [{"tool": "lookup_patient", "returns": {"id": "P1"}}],
                "includes": ["Found"],
            },
            flow,
        )
    finally:
        client.LLMClient.complete = original
    assert result.status == "pass"
    last = seen[-1]
    assert [m["role"] for m in last[1:]] == ["user", "assistant", "user", "assistant", "user"]
    text = str(last)
    assert "route_to" not in text and "lookup_patient" not in text and "verify_identity" not in text and "P1" not in text


def test_too_many_silent_hops_stop_with_a_clear_error() -> None:
    looping = import_agent(
        {
            "nodes": {
                "start": {"id": "start", "transitions": [{"target_node_id": "a", "condition": {"type": "llm_prompt", "value": "go"}}]},
                "a": {
                    "id": "a",
                    "node_type": "function",
                    "tools": [{"name": "ping"}],
                    "transitions": [{"target_node_id": "b", "condition": {"type": "always"}}],
                },
                "b": {
                    "id": "b",
                    "node_type": "function",
                    "tools": [{"name": "pong"}],
                    "transitions": [{"target_node_id": "a", "condition": {"type": "always"}}],
                },
            },
            "entry_node_id": "start",
        }
    )
    result = run({"script": [{"agent": "hi"}, {"user": "go"}, {"goto": "a"}], "includes": ["x"]}, looping)
    assert result.status == "error"
    assert "more than 25 transitions without the caller speaking" in result.error_message


@pytest.mark.parametrize("reason", ["user_ended", "agent_ended"])
def test_end_reason_expectation(reason: str) -> None:
    flow = graph("retell/sample_config.json")
    result = run({"script": [{"agent": "Hi"}, {"hangup": True}], "expect": {"end_reason": reason}}, flow)
    assert result.status == ("pass" if reason == "user_ended" else "fail")


def test_tool_call_edge_fires_when_the_tool_is_called() -> None:
    agent = import_agent(
        {
            "nodes": {
                "collect": {
                    "id": "collect",
                    "tools": [{"name": "book", "parameters": {"type": "object", "properties": {"time": {"type": "string"}}}}],
                    "transitions": [{"target_node_id": "confirm", "condition": {"type": "tool_call", "value": "book"}}],
                },
                "confirm": {"id": "confirm", "state_prompt": "Read back the booking."},
            },
            "entry_node_id": "collect",
        }
    )
    script = [
        {"agent": "When would you like to come?"},
        {"user": "At two."},
        {"tools": [{"name": "book", "arguments": {"time": "14:00"}}]},
        {"agent": "Booked for 14:00."},
        {"user": "Thanks."},
        {"agent": "You're all set."},
        {"hangup": True},
    ]
    result = run({"script": script, "tool_mocks": [{"tool": "book", "returns": {"ok": True}}], "expect": {"visited": ["collect", "confirm"]}}, agent)
    assert result.status == "pass", result.failures()
    assert result.nodes_visited == ["collect", "confirm"]
    assert result.transcript[-1].metadata["node_id"] == "confirm"


def test_unknown_placeholders_are_reported_once() -> None:
    flow = graph("graphs/graph_with_dynamic_variables.json")
    result = run(
        {
            "user_prompt": "You are {{caller}}.",
            "script": [{"agent": "Hi"}, {"user": "hello"}, {"agent": "Bye"}, {"hangup": True}],
            "includes": ["Hi"],
        },
        flow,
    )
    assert result.constraint_violations == [
        "the test's user_prompt uses {{caller}}, which no variable or snippet defines",
        "the prompt at node 'main' uses {{company_name}}, which no variable or snippet defines",
        "the prompt at node 'main' uses {{customer_name}}, which no variable or snippet defines",
        "the prompt at node 'main' uses {{account_status}}, which no variable or snippet defines",
    ]
