"""Telnyx AI assistants: one prompt, its tools, and handoffs to other assistants."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..errors import InputError
from ..models.graph import AgentGraph, ToolDefinition

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
KEPT = ("voice_settings", "transcription")


def _split_schema(schema: Mapping[str, Any], names: set[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The object schema cut in two: the properties in `names`, and the others."""
    props = dict(schema.get("properties") or {})
    required = list(schema.get("required") or [])

    def part(keep: bool) -> dict[str, Any]:
        chosen = {k: v for k, v in props.items() if (k in names) == keep}
        if not chosen:
            return {}
        out: dict[str, Any] = {"type": "object", "properties": chosen}
        needed = [r for r in required if r in chosen]
        if needed:
            out["required"] = needed
        return out

    return part(True), part(False)


def _webhook(tool: ToolDefinition, strict: bool) -> dict[str, Any]:
    if not tool.url and strict:
        raise InputError(
            f"tool '{tool.name}' has no URL, and a Telnyx webhook tool needs one",
            field=f"tools '{tool.name}' url",
            fix="give the tool a url, or remove it before pushing to Telnyx",
        )
    method = str(tool.metadata.get("method") or "POST").upper()
    webhook: dict[str, Any] = {"name": tool.name, "description": tool.description, "url": tool.url or "", "method": method}
    path_part, rest = _split_schema(tool.parameters, set(_PLACEHOLDER.findall(tool.url or "")))
    if path_part:
        webhook["path_parameters"] = path_part
    if rest:
        webhook["body_parameters" if method in _BODY_METHODS else "query_parameters"] = rest
    return {"type": "webhook", "webhook": webhook}


def _tool(tool: ToolDefinition, strict: bool) -> dict[str, Any]:
    if tool.ends_call:
        return {"type": "hangup", "hangup": {"description": tool.description}}
    if tool.transfers_call:
        targets = tool.metadata.get("targets")
        if not targets and strict:
            raise InputError(
                f"transfer tool '{tool.name}' has no targets (name and number) for Telnyx to dial",
                field=f"tools '{tool.name}' metadata.targets",
                fix="add metadata: {targets: [{name: Front desk, to: '+15551234567'}]} to the tool",
            )
        return {"type": "transfer", "transfer": {"targets": targets or []}}
    return _webhook(tool, strict)


def _steps(graph: AgentGraph) -> str:
    """A multi-step graph as one prompt: each step's instructions and where it leads."""
    lines = [f"Start at step {graph.entry_node_id}."]
    for node in graph.nodes.values():
        lines.append(f"\n### Step {node.id} ({node.node_type})\n{node.state_prompt}".rstrip())
        lines += [f"- When {t.condition.label() or 'done'}: go to step {t.target_node_id}" for t in node.transitions]
    return "\n".join(lines)


def to_telnyx_assistant(graph: AgentGraph, name: str | None = None, strict: bool = False) -> dict[str, Any]:
    """An assistant body. Telnyx holds one prompt: a graph of several steps becomes one prompt
    describing them, unless `strict` (a push), which refuses anything but one conversation
    node with handoff nodes (transfer nodes naming another assistant by `metadata.assistant_id`)."""
    main = graph.nodes[graph.entry_node_id]
    handoffs = []
    flatten = False
    for node in graph.nodes.values():
        if node.id == main.id:
            continue
        if node.node_type == "transfer" and node.metadata.get("assistant_id"):
            handoffs.append(node)
        elif not strict:
            flatten = True
        else:
            raise InputError(
                f"a Telnyx assistant is one prompt, but node '{node.id}' ({node.node_type}) is a separate step",
                field=f"node '{node.id}'",
                fix="merge it into the entry node's prompt, or push this graph to Retell (flow) or Bland (pathway)",
            )
    prompt = "\n\n".join(p for p in (graph.general_prompt, _steps(graph) if flatten else main.state_prompt) if p)
    own_tools = [t for n in graph.nodes.values() for t in n.tools] if flatten else main.tools
    body: dict[str, Any] = {
        "name": name or str(graph.source_metadata.get("name") or "voicetest agent"),
        "instructions": prompt,
        "tools": [_tool(t, strict) for t in {t.name: t for t in [*own_tools, *graph.tools]}.values()],
    }
    if handoffs:
        handoff: dict[str, Any] = {
            "ai_assistants": [{"id": n.metadata["assistant_id"], "name": str(n.metadata.get("name") or n.id)} for n in handoffs]
        }
        modes = sorted({str(n.metadata["voice_mode"]) for n in handoffs if n.metadata.get("voice_mode")})
        if modes:
            handoff["voice_mode"] = modes[0]
        body["tools"].append({"type": "handoff", "handoff": handoff})
    if graph.default_model:
        body["model"] = graph.default_model
    if graph.begin_message:
        body["greeting"] = graph.begin_message
    if graph.default_dynamic_variables:
        body["dynamic_variables"] = dict(graph.default_dynamic_variables)
    body.update({k: graph.source_metadata[k] for k in KEPT if k in graph.source_metadata})
    return body
