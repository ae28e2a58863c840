"""Seed 001, agents and tests: `/api/agents...`, `/api/tests/...`, import and export.

Paths and record shapes follow the harness's own server (`voicetest` 0.53). Agents are
imported by the core importers (a config, or an uploaded file) and stored as native IR;
their metrics config lives in the graph. Test cases are stored as given and checked by
the core's test-case model (422 naming the field); they are planned against the agent
when a run starts.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from .. import api
from ..errors import InputError
from ..exporters import EXPORTERS
from ..exporters.testcases import export_tests as export_test_cases
from ..importers import FORMATS
from ..models.graph import AgentGraph, MetricsConfig
from ..models.harness import RECORD_KEYS
from ..models.testcase import parse_test
from ..yamlio import MAX_FILE_BYTES
from .auth import Principal, Who
from .bodies import RawJson, StrictBody, strictly
from .context import Context, Ctx
from .errors import ERRORS, Conflict, NotFound, http_fields
from .planning import as_test, check_case
from .store import AgentRow, TestRow

router = APIRouter(prefix="/api", tags=["Agents and tests (seed 001)"], responses=ERRORS)
Upload = Annotated[UploadFile, File(description="JSON, YAML, a LiveKit .py or an XLSForm .xlsx; at most 5 MB")]
Source = Annotated[str | None, Query(max_length=64, description="force an importer (default: auto-detect)")]
LOSSES = "X-Voicetest-Losses"
IMPORT_FIELDS = {"agent_format": "query.source", "format": "body.format"}


class CreateAgent(StrictBody):
    name: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] | None = Field(default=None, description="the agent config in any importable format")
    path: str | None = Field(default=None, description="not served: reading the server's files is refused (upload the file instead)")
    source: str | None = Field(default=None, max_length=64, description="force an importer (default: auto-detect)")


class UpdateAgent(StrictBody):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    default_model: str | None = Field(default=None, max_length=200)
    graph_json: str | None = Field(default=None, description="the whole graph as native IR JSON text")


class ImportAgent(StrictBody):
    config: dict[str, Any]
    source: str | None = Field(default=None, max_length=64)


class ExportAgent(StrictBody):
    graph: dict[str, Any] = Field(description="the agent graph (native IR, or any importable config)")
    format: str = Field(max_length=64, description="mermaid, retell_llm, retell_flow, vapi, native, native_yaml")


class Exported(BaseModel):
    content: str
    format: str


class AgentRecord(BaseModel):
    id: str
    number: int = Field(description="the agent's number: seed 002's agent_id")
    user_id: None = None
    name: str
    source_type: str
    source_path: None = None
    tests_paths: None = None
    default_model: str | None
    metrics_config: MetricsConfig
    start_speaker: str | None
    created_at: str
    updated_at: str


class TestCaseIn(BaseModel):
    """A test case: the harness's fields, plus any other field of the core's test cases
    (`expect`, `script`, `rules_on`, `threshold`, ...)."""

    __test__ = False
    model_config = ConfigDict(extra="allow", strict=True)

    name: str = Field(min_length=1, max_length=500)
    user_prompt: str
    metrics: list[str | dict[str, Any]] = Field(default_factory=list)
    dynamic_variables: dict[str, Any] = Field(default_factory=dict)
    tool_mocks: list[Any] = Field(default_factory=list)
    type: str = "simulation"
    llm_model: str | None = None
    includes: list[str] = Field(default_factory=list)
    excludes: list[str] = Field(default_factory=list)
    patterns: list[str] = Field(default_factory=list)


class TestRecord(TestCaseIn):
    id: str
    agent_id: str
    created_at: str
    updated_at: str
    source_path: None = None
    source_index: int | None = None


class ExportTests(StrictBody):
    format: str = Field(default="retell", max_length=32, description="retell, voicetest or native")
    test_ids: list[str] | None = None


class Deleted(BaseModel):
    status: str = "deleted"
    id: str


class Importer(BaseModel):
    source_type: str
    description: str


class Exporter(BaseModel):
    id: str


def agent_record(row: AgentRow) -> dict[str, Any]:
    graph = row.graph
    return {
        "id": row.id,
        "number": row.number,
        "name": row.name,
        "source_type": row.source_type,
        "default_model": graph.get("default_model"),
        "metrics_config": graph.get("metrics_config") or MetricsConfig().model_dump(),
        "start_speaker": graph.get("start_speaker"),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def test_record(row: TestRow, index: int | None = None) -> dict[str, Any]:
    return {**row.case, "id": row.id, "agent_id": row.agent_id, "created_at": row.created_at, "updated_at": row.updated_at, "source_index": index}


def find_agent(ctx: Context, who: Principal, agent_id: str) -> AgentRow:
    row = ctx.store.get_agent(who.workspace, agent_id)
    if row is None:
        raise NotFound(f"no agent {agent_id!r}", field="path.agent_id", fix="GET /api/agents lists this workspace's agents")
    return row


def find_test(ctx: Context, who: Principal, test_id: str) -> TestRow:
    row = ctx.store.get_test(who.workspace, test_id)
    if row is None:
        raise NotFound(f"no test case {test_id!r}", field="path.test_id", fix="GET /api/agents/{agent_id}/tests lists an agent's tests")
    return row


def graph_data(graph: AgentGraph) -> dict[str, Any]:
    return graph.model_dump(mode="json")


def checked_case(body: TestCaseIn, ctx: Context, who: Principal) -> dict[str, Any]:
    """The test case to store: the body without record fields (id, timestamps, ...), checked
    by the core under the workspace's pattern engine."""
    case = {key: value for key, value in body.model_dump().items() if key not in RECORD_KEYS}
    with http_fields({"": "body"}):
        check_case(case, pattern_engine(ctx, who))
    return case


