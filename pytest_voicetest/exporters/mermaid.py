"""Mermaid flowcharts of a graph, optionally with a visited path highlighted."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from ..models.graph import AgentGraph, AgentNode

_SHAPES = {
    "conversation": ('["', '"]'),
    "logic": ('{"', '"}'),
    "extract": ('[/"', '"/]'),
    "function": ('[["', '"]]'),
    "transfer": ('>"', '"]'),
    "end": ('(["', '"])'),
}
_SAFE_ID = re.compile(r"[^A-Za-z0-9_]")
MAX_LABEL = 60


def _id(node_id: str) -> str:
    """Mermaid node ids must avoid punctuation and keywords like `end`."""
    return "n_" + _SAFE_ID.sub("_", node_id)


def _escape(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_LABEL:
        text = text[: MAX_LABEL - 1] + "…"
    return text.replace('"', "#quot;").replace("|", "#124;").replace("<", "#lt;").replace(">", "#gt;")


def _node_line(node: AgentNode) -> str:
    title = str(node.metadata.get("name") or node.id)
    label = _escape(title) if title == node.id else f"{_escape(title)}<br/>{_escape(node.id)}"
    opening, closing = _SHAPES[node.node_type]
    return f"    {_id(node.id)}{opening}{label}{closing}"


def to_mermaid(graph: AgentGraph, path: Sequence[str] = ()) -> str:
    """A `flowchart TD`; `path` (visited node ids, in order) is drawn in green."""
    lines = ["flowchart TD", "    start((start))"]
    lines += [_node_line(node) for node in graph.nodes.values()]
    edges: list[tuple[str, str]] = [("__start__", graph.entry_node_id)]
    lines.append(f"    start --> {_id(graph.entry_node_id)}")
    for node in graph.nodes.values():
        for transition in node.transitions:
            label = _escape(transition.condition.label())
            arrow = "-.->" if transition.condition.type in {"always", "equation"} else "-->"
            text = f'|"{label}"|' if label else ""
            lines.append(f"    {_id(node.id)} {arrow}{text} {_id(transition.target_node_id)}")
            edges.append((node.id, transition.target_node_id))
    for node in graph.global_nodes():
        condition = node.global_node_setting.condition if node.global_node_setting else ""
        lines.append(f'    global_{_id(node.id)}(("any node")) -.->|"{_escape(condition)}"| {_id(node.id)}')
    if graph.global_nodes():
        lines.append("    classDef global stroke-dasharray: 5 5")
        lines.append("    class " + ",".join(_id(n.id) for n in graph.global_nodes()) + " global")
    if path:
        lines.append("    classDef visited fill:#d4edda,stroke:#28a745,stroke-width:2px")
        visited = [node_id for node_id in dict.fromkeys(path) if node_id in graph.nodes]
        if visited:
            lines.append("    class " + ",".join(_id(n) for n in visited) + " visited")
        steps = {("__start__", path[0])} | set(itertools.pairwise(path))
        highlighted = [str(i) for i, edge in enumerate(edges) if edge in steps]
        if highlighted:
            lines.append(f"    linkStyle {','.join(highlighted)} stroke:#28a745,stroke-width:3px")
    return "\n".join(lines) + "\n"
