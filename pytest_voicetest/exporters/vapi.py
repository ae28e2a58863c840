"""VAPI exports: a one-node graph as an assistant, a larger graph as a squad."""

from __future__ import annotations

from typing import Any

from ..models.graph import AgentGraph, AgentNode, ToolDefinition

_BUILTIN = {"end_call": "endCall", "hangup": "endCall", "transfer_call": "transferCall", "transfer": "transferCall"}
_TERMINAL = {"end": "endCall", "transfer": "transferCall"}


def _model(graph: AgentGraph, node: AgentNode, prompt: str, extra_tools: list[dict[str, Any]]) -> dict[str, Any]:
    model_name = str(node.metadata.get("model") or graph.default_model or "")
    provider, _, name = model_name.rpartition("/")
    model: dict[str, Any] = {"provider": provider or "openai", "model": name or model_name}
    model["messages"] = [{"role": "system", "content": prompt}]
    terminal = node.node_type in _TERMINAL and not node.tools and not node.transitions
    # an end or transfer node is an assistant whose one action is to end or transfer the call
    tools = (
        [{"type": _TERMINAL[node.node_type], "function": {"name": node.id}}]
        if terminal
        else [_tool(t) for t in [*node.tools, *graph.tools]] + extra_tools
    )
    if tools:
        model["tools"] = tools
    return model


def _tool(tool: ToolDefinition) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name, "description": tool.description}
    if tool.parameters:
        function["parameters"] = tool.parameters
    if tool.type in _BUILTIN:
        return {"type": _BUILTIN[tool.type], "function": function}
    out: dict[str, Any] = {"type": "function", "function": function}
    if tool.url:
        out["server"] = {"url": tool.url}
    return out


def _prompt(graph: AgentGraph, node: AgentNode) -> str:
    return "\n\n".join(p for p in (graph.general_prompt, node.state_prompt) if p)


def _first_message(graph: AgentGraph, assistant: dict[str, Any]) -> None:
    if graph.begin_message:
        assistant["firstMessage"] = graph.begin_message
    if graph.start_speaker == "user":
        assistant["firstMessageMode"] = "assistant-waits-for-user"


def to_vapi(graph: AgentGraph) -> dict[str, Any]:
    """An assistant for a single node, else a squad whose edges are handoff tools."""
    if len(graph.nodes) == 1:
        node = graph.nodes[graph.entry_node_id]
        single: dict[str, Any] = {"name": str(node.metadata.get("name") or node.id), "model": _model(graph, node, _prompt(graph, node), [])}
        _first_message(graph, single)
        return single
    ordered = [graph.nodes[graph.entry_node_id]] + [n for n in graph.nodes.values() if n.id != graph.entry_node_id]
    members = []
    for node in ordered:
        handoff = [{"type": "assistant", "assistantName": t.target_node_id, "description": t.condition.label()} for t in node.transitions]
        extra = [{"type": "handoff", "destinations": handoff}] if handoff else []
        assistant: dict[str, Any] = {"name": node.id, "model": _model(graph, node, _prompt(graph, node), extra)}
        if node.id == graph.entry_node_id:
            _first_message(graph, assistant)
        members.append({"assistant": assistant})
    return {"name": str(graph.source_metadata.get("name") or "exported-squad"), "members": members}
