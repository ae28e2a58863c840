"""Retell LLM exports (multi-state or single-prompt; plain or wrapped in `retellLlmData`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..models.graph import AgentGraph, duplicate_ids, graph_from_data
from .common import require_list, terminal_node, text
from .retell_flow import tool

_KEPT = ("llm_id", "model_temperature", "version", "knowledge_base_ids")


def unwrap(data: dict[str, Any]) -> dict[str, Any]:
    llm = data.get("retellLlmData")
    return llm if isinstance(llm, dict) else data


def detect(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    llm = unwrap(data)
    if isinstance(llm.get("states"), list):
        return True
    return "general_prompt" in llm and any(key in llm for key in ("llm_id", "begin_message", "general_tools", "starting_state"))


def load(data: dict[str, Any], source: str | Path | None = None) -> AgentGraph:
    llm = unwrap(data)
    states = require_list(llm.get("states"), source, "states")
    duplicate_ids([text(s.get("name")) for s in states], source, what="state")
    nodes: dict[str, Any] = {}
    for state in states:
        name = text(state.get("name"))
        nodes[name] = terminal_node(
            {
                "id": name,
                "state_prompt": text(state.get("state_prompt")),
                "node_type": "conversation",
                "tools": [tool(t) for t in state.get("tools") or []],
                "transitions": [
                    {
                        "target_node_id": text(edge.get("destination_state_name")),
                        "condition": {
                            "type": "llm_prompt",
                            "value": text(edge.get("description")) or text(edge.get("condition")),
                        },
                        "description": text(edge.get("description")),
                    }
                    for edge in state.get("edges") or []
                ],
                "metadata": {k: v for k, v in state.items() if k not in {"name", "state_prompt", "tools", "edges"}},
            }
        )
    if not nodes:
        nodes["main"] = {"id": "main", "state_prompt": "", "node_type": "conversation"}
    begin_message = llm.get("begin_message")
    start_speaker = llm.get("start_speaker")
    if start_speaker is None and begin_message == "":
        start_speaker = "user"
    source_metadata: dict[str, Any] = {"general_prompt": text(llm.get("general_prompt"))}
    source_metadata.update({k: llm[k] for k in _KEPT if k in llm})
    if llm is not data:
        source_metadata["agent"] = {k: v for k, v in data.items() if k != "retellLlmData"}
    graph = {
        "nodes": nodes,
        "entry_node_id": text(llm.get("starting_state")) or next(iter(nodes)),
        "source_type": "retell_llm",
        "source_metadata": source_metadata,
        "default_model": llm.get("model"),
        "begin_message": begin_message or None,
        "start_speaker": start_speaker,
        "default_dynamic_variables": {str(k): str(v) for k, v in (llm.get("default_dynamic_variables") or {}).items()},
        "tools": [tool(t) for t in require_list(llm.get("general_tools"), source, "general_tools")],
    }
    return graph_from_data(graph, source)