def pattern_engine(ctx: Context, who: Principal) -> str:
    """How the workspace's harness tests read `patterns` (its `run.pattern_engine` setting)."""
    engine: str = (ctx.store.get_settings(who.workspace).get("run") or {}).get("pattern_engine", "fnmatch")
    return engine


async def read_upload(file: UploadFile) -> tuple[bytes, str]:
    data = await file.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise InputError(f"the upload is larger than {MAX_FILE_BYTES // 1_000_000} MB", field="file", fix="upload a smaller agent config")
    return data, file.filename or "upload.json"


def import_upload(data: bytes, filename: str, source: str | None) -> AgentGraph:
    try:
        return api.import_agent(data, format=source or "auto", filename=filename)
    except InputError as exc:
        field = IMPORT_FIELDS.get(exc.field or "", "file")
        raise InputError(exc.message, field=field, fix=exc.fix) from None


# Agents ---------------------------------------------------------------------


@router.get("/agents", response_model=list[AgentRecord], summary="List agents, newest first")
def list_agents(who: Who, ctx: Ctx) -> Any:
    return [agent_record(row) for row in ctx.store.list_agents(who.workspace)]


@router.post("/agents", response_model=AgentRecord, summary="Create an agent from a config")
def create_agent(body: CreateAgent, who: Who, ctx: Ctx) -> Any:
    if body.path is not None:
        raise InputError("agents are not read from the server's disk", field="body.path", fix="send the config itself, or POST /api/agents/upload")
    if body.config is None:
        raise InputError("config is required", field="body.config", fix="send the agent config (any importable format)")
    with http_fields({"agent_format": "body.source", "": "body.config"}):
        graph = api.import_agent(body.config, format=body.source or "auto")
    return agent_record(ctx.store.create_agent(who.workspace, body.name, graph_data(graph)))


@router.post("/agents/upload", response_model=AgentRecord, summary="Create an agent from an uploaded file")
async def upload_agent(
    file: Upload, who: Who, ctx: Ctx, name: Annotated[str | None, Query(min_length=1, max_length=200)] = None, source: Source = None
) -> Any:
    data, filename = await read_upload(file)
    graph = import_upload(data, filename, source)
    label = name or filename.rsplit(".", 1)[0] or "agent"
    return agent_record(ctx.store.create_agent(who.workspace, label[:200], graph_data(graph)))


