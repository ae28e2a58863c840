"""VAPI assistants and squads.

An assistant becomes one conversation node; a squad becomes one node per member with
its handoff destinations (`handoff` tools or legacy `assistantDestinations`) as edges.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError, did_you_mean
from ..models.graph import AgentGraph, graph_from_data
from .common import function_tool, require_list, slug, terminal_node, text

_BUILTIN = {"endCall": "end_call", "transferCall": "transfer_call"}
_ASSISTANT_META = ("id", "name", "voice", "transcriber", "silenceTimeoutSeconds", "maxDurationSeconds")


def detect_assistant(data: Any) -> bool:
    return isinstance(data, dict) and "members" not in data and (isinstance(data.get("model"), dict) or "firstMessage" in data)


def detect_squad(data: Any) -> bool:
    members = data.get("members") if isinstance(data, dict) else None
    return isinstance(members, list) and all(isinstance(m, dict) and ("assistant" in m or "assistantId" in m) for m in members)


def _system_prompt(assistant: dict[str, Any]) -> str:
    model = assistant.get("model") or {}
    return "\n\n".join(text(m.get("content")) for m in model.get("messages") or [] if m.get("role") == "system")


def _model_name(assistant: dict[str, Any]) -> str | None:
    model = assistant.get("model") or {}
    if not model.get("model"):
        return None
    provider = model.get("provider")
    return f"{provider}/{model['model']}" if provider else str(model["model"])


def _tools(assistant: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The assistant's tools and its handoff destinations."""
    model = assistant.get("model") or {}
    tools: list[dict[str, Any]] = []
    handoffs: list[dict[str, Any]] = []
    for raw in [*(model.get("tools") or []), *(assistant.get("tools") or [])]:
        kind = raw.get("type")
        if kind == "handoff":
            handoffs.extend(raw.get("destinations") or [])
        elif kind == "function":
            server = raw.get("server") or {}
            tools.append(function_tool(raw.get("function") or {}, url=server.get("url")))
        elif kind in _BUILTIN:
            function = raw.get("function") or {"name": kind}
            tools.append(function_tool(function, type=_BUILTIN[kind]))
    return tools, handoffs


def _start_speaker(assistant: dict[str, Any]) -> str | None:
    mode = assistant.get("firstMessageMode")
    return "user" if mode == "assistant-waits-for-user" else ("agent" if mode else None)


def load_assistant(data: dict[str, Any], source: str | Path | None = None) -> AgentGraph:
    tools, _ = _tools(data)
    graph = {
        "nodes": {
            "main": {
                "id": "main",
                "state_prompt": _system_prompt(data),
                "node_type": "conversation",
                "tools": tools,
                "metadata": {"name": text(data.get("name"))} if data.get("name") else {},
            }
        },
        "entry_node_id": "main",
        "source_type": "vapi_assistant",
        "source_metadata": {k: data[k] for k in _ASSISTANT_META if k in data}
        | {"model_settings": {k: v for k, v in (data.get("model") or {}).items() if k not in {"messages", "tools"}}},
        "default_model": _model_name(data),
        "begin_message": data.get("firstMessage") or None,
        "start_speaker": _start_speaker(data),
    }
    return graph_from_data(graph, source)


def load_squad(data: dict[str, Any], source: str | Path | None = None) -> AgentGraph:
    members = require_list(data.get("members"), source, "members")
    if not members:
        raise InputError("the squad has no members", source=source, field="members", fix="add at least one assistant")
    taken: set[str] = set()
    ids_by_name: dict[str, str] = {}
    assistants: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    for index, member in enumerate(members):
        assistant = member.get("assistant") or {"name": member.get("assistantId")}
        name = text(assistant.get("name")) or f"member_{index + 1}"
        if name in ids_by_name:
            raise InputError(
                f"two squad members are named '{name}'",
                source=source,
                field=f"members[{index}].assistant.name",
                fix="give every member a unique name",
            )
        node_id = slug(name, taken)
        ids_by_name[name] = node_id
        if member.get("assistantId"):
            ids_by_name[text(member["assistantId"])] = node_id
        assistants.append((node_id, assistant, member))
    nodes: dict[str, Any] = {}
    for index, (node_id, assistant, member) in enumerate(assistants):
        tools, handoffs = _tools(assistant)
        handoffs += member.get("assistantDestinations") or []
        transitions = []
        for dest in handoffs:
            target_name = text(dest.get("assistantName") or dest.get("assistantId"))
            if target_name not in ids_by_name:
                raise InputError(
                    f"handoff to unknown assistant '{target_name}'{did_you_mean(target_name, ids_by_name)}",
                    source=source,
                    field=f"members[{index}] handoff destinations",
                    fix="name a member of this squad",
                )
            transitions.append(
                {
                    "target_node_id": ids_by_name[target_name],
                    "condition": {
                        "type": "llm_prompt",
                        "value": text(dest.get("description")) or f"Hand off to {target_name}",
                    },
                    "description": text(dest.get("message")),
                }
            )
        metadata: dict[str, Any] = {"name": text(assistant.get("name"))}
        if assistant.get("firstMessage"):
            metadata["first_message"] = assistant["firstMessage"]
        model_name = _model_name(assistant)
        if model_name:
            metadata["model"] = model_name
        nodes[node_id] = terminal_node(
            {
                "id": node_id,
                "state_prompt": _system_prompt(assistant),
                "node_type": "conversation",
                "tools": tools,
                "transitions": transitions,
                "metadata": metadata,
            }
        )
    entry_id, entry_assistant, _ = assistants[0]
    graph = {
        "nodes": nodes,
        "entry_node_id": entry_id,
        "source_type": "vapi_squad",
        "source_metadata": {k: data[k] for k in ("id", "name") if k in data},
        "default_model": _model_name(entry_assistant),
        "begin_message": entry_assistant.get("firstMessage") or None,
        "start_speaker": _start_speaker(entry_assistant),
    }
    return graph_from_data(graph, source)
