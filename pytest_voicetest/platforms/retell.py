"""Retell AI: an agent plus its response engine (a Retell LLM or a conversation flow).

Documented endpoints (https://docs.retellai.com/api-references/...), `Authorization: Bearer KEY`:
  POST  /v2/list-agents?limit&pagination_key    list-agents (items, has_more, pagination_key)
  GET   /get-agent/{agent_id}                    get-agent (response_engine says which engine)
  POST  /create-agent                            create-agent (response_engine, voice_id required)
  PATCH /update-agent/{agent_id}                 update-agent
  GET   /get-retell-llm/{llm_id}, POST /create-retell-llm, PATCH /update-retell-llm/{llm_id}
  GET   /get-conversation-flow/{id}, POST /create-conversation-flow, PATCH /update-conversation-flow/{id}

A pull is the agent with its engine inside (`retellLlmData` or `conversationFlow`), the
shape of a Retell dashboard export, so the retell importers read it unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..errors import InputError
from ..exporters.retell import to_retell_flow, to_retell_llm
from ..models.graph import AgentGraph
from .base import PlatformClient, PushResult, RemoteAgent
from .http import PlatformError

LLM, FLOW = "retell-llm", "conversation-flow"
WRAPPERS = {LLM: "retellLlmData", FLOW: "conversationFlow"}
_READ_ONLY = frozenset({"llm_id", "conversation_flow_id", "version", "last_modification_timestamp", "is_published"})
# Agent settings a push carries over from an imported Retell agent (create-agent fields).
_AGENT_FIELDS = (
    "agent_name",
    "voice_id",
    "voice_model",
    "voice_speed",
    "voice_temperature",
    "language",
    "responsiveness",
    "interruption_sensitivity",
    "enable_backchannel",
    "max_call_duration_ms",
    "end_call_after_silence_ms",
    "webhook_url",
)


def engine_payload(graph: AgentGraph, engine: str) -> dict[str, Any]:
    """The create/update body of the engine: our exporter's output without read-only or null fields."""
    exported = to_retell_llm(graph) if engine == LLM else to_retell_flow(graph)
    body = {k: v for k, v in exported.items() if k not in _READ_ONLY and v is not None}
    body.setdefault("start_speaker", "agent")
    return body