@router.get("/agents/{agent_id}", response_model=AgentRecord, summary="Get an agent")
def get_agent(agent_id: str, who: Who, ctx: Ctx) -> Any:
    return agent_record(find_agent(ctx, who, agent_id))


@router.put("/agents/{agent_id}", response_model=AgentRecord, summary="Update an agent's name, default model or graph")
def update_agent(agent_id: str, body: UpdateAgent, who: Who, ctx: Ctx) -> Any:
    row = find_agent(ctx, who, agent_id)
    graph = dict(row.graph)
    if body.graph_json is not None:
        try:
            given = json.loads(body.graph_json)
        except ValueError as exc:
            raise InputError(f"graph_json is not JSON: {exc}", field="body.graph_json") from None
        if not isinstance(given, dict):
            raise InputError("graph_json must hold a JSON object (the native graph)", field="body.graph_json")
        with http_fields({"": "body.graph_json"}):
            imported = graph_data(api.import_agent(given, format="native"))
        if "metrics_config" not in given:  # the agent's metrics config survives a graph edit
            imported["metrics_config"] = graph.get("metrics_config")
        graph = imported
    if body.default_model is not None:
        graph["default_model"] = body.default_model
    changed = body.graph_json is not None or body.default_model is not None
    updated = ctx.store.update_agent(who.workspace, agent_id, name=body.name, graph=graph if changed else None)
    return agent_record(updated or row)


@router.delete("/agents/{agent_id}", response_model=Deleted, summary="Delete an agent with its tests and runs")
def delete_agent(agent_id: str, who: Who, ctx: Ctx) -> Any:
    find_agent(ctx, who, agent_id)
    if ctx.store.active_runs(who.workspace, agent_id):
        raise Conflict("the agent has a run in progress", field="path.agent_id", fix="cancel it first (POST /api/runs/{run_id}/cancel)")
    ctx.store.delete_agent(who.workspace, agent_id)
    return {"id": agent_id}


@router.get(
    "/agents/{agent_id}/graph",
    response_model=AgentGraph,
    summary="Get an agent's graph",
    responses={304: {"description": "the graph has not changed since the If-None-Match ETag"}},
)
def get_graph(agent_id: str, request: Request, who: Who, ctx: Ctx) -> Any:
    row = find_agent(ctx, who, agent_id)
    tag = f'"{row.id}-{row.updated_at}"'
    headers = {"ETag": tag, "Cache-Control": "private, must-revalidate"}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return JSONResponse(row.graph, headers=headers)


@router.get("/agents/{agent_id}/metrics-config", response_model=MetricsConfig, summary="Get an agent's metrics configuration")
def get_metrics(agent_id: str, who: Who, ctx: Ctx) -> Any:
    return api.get_metrics_config(AgentGraph.model_validate(find_agent(ctx, who, agent_id).graph))


@router.put("/agents/{agent_id}/metrics-config", response_model=MetricsConfig, summary="Update an agent's metrics configuration")
def put_metrics(agent_id: str, body: MetricsConfig, raw: RawJson, who: Who, ctx: Ctx) -> Any:
    body = strictly(MetricsConfig, raw)
    row = find_agent(ctx, who, agent_id)
    ctx.store.update_agent(who.workspace, agent_id, graph={**row.graph, "metrics_config": body.model_dump()})
    return body


# Tests ----------------------------------------------------------------------


@router.get("/agents/{agent_id}/tests", response_model=list[TestRecord], summary="List an agent's test cases")
def list_tests(agent_id: str, who: Who, ctx: Ctx) -> Any:
    find_agent(ctx, who, agent_id)
    return [test_record(row, index) for index, row in enumerate(ctx.store.list_tests(who.workspace, agent_id))]


