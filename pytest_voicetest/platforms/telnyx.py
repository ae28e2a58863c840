"""Telnyx AI assistants: one prompt, its tools, and handoffs to other assistants.

Documented endpoints (https://developers.telnyx.com/api-reference/assistants/...), `Authorization: Bearer KEY`:
  GET  /v2/ai/assistants                   get-assistants ({"data": [...]}; Telnyx lists page
                                           with page[number]/page[size] and meta.total_pages)
  GET  /v2/ai/assistants/{assistant_id}    get-an-assistant
  POST /v2/ai/assistants                   create-an-assistant (name, model, instructions required)
  POST /v2/ai/assistants/{assistant_id}    update-an-assistant

`to_telnyx_assistant` builds the assistant body from a graph: there is no Telnyx exporter
in `pytest_voicetest.exporters` yet, so it lives here until it moves there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..errors import InputError
from ..models.graph import AgentGraph, ToolDefinition
from .base import PlatformClient, PushResult, RemoteAgent

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_KEPT = ("voice_settings", "transcription")
# Tool types the importer reads; others (retrieval, refer, send_dtmf, ...) are kept from the
# remote assistant on update, since the update replaces `tools` whole.
GRAPH_TOOLS = frozenset({"webhook", "hangup", "transfer", "handoff"})


def _with_remote_tools(body: dict[str, Any], remote: Mapping[str, Any]) -> dict[str, Any]:
    others = [t for t in remote.get("tools") or [] if isinstance(t, dict) and t.get("type") not in GRAPH_TOOLS]
    return {**body, "tools": [*body["tools"], *others]} if others else body


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


def _webhook(tool: ToolDefinition) -> dict[str, Any]:
    if not tool.url:
        raise InputError(
            f"tool '{tool.name}' has no URL, and a Telnyx webhook tool needs one",
            field=f"tools '{tool.name}' url",
            fix="give the tool a url, or remove it before pushing to Telnyx",
        )
    method = str(tool.metadata.get("method") or "POST").upper()
    webhook: dict[str, Any] = {"name": tool.name, "description": tool.description, "url": tool.url, "method": method}
    path_part, rest = _split_schema(tool.parameters, set(_PLACEHOLDER.findall(tool.url)))
    if path_part:
        webhook["path_parameters"] = path_part
    if rest:
        webhook["body_parameters" if method in _BODY_METHODS else "query_parameters"] = rest
    return {"type": "webhook", "webhook": webhook}


def _tool(tool: ToolDefinition) -> dict[str, Any]:
    if tool.ends_call:
        return {"type": "hangup", "hangup": {"description": tool.description}}
    if tool.transfers_call:
        targets = tool.metadata.get("targets")
        if not targets:
            raise InputError(
                f"transfer tool '{tool.name}' has no targets (name and number) for Telnyx to dial",
                field=f"tools '{tool.name}' metadata.targets",
                fix="add metadata: {targets: [{name: Front desk, to: '+15551234567'}]} to the tool",
            )
        return {"type": "transfer", "transfer": {"targets": targets}}
    return _webhook(tool)


def to_telnyx_assistant(graph: AgentGraph, name: str | None = None) -> dict[str, Any]:
    """An assistant body. The graph must be one conversation node, optionally with handoff
    nodes (transfer nodes that name another assistant by `metadata.assistant_id`)."""
    main = graph.nodes[graph.entry_node_id]
    handoffs = []
    for node in graph.nodes.values():
        if node.id == main.id:
            continue
        if node.node_type != "transfer" or not node.metadata.get("assistant_id"):
            raise InputError(
                f"a Telnyx assistant is one prompt, but node '{node.id}' ({node.node_type}) is a separate step",
                field=f"node '{node.id}'",
                fix="merge it into the entry node's prompt, or push this graph to Retell (flow) or Bland (pathway)",
            )
        handoffs.append(node)
    prompt = "\n\n".join(p for p in (graph.general_prompt, main.state_prompt) if p)
    body: dict[str, Any] = {
        "name": name or str(graph.source_metadata.get("name") or "voicetest agent"),
        "instructions": prompt,
        "tools": [_tool(t) for t in [*main.tools, *graph.tools]],
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
    body.update({k: graph.source_metadata[k] for k in _KEPT if k in graph.source_metadata})
    return body


class TelnyxClient(PlatformClient):
    name = "telnyx"
    default_base_url = "https://api.telnyx.com/v2"
    page_size = 100

    @staticmethod
    def auth_headers(api_key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key}"}

    def list_agents(self) -> list[RemoteAgent]:
        agents: list[RemoteAgent] = []
        number = 1
        where = "GET /ai/assistants"
        while True:
            params = {"page[number]": number, "page[size]": self.page_size}
            page = self.expect_object(self.http.request("GET", "/ai/assistants", params=params), where)
            for item in self.expect_list(page.get("data"), where):
                item = self.expect_object(item, where)
                agents.append(RemoteAgent(self.expect_str(item, "id", where), str(item.get("name") or ""), "assistant"))
            total = (page.get("meta") or {}).get("total_pages")
            if not isinstance(total, int) or number >= total:
                return agents
            number += 1

    def pull(self, agent_id: str) -> dict[str, Any]:
        path = f"/ai/assistants/{quote(agent_id, safe='')}"
        return self.expect_object(self.http.request("GET", path, not_found=f"assistant '{agent_id}' not found"), f"GET {path}")

    def planned_config(self, graph: AgentGraph, remote: Mapping[str, Any] | None) -> dict[str, Any]:
        remote = remote or {}
        return {**remote, **_with_remote_tools(to_telnyx_assistant(graph, str(remote.get("name") or "") or None), remote)}

    def push(self, graph: AgentGraph, agent_id: str | None = None, name: str | None = None) -> PushResult:
        if agent_id is None:
            body = to_telnyx_assistant(graph, name)
            if not body.get("model"):
                raise InputError(
                    "Telnyx needs a model to create an assistant and the graph has none",
                    field="default_model",
                    fix="set default_model (e.g. openai/gpt-4o) in the agent file",
                )
            created = self.expect_object(self.http.request("POST", "/ai/assistants", json_body=body, idempotent=False), "POST /ai/assistants")
            new_id = self.expect_str(created, "id", "POST /ai/assistants")
            return PushResult(self.name, new_id, str(created.get("name") or body["name"]), created=True)
        remote = self.pull(agent_id)
        body = _with_remote_tools(to_telnyx_assistant(graph, name or str(remote.get("name") or "") or None), remote)
        path = f"/ai/assistants/{quote(agent_id, safe='')}"
        updated = self.expect_object(self.http.request("POST", path, json_body=body, idempotent=True), f"POST {path}")
        return PushResult(self.name, agent_id, str(updated.get("name") or body["name"]), created=False)
