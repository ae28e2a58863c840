"""Telnyx AI assistants.

The assistant is one conversation node. A `handoff` tool names other assistants that
live outside this file: each becomes a transfer node reached by an llm_prompt edge, so
the engine ends the call as a transfer when the model hands off.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..models.graph import AgentGraph, graph_from_data
from .common import object_schema, slug, text

_META = ("id", "name", "voice_settings", "transcription", "telephony_settings")


def detect(data: Any) -> bool:
    if not isinstance(data, dict) or not isinstance(data.get("instructions"), str):
        return False
    # an assistant, or the voicetest harness's Telnyx export: {instructions, tools: [{type, <type>: {...}}], model}
    tools = data.get("tools")
    harness = (
        isinstance(tools, list)
        and set(data) <= {"instructions", "tools", "model", "name"}
        and all(isinstance(t, dict) and isinstance(t.get("type"), str) for t in tools)
    )
    return harness or any(k in data for k in ("greeting", "voice_settings", "telephony_settings", "transcription", "dynamic_variables"))


def _webhook(raw: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": text(raw.get("name")),
        "description": text(raw.get("description")),
        "parameters": object_schema(raw.get("path_parameters"), raw.get("query_parameters"), raw.get("body_parameters")),
        "type": "custom",
        "url": raw.get("url"),
        "metadata": {"method": raw.get("method", "POST")},
    }


def load(data: dict[str, Any], source: str | Path | None = None) -> AgentGraph:
    tools: list[dict[str, Any]] = []
    nodes: dict[str, Any] = {}
    transitions: list[dict[str, Any]] = []
    taken = {"main"}
    for raw in data.get("tools") or []:
        kind = raw.get("type")
        body = raw.get(kind) if isinstance(raw.get(kind), dict) else {}
        if kind == "webhook":
            tools.append(_webhook(body))
        elif kind == "hangup":
            tools.append({"name": "hangup", "description": text(body.get("description")) or "End the call", "type": "end_call"})
        elif kind == "transfer":
            targets = body.get("targets") or []
            names = ", ".join(text(t.get("name")) for t in targets)
            tools.append(
                {
                    "name": "transfer",
                    "description": f"Transfer the call to one of: {names}" if names else "Transfer the call",
                    "parameters": {
                        "type": "object",
                        "properties": {"target": {"type": "string", "enum": [text(t.get("name")) for t in targets]}},
                    }
                    if targets
                    else {},
                    "type": "transfer_call",
                    "metadata": {"targets": targets},
                }
            )
        elif kind == "handoff":
            for assistant in body.get("ai_assistants") or []:
                name = text(assistant.get("name")) or text(assistant.get("id"))
                node_id = slug(f"handoff {name}", taken)
                nodes[node_id] = {
                    "id": node_id,
                    "state_prompt": f"Hand the caller over to {name}.",
                    "node_type": "transfer",
                    "metadata": {"assistant_id": assistant.get("id"), "name": name, "voice_mode": body.get("voice_mode")},
                }
                transitions.append(
                    {
                        "target_node_id": node_id,
                        "condition": {"type": "llm_prompt", "value": f"The caller needs {name}"},
                    }
                )
    main = {
        "id": "main",
        "state_prompt": text(data.get("instructions")),
        "node_type": "conversation",
        "tools": tools,
        "transitions": transitions,
    }
    graph = {
        "nodes": {"main": main, **nodes},
        "entry_node_id": "main",
        "source_type": "telnyx",
        "source_metadata": {k: data[k] for k in _META if k in data},
        "default_model": data.get("model") if isinstance(data.get("model"), str) else None,
        "begin_message": data.get("greeting") or None,
        "default_dynamic_variables": {str(k): str(v) for k, v in (data.get("dynamic_variables") or {}).items()},
    }
    return graph_from_data(graph, source)
