"""A compact view of a graph for reports: nodes with their types, edges with labels."""

from __future__ import annotations

from typing import Any

from ..models.graph import AgentGraph


def graph_view(graph: AgentGraph) -> dict[str, Any]:
    """{entry, nodes: [{id, type, name}], edges: [{source, target, label, kind}]} (plain JSON data)."""
    edges = [
        {"source": node.id, "target": t.target_node_id, "label": t.condition.label()[:80], "kind": t.condition.type}
        for node in graph.nodes.values()
        for t in node.transitions
    ]
    edges += [
        {"source": "*", "target": node.id, "label": node.global_node_setting.condition[:80], "kind": "global"}
        for node in graph.nodes.values()
        if node.global_node_setting is not None
    ]
    return {
        "entry": graph.entry_node_id,
        "source_type": graph.source_type,
        "nodes": [{"id": n.id, "type": n.node_type, "name": str(n.metadata.get("name") or n.id)} for n in graph.nodes.values()],
        "edges": edges,
    }
