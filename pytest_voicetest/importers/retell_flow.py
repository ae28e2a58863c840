"""Retell conversation flow exports (plain, or wrapped in `conversationFlow`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError
from ..models.graph import AgentGraph, duplicate_ids, graph_from_data
from .common import require_list, text

NODE_TYPES = {
    "conversation": "conversation",
    "end": "end",
    "function": "function",
    "logic_split": "logic",
    "branch": "logic",
    "extract_dynamic_variables": "extract",
    "transfer_call": "transfer",
}
LOGICAL = {"&&": "and", "and": "and", "||": "or", "or": "or"}
_NODE_KEYS = {
    "id",
    "type",
    "name",
    "instruction",
    "edges",
    "else_edge",
    "global_node_setting",
    "variables",
    "tool_id",
    "tool_ids",
}


def unwrap(data: dict[str, Any]) -> dict[str, Any]:
    flow = data.get("conversationFlow")
    return flow if isinstance(flow, dict) else data


def detect(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    flow = unwrap(data)
    nodes = flow.get("nodes")
    return (
        isinstance(nodes, list)
        and ("start_node_id" in flow or "conversation_flow_id" in flow)
        and all(isinstance(node, dict) and "type" in node for node in nodes)
    )


def condition(raw: dict[str, Any] | None, *, is_else: bool = False) -> dict[str, Any]:
    """An IR condition from a Retell transition_condition."""
    raw = raw or {}
    if is_else:
        return {"type": "always", "value": text(raw.get("prompt")) or "Else"}
    if raw.get("type") == "equation":
        return {
            "type": "equation",
            "value": text(raw.get("prompt")),
            "equations": list(raw.get("equations") or []),
            "logical_operator": LOGICAL.get(text(raw.get("operator")) or "&&", "and"),
        }
    return {"type": "llm_prompt", "value": text(raw.get("prompt"))}


def _transitions(node: dict[str, Any]) -> list[dict[str, Any]]:
    transitions = [
        {
            "target_node_id": text(edge.get("destination_node_id")),
            "condition": condition(edge.get("transition_condition")),
            "description": text(edge.get("id")),
        }
        for edge in node.get("edges") or []
    ]
    else_edge = node.get("else_edge")
    if isinstance(else_edge, dict) and else_edge.get("destination_node_id"):
        transitions.append(
            {
                "target_node_id": text(else_edge["destination_node_id"]),
                "condition": condition(else_edge.get("transition_condition"), is_else=True),
                "description": text(else_edge.get("id")),
            }
        )
    return transitions


def tool(raw: dict[str, Any]) -> dict[str, Any]:
    """An IR tool from a Retell tool (flow-level, general_tools or state tools)."""
    return {
        "name": text(raw.get("name")),
        "description": text(raw.get("description")),
        "parameters": dict(raw.get("parameters") or {}),
        "type": text(raw.get("type")) or "custom",
        "url": raw.get("url"),
        "metadata": {k: raw[k] for k in ("tool_id", "method", "timeout_ms", "response_variables") if k in raw},
    }


def load(data: dict[str, Any], source: str | Path | None = None) -> AgentGraph:
    flow = unwrap(data)
    raw_nodes = require_list(flow.get("nodes"), source, "nodes")
    duplicate_ids([text(n.get("id")) for n in raw_nodes], source)
    tools = [tool(t) for t in require_list(flow.get("tools"), source, "tools")]
    tools_by_id = {t["metadata"]["tool_id"]: t for t in tools if t["metadata"].get("tool_id")}
    used_tool_ids: set[str] = set()
    nodes: dict[str, Any] = {}
    for index, raw in enumerate(raw_nodes):
        node_id = text(raw.get("id"))
        retell_type = text(raw.get("type"))
        instruction = raw.get("instruction") or {}
        metadata: dict[str, Any] = {"retell_type": retell_type}
        if raw.get("name"):
            metadata["name"] = raw["name"]
        if instruction.get("type") == "static_text":
            metadata["static_text"] = True
        metadata.update({k: v for k, v in raw.items() if k not in _NODE_KEYS})
        node_tools = []
        referenced = [raw["tool_id"]] if raw.get("tool_id") else list(raw.get("tool_ids") or [])
        for tool_id in referenced:
            if tool_id not in tools_by_id:
                raise InputError(
                    f"node uses unknown tool_id '{tool_id}'",
                    source=source,
                    field=f"nodes[{index}].tool_id",
                    fix="add the tool to the flow's tools list",
                )
            node_tools.append(tools_by_id[tool_id])
            used_tool_ids.add(tool_id)
        setting = raw.get("global_node_setting")
        nodes[node_id] = {
            "id": node_id,
            "state_prompt": text(instruction.get("text")),
            "node_type": NODE_TYPES.get(retell_type, "conversation"),
            "tools": node_tools,
            "transitions": _transitions(raw),
            "variables_to_extract": [
                {
                    "name": text(v.get("name")),
                    "description": text(v.get("description")),
                    "type": text(v.get("type")) or "string",
                    "choices": [str(c) for c in v.get("choices") or []],
                }
                for v in raw.get("variables") or []
            ],
            "global_node_setting": {
                "condition": text(setting.get("condition")),
                "go_back_conditions": [text((g.get("transition_condition") or {}).get("prompt")) for g in setting.get("go_back_conditions") or []],
            }
            if isinstance(setting, dict)
            else None,
            "metadata": metadata,
        }
    source_metadata: dict[str, Any] = {"general_prompt": text(flow.get("global_prompt"))}
    for key in ("conversation_flow_id", "version", "model_temperature", "knowledge_base_ids"):
        if key in flow:
            source_metadata[key] = flow[key]
    if flow is not data:
        source_metadata["agent"] = {k: v for k, v in data.items() if k != "conversationFlow"}
    graph = {
        "nodes": nodes,
        "entry_node_id": text(flow.get("start_node_id")) or next(iter(nodes), ""),
        "source_type": "retell_flow",
        "source_metadata": source_metadata,
        "default_model": (flow.get("model_choice") or {}).get("model"),
        "begin_message": flow.get("begin_message") or data.get("begin_message"),
        "start_speaker": flow.get("start_speaker"),
        "default_dynamic_variables": {str(k): str(v) for k, v in (flow.get("default_dynamic_variables") or {}).items()},
        "tools": [t for t in tools if t["metadata"].get("tool_id") not in used_tool_ids],
    }
    return graph_from_data(graph, source)
