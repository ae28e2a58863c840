"""Seed 001, settings: each workspace has its own `{models, run, env}` (the core's Settings).

They apply to the workspace's runs at the settings level (see `planning`). `env` values
are write-only: every answer shows them as `***`, and a `***` sent back keeps the
stored value, so reading then writing settings never loses or reveals a key.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ..config.settings import Settings
from .auth import Who
from .bodies import RawJson, strictly
from .context import Ctx
from .errors import ERRORS
from .planning import refuse_env, refuse_options

router = APIRouter(prefix="/api", tags=["Settings (seed 001)"], responses=ERRORS)
MASK = "***"


def shown(data: dict[str, Any]) -> dict[str, Any]:
    """The workspace's settings with defaults filled in and env values masked."""
    settings = Settings.model_validate(data).model_dump(mode="json")
    settings["env"] = {key: MASK for key in settings["env"]}
    return settings


@router.get("/settings", response_model=Settings, summary="Get this workspace's settings")
def get_settings(who: Who, ctx: Ctx) -> Any:
    return shown(ctx.store.get_settings(who.workspace))


@router.put("/settings", response_model=Settings, summary="Replace this workspace's settings")
def put_settings(body: Settings, raw: RawJson, who: Who, ctx: Ctx) -> Any:
    """Only the values given are stored (the rest stay defaults). Options that reach the
    server's files or network (store, cassettes, api_base, real tools, outside paths) are refused."""
    body = strictly(Settings, raw)
    given = body.model_dump(mode="json", exclude_unset=True)
    refuse_options(given.get("run") or {}, "body.run.")
    refuse_env(body.env, "body.env.")
    stored = ctx.store.get_settings(who.workspace).get("env") or {}
    env = {key: stored.get(key, "") if value == MASK else value for key, value in body.env.items()}
    data = {**given, "env": {key: value for key, value in env.items() if value}} if "env" in given else given
    ctx.store.put_settings(who.workspace, data)
    return shown(data)


@router.get("/settings/defaults", response_model=Settings, summary="The default settings")
def defaults(who: Who) -> Any:
    return Settings().model_dump(mode="json")
