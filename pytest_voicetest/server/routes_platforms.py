"""Seed 001, platforms: configure a workspace's vendor key, list its agents, import one by id,
export (create) an agent, and sync a stored agent's graph back.

Keys are per workspace, kept in the workspace's settings `env` (`RETELL_API_KEY`, ...),
write-only like every env value (shown masked); a second configure is a 409 unless it says
`replace`. The vendors' base URLs are the server operator's (`RETELL_BASE_URL`, ...).
A vendor that refuses or cannot be reached is a 424 naming the platform, never a 5xx.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import Field

from ..errors import InputError
from ..models.graph import AgentGraph
from ..platforms import credentials, ops
from ..platforms.http import PlatformError
from ..redact import redact
from .auth import Principal, Who
from .bodies import StrictBody
from .context import Context, Ctx
from .errors import ERRORS, Conflict, ErrorBody, error_response, http_fields
from .routes_agents import find_agent, graph_data

UPSTREAM: dict[int | str, dict[str, Any]] = {424: {"model": ErrorBody, "description": "the platform refused the request or could not be reached"}}
router = APIRouter(prefix="/api", tags=["Platforms (seed 001)"], responses={**ERRORS, **UPSTREAM})
PLATFORMS = tuple(ops.CLIENTS)


class Configure(StrictBody):
    api_key: str = Field(min_length=8, max_length=500)
    replace: bool = False


class Export(StrictBody):
    graph: AgentGraph
    name: str | None = Field(default=None, min_length=1, max_length=200)


class Sync(StrictBody):
    platform: str = Field(min_length=1, max_length=32)
    remote_id: str = Field(min_length=1, max_length=200)
    push: bool = Field(default=True, description="false: only report what would change")


def _platform(name: str) -> str:
    with http_fields({"platform": "path.platform"}):
        return credentials.check_platform(name)


def _key(ctx: Context, who: Principal, platform: str) -> str | None:
    return (ctx.store.get_settings(who.workspace).get("env") or {}).get(credentials.env_key(platform)) or None


def _needs_key(ctx: Context, who: Principal, platform: str) -> str:
    key = _key(ctx, who, platform)
    if key is None:
        raise InputError(
            f"{platform} has no API key in this workspace", field="path.platform", fix=f"POST /api/platforms/{platform}/configure with the api_key"
        )
    return key


def upstream(exc: PlatformError) -> JSONResponse:
    return error_response(424, redact(exc.message), field="path.platform", fix=exc.fix)


@router.get("/platforms", summary="The platforms and whether this workspace has a key for each")
def platforms(who: Who, ctx: Ctx) -> list[dict[str, Any]]:
    return [{"name": name, "configured": _key(ctx, who, name) is not None, "env_key": credentials.env_key(name)} for name in PLATFORMS]


@router.get("/platforms/{platform}/status", summary="Whether this workspace has a key for the platform")
def status(platform: str, who: Who, ctx: Ctx) -> dict[str, Any]:
    name = _platform(platform)
    return {"platform": name, "configured": _key(ctx, who, name) is not None}


@router.post("/platforms/{platform}/configure", summary="Store this workspace's key for the platform (409 if one is stored)")
def configure(platform: str, body: Configure, who: Who, ctx: Ctx) -> dict[str, Any]:
    name = _platform(platform)
    if _key(ctx, who, name) is not None and not body.replace:
        raise Conflict(f"{name} already has a key in this workspace", field="body.replace", fix="send replace: true to replace it")
    settings = ctx.store.get_settings(who.workspace)
    settings["env"] = {**(settings.get("env") or {}), credentials.env_key(name): body.api_key}
    ctx.store.put_settings(who.workspace, settings)
    return {"platform": name, "configured": True}


@router.get("/platforms/{platform}/agents", summary="The platform's agents: ids and names")
def list_agents(platform: str, who: Who, ctx: Ctx) -> Any:
    name = _platform(platform)
    try:
        return [agent.to_data() for agent in ops.list_agents(name, api_key=_needs_key(ctx, who, name))]
    except PlatformError as exc:
        return upstream(exc)


@router.post("/platforms/{platform}/agents/{agent_id}/import", response_model=AgentGraph, summary="Import a platform agent by id")
def import_remote(platform: str, agent_id: str, who: Who, ctx: Ctx) -> Any:
    name = _platform(platform)
    try:
        with http_fields({"agent_id": "path.agent_id"}):
            return graph_data(ops.import_remote(name, agent_id, api_key=_needs_key(ctx, who, name)))
    except PlatformError as exc:
        return upstream(exc)


@router.post("/platforms/{platform}/export", summary="Create the agent on the platform; answers its id")
def export(platform: str, body: Export, who: Who, ctx: Ctx) -> Any:
    name = _platform(platform)
    try:
        with http_fields({"": "body.graph"}):
            pushed = ops.push(name, body.graph, name=body.name, api_key=_needs_key(ctx, who, name))
    except PlatformError as exc:
        return upstream(exc)
    return {"id": pushed.id, "name": pushed.name, "platform": name}


@router.post("/agents/{agent_id}/sync", summary="Compare a stored agent with its platform copy and push the changes")
def sync(agent_id: str, body: Sync, who: Who, ctx: Ctx) -> Any:
    graph = AgentGraph.model_validate(find_agent(ctx, who, agent_id).graph)
    with http_fields({"platform": "body.platform"}):
        name = credentials.check_platform(body.platform)
    try:
        with http_fields({"agent_id": "body.remote_id"}):
            result = ops.sync(name, graph, body.remote_id, lambda changes: body.push, api_key=_needs_key(ctx, who, name))
    except PlatformError as exc:
        return upstream(exc)
    return result.to_data()