class RetellClient(PlatformClient):
    name = "retell"
    default_base_url = "https://api.retellai.com"
    page_size = 1000

    @staticmethod
    def auth_headers(api_key: str) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key}"}

    def list_agents(self) -> list[RemoteAgent]:
        agents: list[RemoteAgent] = []
        key: str | None = None
        seen: set[str] = set()
        where = "POST /v2/list-agents"
        while True:
            params: dict[str, Any] = {"limit": self.page_size}
            if key:
                params["pagination_key"] = key
            body = {"filter_criteria": {"channel": {"op": "eq", "value": "voice"}}}
            page = self.expect_object(self.http.request("POST", "/v2/list-agents", params=params, json_body=body, idempotent=True), where)
            for item in self.expect_list(page.get("items"), where):
                item = self.expect_object(item, where)
                agents.append(RemoteAgent(self.expect_str(item, "agent_id", where), str(item.get("agent_name") or ""), "agent"))
            key = page.get("pagination_key") if page.get("has_more") else None
            if not key or key in seen:
                return agents
            seen.add(key)

    def _agent(self, agent_id: str) -> dict[str, Any]:
        path = f"/get-agent/{quote(agent_id, safe='')}"
        data = self.http.request("GET", path, not_found=f"agent '{agent_id}' not found")
        return self.expect_object(data, f"GET {path}")

    def _engine(self, agent: Mapping[str, Any], agent_id: str) -> tuple[str, str, dict[str, Any]]:
        """The engine's type, id and version query of an agent; custom LLMs are refused clearly."""
        where = f"GET /get-agent/{agent_id}"
        engine = self.expect_object(agent.get("response_engine"), f"{where} response_engine")
        kind = str(engine.get("type") or "")
        if kind == "custom-llm":
            raise PlatformError(
                self.name,
                f"agent '{agent_id}' answers through a custom LLM websocket: its prompts live in your server, not on Retell",
                fix="test that server directly, or give the agent a Retell LLM or conversation flow",
            )
        if kind not in WRAPPERS:
            raise self.malformed(where, f"unknown response_engine type '{kind}'")
        engine_id = self.expect_str(engine, "llm_id" if kind == LLM else "conversation_flow_id", f"{where} response_engine")
        version = {"version": engine["version"]} if engine.get("version") is not None else {}
        return kind, engine_id, version

    def pull(self, agent_id: str) -> dict[str, Any]:
        agent = self._agent(agent_id)
        kind, engine_id, version = self._engine(agent, agent_id)
        path = f"/get-retell-llm/{quote(engine_id, safe='')}" if kind == LLM else f"/get-conversation-flow/{quote(engine_id, safe='')}"
        what = "Retell LLM" if kind == LLM else "conversation flow"
        engine = self.http.request("GET", path, params=version, not_found=f"{what} '{engine_id}' of agent '{agent_id}' not found")
        return {**agent, WRAPPERS[kind]: self.expect_object(engine, f"GET {path}")}

    def planned_config(self, graph: AgentGraph, remote: Mapping[str, Any] | None) -> dict[str, Any]:
        remote = dict(remote or {})
        kind = FLOW if WRAPPERS[FLOW] in remote else LLM if WRAPPERS[LLM] in remote else self._new_kind(graph)
        current = remote.get(WRAPPERS[kind]) or {}
        return {**remote, WRAPPERS[kind]: {**current, **engine_payload(graph, kind)}}

    @staticmethod
    def _new_kind(graph: AgentGraph) -> str:
        """A new agent keeps a Retell LLM's shape; anything else becomes a conversation flow."""
        return LLM if graph.source_type == "retell_llm" else FLOW

    def push(self, graph: AgentGraph, agent_id: str | None = None, name: str | None = None) -> PushResult:
        if agent_id:
            return self._update(graph, agent_id, name)
        agent_fields = {k: v for k, v in (graph.source_metadata.get("agent") or {}).items() if k in _AGENT_FIELDS and v is not None}
        if not agent_fields.get("voice_id"):
            raise InputError(
                "Retell needs a voice_id to create an agent and the graph has none",
                field="source_metadata.agent.voice_id",
                fix="push over an existing agent with --agent-id, or add source_metadata: {agent: {voice_id: 11labs-Adrian}} to the file",
            )
        kind = self._new_kind(graph)
        payload = engine_payload(graph, kind)
        if kind == LLM:
            created = self.expect_object(
                self.http.request("POST", "/create-retell-llm", json_body=payload, idempotent=False), "POST /create-retell-llm"
            )
            engine = {"type": LLM, "llm_id": self.expect_str(created, "llm_id", "POST /create-retell-llm")}
        else:
            created = self.expect_object(
                self.http.request("POST", "/create-conversation-flow", json_body=payload, idempotent=False), "POST /create-conversation-flow"
            )
            engine = {"type": FLOW, "conversation_flow_id": self.expect_str(created, "conversation_flow_id", "POST /create-conversation-flow")}
        if name:
            agent_fields["agent_name"] = name
        body = {**agent_fields, "response_engine": engine}
        agent = self.expect_object(self.http.request("POST", "/create-agent", json_body=body, idempotent=False), "POST /create-agent")
        new_id = self.expect_str(agent, "agent_id", "POST /create-agent")
        return PushResult(self.name, new_id, str(agent.get("agent_name") or new_id), created=True)

    def _update(self, graph: AgentGraph, agent_id: str, name: str | None) -> PushResult:
        agent = self._agent(agent_id)
        kind, engine_id, _ = self._engine(agent, agent_id)
        path = f"/update-retell-llm/{quote(engine_id, safe='')}" if kind == LLM else f"/update-conversation-flow/{quote(engine_id, safe='')}"
        self.http.request("PATCH", path, json_body=engine_payload(graph, kind))
        if name:
            self.http.request("PATCH", f"/update-agent/{quote(agent_id, safe='')}", json_body={"agent_name": name})
        return PushResult(self.name, agent_id, name or str(agent.get("agent_name") or agent_id), created=False)
