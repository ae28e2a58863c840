"""Every vendor export imports, auto-detected, into the graph it describes."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from pytest_voicetest.errors import InputError
from pytest_voicetest.importers import FORMATS, get_format, import_agent

from .conftest import OWN, PLATFORMS

HEALTHCARE_GREETING = "Hello! Thank you for calling Acme Healthcare. How can I help you today?"


def condition_types(graph) -> Counter:
    return Counter(t.condition.type for n in graph.nodes.values() for t in n.transitions)


# file, source type, node count, entry, transition types, greeting
EXPECTED = [
    ("graphs/simple_graph.json", "custom", 2, "greeting", {"llm_prompt": 1}, None),
    ("graphs/graph_with_logic_split.json", "retell", 5, "greeting", {"llm_prompt": 3, "equation": 1, "always": 1}, None),
    ("graphs/graph_with_dynamic_variables.json", "custom", 1, "main", {}, None),
    ("retell/sample_config.json", "retell_flow", 4, "greeting", {"llm_prompt": 4}, None),
    ("retell/sample_config_logic_split.json", "retell_flow", 5, "greeting", {"llm_prompt": 3, "equation": 2}, None),
    ("retell/sample_config_extract_variables.json", "retell_flow", 4, "ask_dob", {"llm_prompt": 2, "equation": 1, "always": 1}, None),
    ("retell/sample_config_function_node.json", "retell_flow", 3, "greeting", {"llm_prompt": 1, "always": 1}, None),
    ("retell/sample_config_global_nodes.json", "retell_flow", 6, "greeting", {"llm_prompt": 4}, None),
    ("retell/sample_config_complex.json", "retell_flow", 11, "greeting", {"llm_prompt": 20}, None),
    ("retell/sample_llm_config.json", "retell_llm", 5, "greeting", {"llm_prompt": 6}, HEALTHCARE_GREETING),
    ("retell/demo_healthcare_llm.json", "retell_llm", 5, "greeting", {"llm_prompt": 6}, HEALTHCARE_GREETING),
    ("retell/sample_llm_dashboard_export.json", "retell_llm", 5, "greeting", {"llm_prompt": 6}, HEALTHCARE_GREETING),
    ("retell/sample_llm_with_variables.json", "retell_llm", 3, "intro", {"llm_prompt": 3}, None),
    ("vapi/sample_assistant.json", "vapi_assistant", 1, "main", {}, HEALTHCARE_GREETING),
    ("vapi/sample_assistant_simple.json", "vapi_assistant", 1, "main", {}, "Hello! Welcome to our office. How can I help you today?"),
    ("vapi/sample_squad.json", "vapi_squad", 5, "greeting", {"llm_prompt": 6}, HEALTHCARE_GREETING),
    ("telnyx/sample_assistant.json", "telnyx", 1, "main", {}, "Hello! Welcome to Pizza Palace. What can I get for you today?"),
    ("telnyx/sample_assistant_with_handoff.json", "telnyx", 3, "main", {"llm_prompt": 2}, "Thank you for calling. How may I direct your call?"),
]


def test_every_platform_fixture_is_covered() -> None:
    agent_files = {str(p.relative_to(PLATFORMS)) for p in PLATFORMS.rglob("*.json") if not p.name.endswith("tests.json")}
    assert agent_files == {row[0] for row in EXPECTED}


@pytest.mark.parametrize(("name", "source_type", "count", "entry", "types", "greeting"), EXPECTED, ids=[r[0] for r in EXPECTED])
def test_fixture_imports_auto_detected(name, source_type, count, entry, types, greeting) -> None:
    graph = import_agent(PLATFORMS / name)
    assert graph.source_type == source_type
    assert len(graph.nodes) == count
    assert graph.entry_node_id == entry
    assert dict(condition_types(graph)) == types
    assert graph.begin_message == greeting


def test_retell_flow_keeps_equations_extract_and_else() -> None:
    graph = import_agent(PLATFORMS / "retell/sample_config_extract_variables.json")
    node = graph.nodes["extract_dob"]
    assert node.node_type == "extract"
    assert [v.name for v in node.variables_to_extract] == ["dob_month", "dob_day", "dob_year"]
    equation, fallback = node.transitions
    assert equation.condition.logical_operator == "and"
    assert [(e.left, e.operator, e.right) for e in equation.condition.equations][0] == ("{{dob_month}}", "==", "{{expected_month}}")
    assert (fallback.target_node_id, fallback.condition.type) == ("dob_retry", "always")


def test_retell_flow_function_node_gets_its_tool() -> None:
    graph = import_agent(PLATFORMS / "retell/sample_config_function_node.json")
    node = graph.nodes["submit_order"]
    assert node.node_type == "function"
    assert [t.name for t in node.tools] == ["submit-order-to-kitchen"]
    assert node.tools[0].url == "https://example.invalid/orders"
    assert graph.tools == []  # the only flow tool belongs to the function node


def test_retell_flow_global_nodes_and_go_back() -> None:
    graph = import_agent(PLATFORMS / "retell/sample_config_global_nodes.json")
    globals_ = {n.id: n.global_node_setting for n in graph.global_nodes()}
    assert set(globals_) == {"cancel_request", "ask_about_specials"}
    assert len(globals_["ask_about_specials"].go_back_conditions) == 2
    assert graph.nodes["order_complete"].node_type == "end"
    assert graph.start_speaker == "agent"
    assert graph.general_prompt.startswith("You are a friendly pizza ordering assistant")
    assert graph.default_model == "gpt-4o"


def test_retell_flow_complex_keeps_variables_and_tools() -> None:
    graph = import_agent(PLATFORMS / "retell/sample_config_complex.json")
    assert graph.default_dynamic_variables["office_name"] == "Acme Healthcare"
    tools = {t.name: t for t in graph.tools}
    assert set(tools) == {"lookup_patient", "get_available_slots", "book_appointment", "cancel_appointment", "end_call", "transfer_to_nurse"}
    assert tools["lookup_patient"].parameters["required"] == ["full_name", "date_of_birth"]
    assert tools["end_call"].ends_call and tools["transfer_to_nurse"].transfers_call
    assert graph.source_metadata["model_temperature"] == 0.7


def test_retell_logic_split_is_logic_with_equations() -> None:
    graph = import_agent(PLATFORMS / "retell/sample_config_logic_split.json")
    router = graph.nodes["router"]
    assert router.node_type == "logic"
    assert [t.target_node_id for t in router.transitions] == ["premium_support", "standard_support"]


def test_retell_llm_general_tools_and_state_tools() -> None:
    graph = import_agent(PLATFORMS / "retell/sample_llm_config.json")
    assert [t.name for t in graph.tools] == ["end_call", "transfer_to_nurse"]
    assert [t.name for t in graph.nodes["verify_identity"].tools] == ["lookup_patient"]
    assert graph.default_model == "gpt-4o"
    assert "medical receptionist" in graph.general_prompt


def test_retell_llm_wrapper_keeps_agent_fields() -> None:
    graph = import_agent(PLATFORMS / "retell/sample_llm_dashboard_export.json")
    assert graph.source_metadata["agent"]["agent_name"] == "Acme Healthcare Receptionist"
    plain = import_agent(PLATFORMS / "retell/sample_llm_config.json")
    assert graph.nodes == plain.nodes


def test_retell_llm_empty_edge_descriptions_still_route() -> None:
    graph = import_agent(PLATFORMS / "retell/sample_llm_with_variables.json")
    targets = [t.target_node_id for t in graph.nodes["intro"].transitions]
    assert targets == ["identity_check", "verify"]
    assert graph.nodes["identity_check"].transitions[0].condition.value == "Patient confirmed"


def test_vapi_assistant_tools_and_builtins() -> None:
    graph = import_agent(PLATFORMS / "vapi/sample_assistant.json")
    tools = {t.name: t for t in graph.nodes["main"].tools}
    assert set(tools) == {"lookup_patient", "get_available_slots", "book_appointment", "transfer_call", "end_call"}
    assert tools["end_call"].type == "end_call" and tools["transfer_call"].type == "transfer_call"
    assert tools["lookup_patient"].url == "https://api.acme.com/patients/lookup"
    assert graph.default_model == "openai/gpt-4o"
    assert "Greet patients warmly" in graph.nodes["main"].state_prompt


def test_vapi_squad_handoffs_become_edges() -> None:
    graph = import_agent(PLATFORMS / "vapi/sample_squad.json")
    assert list(graph.nodes) == ["greeting", "verify_identity", "appointment_management", "general_inquiry", "closing"]
    greeting = graph.nodes["greeting"]
    assert [t.target_node_id for t in greeting.transitions] == ["verify_identity", "general_inquiry"]
    closing = graph.nodes["closing"]  # an assistant whose one action is endCall, with no handoff: an end node
    assert (closing.node_type, closing.tools) == ("end", [])


def test_telnyx_tools_and_handoff_targets() -> None:
    simple = import_agent(PLATFORMS / "telnyx/sample_assistant.json")
    tools = {t.name: t for t in simple.nodes["main"].tools}
    assert tools["check_order_status"].parameters["required"] == ["order_id"]
    assert tools["hangup"].ends_call and tools["transfer"].transfers_call
    assert simple.default_dynamic_variables == {"store_name": "Pizza Palace", "store_hours": "9am-10pm"}
    handoff = import_agent(PLATFORMS / "telnyx/sample_assistant_with_handoff.json")
    transfers = [n for n in handoff.nodes.values() if n.node_type == "transfer"]
    assert sorted(n.metadata["assistant_id"] for n in transfers) == ["ast_billing_002", "ast_support_003"]


def test_bland_pathway() -> None:
    graph = import_agent(OWN / "bland_pathway.json")
    assert graph.source_type == "bland"
    assert graph.entry_node_id == "1"
    assert graph.nodes["1"].metadata["static_text"] is True
    assert graph.nodes["reschedule"].node_type == "function"
    assert graph.nodes["reschedule"].tools[0].name == "find_new_slot"
    assert graph.nodes["reschedule"].transitions[0].condition.type == "always"
    assert graph.nodes["human"].node_type == "transfer" and graph.nodes["bye"].node_type == "end"
    assert graph.nodes["wrong_person"].global_node_setting.condition == "The person says they are not the patient"
    assert [v.name for v in graph.nodes["confirm"].variables_to_extract] == ["confirmed"]
    assert graph.general_prompt.startswith("You are Maya")


def test_bland_single_prompt_agent() -> None:
    graph = import_agent(OWN / "bland_agent.json")
    assert graph.begin_message == "Green Valley Vet after-hours line, how can I help?"
    tools = {t.name: t for t in graph.nodes["main"].tools}
    assert tools["leave_message"].parameters["required"] == ["owner", "pet", "reason"]
    assert tools["transfer_call"].transfers_call
    assert graph.default_model is None and graph.source_metadata["model"] == "enhanced"
    assert graph.default_dynamic_variables == {"clinic": "Green Valley Vet"}


def test_livekit_is_parsed_not_executed(tmp_path: Path) -> None:
    trap = tmp_path / "agent.py"
    marker = tmp_path / "executed"
    trap.write_text(
        f"open({str(marker)!r}, 'w').write('x')\n"
        "from livekit.agents import Agent\n"
        "class A(Agent):\n    def __init__(self):\n        super().__init__(instructions='hi')\n"
    )
    graph = import_agent(trap)
    assert not marker.exists()
    assert graph.nodes["A"].state_prompt == "hi"


def test_livekit_clinic_agents_tools_and_handoffs() -> None:
    graph = import_agent(OWN / "livekit_clinic.py")
    assert list(graph.nodes) == ["Reception", "Booking", "Billing"]
    assert graph.entry_node_id == "Reception"
    assert graph.begin_message == "Thank you for calling Riverside Clinic."
    assert graph.default_model == "openai/gpt-4o-mini"
    reception = graph.nodes["Reception"]
    assert reception.state_prompt.startswith("You are the receptionist of Riverside Clinic.")
    assert [(t.target_node_id, t.condition.value) for t in reception.transitions] == [
        ("Booking", "The caller wants to book, move or cancel an appointment."),
        ("Billing", "The caller has a question about a bill or payment."),
    ]
    assert reception.tools[0].parameters["properties"]["full_name"]["description"] == "The patient's full name."
    booking = {t.name: t for t in graph.nodes["Booking"].tools}
    assert booking["book_slot"].parameters["required"] == ["slot"]
    assert booking["book_slot"].parameters["properties"]["kind"]["enum"] == ["checkup", "cleaning", "urgent"]
    assert booking["end_call"].ends_call
    assert "{{patient}}" in graph.nodes["Booking"].state_prompt


def test_livekit_string_model_and_syntax_error(tmp_path: Path) -> None:
    graph = import_agent(OWN / "livekit_simple.py")
    assert graph.default_model == "openai/gpt-4.1-mini"
    broken = tmp_path / "broken.py"
    broken.write_text("from livekit.agents import Agent\nclass A(Agent:\n")
    with pytest.raises(InputError, match=r"broken.py:2: Python syntax error"):
        import_agent(broken)


def make_xlsform(path: Path) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    survey = book.active
    survey.title = "survey"
    survey.append(["type", "name", "label", "relevant", "required"])
    survey.append(["note", "intro", "This is the clinic intake survey.", None, None])
    survey.append(["select_one yes_no", "has_insurance", "Do you have insurance?", None, "yes"])
    survey.append(["text", "insurer", "Who is your insurer?", "${has_insurance} = 'yes'", None])
    survey.append(["integer", "age", "How old are you?", None, None])
    survey.append(["text", "guardian", "Who is your guardian?", "${age} < 18", None])
    survey.append(["text", "odd", "Anything else?", "count-selected(${age}) > 2", None])
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    choices.append(["yes_no", "yes", "Yes"])
    choices.append(["yes_no", "no", "No"])
    settings = book.create_sheet("settings")
    settings.append(["form_title", "form_id"])
    settings.append(["Clinic intake", "intake_v1"])
    book.save(path)
    return path


def test_xlsform_skip_logic_becomes_equations(tmp_path: Path) -> None:
    graph = import_agent(make_xlsform(tmp_path / "intake.xlsx"))
    assert graph.source_type == "xlsform"
    assert graph.entry_node_id == "intro"
    assert graph.source_metadata["form_title"] == "Clinic intake"
    answer = graph.nodes["has_insurance__answer"]
    assert answer.node_type == "extract"
    assert answer.variables_to_extract[0].choices == ["yes", "no"]
    first, fallback = answer.transitions
    assert first.target_node_id == "insurer" and first.condition.type == "equation"
    assert (first.condition.equations[0].left, first.condition.equations[0].right) == ("{{has_insurance}}", "yes")
    assert (fallback.target_node_id, fallback.condition.type) == ("age", "always")
    age = graph.nodes["age__answer"].transitions
    assert age[0].condition.equations[0].operator == "<"
    assert age[1].condition.type == "llm_prompt"  # count-selected(...) is not translated
    assert graph.nodes["intro"].transitions == [t for t in graph.nodes["intro"].transitions if t.condition.type == "always"]
    assert graph.nodes["survey_complete"].node_type == "end"


def test_xlsform_from_uploaded_bytes(tmp_path: Path) -> None:
    payload = make_xlsform(tmp_path / "intake.xlsx").read_bytes()
    graph = import_agent(payload, filename="intake.xlsx")
    assert "has_insurance" in graph.nodes


def test_dict_and_bytes_sources() -> None:
    data = json.loads((PLATFORMS / "vapi/sample_squad.json").read_text())
    assert import_agent(data).source_type == "vapi_squad"
    raw = (PLATFORMS / "retell/sample_config.json").read_bytes()
    assert import_agent(raw, filename="flow.json").source_type == "retell_flow"


def test_format_selected_by_name_skips_detection() -> None:
    data = json.loads((PLATFORMS / "graphs/graph_with_logic_split.json").read_text())
    assert import_agent(data, format="native").source_type == "retell"
    with pytest.raises(InputError, match="unknown agent format 'retel'.*did you mean 'retell'"):
        get_format("retel")


def test_detection_order_is_documented_and_fixed() -> None:
    assert [f.name for f in FORMATS] == [
        "retell_flow",
        "retell_llm",
        "vapi_assistant",
        "vapi_squad",
        "bland",
        "telnyx",
        "livekit",
        "xlsform",
        "native",
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"nodes": {"a": {"id": "a"}}, "entry_node_id": "b"}, r"entry_node_id: entry node 'b' does not exist"),
        (
            {"nodes": {"a": {"id": "a", "transitions": [{"target_node_id": "c", "condition": {"type": "always"}}]}}, "entry_node_id": "a"},
            r"node 'a' transitions\[0\].target_node_id: transition to unknown node 'c'",
        ),
        (
            {
                "nodes": {
                    "a": {
                        "id": "a",
                        "transitions": [
                            {"target_node_id": "a", "condition": {"type": "equation", "equations": [{"left": "x", "operator": "=~", "right": "1"}]}}
                        ],
                    }
                },
                "entry_node_id": "a",
            },
            r"node 'a' transitions\[0\].condition.equations\[0\].operator: unknown operator '=~'",
        ),
        ({"nodes": {"a": {"id": "b"}}, "entry_node_id": "a"}, r"node id 'b' differs from its key 'a'"),
        (
            {
                "nodes": {
                    "a": {"id": "a", "node_type": "logic", "transitions": [{"target_node_id": "b", "condition": {"type": "always"}}]},
                    "b": {"id": "b", "node_type": "logic", "transitions": [{"target_node_id": "a", "condition": {"type": "always"}}]},
                },
                "entry_node_id": "a",
            },
            r"logic nodes a -> b -> a form a loop",
        ),
    ],
)
def test_invalid_graphs_name_file_node_and_field(tmp_path: Path, data, message) -> None:
    path = tmp_path / "agent.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=message) as info:
        import_agent(path)
    assert str(info.value).startswith(str(path))
    assert "Fix:" in str(info.value)


def test_duplicate_node_ids_in_platform_export(tmp_path: Path) -> None:
    data = json.loads((PLATFORMS / "retell/sample_config.json").read_text())
    data["nodes"].append(dict(data["nodes"][0]))
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"nodes\[4\].id: duplicate node id 'greeting'"):
        import_agent(path)


def test_unrecognised_and_wrong_kind_sources(tmp_path: Path) -> None:
    junk = tmp_path / "junk.json"
    junk.write_text('{"hello": "world"}')
    with pytest.raises(InputError, match="not a recognised agent config"):
        import_agent(junk)
    with pytest.raises(InputError, match="format 'livekit' reads Python"):
        import_agent(PLATFORMS / "retell/sample_config.json", format="livekit")
    with pytest.raises(InputError, match="cannot import an agent from int"):
        import_agent(42)  # type: ignore[arg-type]
