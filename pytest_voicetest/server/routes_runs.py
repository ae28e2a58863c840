"""Seed 001, runs and evaluation: background runs polled by id, synchronous runs, evaluate.

`POST /api/agents/{agent_id}/runs` stores the run with one pending result per test and
returns at once; a worker runs the tests through the core `Session` and stores each
result as it finishes (also published as Server-Sent Events on
`GET /api/runs/{run_id}/events`). Results have the seed's TestResult shape (`report.seed`:
roles `assistant`/`user`, ISO 8601 timestamps, rule checks as metric results) plus the row's
`id`, `run_id`, `test_case_id` and `position`; a pending one has status `running`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from .. import api
from ..errors import InputError
from ..models.results import MetricResult, TestResult
from ..redact import redact
from ..report.seed import seed_result, seed_run
from ..run.session import Session
from .auth import Principal, Who
from .bodies import StrictBody
from .context import Context, Ctx
from .errors import ERRORS, Conflict, NotFound, http_fields
from .planning import SERVER_DOOR, plan_test, workspace_config
from .routes_agents import TestCaseIn, find_agent
from .runner import Job, run_channel
from .store import NewResult, ResultRow, RunRow

router = APIRouter(prefix="/api", tags=["Runs and evaluation (seed 001)"], responses=ERRORS)
RUNS_LIMIT, RUNS_MAX = 50, 200


class StartRun(StrictBody):
    test_ids: list[str] | None = Field(default=None, description="the tests to run, in order; all of the agent's tests when null")
    options: dict[str, Any] | None = Field(
        default=None,
        description="run options, the seed's names included (max_turns, timeout_seconds, flow_judge, streaming, "
        "cot_transitions, agent_model, ...); verbose is ignored (it prints calls on the server's console); store, "
        "cassettes, api_base, allow_real_tools and allow_outside_paths are refused",
    )


class RunStarted(BaseModel):
    id: str
    agent_id: str
    status: str
    started_at: str
    test_count: int


class SeedResult(BaseModel):
    """A test result in the seed's (the harness's) TestResult shape; see `report.seed`."""

    model_config = ConfigDict(extra="allow")

    test_id: str | None
    test_name: str
    status: str = Field(description="pass, fail, error or skipped; running while pending in a stored run")
    transcript: list[dict[str, Any]]
    metric_results: list[dict[str, Any]]
    nodes_visited: list[str]
    tools_called: list[dict[str, Any]]
    constraint_violations: list[str]
    turn_count: int
    duration_ms: int
    end_reason: str
    error_message: str | None
    models_used: dict[str, Any] | None
    model_overrides: list[dict[str, Any]]


class StoredResult(SeedResult):
    id: str
    run_id: str
    test_case_id: str | None
    position: int


class SeedRun(BaseModel):
    run_id: str
    started_at: str | None
    completed_at: str | None
    results: list[SeedResult]


class StoredRun(BaseModel):
    id: str
    run_id: str
    user_id: None = None
    agent_id: str
    status: str = Field(description="running, cancelling, completed, cancelled, interrupted or error")
    started_at: str
    completed_at: str | None
    test_count: int
    options: dict[str, Any] | None
    results: list[StoredResult]


class RunSummary(BaseModel):
    total: int
    passed: int
    failed: int
    errors: int
    skipped: int
    running: int
    failed_names: list[str]


class ListedRun(BaseModel):
    id: str
    user_id: None = None
    agent_id: str
    status: str
    started_at: str
    completed_at: str | None
    test_count: int
    summary: RunSummary


class SingleRun(StrictBody):
    graph: dict[str, Any] = Field(description="the agent graph (native IR, or any importable config)")
    test_case: TestCaseIn
    options: dict[str, Any] | None = None


class ManyRuns(StrictBody):
    graph: dict[str, Any] = Field(description="the agent graph (native IR, or any importable config)")
    test_cases: list[TestCaseIn] = Field(min_length=1, max_length=500)
    options: dict[str, Any] | None = None


class Message(StrictBody):
    role: str = Field(max_length=32, description="assistant (or agent), user or tool")
    content: str
    timestamp: str | float | None = Field(default=None, description="ISO 8601, or epoch seconds")
    metadata: dict[str, Any] = Field(default_factory=dict, description="node_id, when known")


class Evaluate(StrictBody):
    transcript: list[Message] = Field(min_length=1, max_length=5000)
    metrics: list[str | dict[str, Any]] = Field(min_length=1, max_length=100)
    threshold: float | None = Field(default=None, ge=0, le=1, description="default: the workspace's run threshold (0.7)")


def result_body(run: RunRow, row: ResultRow) -> dict[str, Any]:
    base = seed_result(row.data or {"test_id": row.test_case_id or row.test_name, "test_name": row.test_name})
    return {**base, "status": row.status, "id": row.id, "run_id": run.id, "test_case_id": row.test_case_id, "position": row.position}


def run_body(run: RunRow, rows: list[ResultRow]) -> dict[str, Any]:
    return {
        "id": run.id,
        "run_id": run.id,
        "agent_id": run.agent_id,
        "status": run.status,
        "started_at": run.started_at,
        "completed_at": run.completed_at,
        "test_count": run.test_count,
        "options": run.request.get("options"),
        "results": [result_body(run, row) for row in rows],
    }


def find_run(ctx: Context, who: Principal, run_id: str) -> RunRow:
    run = ctx.store.get_run(who.workspace, run_id, "tests")
    if run is None:
        raise NotFound(f"no run {run_id!r}", field="path.run_id", fix="GET /api/agents/{agent_id}/runs lists an agent's runs")
    return run


def errored(test_id: str, name: str, exc: InputError) -> dict[str, Any]:
    """The result of a stored test the core refused to plan (it names the field)."""
    return TestResult(test_id=test_id, test_name=name, status="error", error_message=redact(str(exc))).model_dump(mode="json")


@router.post("/agents/{agent_id}/runs", response_model=RunStarted, summary="Start a test run in the background")
def start_run(agent_id: str, who: Who, ctx: Ctx, body: StartRun | None = None) -> Any:
    """Returns at once; poll `GET /api/runs/{id}` (results appear as they finish) or follow
    `GET /api/runs/{id}/events`."""
    body = body or StartRun()
    agent = find_agent(ctx, who, agent_id)
    tests = ctx.store.list_tests(who.workspace, agent_id)
    if body.test_ids is not None:
        by_id = {row.id: row for row in tests}
        for index, test_id in enumerate(body.test_ids):
            if test_id not in by_id:
                raise InputError(f"agent {agent_id} has no test {test_id!r}", field=f"body.test_ids[{index}]", fix="GET /api/agents/{agent_id}/tests")
        tests = [by_id[test_id] for test_id in dict.fromkeys(body.test_ids)]
    if not tests:
        raise InputError("no test cases to run", field="body.test_ids", fix="create tests with POST /api/agents/{agent_id}/tests")
    config = workspace_config(ctx.root, ctx.store.get_settings(who.workspace), body.options)
    graph = api.import_agent(agent.graph, format="native")
    planned, rows = [], []
    for test in tests:
        try:
            planned.append(plan_test(test.case, graph, test.id, config))
            rows.append(NewResult(test.id, test.case["name"]))
        except InputError as exc:
            rows.append(NewResult(test.id, test.case["name"], errored(test.id, test.case["name"], exc)))
    run = ctx.store.create_run(who.workspace, "tests", agent_id, agent.name, body.model_dump(), rows)
    positions = {row.test_case_id: position for position, row in enumerate(rows) if row.data is None and row.test_case_id}
    ctx.runner.submit(Job(run, config, planned, positions))
    return {"id": run.id, "agent_id": agent_id, "status": run.status, "started_at": run.started_at, "test_count": run.test_count}


@router.get("/agents/{agent_id}/runs", response_model=list[ListedRun], summary="List an agent's runs, newest first")
def list_runs(agent_id: str, who: Who, ctx: Ctx, limit: Annotated[int, Query(ge=1, le=RUNS_MAX)] = RUNS_LIMIT) -> Any:
    find_agent(ctx, who, agent_id)
    found = ctx.store.list_runs(who.workspace, agent_id, "tests", limit)
    counts = ctx.store.result_counts([run.id for run in found])
    listed = []
    for run in found:
        by_status = counts.get(run.id, {})
        failed = (
            [row.test_name for row in ctx.store.results(run.id) if row.status in {"fail", "error"}]
            if by_status.get("fail") or by_status.get("error")
            else []
        )
        summary = {
            "total": run.test_count,
            "passed": by_status.get("pass", 0),
            "failed": by_status.get("fail", 0),
            "errors": by_status.get("error", 0),
            "skipped": by_status.get("skipped", 0),
            "running": by_status.get("running", 0),
            "failed_names": failed,
        }
        listed.append({**{k: v for k, v in run_body(run, []).items() if k not in {"results", "run_id", "options"}}, "summary": summary})
    return listed


@router.get("/runs/{run_id}", response_model=StoredRun, summary="Get a run with its results so far")
def get_run(run_id: str, who: Who, ctx: Ctx) -> Any:
    run = find_run(ctx, who, run_id)
    return run_body(run, ctx.store.results(run.id))


@router.post("/runs/{run_id}/cancel", response_model=StoredRun, summary="Cancel a run")
def cancel_run(run_id: str, who: Who, ctx: Ctx) -> Any:
    """The calls in flight end (as errors, "cancelled while running"), the rest never start
    (skipped); the run becomes `cancelled` within moments."""
    run = find_run(ctx, who, run_id)
    if not run.active or not ctx.store.set_status(run.id, "cancelling"):
        raise Conflict(f"run {run_id} has already finished ({run.status})", field="path.run_id")
    ctx.runner.cancel(run.id)
    return run_body(find_run(ctx, who, run_id), ctx.store.results(run.id))


@router.delete("/runs/{run_id}", response_model=dict[str, str], summary="Delete a finished run")
def delete_run(run_id: str, who: Who, ctx: Ctx) -> Any:
    run = find_run(ctx, who, run_id)
    if run.active:
        raise Conflict(f"run {run_id} is still running", field="path.run_id", fix="cancel it first (POST /api/runs/{run_id}/cancel)")
    ctx.store.delete_run(who.workspace, run.id)
    return {"status": "deleted", "id": run.id}


@router.get(
    "/runs/{run_id}/events",
    response_class=StreamingResponse,
    summary="Follow a run (Server-Sent Events)",
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": "an SSE stream"}},
)
def run_events(run_id: str, who: Who, ctx: Ctx) -> StreamingResponse:
    """`result` ({position, test_name, status}) as each test finishes, then `run_finished` ({status})."""
    run = find_run(ctx, who, run_id)

    def finished() -> tuple[str, dict[str, Any]] | None:
        now = ctx.store.get_run(who.workspace, run_id, "tests")
        if now is None:
            return ("run_finished", {"status": "deleted"})
        return None if now.active else ("run_finished", {"status": now.status})

    return ctx.broker.stream(run_channel(run), finished)


@router.post("/runs/single", response_model=SeedResult, summary="Run one test case and wait for its result")
def run_single(body: SingleRun, who: Who, ctx: Ctx) -> Any:
    config = workspace_config(ctx.root, ctx.store.get_settings(who.workspace), body.options)
    with http_fields({"": "body.graph"}):
        graph = api.import_agent(body.graph)
    with http_fields({"": "body.test_case"}):
        planned = plan_test(body.test_case.model_dump(), graph, body.test_case.name, config)
    session = Session(config, door=SERVER_DOOR)
    try:
        return seed_result(session.run_one(planned).model_dump(mode="json"))
    finally:
        session.close()


@router.post("/runs", response_model=SeedRun, summary="Run several test cases and wait for the run")
def run_many(body: ManyRuns, who: Who, ctx: Ctx) -> Any:
    config = workspace_config(ctx.root, ctx.store.get_settings(who.workspace), body.options)
    with http_fields({"": "body.graph"}):
        graph = api.import_agent(body.graph)
    planned, seen = [], set()
    for index, case in enumerate(body.test_cases):
        if case.name in seen:
            raise InputError(f"two test cases are named {case.name!r}", field=f"body.test_cases[{index}].name", fix="give each test a unique name")
        seen.add(case.name)
        with http_fields({"": f"body.test_cases[{index}]"}):
            planned.append(plan_test(case.model_dump(), graph, case.name, config))
    session = Session(config, door=SERVER_DOOR)
    try:
        return seed_run(session.run_planned_as_run(planned).model_dump(mode="json"))
    finally:
        session.close()


@router.post("/evaluate", response_model=list[MetricResult], summary="Evaluate a transcript against metrics")
def evaluate(body: Evaluate, who: Who, ctx: Ctx) -> Any:
    """The workspace's judge model scores each metric; threshold 0.7 unless given."""
    settings = ctx.store.get_settings(who.workspace)
    config = workspace_config(ctx.root, settings)
    judge = config.models_for(test={}, file_defaults={}, graph_default=None, scripted=False)["judge"]
    with http_fields({"judge_model": "settings.models.judge", "metrics": "body.metrics", "threshold": "body.threshold", "": "body.transcript"}):
        return api.evaluate_transcript(
            [m.model_dump(exclude_none=True) for m in body.transcript],
            body.metrics,
            judge_model=judge,
            threshold=body.threshold,
            options=settings.get("run") or None,
            project=ctx.root,
        )
