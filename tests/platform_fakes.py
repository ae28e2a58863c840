"""Local fakes of the Retell, VAPI, Bland and Telnyx REST APIs for the platform tests.

Each fake is a real HTTP server on 127.0.0.1 (an ephemeral port) that implements the
endpoints our clients use, with the vendors' documented paths, auth headers, payload
and error shapes, and pagination. It refuses a missing or wrong key with 401, answers
unknown ids with 404, validates create/update bodies like the vendor documents them,
and plays injected faults (`fail_next`: 429 with Retry-After, 5xx, non-JSON bodies).
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

Answer = tuple[int, Any]
Route = tuple[str, re.Pattern[str], Callable[..., Answer]]


@dataclass
class Seen:
    """One request as the fake received it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str


@dataclass
class Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None


class FakePlatform:
    """Base: server plumbing, auth check, request log and fault queue."""

    name = ""
    prefix = ""  # path prefix of the API on the server (Telnyx: /v2)

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.requests: list[Seen] = []
        self.faults: list[Fault] = []
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.routes: list[Route] = []

    # -- what tests use -------------------------------------------------------------
    @property
    def base_url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_port}{self.prefix}"

    def fail_next(
        self, status: int, *, times: int = 1, retry_after: str | None = None, raw: bytes | None = None, headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next `times` requests with `status` (and Retry-After, or a raw body)."""
        extra = dict(headers or {})
        if retry_after is not None:
            extra["retry-after"] = retry_after
        with self._lock:
            self.faults.extend(Fault(status, extra, raw) for _ in range(times))

    def calls(self, method: str | None = None) -> list[Seen]:
        return [r for r in self.requests if method is None or r.method == method]

    def new_id(self, stem: str) -> str:
        return f"{stem}_{next(self._ids):04d}"

    # -- to implement ---------------------------------------------------------------
    def authorized(self, header: str) -> bool:
        return header == f"Bearer {self.api_key}"

    def unauthorized(self) -> Answer:
        return 401, {"message": "Unauthorized"}

    def not_found(self, what: str) -> Answer:
        return 404, {"message": f"{what} not found"}

    def bad_request(self, message: str) -> Answer:
        return 400, {"message": message}

    # -- plumbing -------------------------------------------------------------------
    def route(self, method: str, pattern: str, handler: Callable[..., Answer]) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def handle(self, method: str, raw_path: str, headers: Any, raw_body: bytes) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        path = parts.path[len(self.prefix) :] if parts.path.startswith(self.prefix) else parts.path
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        try:
            body = json.loads(raw_body) if raw_body else None
        except ValueError:
            return 400, {}, b'{"message": "body is not JSON"}'
        auth = headers.get("authorization", "")
        with self._lock:
            self.requests.append(Seen(method, path, query, body, auth))
            fault = self.faults.pop(0) if self.faults else None
        if fault is not None:
            payload = fault.raw if fault.raw is not None else json.dumps({"message": f"injected {fault.status}"}).encode()
            return fault.status, fault.headers, payload
        if not self.authorized(auth):
            status, data = self.unauthorized()
            return status, {}, json.dumps(data).encode()
        for verb, pattern, handler in self.routes:
            match = pattern.match(path)
            if verb == method and match:
                with self._lock:
                    status, data = handler(*match.groups(), query=query, body=body)
                return status, {}, json.dumps(data).encode()
        return 404, {}, json.dumps({"message": f"no route {method} {path}"}).encode()

    def start(self) -> FakePlatform:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms stall

            def log_message(self, *args: Any) -> None:
                return

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                status, headers, payload = fake.handle(self.command, self.path, self.headers, self.rfile.read(length))
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve  # noqa: N815 - http.server naming

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name=f"fake-{self.name}", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakePlatform:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def _merge(target: dict[str, Any], body: Any) -> dict[str, Any]:
    """PATCH semantics the vendors document: given top-level keys replace, others stay."""
    target.update(copy.deepcopy(body or {}))
    return target


class FakeRetell(FakePlatform):
    """docs.retellai.com/api-references: agents, Retell LLMs, conversation flows."""

    name = "retell"
    read_only = {"llm_id", "conversation_flow_id", "version", "last_modification_timestamp", "is_published"}

    def __init__(self, api_key: str) -> None:
        super().__init__(api_key)
        self.agents: dict[str, dict[str, Any]] = {}
        self.llms: dict[str, dict[str, Any]] = {}
        self.flows: dict[str, dict[str, Any]] = {}
        self.route("POST", r"/v2/list-agents", self.list_agents)
        self.route("GET", r"/get-agent/([^/]+)", self.get_agent)
        self.route("POST", r"/create-agent", self.create_agent)
        self.route("PATCH", r"/update-agent/([^/]+)", self.update_agent)
        for kind, store in (("retell-llm", self.llms), ("conversation-flow", self.flows)):
            self.route("GET", rf"/get-{kind}/([^/]+)", self._getter(store, kind))
            self.route("POST", rf"/create-{kind}", self._creator(store, kind))
            self.route("PATCH", rf"/update-{kind}/([^/]+)", self._updater(store, kind))

    def unauthorized(self) -> Answer:
        return 401, {"status": "error", "message": "Invalid API Key."}

    def not_found(self, what: str) -> Answer:
        return 404, {"status": "error", "message": f"{what} not found"}

    def bad_request(self, message: str) -> Answer:
        return 400, {"status": "error", "message": message}

    def seed(self, export: dict[str, Any], engine: str = "retell-llm", voice_id: str = "11labs-Adrian") -> str:
        """Store an agent from a dashboard export (agent + retellLlmData) or a bare engine config."""
        inner = export.get("retellLlmData") or export.get("conversationFlow") or export
        engine = "conversation-flow" if "conversationFlow" in export or "nodes" in inner else engine
        store, key = (self.flows, "conversation_flow_id") if engine == "conversation-flow" else (self.llms, "llm_id")
        engine_id = self.new_id("flow" if store is self.flows else "llm")
        store[engine_id] = {**copy.deepcopy(inner), key: engine_id, "version": 0}
        agent_id = self.new_id("agent")
        agent = {k: v for k, v in export.items() if k not in {"retellLlmData", "conversationFlow"} and k in {"agent_name", "voice_id", "language"}}
        self.agents[agent_id] = {
            "agent_name": f"agent {agent_id}",
            "voice_id": voice_id,
            **copy.deepcopy(agent),
            "agent_id": agent_id,
            "response_engine": {"type": engine, key: engine_id, "version": 0},
            "version": 0,
            "last_modification_timestamp": 1703413636133,
        }
        return agent_id

    def list_agents(self, query: dict[str, str], body: Any) -> Answer:
        limit = int(query.get("limit", 50))
        if not 1 <= limit <= 1000:
            return self.bad_request("limit must be between 1 and 1000")
        ids = sorted(self.agents)
        start = ids.index(query["pagination_key"]) + 1 if query.get("pagination_key") in ids else 0
        page = ids[start : start + limit]
        has_more = start + limit < len(ids)
        items = [{"agent_id": i, "agent_name": self.agents[i].get("agent_name"), "channel": "voice"} for i in page]
        return 200, {"pagination_key": page[-1] if has_more else None, "has_more": has_more, "items": items}

    def get_agent(self, agent_id: str, query: dict[str, str], body: Any) -> Answer:
        if agent_id not in self.agents:
            return self.not_found("Agent")
        return 200, self.agents[agent_id]

    def _engine_exists(self, engine: Any) -> bool:
        if not isinstance(engine, dict):
            return False
        if engine.get("type") == "retell-llm":
            return engine.get("llm_id") in self.llms
        if engine.get("type") == "conversation-flow":
            return engine.get("conversation_flow_id") in self.flows
        return engine.get("type") == "custom-llm"

    def create_agent(self, query: dict[str, str], body: Any) -> Answer:
        if not isinstance(body, dict) or not body.get("voice_id"):
            return self.bad_request("voice_id is required")
        if not self._engine_exists(body.get("response_engine")):
            return self.bad_request("response_engine must name an existing response engine")
        agent_id = self.new_id("agent")
        self.agents[agent_id] = {**copy.deepcopy(body), "agent_id": agent_id, "version": 0}
        return 201, self.agents[agent_id]

    def update_agent(self, agent_id: str, query: dict[str, str], body: Any) -> Answer:
        if agent_id not in self.agents:
            return self.not_found("Agent")
        return 200, _merge(self.agents[agent_id], body)

    def _check_engine(self, body: Any, kind: str) -> str | None:
        if not isinstance(body, dict):
            return "body must be an object"
        fixed = sorted(self.read_only & set(body))
        if fixed:
            return f"{', '.join(fixed)} cannot be set"
        if body.get("start_speaker") not in (None, "agent", "user"):
            return "start_speaker must be agent or user"
        if kind == "conversation-flow":
            nodes = body.get("nodes")
            if nodes is not None and not (isinstance(nodes, list) and all(isinstance(n, dict) and n.get("id") and n.get("type") for n in nodes)):
                return "every node needs an id and a type"
            start = body.get("start_node_id")
            if start is not None and nodes is not None and start not in {n["id"] for n in nodes}:
                return "start_node_id must name a node"
        return None

    def _getter(self, store: dict[str, dict[str, Any]], kind: str) -> Callable[..., Answer]:
        def get(engine_id: str, query: dict[str, str], body: Any) -> Answer:
            return (200, store[engine_id]) if engine_id in store else self.not_found(kind)

        return get

    def _creator(self, store: dict[str, dict[str, Any]], kind: str) -> Callable[..., Answer]:
        key = "llm_id" if kind == "retell-llm" else "conversation_flow_id"

        def create(query: dict[str, str], body: Any) -> Answer:
            problem = self._check_engine(body, kind)
            if problem:
                return self.bad_request(problem)
            engine_id = self.new_id("llm" if kind == "retell-llm" else "flow")
            store[engine_id] = {**copy.deepcopy(body), key: engine_id, "version": 0}
            return 201, store[engine_id]

        return create

    def _updater(self, store: dict[str, dict[str, Any]], kind: str) -> Callable[..., Answer]:
        def update(engine_id: str, query: dict[str, str], body: Any) -> Answer:
            if engine_id not in store:
                return self.not_found(kind)
            problem = self._check_engine(body, kind)
            if problem:
                return self.bad_request(problem)
            return 200, _merge(store[engine_id], body)

        return update


class FakeVapi(FakePlatform):
    """docs.vapi.ai/api-reference: assistants and squads (GET lists are arrays, newest first)."""

    name = "vapi"

    def __init__(self, api_key: str) -> None:
        super().__init__(api_key)
        self.store: dict[str, dict[str, dict[str, Any]]] = {"assistant": {}, "squad": {}}
        self._clock = itertools.count(1)
        for kind in self.store:
            self.route("GET", rf"/{kind}", self._lister(kind))
            self.route("GET", rf"/{kind}/([^/]+)", self._getter(kind))
            self.route("POST", rf"/{kind}", self._creator(kind))
            self.route("PATCH", rf"/{kind}/([^/]+)", self._updater(kind))

    def not_found(self, what: str) -> Answer:
        return 404, {"message": f"Couldn't Get {what.title()}. `{what}` Not Found.", "error": "Not Found", "statusCode": 404}

    def bad_request(self, message: str) -> Answer:
        return 400, {"message": [message], "error": "Bad Request", "statusCode": 400}

    def _stamp(self) -> str:
        tick = next(self._clock)
        return f"2025-01-01T00:{tick // 60:02d}:{tick % 60:02d}.000Z"

    def seed(self, kind: str, config: dict[str, Any]) -> str:
        status, stored = self._creator(kind)({}, config)
        assert status == 201, stored
        return str(stored["id"])

    def _check(self, kind: str, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "body must be an object"
        if kind == "squad":
            members = body.get("members")
            if not isinstance(members, list) or not members:
                return "members must contain at least 1 elements"
            for member in members:
                if not isinstance(member, dict) or not (member.get("assistant") or member.get("assistantId")):
                    return "each member needs assistant or assistantId"
                if member.get("assistantId") and member["assistantId"] not in self.store["assistant"]:
                    return f"assistant {member['assistantId']} not found"
        if "model" in body and not (isinstance(body["model"], dict) and body["model"].get("provider") and body["model"].get("model")):
            return "model.provider and model.model are required"
        return None

    def _lister(self, kind: str) -> Callable[..., Answer]:
        def list_(query: dict[str, str], body: Any) -> Answer:
            limit = int(float(query.get("limit", 100)))
            if not 0 <= limit <= 1000:
                return self.bad_request("limit must not be greater than 1000")
            items = sorted(self.store[kind].values(), key=lambda a: a["createdAt"], reverse=True)
            if query.get("createdAtLt"):
                items = [a for a in items if a["createdAt"] < query["createdAtLt"]]
            return 200, items[:limit]

        return list_

    def _getter(self, kind: str) -> Callable[..., Answer]:
        def get(item_id: str, query: dict[str, str], body: Any) -> Answer:
            found = self.store[kind].get(item_id)
            return (200, found) if found else self.not_found(kind)

        return get

    def _creator(self, kind: str) -> Callable[..., Answer]:
        def create(query: dict[str, str], body: Any) -> Answer:
            problem = self._check(kind, body)
            if problem:
                return self.bad_request(problem)
            item_id = self.new_id(kind)
            stamp = self._stamp()
            self.store[kind][item_id] = {**copy.deepcopy(body), "id": item_id, "orgId": "org_1", "createdAt": stamp, "updatedAt": stamp}
            return 201, self.store[kind][item_id]

        return create

    def _updater(self, kind: str) -> Callable[..., Answer]:
        def update(item_id: str, query: dict[str, str], body: Any) -> Answer:
            if item_id not in self.store[kind]:
                return self.not_found(kind)
            problem = self._check(kind, {**self.store[kind][item_id], **(body or {})})
            if problem:
                return self.bad_request(problem)
            return 200, _merge(self.store[kind][item_id], {**(body or {}), "updatedAt": self._stamp()})

        return update


class FakeBland(FakePlatform):
    """docs.bland.ai/api-v1: conversational pathways; the key goes bare in `authorization`."""

    name = "bland"

    def __init__(self, api_key: str) -> None:
        super().__init__(api_key)
        self.pathways: dict[str, dict[str, Any]] = {}
        self.route("GET", r"/v1/pathway", self.list_pathways)
        self.route("GET", r"/v1/pathway/([^/]+)", self.get_pathway)
        self.route("POST", r"/v1/pathway/create", self.create_pathway)
        self.route("POST", r"/v1/pathway/([^/]+)", self.update_pathway)

    def authorized(self, header: str) -> bool:
        return header == self.api_key

    def unauthorized(self) -> Answer:
        return 401, {"status": "error", "message": "Invalid API key"}

    def not_found(self, what: str) -> Answer:
        return 404, {"status": "error", "message": f"{what} not found"}

    def bad_request(self, message: str) -> Answer:
        return 400, {"status": "error", "message": message}

    def seed(self, pathway: dict[str, Any]) -> str:
        pathway_id = self.new_id("pathway")
        self.pathways[pathway_id] = copy.deepcopy({k: pathway[k] for k in ("name", "description", "nodes", "edges") if k in pathway})
        return pathway_id

    def list_pathways(self, query: dict[str, str], body: Any) -> Answer:
        return 200, [{"pathway_id": i, "name": p.get("name"), "description": p.get("description")} for i, p in self.pathways.items()]

    def get_pathway(self, pathway_id: str, query: dict[str, str], body: Any) -> Answer:
        if pathway_id not in self.pathways:
            return self.not_found("Pathway")
        return 200, {"name": None, "description": None, "nodes": [], "edges": [], **self.pathways[pathway_id]}

    def create_pathway(self, query: dict[str, str], body: Any) -> Answer:
        if not isinstance(body, dict) or not body.get("name"):
            return self.bad_request("name is required")
        pathway_id = self.new_id("pathway")
        self.pathways[pathway_id] = {"name": body["name"], "description": body.get("description"), "nodes": [], "edges": []}
        return 200, {"status": "success", "pathway_id": pathway_id}

    def update_pathway(self, pathway_id: str, query: dict[str, str], body: Any) -> Answer:
        if pathway_id not in self.pathways:
            return self.not_found("Pathway")
        if not isinstance(body, dict):
            return self.bad_request("body must be an object")
        nodes, edges = body.get("nodes", []), body.get("edges", [])
        ids = {n.get("id") for n in nodes if isinstance(n, dict)}
        if any(not isinstance(n, dict) or not n.get("id") or not n.get("type") or not isinstance(n.get("data"), dict) for n in nodes):
            return self.bad_request("every node needs id, type and data")
        if nodes and sum(1 for n in nodes if n["data"].get("isStart")) != 1:
            return self.bad_request("a pathway needs exactly one start node")
        if any(e.get("source") not in ids or e.get("target") not in ids for e in edges):
            return self.bad_request("every edge must join two nodes of the pathway")
        _merge(self.pathways[pathway_id], {k: body[k] for k in ("name", "description", "nodes", "edges") if k in body})
        return 200, {
            "status": "success",
            "message": "Pathway updated successfully",
            "pathway_data": {"pathway_id": pathway_id, **self.pathways[pathway_id]},
        }


class FakeTelnyx(FakePlatform):
    """developers.telnyx.com/api-reference/assistants (served under /v2)."""

    name = "telnyx"
    prefix = "/v2"

    def __init__(self, api_key: str) -> None:
        super().__init__(api_key)
        self.assistants: dict[str, dict[str, Any]] = {}
        self.route("GET", r"/ai/assistants", self.list_assistants)
        self.route("GET", r"/ai/assistants/([^/]+)", self.get_assistant)
        self.route("POST", r"/ai/assistants", self.create_assistant)
        self.route("POST", r"/ai/assistants/([^/]+)", self.update_assistant)

    def unauthorized(self) -> Answer:
        return 401, {"errors": [{"code": "10009", "title": "Authentication failed", "detail": "The API key is invalid."}]}

    def not_found(self, what: str) -> Answer:
        return 404, {"errors": [{"code": "10005", "title": "Resource not found", "detail": f"{what} not found"}]}

    def bad_request(self, message: str) -> Answer:
        return 422, {"errors": [{"code": "10015", "title": "Invalid value", "detail": message}]}

    def seed(self, assistant: dict[str, Any]) -> str:
        status, stored = self.create_assistant({}, {k: v for k, v in assistant.items() if k != "id"})
        assert status == 200, stored
        return str(stored["id"])

    def _check(self, body: Any) -> str | None:
        if not isinstance(body, dict):
            return "body must be an object"
        for tool in body.get("tools") or []:
            kind = tool.get("type") if isinstance(tool, dict) else None
            if kind not in {"webhook", "retrieval", "handoff", "hangup", "transfer", "refer", "send_dtmf"} or not isinstance(tool.get(kind), dict):
                return f"unknown tool {tool!r}"
            if kind == "webhook" and not (tool["webhook"].get("name") and tool["webhook"].get("url")):
                return "webhook tools need a name and a url"
        return None

    def list_assistants(self, query: dict[str, str], body: Any) -> Answer:
        number, size = int(query.get("page[number]", 1)), int(query.get("page[size]", 20))
        items = list(self.assistants.values())
        pages = max(1, -(-len(items) // size))
        data = items[(number - 1) * size : number * size]
        return 200, {"data": data, "meta": {"page_number": number, "page_size": size, "total_pages": pages, "total_results": len(items)}}

    def get_assistant(self, assistant_id: str, query: dict[str, str], body: Any) -> Answer:
        found = self.assistants.get(assistant_id)
        return (200, found) if found else self.not_found("Assistant")

    def create_assistant(self, query: dict[str, str], body: Any) -> Answer:
        problem = self._check(body)
        missing = [k for k in ("name", "model", "instructions") if not (body or {}).get(k)] if not problem else []
        if problem or missing:
            return self.bad_request(problem or f"{', '.join(missing)} required")
        assistant_id = self.new_id("assistant")
        self.assistants[assistant_id] = {**copy.deepcopy(body), "id": assistant_id, "created_at": "2025-01-01T00:00:00Z"}
        return 200, self.assistants[assistant_id]

    def update_assistant(self, assistant_id: str, query: dict[str, str], body: Any) -> Answer:
        if assistant_id not in self.assistants:
            return self.not_found("Assistant")
        problem = self._check(body)
        if problem:
            return self.bad_request(problem)
        return 200, _merge(self.assistants[assistant_id], body)


FAKES: dict[str, type[FakePlatform]] = {f.name: f for f in (FakeRetell, FakeVapi, FakeBland, FakeTelnyx)}

# A pathway in the documented shape (docs.bland.ai/api-v1/get/pathway, post/update_pathways):
# a start node with static text, prompt nodes, a webhook, an end node, a global node,
# extracted variables, labelled edges and one unlabelled (always) edge.
BLAND_PATHWAY: dict[str, Any] = {
    "name": "Clinic front desk",
    "description": "Books checkups",
    "nodes": [
        {"id": "1", "type": "Default", "data": {"name": "Start", "text": "Hi, this is the clinic. How can I help?", "isStart": True}},
        {
            "id": "ask_dob",
            "type": "Default",
            "data": {
                "name": "Ask date of birth",
                "prompt": "Ask for the caller's full name and date of birth.",
                "extractVars": [["dob", "string", "Date of birth"], ["name", "string", "Full name"]],
            },
        },
        {
            "id": "lookup",
            "type": "Webhook",
            "data": {
                "name": "Lookup patient",
                "prompt": "Look the patient up.",
                "url": "https://api.example.com/patients",
                "method": "POST",
                "body": {"dob": "{{dob}}"},
            },
        },
        {
            "id": "book",
            "type": "Default",
            "data": {"name": "Book", "prompt": "Offer the next free slot and book it.", "condition": "The caller accepted a slot"},
        },
        {
            "id": "human",
            "type": "Transfer Call",
            "data": {"name": "Front desk", "prompt": "Transfer to the front desk.", "isGlobal": True, "globalLabel": "The caller asks for a human"},
        },
        {"id": "bye", "type": "End Call", "data": {"name": "Goodbye", "prompt": "Say goodbye and end the call."}},
    ],
    "edges": [
        {"id": "e1", "source": "1", "target": "ask_dob", "label": "wants an appointment"},
        {"id": "e2", "source": "ask_dob", "target": "lookup", "label": "gave name and date of birth"},
        {"id": "e3", "source": "lookup", "target": "book"},
        {"id": "e4", "source": "book", "target": "bye", "label": "booked"},
    ],
}


# -- fixtures (registered for every test by tests/conftest.py) -----------------------------
# Keys that match none of the shapes `redact` knows, so the tests prove the platform layer
# masks them itself.
KEYS = {name: f"vt{name}Live{n}Key9f8e7d6c5b4a3928" for n, name in enumerate(FAKES)}


@pytest.fixture(autouse=True)
def isolated_platform_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No real platform keys or base URLs from the environment, and a private config folder,
    for every test: no test can read or write the user's real credentials."""
    for name in FAKES:
        monkeypatch.delenv(f"{name.upper()}_API_KEY", raising=False)
        monkeypatch.delenv(f"{name.upper()}_BASE_URL", raising=False)
    config = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return config


@pytest.fixture
def serve(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """`serve("retell")` starts that fake and points RETELL_API_KEY / RETELL_BASE_URL at it."""
    started: list[FakePlatform] = []

    def start(name: str, *, env_key: bool = True) -> Any:
        fake = FAKES[name](KEYS[name]).start()
        started.append(fake)
        monkeypatch.setenv(f"{name.upper()}_BASE_URL", fake.base_url)
        if env_key:
            monkeypatch.setenv(f"{name.upper()}_API_KEY", KEYS[name])
        return fake

    yield start
    for fake in started:
        fake.stop()
