"""Telnyx AI assistants: one prompt, its tools, and handoffs to other assistants.

Documented endpoints (https://developers.telnyx.com/api-reference/assistants/...), `Authorization: Bearer KEY`:
  GET  /v2/ai/assistants                   get-assistants ({"data": [...]}; Telnyx lists page
                                           with page[number]/page[size] and meta.total_pages)
  GET  /v2/ai/assistants/{assistant_id}    get-an-assistant
  POST /v2/ai/assistants                   create-an-assistant (name, model, instructions required)
  POST /v2/ai/assistants/{assistant_id}    update-an-assistant

The assistant body is built by `exporters.telnyx.to_telnyx_assistant` (strict: a push
refuses graphs Telnyx cannot hold).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..errors import InputError
from ..exporters.telnyx import to_telnyx_assistant
from ..models.graph import AgentGraph
from .base import PlatformClient, PushResult, RemoteAgent

# Tool types the importer reads; others (retrieval, refer, send_dtmf, ...) are kept from the
# remote assistant on update, since the update replaces `tools` whole.
GRAPH_TOOLS = frozenset({"webhook", "hangup", "transfer", "handoff"})


def _with_remote_tools(body: dict[str, Any], remote: Mapping[str, Any]) -> dict[str, Any]:
    others = [t for t in remote.get("tools") or [] if isinstance(t, dict) and t.get("type") not in GRAPH_TOOLS]
    return {**body, "tools": [*body["tools"], *others]} if others else body


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
        return {**remote, **_with_remote_tools(to_telnyx_assistant(graph, str(remote.get("name") or "") or None, strict=True), remote)}

    def push(self, graph: AgentGraph, agent_id: str | None = None, name: str | None = None) -> PushResult:
        if agent_id is None:
            body = to_telnyx_assistant(graph, name, strict=True)
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
        body = _with_remote_tools(to_telnyx_assistant(graph, name or str(remote.get("name") or "") or None, strict=True), remote)
        path = f"/ai/assistants/{quote(agent_id, safe='')}"
        updated = self.expect_object(self.http.request("POST", path, json_body=body, idempotent=True), f"POST {path}")
        return PushResult(self.name, agent_id, str(updated.get("name") or body["name"]), created=False)
