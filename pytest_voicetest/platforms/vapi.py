"""VAPI: assistants (one-node graphs) and squads (graphs whose edges are handoffs).

Documented endpoints (https://docs.vapi.ai/api-reference/...), `Authorization: Bearer KEY`:
  GET   /assistant?limit&createdAtLt    assistants/list (a JSON array, newest first, limit <= 1000)
  GET   /assistant/{id}                 assistants/get
  POST  /assistant                      assistants/create
  PATCH /assistant/{id}                 assistants/update (top-level keys replace, others are kept)
  GET   /squad?limit&createdAtLt, GET /squad/{id}, POST /squad, PATCH /squad/{id}   squads/*

A pulled squad has every `assistantId` member inlined as `assistant` (the id is kept),
so the squad importer sees each member's prompt and handoffs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..errors import InputError
from ..exporters.vapi import to_vapi
from ..models.graph import AgentGraph
from .base import PlatformClient, PushResult, RemoteAgent
from .http import PlatformError

KINDS = ("assistant", "squad")
# Tool types the importer turns into graph tools or edges; others (query, dtmf, mcp, ...)
# are kept from the remote model on update, since PATCH replaces `model` whole.
GRAPH_TOOLS = frozenset({"function", "endCall", "transferCall", "handoff"})


def _kind_of(config: Mapping[str, Any]) -> str:
    return "squad" if "members" in config else "assistant"


class VapiClient(PlatformClient):
    name = "vapi"
    default_base_url = "https://api.vapi.ai"
    page_size = 1000

    @staticmethod
    def auth_headers(api_key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key}"}

    def list_agents(self) -> list[RemoteAgent]:
        return [agent for kind in KINDS for agent in self._list(kind)]

    def _list(self, kind: str) -> list[RemoteAgent]:
        """One kind, paged backwards in time with createdAtLt until a short page."""
        found: dict[str, RemoteAgent] = {}
        params: dict[str, Any] = {"limit": self.page_size}
        where = f"GET /{kind}"
        while True:
            page = self.expect_list(self.http.request("GET", f"/{kind}", params=params), where)
            for item in page:
                item = self.expect_object(item, where)
                agent_id = self.expect_str(item, "id", where)
                found.setdefault(agent_id, RemoteAgent(agent_id, str(item.get("name") or ""), kind))
            oldest = min((str(item.get("createdAt") or "") for item in page), default="")
            if len(page) < self.page_size or not oldest or oldest == params.get("createdAtLt"):
                return list(found.values())
            params = {"limit": self.page_size, "createdAtLt": oldest}

    def _get(self, kind: str, agent_id: str) -> dict[str, Any] | None:
        path = f"/{kind}/{quote(agent_id, safe='')}"
        try:
            return self.expect_object(self.http.request("GET", path), f"GET {path}")
        except PlatformError as exc:
            if exc.status == 404:
                return None
            raise

    def _fetch(self, agent_id: str) -> tuple[str, dict[str, Any]]:
        """The assistant or squad with this id, and which of the two it is."""
        for kind in KINDS:
            found = self._get(kind, agent_id)
            if found is not None:
                return kind, found
        raise PlatformError(
            self.name,
            f"no assistant or squad '{agent_id}' (HTTP 404 on GET /assistant and GET /squad)",
            status=404,
            fix="check the id with `voicetest platform list vapi`",
        )

    def pull(self, agent_id: str) -> dict[str, Any]:
        kind, config = self._fetch(agent_id)
        if kind == "assistant":
            return config
        members = []
        for index, member in enumerate(self.expect_list(config.get("members"), f"GET /squad/{agent_id} members")):
            member = self.expect_object(member, f"GET /squad/{agent_id} members[{index}]")
            if not member.get("assistant") and member.get("assistantId"):
                member_id = str(member["assistantId"])
                assistant = self._get("assistant", member_id)
                if assistant is None:
                    raise PlatformError(
                        self.name,
                        f"squad '{agent_id}' member {index + 1} names assistant '{member_id}', which does not exist",
                        status=404,
                        fix="fix the squad's members in the VAPI dashboard",
                    )
                member = {**member, "assistant": assistant}
            members.append(member)
        return {**config, "members": members}

    def planned_config(self, graph: AgentGraph, remote: Mapping[str, Any] | None) -> dict[str, Any]:
        payload = to_vapi(graph)
        if remote is None or _kind_of(remote) != _kind_of(payload):
            return payload
        return {**remote, **self._update_body(payload, remote)}

    @staticmethod
    def _update_body(payload: dict[str, Any], remote: Mapping[str, Any]) -> dict[str, Any]:
        """PATCH replaces whole top-level keys: keep the remote model's settings (temperature,
        toolIds, ...) and tools the graph does not hold; replace its messages and graph tools.
        Tools the remote kept at the assistant level were imported with the model's, and now
        travel in `model.tools`."""
        if "model" not in payload:
            return payload
        remote_model = remote.get("model") or {}
        kept = {k: v for k, v in remote_model.items() if k not in {"messages", "tools"}}
        other_tools = [t for t in remote_model.get("tools") or [] if isinstance(t, dict) and t.get("type") not in GRAPH_TOOLS]
        model = {**kept, **payload["model"]}
        if other_tools:
            model["tools"] = [*model.get("tools", []), *other_tools]
        body = {**payload, "model": model}
        if remote.get("tools"):
            body["tools"] = []
        return body

    def push(self, graph: AgentGraph, agent_id: str | None = None, name: str | None = None) -> PushResult:
        payload = to_vapi(graph)
        if name:
            payload["name"] = name
        kind = _kind_of(payload)
        if agent_id is None:
            created = self.expect_object(self.http.request("POST", f"/{kind}", json_body=payload, idempotent=False), f"POST /{kind}")
            new_id = self.expect_str(created, "id", f"POST /{kind}")
            return PushResult(self.name, new_id, str(created.get("name") or new_id), created=True)
        existing_kind, remote = self._fetch(agent_id)
        if existing_kind != kind:
            raise InputError(
                f"the graph has {len(graph.nodes)} node(s), so it goes to VAPI as a {kind}, but '{agent_id}' is a {existing_kind}",
                field="agent_id",
                fix=f"push without --agent-id to create a new {kind}",
            )
        path = f"/{kind}/{quote(agent_id, safe='')}"
        updated = self.expect_object(self.http.request("PATCH", path, json_body=self._update_body(payload, remote)), f"PATCH {path}")
        return PushResult(self.name, agent_id, str(updated.get("name") or agent_id), created=False)
