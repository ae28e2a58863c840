"""Exporters: mermaid output, and native -> X -> native round trips."""

from __future__ import annotations

import json

import pytest
import yaml

from pytest_voicetest.errors import InputError
from pytest_voicetest.exporters import export_agent
from pytest_voicetest.exporters.mermaid import to_mermaid
from pytest_voicetest.importers import import_agent
from pytest_voicetest.models.graph import AgentGraph

from .conftest import OWN, PLATFORMS


def edges(graph: AgentGraph) -> set[tuple[str, str, str]]:
    return {(n.id, t.target_node_id, t.condition.value) for n in graph.nodes.values() for t in n.transitions}


def effective_prompts(graph: AgentGraph) -> dict[str, str]:
    return {n.id: "\n\n".join(p for p in (graph.general_prompt, n.state_prompt) if p) for n in graph.nodes.values()}


ALL_GRAPHS = [
    "retell/sample_config.json",
    "retell/sample_config_complex.json",
    "retell/sample_config_global_nodes.json",
    "retell/sample_config_extract_variables.json",
    "retell/sample_config_function_node.json",
    "retell/sample_config_logic_split.json",
    "retell/sample_llm_config.json",
    "vapi/sample_squad.json",
    "telnyx/sample_assistant.json",
    "graphs/graph_with_logic_split.json",
]


@pytest.mark.parametrize("name", ALL_GRAPHS)
def test_native_round_trip_is_lossless(name: str) -> None:
    graph = import_agent(PLATFORMS / name)
    again = import_agent(json.loads(export_agent(graph, "native")), format="native")
    assert again == graph
    from_yaml = import_agent(yaml.safe_load(export_agent(graph, "native_yaml")), format="native")
    assert from_yaml == graph


@pytest.mark.parametrize("name", ALL_GRAPHS)
def test_retell_flow_round_trip(name: str) -> None:
    graph = import_agent(PLATFORMS / name)
    again = import_agent(json.loads(export_agent(graph, "retell_flow")), format="retell_flow")
    assert set(again.nodes) == set(graph.nodes)
    assert again.entry_node_id == graph.entry_node_id
    assert {n.id: n.node_type for n in again.nodes.values()} == {n.id: n.node_type for n in graph.nodes.values()}
    assert {n.id: n.state_prompt for n in again.nodes.values()} == {n.id: n.state_prompt for n in graph.nodes.values()}
    assert {(a, b) for a, b, _ in edges(again)} == {(a, b) for a, b, _ in edges(graph)}
    for node in graph.nodes.values():
        kinds = [t.condition.type for t in node.transitions]
        # tool_call edges have no Retell flow form; they come back as prompts
        assert sorted(t.condition.type for t in again.nodes[node.id].transitions) == sorted("llm_prompt" if k == "tool_call" else k for k in kinds)
    assert {n.id: [t.name for t in n.tools] for n in again.nodes.values()} == {n.id: [t.name for t in n.tools] for n in graph.nodes.values()}
    assert {t.name for t in again.tools} == {t.name for t in graph.tools}
    assert {n.id: n.global_node_setting for n in again.global_nodes()} == {n.id: n.global_node_setting for n in graph.global_nodes()}
    if graph.source_type == "retell_flow":  # a Retell flow comes back whole
        assert again == graph


@pytest.mark.parametrize("name", ["retell/sample_llm_config.json", "retell/sample_config.json", "vapi/sample_squad.json"])
def test_retell_llm_round_trip(name: str) -> None:
    graph = import_agent(PLATFORMS / name)
    again = import_agent(json.loads(export_agent(graph, "retell_llm")), format="retell_llm")
    assert set(again.nodes) == set(graph.nodes)
    assert edges(again) == edges(graph)
    assert {n.id: n.state_prompt for n in again.nodes.values()} == {n.id: n.state_prompt for n in graph.nodes.values()}
    assert again.begin_message == graph.begin_message
    assert [t.name for t in again.tools] == [t.name for t in graph.tools]


@pytest.mark.parametrize(
    "name", ["vapi/sample_squad.json", "vapi/sample_assistant.json", "retell/sample_config.json", "telnyx/sample_assistant.json"]
)
def test_vapi_round_trip(name: str) -> None:
    graph = import_agent(PLATFORMS / name)
    again = import_agent(json.loads(export_agent(graph, "vapi")))
    assert again.source_type == ("vapi_assistant" if len(graph.nodes) == 1 else "vapi_squad")
    assert set(again.nodes) == set(graph.nodes)
    assert edges(again) == edges(graph)
    assert effective_prompts(again) == effective_prompts(graph)
    assert again.begin_message == graph.begin_message


def test_mermaid_shapes_labels_and_global_nodes() -> None:
    graph = import_agent(PLATFORMS / "retell/sample_config_global_nodes.json")
    text = to_mermaid(graph)
    assert text.startswith("flowchart TD\n")
    assert 'n_order_complete(["Order Complete<br/>order_complete"])' in text
    assert 'n_greeting -->|"The caller has stated what kind of pizza they want"| n_customize_order' in text
    assert "class n_cancel_request,n_ask_about_specials global" in text
    assert "visited" not in text


def test_mermaid_highlights_visited_path() -> None:
    graph = import_agent(PLATFORMS / "retell/sample_config_logic_split.json")
    text = to_mermaid(graph, ["greeting", "router", "premium_support"])
    assert "class n_greeting,n_router,n_premium_support visited" in text
    assert 'n_router{"Account Type Router<br/>router"}' in text
    lines = text.splitlines()
    links = [line for line in lines if "-->" in line or "-.->" in line]
    highlighted = next(line for line in lines if line.strip().startswith("linkStyle")).split()[1].split(",")
    drawn = [links[int(i)] for i in highlighted]
    assert drawn == [
        "    start --> n_greeting",
        '    n_greeting -->|"Caller provided their account number"| n_router',
        '    n_router -.->|"account_type == premium"| n_premium_support',
    ]


def test_mermaid_escapes_quotes_and_pipes() -> None:
    graph = import_agent(
        {
            "nodes": {
                "a": {"id": "a", "transitions": [{"target_node_id": "end", "condition": {"type": "llm_prompt", "value": 'says "bye" | leaves'}}]},
                "end": {"id": "end", "node_type": "end"},
            },
            "entry_node_id": "a",
        }
    )
    text = to_mermaid(graph)
    assert "#quot;bye#quot; #124; leaves" in text
    assert "n_end([" in text  # `end` is a mermaid keyword: ids are prefixed


def test_export_of_every_own_fixture_does_not_crash() -> None:
    for path in OWN.glob("*"):
        if path.suffix in {".json", ".py"} and "call" not in path.name:
            graph = import_agent(path)
            for fmt in ("mermaid", "retell_llm", "retell_flow", "vapi", "native", "native_yaml"):
                assert export_agent(graph, fmt).strip()


def test_unknown_export_format() -> None:
    graph = import_agent(PLATFORMS / "retell/sample_config.json")
    with pytest.raises(InputError, match="unknown export format 'merm' \\(did you mean 'mermaid'\\?\\)"):
        export_agent(graph, "merm")
