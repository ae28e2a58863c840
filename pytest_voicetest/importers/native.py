"""The native format: the IR itself as JSON or YAML, also as the voicetest harness exports it.

The harness's export (`*.vt.json`) is the same graph with a few differences that are read
here: tools carry a `tool_id` (kept in the tool's metadata), transition descriptions may
be null, go-back conditions are `{id, condition: {type, value, ...}}` objects, and the
greeting and start speaker sit in `source_metadata`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..models.graph import AgentGraph, graph_from_data


def detect(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("nodes"), dict) and "entry_node_id" in data


def _tool(tool: Any) -> Any:
    if isinstance(tool, dict) and "tool_id" in tool:
        tool = dict(tool)
        tool_id = tool.pop("tool_id")
        if tool_id is not None:
            tool["metadata"] = {**(tool.get("metadata") or {}), "tool_id": tool_id}
    return tool


def _transition(transition: Any) -> Any:
    if isinstance(transition, dict) and transition.get("description", "") is None:
        return {**transition, "description": ""}
    return transition


def _go_back(condition: Any) -> Any:
    """A harness go-back condition object as its prompt text."""
    if isinstance(condition, dict) and isinstance(condition.get("condition"), dict):
        return condition["condition"].get("value", "")
    return condition


def _node(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = dict(node)
    if isinstance(node.get("tools"), list):
        node["tools"] = [_tool(t) for t in node["tools"]]
    if isinstance(node.get("transitions"), list):
        node["transitions"] = [_transition(t) for t in node["transitions"]]
    setting = node.get("global_node_setting")
    if isinstance(setting, dict) and isinstance(setting.get("go_back_conditions"), list):
        node["global_node_setting"] = {**setting, "go_back_conditions": [_go_back(c) for c in setting["go_back_conditions"]]}
    return node


def normalise(data: dict[str, Any]) -> dict[str, Any]:
    """Harness export fields as ours (our own native files pass through unchanged)."""
    data = {**data, "nodes": {key: _node(node) for key, node in data["nodes"].items()}}
    given = data.get("source_metadata")
    metadata: dict[str, Any] = given if isinstance(given, dict) else {}
    if "begin_message" not in data and isinstance(metadata.get("begin_message"), str):
        data["begin_message"] = metadata["begin_message"]
    if "start_speaker" not in data and metadata.get("start_speaker") in ("agent", "user"):
        data["start_speaker"] = metadata["start_speaker"]
    return data


def load(data: dict[str, Any], source: str | Path | None = None) -> AgentGraph:
    return graph_from_data(normalise(data), source)
