"""Seed 002, simulation campaigns: `POST /simulations`, `GET /simulations/{id}`, stop.

The request body is the seed's (ranges, voice providers), checked again by the core's
campaign model. A simulation is a background run of campaign calls (`scenario_*.yaml`
semantics: each (scenario, call) simulated and judged against `expected_result`, with
the caller's sentiment); it starts at once. Its answer is the seed's response shape,
live: status, progress, record counts, analytics, and when done what went wrong.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from .. import api
from ..errors import InputError
from ..models.scenario import CampaignFile, CampaignSummary
from ..report.seed import seed_result
from ..run.campaigns import status_of, tally
from ..run.testfile import plan_campaign
from ..validation import validate
from .auth import Principal, Who
from .bodies import StrictBody
from .context import Context, Ctx
from .errors import ERRORS, Conflict, NotFound, http_fields
from .planning import workspace_config
from .runner import Job
from .store import PENDING, AgentRow, NewResult, ResultRow, RunRow

router = APIRouter(tags=["Simulations (seed 002)"], responses=ERRORS)
Provider = Literal["eleven_labs", "play_ht", "deepgram", "cartesia", "rime"]
STOPPED = {"cancelling", "cancelled", "interrupted", "error"}
SETTINGS = ("number_of_call_to_make", "concurrent_call_count", "max_call_duration_in_minutes")


class VoiceIn(StrictBody):
    id: str = Field(min_length=1, max_length=200, description="voice id at the provider")
    provider: Provider


class ScenarioIn(StrictBody):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, description="what the simulated caller does")
    expected_result: str = Field(min_length=1, description="what the agent must achieve")
    selected_voices: list[VoiceIn] = Field(default_factory=list, description="one is picked per call")
    dynamic_variables: dict[str, str] = Field(default_factory=dict, description="not in the seed: variables for the call")
    script: dict[str, Any] | None = Field(default=None, description="not in the seed: scripted turns for an offline call")


class CreateSimulation(StrictBody):
    name: str = Field(min_length=1, max_length=200)
    agent_id: int | str = Field(description="the agent's number (or id) from GET /api/agents")
    number_of_call_to_make: int = Field(default=1, ge=1, le=3)
    concurrent_call_count: int = Field(default=3, ge=1, le=3)
    max_call_duration_in_minutes: int = Field(default=3, ge=1, le=10)
    scenarios: list[ScenarioIn] = Field(default_factory=list, max_length=100)


class Bot(BaseModel):
    id: int
    name: str


class Analytics(BaseModel):
    Positive: int
    Negative: int
    Neutral: int


class Simulation(BaseModel):
    id: int
    name: str
    bot_id: Bot
    status: Literal["Draft", "Pending", "In Progress", "Calculating Summary", "Completed", "Stopped"]
    number_of_call_to_make: int
    concurrent_call_count: int
    max_call_duration_in_minutes: int
    scenarios_ids: list[dict[str, Any]]
    what_went_wrong: str | bool
    suggestions_for_improvement: str | bool
    prompt_suggestion: str | bool
    is_auto_prompt_suggestions_applied: bool
    how_many_scenario_to_generate: int
    summary: str | bool
    analyticsData: Analytics  # noqa: N815 - the seed's name
    total_simulation_remaining_records: int
    total_simulation_in_progress_records: int
    total_simulation_finished_records: int
    total_records: int
    progress: list[int] = Field(min_length=1, max_length=1)
    simulation_call_recording: list[dict[str, Any]]
    can_stop: bool
    active_calls_count: int
    create_date: str


class SimulationEnvelope(BaseModel):
    success: bool
    simulation: Simulation


def find_agent(ctx: Context, who: Principal, agent_id: int | str) -> AgentRow:
    row = None
    if isinstance(agent_id, int) or agent_id.isdigit():
        number = int(agent_id)
        row = ctx.store.agent_by_number(who.workspace, number) if number < 2**63 else None
    if row is None and isinstance(agent_id, str):
        row = ctx.store.get_agent(who.workspace, agent_id)
    if row is None:
        raise NotFound(f"no agent {agent_id!r}", field="body.agent_id", fix="use an agent's number (or id) from GET /api/agents")
    return row


def find_simulation(ctx: Context, who: Principal, simulation_id: int) -> RunRow:
    run = ctx.store.run_by_number(who.workspace, simulation_id, "simulation") if 0 < simulation_id < 2**63 else None
    if run is None:
        raise NotFound(f"no simulation {simulation_id}", field="path.simulation_id")
    return run


def simulation_body(run: RunRow, rows: list[ResultRow], agent: AgentRow | None) -> dict[str, Any]:
    """The seed's simulation object: the core's summary in the simulation API's shape
    (`CampaignSummary.seed`), with what only the server knows: the live status and the
    calls in flight, the agent's number, the scenarios as sent, and the finished calls."""
    request = run.request
    finished = [row for row in rows if row.status != PENDING]
    stopped = run.status in STOPPED
    if run.summary:
        summary = CampaignSummary.model_validate(run.summary)
    else:
        summary = tally(run.id, [row.data for row in finished if row.data.get("campaign")], run.test_count, interrupted=stopped)
    body = summary.seed({key: request[key] for key in SETTINGS}, simulation_id=run.number, agent=agent.name if agent else "")
    running = run.status == "running"
    in_progress = min(request["concurrent_call_count"], run.test_count - len(finished)) if running else 0
    if run.test_count == 0:
        status = "Draft"
    elif stopped:
        status = "Stopped"
    else:
        status = status_of(len(finished), run.test_count, interrupted=False) if running else summary.status
    per_scenario = summary.per_scenario
    body.update(
        name=run.name,
        bot_id={"id": agent.number if agent else 0, "name": agent.name if agent else ""},
        status=status,
        scenarios_ids=[
            {"id": index + 1, **scenario, **per_scenario.get(scenario["name"], {})} for index, scenario in enumerate(request["scenarios"])
        ],
        total_simulation_remaining_records=run.test_count - len(finished) - in_progress,
        total_simulation_in_progress_records=in_progress,
        active_calls_count=in_progress,
        simulation_call_recording=[_recording(row) for row in finished],
        can_stop=running,
        create_date=datetime.fromisoformat(run.started_at).strftime("%m/%d/%Y %H:%M:%S"),
    )
    return body