@router.post("/agents/{agent_id}/tests", response_model=TestRecord, summary="Create a test case for an agent")
def create_test(agent_id: str, body: TestCaseIn, who: Who, ctx: Ctx) -> Any:
    find_agent(ctx, who, agent_id)
    return test_record(ctx.store.create_test(who.workspace, agent_id, checked_case(body, ctx, who)))


@router.post(
    "/agents/{agent_id}/tests/export",
    response_model=list[dict[str, Any]],
    summary="Export test cases (Retell, voicetest or native)",
    responses={200: {"headers": {LOSSES: {"description": "what the format could not hold, '; '-separated", "schema": {"type": "string"}}}}},
)
def export_tests(agent_id: str, who: Who, ctx: Ctx, body: ExportTests | None = None) -> Any:
    """The tests in the format; what it cannot hold (e.g. `expect` in Retell's) is named in
    the `X-Voicetest-Losses` header."""
    body = body or ExportTests()
    find_agent(ctx, who, agent_id)
    tests = ctx.store.list_tests(who.workspace, agent_id)
    if body.test_ids is not None:
        by_id = {row.id: row for row in tests}
        for index, test_id in enumerate(body.test_ids):
            if test_id not in by_id:
                raise NotFound(f"agent {agent_id} has no test {test_id!r}", field=f"body.test_ids[{index}]")
        tests = [by_id[test_id] for test_id in dict.fromkeys(body.test_ids)]
    engine = pattern_engine(ctx, who)
    with http_fields({"format": "body.format", "": "body"}):
        cases = [parse_test(entry, {}, "stored test", (), entry) for entry in (as_test(row.case, engine) for row in tests)]
        entries, losses = export_test_cases(cases, body.format)
    return JSONResponse(entries, headers={LOSSES: "; ".join(losses)} if losses else None)


@router.get("/tests/{test_id}", response_model=TestRecord, summary="Get a test case")
def get_test(test_id: str, who: Who, ctx: Ctx) -> Any:
    return test_record(find_test(ctx, who, test_id))


@router.put("/tests/{test_id}", response_model=TestRecord, summary="Replace a test case")
def update_test(test_id: str, body: TestCaseIn, who: Who, ctx: Ctx) -> Any:
    row = find_test(ctx, who, test_id)
    return test_record(ctx.store.update_test(who.workspace, test_id, checked_case(body, ctx, who)) or row)


@router.delete("/tests/{test_id}", response_model=Deleted, summary="Delete a test case")
def delete_test(test_id: str, who: Who, ctx: Ctx) -> Any:
    find_test(ctx, who, test_id)
    ctx.store.delete_test(who.workspace, test_id)
    return {"id": test_id}


# Import and export ------------------------------------------------------------


@router.post("/agents/import", response_model=AgentGraph, summary="Import an agent config into a graph")
def import_config(body: ImportAgent, who: Who) -> Any:
    with http_fields({"agent_format": "body.source", "": "body.config"}):
        return graph_data(api.import_agent(body.config, format=body.source or "auto"))


@router.post("/agents/import-file", response_model=AgentGraph, summary="Import an uploaded agent file into a graph")
async def import_file(file: Upload, who: Who, source: Source = None) -> Any:
    data, filename = await read_upload(file)
    return graph_data(import_upload(data, filename, source))


@router.post("/agents/export", response_model=Exported, summary="Export a graph to a format")
def export_graph(body: ExportAgent, who: Who) -> Any:
    with http_fields({"format": "body.format", "": "body.graph"}):
        return {"content": api.export_agent(body.graph, body.format), "format": body.format}


@router.get("/importers", response_model=list[Importer], summary="The agent formats this server imports")
def importers(who: Who) -> Any:
    return [{"source_type": f.name, "description": f.description} for f in FORMATS]


@router.get("/exporters", response_model=list[Exporter], summary="The formats this server exports")
def exporters(who: Who) -> Any:
    return [{"id": name} for name in EXPORTERS]
