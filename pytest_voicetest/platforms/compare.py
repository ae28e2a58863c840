"""What of a graph a platform holds, and the readable differences between two such views."""

from __future__ import annotations

from typing import Any

from ..models.graph import AgentGraph

MAX_TEXT = 70


def graph_view(graph: AgentGraph) -> dict[str, Any]:
    """The parts of a graph that a push changes: call settings, and per node its kind,
    prompt, tools and edges (target and condition)."""
    return {
        "entry": graph.entry_node_id,
        "greeting": graph.begin_message or "",
        "start speaker": graph.start_speaker or "agent",
        "general prompt": graph.general_prompt,
        "model": graph.default_model or "",
        "tools": sorted({t.name for t in graph.tools}),
        "nodes": {
            node.id: {
                "kind": node.node_type,
                "prompt": node.state_prompt,
                "tools": sorted({t.name for t in node.tools}),
                "edges": [f"-> {t.target_node_id} ({t.condition.type}: {t.condition.label()})" for t in node.transitions],
            }
            for node in graph.nodes.values()
        },
    }


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    text = text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"
    return f'"{text}"'


def changes(before: AgentGraph, after: AgentGraph) -> list[str]:
    """Lines saying what turns `before` into `after`: `+` added, `-` removed, `~` changed."""
    old, new = graph_view(before), graph_view(after)
    lines = [
        f"~ {key}: {_short(old[key])} -> {_short(new[key])}"
        for key in ("entry", "greeting", "start speaker", "general prompt", "model")
        if old[key] != new[key]
    ]
    lines += [f"+ tool {t}" for t in new["tools"] if t not in old["tools"]]
    lines += [f"- tool {t}" for t in old["tools"] if t not in new["tools"]]
    old_nodes, new_nodes = old["nodes"], new["nodes"]
    for node_id in [n for n in new_nodes if n not in old_nodes]:
        lines.append(f"+ node '{node_id}' ({new_nodes[node_id]['kind']}): {_short(new_nodes[node_id]['prompt'])}")
    for node_id in [n for n in old_nodes if n not in new_nodes]:
        lines.append(f"- node '{node_id}'")
    for node_id in [n for n in new_nodes if n in old_nodes]:
        a, b = old_nodes[node_id], new_nodes[node_id]
        if a["kind"] != b["kind"]:
            lines.append(f"~ node '{node_id}' kind: {a['kind']} -> {b['kind']}")
        if a["prompt"] != b["prompt"]:
            lines.append(f"~ node '{node_id}' prompt: {_short(a['prompt'])} -> {_short(b['prompt'])}")
        lines += [f"+ node '{node_id}' tool {t}" for t in b["tools"] if t not in a["tools"]]
        lines += [f"- node '{node_id}' tool {t}" for t in a["tools"] if t not in b["tools"]]
        lines += [f"+ node '{node_id}' edge {e}" for e in b["edges"] if e not in a["edges"]]
        lines += [f"- node '{node_id}' edge {e}" for e in a["edges"] if e not in b["edges"]]
    return lines
