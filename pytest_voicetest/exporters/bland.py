"""Bland conversational pathways: one node per graph node, one labelled edge per transition."""

from __future__ import annotations

from typing import Any

from ..importers.bland import NODE_TYPES
from ..models.graph import AgentGraph, AgentNode

_DEFAULT_TYPE = {
    "conversation": "Default",
    "logic": "Default",
    "extract": "Default",
    "end": "End Call",
    "transfer": "Transfer Call",
    "function": "Webhook",
}


def _node_data(graph: AgentGraph, node: AgentNode) -> dict[str, Any]:
    data: dict[str, Any] = {"name": str(node.metadata.get("name") or node.id)}
    data["text" if node.metadata.get("static_text") else "prompt"] = node.state_prompt
    if node.id == graph.entry_node_id:
        data["isStart"] = True
    if node.metadata.get("condition"):
        data["condition"] = node.metadata["condition"]
    if node.variables_to_extract:
        data["extractVars"] = [[v.name, v.type, v.description] for v in node.variables_to_extract]
    if node.global_node_setting:
        data["isGlobal"] = True
        data["globalLabel"] = node.global_node_setting.condition
    if node.node_type == "function" and node.tools:
        tool = node.tools[0]
        data["url"] = tool.url
        data["method"] = tool.metadata.get("method", "POST")
        if tool.metadata.get("body"):
            data["body"] = tool.metadata["body"]
    return data


def _node_type(node: AgentNode) -> str:
    """The node's own Bland type when it still means the same thing, else the default for its kind."""
    own = node.metadata.get("bland_type")
    return str(own) if NODE_TYPES.get(str(own)) == node.node_type else _DEFAULT_TYPE[node.node_type]


def to_bland_pathway(graph: AgentGraph, name: str = "", description: str = "") -> dict[str, Any]:
    """A pathway body: one node per graph node, one labelled edge per transition (`always` edges unlabelled)."""
    nodes = [{"id": node.id, "type": _node_type(node), "data": _node_data(graph, node)} for node in graph.nodes.values()]
    edges: list[dict[str, Any]] = []
    used: set[str] = set()
    for node in graph.nodes.values():
        for index, transition in enumerate(node.transitions):
            edge_id = transition.description
            if not edge_id or edge_id in used:
                edge_id = f"edge-{node.id}-{transition.target_node_id}-{index}"
            used.add(edge_id)
            edge: dict[str, Any] = {"id": edge_id, "source": node.id, "target": transition.target_node_id}
            if transition.condition.type != "always":
                edge["label"] = transition.condition.label()
            edges.append(edge)
    label = name or str(graph.source_metadata.get("name") or "voicetest agent")
    return {"name": label, "description": description or str(graph.source_metadata.get("description") or ""), "nodes": nodes, "edges": edges}
