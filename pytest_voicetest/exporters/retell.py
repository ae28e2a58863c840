"""Retell exports: the LLM (states) format and the conversation flow format."""

from __future__ import annotations

from typing import Any

from ..models.graph import AgentGraph, AgentNode, ToolDefinition, Transition

_FLOW_TYPES = {
    "conversation": "conversation",
    "end": "end",
    "function": "function",
    "logic": "logic_split",
    "extract": "extract_dynamic_variables",
    "transfer": "transfer_call",
}


def _tool(tool: ToolDefinition) -> dict[str, Any]:
    out: dict[str, Any] = {"type": tool.type, "name": tool.name, "description": tool.description}
    if tool.parameters:
        out["parameters"] = tool.parameters
    if tool.url:
        out["url"] = tool.url
    out.update({k: v for k, v in tool.metadata.items() if k in {"tool_id", "method", "timeout_ms", "response_variables"}})
    return out


TERMINAL = {"end": ("end_call", "End the call."), "transfer": ("transfer_call", "Transfer the call.")}


def _terminal_tool(node: AgentNode) -> list[dict[str, Any]]:
    """An end or transfer node as its one action: the tool that ends or transfers the call."""
    if node.node_type not in TERMINAL or node.tools or node.transitions:
        return []
    kind, description = TERMINAL[node.node_type]
    return [{"type": kind, "name": kind, "description": description}]


def to_retell_llm(graph: AgentGraph) -> dict[str, Any]:
    """A Retell LLM: one state per node; every edge becomes a described state edge."""
    states = [
        {
            "name": node.id,
            "state_prompt": node.state_prompt,
            "edges": [{"destination_state_name": t.target_node_id, "description": t.condition.label()} for t in node.transitions],
            "tools": [_tool(t) for t in node.tools] + _terminal_tool(node),
        }
        for node in graph.nodes.values()
    ]
    out: dict[str, Any] = {
        "general_prompt": graph.general_prompt,
        "begin_message": graph.begin_message,
        "model": graph.default_model,
        "general_tools": [_tool(t) for t in graph.tools],
        "states": states,
        "starting_state": graph.entry_node_id,
    }
    if graph.start_speaker:
        out["start_speaker"] = graph.start_speaker
    if graph.default_dynamic_variables:
        out["default_dynamic_variables"] = graph.default_dynamic_variables
    return out


def _edge(node_id: str, index: int, transition: Transition) -> dict[str, Any]:
    condition = transition.condition
    if condition.type == "equation":
        transition_condition: dict[str, Any] = {
            "type": "equation",
            "equations": [e.model_dump() for e in condition.equations],
            "operator": "||" if condition.logical_operator == "or" else "&&",
        }
    else:
        transition_condition = {"type": "prompt", "prompt": condition.label()}
    return {
        "id": transition.description or f"edge-{node_id}-{index}",
        "destination_node_id": transition.target_node_id,
        "transition_condition": transition_condition,
    }


def _tool_id(tool: ToolDefinition) -> str:
    return str(tool.metadata.get("tool_id") or f"tool-{tool.name}")


def _flow_node(node: AgentNode, own_fields: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": node.id, "type": _FLOW_TYPES[node.node_type]}
    if own_fields:  # Retell node fields the IR keeps in metadata (display_position, ...)
        out.update({k: v for k, v in node.metadata.items() if k not in {"retell_type", "name", "static_text"}})
    if node.metadata.get("name"):
        out["name"] = node.metadata["name"]
    if node.node_type != "logic":
        kind = "static_text" if node.metadata.get("static_text") else "prompt"
        out["instruction"] = {"type": kind, "text": node.state_prompt}
    edges = [t for t in node.transitions if t.condition.type != "always"]
    out["edges"] = [_edge(node.id, i, t) for i, t in enumerate(edges)]
    fallback = next((t for t in node.transitions if t.condition.type == "always"), None)
    if fallback:
        out["else_edge"] = {
            "id": fallback.description or f"edge-{node.id}-else",
            "destination_node_id": fallback.target_node_id,
            "transition_condition": {"type": "prompt", "prompt": fallback.condition.value or "Else"},
        }
    if node.node_type == "function" and node.tools:
        out["tool_id"] = _tool_id(node.tools[0])
    elif node.tools:
        out["tool_ids"] = [_tool_id(t) for t in node.tools]
    if node.variables_to_extract:
        out["variables"] = [v.model_dump() for v in node.variables_to_extract]
    if node.global_node_setting:
        out["global_node_setting"] = {
            "condition": node.global_node_setting.condition,
            "go_back_conditions": [
                {"id": f"go-back-{node.id}-{i}", "transition_condition": {"type": "prompt", "prompt": text}}
                for i, text in enumerate(node.global_node_setting.go_back_conditions)
            ],
        }
    return out


def to_retell_flow(graph: AgentGraph) -> dict[str, Any]:
    """A Retell conversation flow; node tools become flow tools referenced by id."""
    tools: dict[str, dict[str, Any]] = {_tool_id(t): _tool(t) for t in graph.tools}
    for tool in (t for n in graph.nodes.values() for t in n.tools):  # referenced by id: needs one
        tools.setdefault(_tool_id(tool), _tool(tool) | {"tool_id": _tool_id(tool)})
    out: dict[str, Any] = {
        "conversation_flow_id": graph.source_metadata.get("conversation_flow_id", "exported-flow"),
        "start_node_id": graph.entry_node_id,
        "global_prompt": graph.general_prompt,
        "nodes": [_flow_node(node, graph.source_type == "retell_flow") for node in graph.nodes.values()],
        "tools": list(tools.values()),
    }
    for key in ("version", "model_temperature", "knowledge_base_ids"):
        if key in graph.source_metadata:
            out[key] = graph.source_metadata[key]
    if graph.start_speaker:
        out["start_speaker"] = graph.start_speaker
    if graph.begin_message:
        out["begin_message"] = graph.begin_message
    if graph.default_model:
        out["model_choice"] = {"type": "cascading", "model": graph.default_model}
    if graph.default_dynamic_variables:
        out["default_dynamic_variables"] = graph.default_dynamic_variables
    return out
