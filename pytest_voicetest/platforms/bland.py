"""Bland AI conversational pathways (nodes + edges).

Documented endpoints (https://docs.bland.ai/api-v1/...), header `authorization: KEY` (no Bearer):
  GET  /v1/pathway                 "Get All Pathways Information"
  GET  /v1/pathway/{pathway_id}    get/pathway (name, description, nodes, edges)
  POST /v1/pathway/create          post/pathways (name, description -> pathway_id)
  POST /v1/pathway/{pathway_id}    post/update_pathways (name, description, nodes, edges)

The pathway body is built by `exporters.bland.to_bland_pathway`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..exporters.bland import to_bland_pathway
from ..models.graph import AgentGraph
from .base import PlatformClient, PushResult, RemoteAgent
from .http import PlatformError

# Node data fields the graph carries; the platform's other fields (modelOptions, kb,
# transferNumber, ...) are kept from the remote node of the same id on update.
_OWN_FIELDS = frozenset({"name", "text", "prompt", "isStart", "condition", "extractVars", "isGlobal", "globalLabel", "url", "method", "body"})


def _keep_remote_fields(body: dict[str, Any], remote: Mapping[str, Any]) -> dict[str, Any]:
    """`body` with each node's data completed by the fields of the remote node of the same id
    that the graph does not model (an update replaces the node list whole)."""
    remote_data = {n.get("id"): n.get("data") or {} for n in remote.get("nodes") or [] if isinstance(n, dict)}
    nodes = []
    for node in body["nodes"]:
        kept = {k: v for k, v in remote_data.get(node["id"], {}).items() if k not in _OWN_FIELDS}
        nodes.append({**node, "data": {**kept, **node["data"]}})
    return {**body, "nodes": nodes}


def _labels(graph: AgentGraph, name: str | None, remote: Mapping[str, Any]) -> tuple[str, str]:
    """Name and description: the one given, else the graph's, else what the platform has."""
    meta = graph.source_metadata
    chosen = name or str(meta.get("name") or remote.get("name") or "") or "voicetest agent"
    return chosen, str(meta.get("description") or remote.get("description") or "")


class BlandClient(PlatformClient):
    name = "bland"
    default_base_url = "https://api.bland.ai"

    @staticmethod
    def auth_headers(api_key: str) -> dict[str, str]:
        return {"authorization": api_key}

    def list_agents(self) -> list[RemoteAgent]:
        where = "GET /v1/pathway"
        agents = []
        for item in self.expect_list(self.http.request("GET", "/v1/pathway"), where):
            item = self.expect_object(item, where)
            pathway_id = str(item.get("pathway_id") or item.get("id") or "")
            if not pathway_id:
                raise self.malformed(where, "a pathway has no 'pathway_id'")
            agents.append(RemoteAgent(pathway_id, str(item.get("name") or ""), "pathway"))
        return agents

    def pull(self, agent_id: str) -> dict[str, Any]:
        path = f"/v1/pathway/{quote(agent_id, safe='')}"
        pathway = self.expect_object(self.http.request("GET", path, not_found=f"pathway '{agent_id}' not found"), f"GET {path}")
        for key in ("nodes", "edges"):
            self.expect_list(pathway.get(key), f"GET {path} {key}")
        return {**pathway, "pathway_id": agent_id}

    def planned_config(self, graph: AgentGraph, remote: Mapping[str, Any] | None) -> dict[str, Any]:
        remote = remote or {}
        return {**remote, **_keep_remote_fields(to_bland_pathway(graph, *_labels(graph, None, remote)), remote)}

    def _check(self, answer: Any, where: str) -> dict[str, Any]:
        """Bland answers 200 with `status: error` for some refusals: make those errors too."""
        data = self.expect_object(answer, where)
        if data.get("status") == "error":
            raise PlatformError(self.name, f"rejected {where}: {data.get('message') or 'status error'}", fix="check the pathway's nodes and edges")
        return data

    def push(self, graph: AgentGraph, agent_id: str | None = None, name: str | None = None) -> PushResult:
        created = agent_id is None
        if agent_id is None:
            body = to_bland_pathway(graph, *_labels(graph, name, {}))
            answer = self._check(
                self.http.request(
                    "POST", "/v1/pathway/create", json_body={"name": body["name"], "description": body["description"]}, idempotent=False
                ),
                "POST /v1/pathway/create",
            )
            agent_id = self.expect_str(answer, "pathway_id", "POST /v1/pathway/create")
        else:
            remote = self.pull(agent_id)
            body = _keep_remote_fields(to_bland_pathway(graph, *_labels(graph, name, remote)), remote)
        path = f"/v1/pathway/{quote(agent_id, safe='')}"
        self._check(self.http.request("POST", path, json_body=body, idempotent=True, not_found=f"pathway '{agent_id}' not found"), f"POST {path}")
        return PushResult(self.name, agent_id, body["name"], created=created)