def _recording(row: ResultRow) -> dict[str, Any]:
    data, call = row.data, row.data.get("campaign") or {}
    return {
        "id": row.id,
        "name": row.test_name,
        "scenario": call.get("scenario"),
        "call": call.get("call"),
        "voice": call.get("voice"),
        "status": row.status,
        "passed": bool(call.get("passed")) and row.status == "pass",
        "sentiment": call.get("sentiment"),
        "reasoning": call.get("reasoning") or data.get("error_message") or "",
        "end_reason": data.get("end_reason"),
        "duration_ms": data.get("duration_ms", 0),
        "transcript": seed_result(data)["transcript"],
    }


def envelope(ctx: Context, who: Principal, run: RunRow) -> dict[str, Any]:
    agent = ctx.store.get_agent(who.workspace, run.agent_id)
    return {"success": True, "simulation": simulation_body(run, ctx.store.results(run.id), agent)}


@router.post("/simulations", response_model=SimulationEnvelope, summary="Create (and start) a simulation")
def create_simulation(body: CreateSimulation, who: Who, ctx: Ctx) -> Any:
    """Each scenario is called `number_of_call_to_make` times, `concurrent_call_count` at a
    time; the calls start at once (`Pending`, then `In Progress`). Without scenarios the
    simulation stays a `Draft`."""
    agent = find_agent(ctx, who, body.agent_id)
    names = [scenario.name for scenario in body.scenarios]
    for index, name in enumerate(names):
        if name in names[:index]:
            raise InputError(f"two scenarios are named {name!r}", field=f"body.scenarios[{index}].name", fix="give each scenario a unique name")
    request = body.model_dump(mode="json")
    if not body.scenarios:
        run = ctx.store.create_run(who.workspace, "simulation", agent.id, body.name, request, [])
        ctx.store.finish_run(run.id, "completed")
        return envelope(ctx, who, run)
    data = {
        "agent": agent.id,
        "name": body.name,
        "number_of_call_to_make": body.number_of_call_to_make,
        "concurrent_call_count": body.concurrent_call_count,
        "max_call_duration_in_minutes": body.max_call_duration_in_minutes,
        "scenarios": [scenario.model_dump(exclude_none=True) for scenario in body.scenarios],
    }
    with http_fields({"": "body"}):
        campaign = validate(CampaignFile, data, source="request body")
    config = workspace_config(ctx.root, ctx.store.get_settings(who.workspace))
    planned = plan_campaign(campaign, api.import_agent(agent.graph, format="native"), "simulation")
    run = ctx.store.create_run(who.workspace, "simulation", agent.id, body.name, request, [NewResult(None, item.name) for item in planned])
    positions = {item.test_id: position for position, item in enumerate(planned)}
    ctx.runner.submit(Job(run, config, planned, positions, window=body.concurrent_call_count, campaign=True))
    return envelope(ctx, who, run)


@router.get("/simulations/{simulation_id}", response_model=SimulationEnvelope, summary="Get a simulation: live status and progress")
def get_simulation(simulation_id: int, who: Who, ctx: Ctx) -> Any:
    return envelope(ctx, who, find_simulation(ctx, who, simulation_id))


@router.post("/simulations/{simulation_id}/stop", response_model=SimulationEnvelope, summary="Stop a simulation")
def stop_simulation(simulation_id: int, who: Who, ctx: Ctx) -> Any:
    """Calls in flight end and no more start; the simulation becomes `Stopped`."""
    run = find_simulation(ctx, who, simulation_id)
    if not run.active or not ctx.store.set_status(run.id, "cancelling"):
        raise Conflict(f"simulation {simulation_id} is not running", field="path.simulation_id")
    ctx.runner.cancel(run.id)
    return envelope(ctx, who, find_simulation(ctx, who, simulation_id))
