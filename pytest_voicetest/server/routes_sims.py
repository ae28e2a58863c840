"""Seed 000, VoiceSim: `/v1/{workspace_id}/sims...` and `/v1/{workspace_id}/network/egress-ips`.

Every operation is `voicesim.runs` on the server's store, scoped to the path's
workspace (which must be the API key's). Sampling publishes progress as Server-Sent
Events on `GET /v1/{workspace_id}/sims/{run_id}/events`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from ..errors import InputError
from ..voicesim import runs
from ..voicesim.space import MAX_POINTS, MAX_SEED
from .auth import InWorkspace
from .bodies import StrictBody
from .context import Ctx
from .errors import ERRORS, http_fields, renamed
from .network import egress_info

router = APIRouter(prefix="/v1/{workspace_id}", tags=["VoiceSim (seed 000)"], responses=ERRORS)
RUN_ID = {"run_id": "path.run_id"}
BODY = {
    "point": "body.point_indices",
    "scenario": "body.scenario_name",
    "n_points": "body.n_points",
    "seed": "body.seed",
    "scenarios": "body.scenarios",
    **RUN_ID,
}
QUERY = {
    "scenario": "query.scenario",
    "order_by": "query.order_by",
    "limit": "query.limit",
    "offset": "query.offset",
    "cursor": "query.cursor",
    **RUN_ID,
}
EVENTS_DOC = (
    "Progress is published as Server-Sent Events on `GET /v1/{workspace_id}/sims/{run_id}/events`: "
    "`sample_started`, `progress` ({done, total} evaluations, after each stored chunk), then `sample_completed` "
    "(this response's body) or `sample_failed` ({detail, field})."
)


class CreateRun(StrictBody):
    name: str = Field(default="VoiceSim run", min_length=1, max_length=200)
    scenarios: list[str] | None = Field(default=None, description="built-in scenario names; all of them when absent")
    seed: int = Field(default=0, ge=0, le=MAX_SEED)


class Evaluate(StrictBody):
    point_indices: list[int] = Field(description="one bin index per dimension (18), each within its dimension's bins")
    scenario_name: str = Field(description="a scenario of the run, e.g. greeting_barge_in or crisis_at_10")


class Sample(StrictBody):
    n_points: int = Field(ge=1, le=MAX_POINTS, description="points to draw by Latin hypercube sampling")
    seed: int | None = Field(default=None, ge=0, le=MAX_SEED, description="draw from this seed instead of the run's sampler")


class SimRun(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    created_at: str
    completed_at: str | None
    status: str
    seed: int
    scenarios: list[str]
    samples: int
    space: dict[str, Any]


class SimRunPage(BaseModel):
    runs: list[SimRun]
    limit: int
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class SimRunDetail(SimRun):
    evaluations: int
    points: int
    best: dict[str, Any] | None
    best_per_scenario: dict[str, dict[str, Any]]


class Evaluation(BaseModel):
    run_id: str
    point: list[int]
    scenario: str
    score: float
    penalties: list[dict[str, Any]]
    adapter_log: list[dict[str, Any]]


class Sampled(BaseModel):
    run_id: str
    batch: int
    points: int
    scenarios: int
    evaluated: int
    skipped: int


class Summary(BaseModel):
    model_config = ConfigDict(extra="allow")

    run_id: str
    status: str
    evaluations: int
    best_per_scenario: dict[str, dict[str, Any]]
    penalty_frequency: list[dict[str, Any]]
    config_diff: dict[str, Any]


class Point(BaseModel):
    run_id: str
    point: list[int]
    scenario: str
    score: float
    penalties: list[dict[str, Any]]
    created_at: str


class PointPage(BaseModel):
    run_id: str
    scenario: str | None
    order_by: str
    limit: int
    offset: int
    points: list[Point]


class EgressIps(BaseModel):
    egress_ips: list[str] = Field(description="this host's own outbound source addresses (see note)")
    region: str
    note: str


@router.post("/sims", response_model=SimRun, summary="Create a simulation run")
def create_run(workspace_id: str, who: InWorkspace, ctx: Ctx, body: CreateRun | None = None) -> Any:
    """A run over the default 18-dimension space and the built-in scenarios (or the named ones)."""
    body = body or CreateRun()
    with http_fields(BODY):
        return runs.create(ctx.sims, body.name, scenarios=body.scenarios, seed=body.seed, workspace=who.workspace).to_data()


@router.get("/sims", response_model=SimRunPage, summary="List simulation runs, newest first")
def list_runs(
    workspace_id: str,
    who: InWorkspace,
    ctx: Ctx,
    limit: Annotated[int, Query(ge=1, le=runs.LIST_MAX)] = runs.LIST_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
) -> Any:
    with http_fields(QUERY):
        return runs.list_page(ctx.sims, limit, cursor=cursor, workspace=who.workspace)


@router.post("/sims/{run_id}/evaluate", response_model=Evaluation, summary="Evaluate a configuration point")
def evaluate(workspace_id: str, run_id: str, body: Evaluate, who: InWorkspace, ctx: Ctx) -> Any:
    """The composite score, every penalty (type, weight, amount, when) and the adapter log
    (how each dimension maps to pipeline settings and platform fields). A bad point or
    scenario is a 422 naming `point_indices[i]` or `scenario_name` with the valid range."""
    with http_fields(BODY):
        done = runs.evaluate(ctx.sims, run_id, body.point_indices, body.scenario_name, workspace=who.workspace)
    return {"run_id": run_id, **done.to_data()}


@router.post("/sims/{run_id}/sample", response_model=Sampled, summary="Sample and evaluate points", description=EVENTS_DOC)
def sample(workspace_id: str, run_id: str, body: Sample, who: InWorkspace, ctx: Ctx) -> Any:
    channel = sims_channel(who.workspace, run_id)
    with http_fields(RUN_ID):
        ctx.sims.get_run(run_id, workspace=who.workspace)  # an unknown run is 404 before anything is published
    ctx.broker.publish(channel, "sample_started", {"run_id": run_id, "n_points": body.n_points})
    try:
        done = runs.sample(
            ctx.sims,
            run_id,
            body.n_points,
            seed=body.seed,
            workspace=who.workspace,
            progress=lambda finished, total: ctx.broker.publish(channel, "progress", {"done": finished, "total": total}),
        )
    except InputError as exc:
        failure = renamed(exc, BODY)
        ctx.broker.publish(channel, "sample_failed", {"detail": failure.message, "field": failure.field}, terminal=True)
        raise failure from None
    ctx.broker.publish(channel, "sample_completed", done, terminal=True)
    return done


@router.get(
    "/sims/{run_id}/events",
    response_class=StreamingResponse,
    summary="Follow sampling progress (Server-Sent Events)",
    responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": "an SSE stream"}},
)
def events(workspace_id: str, run_id: str, who: InWorkspace, ctx: Ctx) -> StreamingResponse:
    """Events of the run's current (or next) sample; the stream ends after `sample_completed`
    or `sample_failed`. A client that connects mid-sample gets the latest progress first."""
    with http_fields(RUN_ID):
        ctx.sims.get_run(run_id, workspace=who.workspace)
    return ctx.broker.stream(sims_channel(who.workspace, run_id))


@router.get("/sims/{run_id}", response_model=SimRunDetail, summary="Get a simulation run")
def get_run(workspace_id: str, run_id: str, who: InWorkspace, ctx: Ctx) -> Any:
    """Status, configuration space, how far it got, and the best result per scenario so far."""
    with http_fields(RUN_ID):
        return runs.show(ctx.sims, run_id, workspace=who.workspace)


@router.get("/sims/{run_id}/summary", response_model=Summary, summary="Get the run summary")
def summary(workspace_id: str, run_id: str, who: InWorkspace, ctx: Ctx) -> Any:
    """best_per_scenario, penalty_frequency (most frequent first) and config_diff against the production defaults."""
    with http_fields(RUN_ID):
        return runs.summary(ctx.sims, run_id, workspace=who.workspace)


@router.get("/sims/{run_id}/points", response_model=PointPage, summary="List scored points")
def points(
    workspace_id: str,
    run_id: str,
    who: InWorkspace,
    ctx: Ctx,
    scenario: Annotated[str | None, Query(max_length=200, description="only this scenario's evaluations")] = None,
    limit: Annotated[int, Query(ge=1, le=runs.POINTS_MAX)] = runs.POINTS_LIMIT,
    order_by: Annotated[Literal["score", "time"], Query(description="score: best first; time: oldest first")] = "score",
    offset: Annotated[int, Query(ge=0, le=runs.MAX_OFFSET)] = 0,
) -> Any:
    with http_fields(QUERY):
        found = runs.points(ctx.sims, run_id, scenario=scenario, limit=limit, order_by=order_by, offset=offset, workspace=who.workspace)
    return {"run_id": run_id, "scenario": scenario, "order_by": order_by, "limit": limit, "offset": offset, "points": [p.to_data() for p in found]}


@router.post("/sims/{run_id}/complete", response_model=SimRun, summary="Complete a simulation run")
def complete(workspace_id: str, run_id: str, who: InWorkspace, ctx: Ctx) -> Any:
    """Marks the run finished: it stays readable and takes no more evaluations (409)."""
    with http_fields(RUN_ID):
        done = runs.complete(ctx.sims, run_id, workspace=who.workspace).to_data()
    ctx.broker.publish(sims_channel(who.workspace, run_id), "run_completed", {"run_id": run_id}, terminal=True)
    return done


@router.get("/network/egress-ips", response_model=EgressIps, summary="Get egress IPs")
def egress(workspace_id: str, who: InWorkspace) -> Any:
    return egress_info()


def sims_channel(workspace: str, run_id: str) -> str:
    return f"sims:{workspace}:{run_id}"
