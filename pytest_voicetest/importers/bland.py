"""Bland AI: conversational pathways (nodes + edges) and single-prompt agent configs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError
from ..models.graph import AgentGraph, duplicate_ids, graph_from_data
from .common import require_list, slug, text

NODE_TYPES = {
    "Default": "conversation",
    "Knowledge Base": "conversation",
    "Wait for Response": "conversation",
    "End Call": "end",
    "Transfer Call": "transfer",
    "Transfer Node": "transfer",
    "Transfer Pathway": "transfer",
    "Webhook": "function",
    "Custom Code": "function",
}
_SINGLE_PROMPT_KEYS = (
    "first_sentence",
    "voice",
    "voice_id",
    "transfer_list",
    "transfer_phone_number",
    "interruption_threshold",
    "max_duration",
    "dynamic_data",
    "phone_number",
    "pathway_id",
)


def _pathway(data: dict[str, Any]) -> dict[str, Any]:
    inner = data.get("pathway_data")
    return inner if isinstance(inner, dict) else data


def detect(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    pathway = _pathway(data)
    nodes, edges = pathway.get("nodes"), pathway.get("edges")
    if isinstance(nodes, list) and isinstance(edges, list):
        return all(isinstance(n, dict) and isinstance(n.get("data"), dict) for n in nodes) and all(
            isinstance(e, dict) and "source" in e and "target" in e for e in edges
        )
    if not isinstance(data.get("prompt"), str) or isinstance(data.get("model"), dict):
        return False
    # a single-prompt agent, or the voicetest harness's Bland export: {prompt, tools: [{name, description, input_schema?}], model}
    tools = data.get("tools")
    harness = (
        isinstance(tools, list)
        and set(data) <= {"prompt", "tools", "model", *_SINGLE_PROMPT_KEYS}
        and all(
            isinstance(t, dict) and isinstance(t.get("name"), str) and set(t) <= {"name", "description", "input_schema", "speech", "url"}
            for t in tools
        )
    )
    return harness or any(key in data for key in _SINGLE_PROMPT_KEYS)


def _tool(raw: dict[str, Any]) -> dict[str, Any]:
    api = raw.get("api") or {}
    return {
        "name": text(raw.get("name")),
        "description": text(raw.get("description")),
        "parameters": dict(raw.get("input_schema") or {}),
        "type": "custom",
        "url": api.get("url") or raw.get("url"),
        "metadata": {k: raw[k] for k in ("speech", "method") if k in raw},
    }


def _webhook_tool(node_id: str, data: dict[str, Any]) -> dict[str, Any]:
    body = data.get("body")
    return {
        "name": slug(text(data.get("name")) or node_id),
        "description": text(data.get("prompt") or data.get("text")),
        "parameters": {},
        "type": "custom",
        "url": data.get("url"),
        "metadata": {"method": data.get("method", "POST"), **({"body": body} if body else {})},
    }


def _extract_vars(raw: Any) -> list[dict[str, Any]]:
    specs = []
    for item in raw or []:
        if isinstance(item, list) and item:
            name, kind, description = (list(item) + ["", "", ""])[:3]
            specs.append({"name": str(name), "type": str(kind or "string"), "description": str(description)})
    return specs


def load(data: dict[str, Any], source: str | Path | None = None) -> AgentGraph:
    pathway = _pathway(data)
    if not isinstance(pathway.get("nodes"), list):
        return _load_single_prompt(data, source)
    raw_nodes = require_list(pathway.get("nodes"), source, "nodes")
    duplicate_ids([text(n.get("id")) for n in raw_nodes], source)
    nodes: dict[str, Any] = {}
    entry = ""
    for raw in raw_nodes:
        node_id = text(raw.get("id"))
        info = raw.get("data") or {}
        node_type = NODE_TYPES.get(text(raw.get("type")), "conversation")
        metadata: dict[str, Any] = {"bland_type": raw.get("type"), "name": text(info.get("name"))}
        if info.get("text") and not info.get("prompt"):
            metadata["static_text"] = True
        if info.get("condition"):
            metadata["condition"] = info["condition"]
        if info.get("isStart"):
            entry = node_id
        nodes[node_id] = {
            "id": node_id,
            "state_prompt": text(info.get("prompt") or info.get("text")),
            "node_type": node_type,
            "tools": [_webhook_tool(node_id, info)] if node_type == "function" else [],
            "transitions": [],
            "variables_to_extract": _extract_vars(info.get("extractVars")),
            "global_node_setting": {"condition": text(info.get("globalLabel"))} if info.get("isGlobal") else None,
            "metadata": metadata,
        }
    for index, edge in enumerate(require_list(pathway.get("edges"), source, "edges")):
        origin = text(edge.get("source"))
        if origin not in nodes:
            raise InputError(
                f"edge starts at unknown node '{origin}'",
                source=source,
                field=f"edges[{index}].source",
                fix="point the edge at an existing node id",
            )
        label = text((edge.get("data") or {}).get("label") or edge.get("label"))
        nodes[origin]["transitions"].append(
            {
                "target_node_id": text(edge.get("target")),
                "condition": {"type": "llm_prompt" if label else "always", "value": label},
                "description": text(edge.get("id")),
            }
        )
    graph: dict[str, Any] = {
        "nodes": nodes,
        "entry_node_id": entry or (text(raw_nodes[0].get("id")) if raw_nodes else ""),
        "source_type": "bland",
        "source_metadata": {
            "general_prompt": text(pathway.get("global_prompt") or pathway.get("globalPrompt")),
            **{k: pathway[k] for k in ("name", "description", "pathway_id") if k in pathway},
        },
    }
    return graph_from_data(graph, source)


def _load_single_prompt(data: dict[str, Any], source: str | Path | None) -> AgentGraph:
    tools = [_tool(t) for t in require_list(data.get("tools"), source, "tools") if isinstance(t, dict)]
    if data.get("transfer_phone_number") or data.get("transfer_list"):
        tools.append(
            {
                "name": "transfer_call",
                "description": "Transfer the caller to a human.",
                "type": "transfer_call",
                "metadata": {k: data[k] for k in ("transfer_phone_number", "transfer_list") if k in data},
            }
        )
    request_data = data.get("request_data") or {}
    graph = {
        "nodes": {
            "main": {
                "id": "main",
                "state_prompt": text(data.get("prompt")),
                "node_type": "conversation",
                "tools": tools,
            }
        },
        "entry_node_id": "main",
        "source_type": "bland",
        # Bland's model names (base, enhanced, turbo) are not litellm models: keep them as metadata.
        "source_metadata": {k: data[k] for k in (*_SINGLE_PROMPT_KEYS, "model") if k in data and k != "first_sentence"},
        "begin_message": data.get("first_sentence") or None,
        "default_dynamic_variables": {str(k): str(v) for k, v in request_data.items()},
    }
    return graph_from_data(graph, source)
