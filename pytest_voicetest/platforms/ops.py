"""The platform operations every door calls: list, pull, import, push, diff, sync."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict, Unpack
from urllib.parse import urlsplit

from ..errors import InputError
from ..importers import import_agent
from ..models.graph import AgentGraph
from .base import PlatformClient, PushResult, RemoteAgent
from .bland import BlandClient
from .compare import changes
from .credentials import check_platform, get_api_key
from .http import Http, RetryPolicy
from .refs import check_agent_id
from .retell import RetellClient
from .telnyx import TelnyxClient
from .vapi import VapiClient

CLIENTS: dict[str, type[PlatformClient]] = {
    "retell": RetellClient,
    "vapi": VapiClient,
    "bland": BlandClient,
    "telnyx": TelnyxClient,
}


class Options(TypedDict, total=False):
    """Where and how to connect; every operation takes these as keywords."""

    base_url: str | None
    api_key: str | None
    policy: RetryPolicy | None


@dataclass(frozen=True)
class SyncResult:
    """What a sync found, and whether it pushed."""

    platform: str
    id: str
    changes: list[str] = field(default_factory=list)
    pushed: bool = False

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


def base_url_env(platform: str) -> str:
    return f"{platform.upper()}_BASE_URL"


def base_url_for(platform: str, base_url: str | None = None) -> str:
    """The argument, else `RETELL_BASE_URL`-style variable, else the vendor's host; checked."""
    platform = check_platform(platform)
    env = base_url_env(platform)
    chosen = base_url or os.environ.get(env) or CLIENTS[platform].default_base_url
    parts = urlsplit(chosen)
    origin = "--base-url" if base_url else env
    if parts.username or parts.password:
        raise InputError(
            "the base URL contains a user or password, which would be logged and would clash with the API key",
            field=origin,
            fix="remove user:password@; for an authenticated proxy set HTTPS_PROXY instead",
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"'{chosen}' is not an http(s) URL", field=origin, fix="give a URL like https://api.example.com")
    return chosen


@contextmanager
def connect(
    platform: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    policy: RetryPolicy | None = None,
) -> Iterator[PlatformClient]:
    """A client for `platform` with its key (argument, environment or credentials file)."""
    platform = check_platform(platform)
    key = api_key or get_api_key(platform)
    cls = CLIENTS[platform]
    with Http(platform, base_url_for(platform, base_url), cls.auth_headers(key), key, policy) as http:
        yield cls(http)


def list_agents(platform: str, **options: Unpack[Options]) -> list[RemoteAgent]:
    """Every agent (or assistant, squad, pathway) of the account, with ids and names."""
    with connect(platform, **options) as client:
        return client.list_agents()


def pull(platform: str, agent_id: str, **options: Unpack[Options]) -> dict[str, Any]:
    """The agent's full config in the shape `import_agent` reads."""
    with connect(platform, **options) as client:
        return client.pull(check_agent_id(agent_id, client.name))


def _imported(platform: str, agent_id: str, config: dict[str, Any]) -> AgentGraph:
    return import_agent(config, filename=f"{platform}://{agent_id}")


def import_remote(platform: str, agent_id: str, **options: Unpack[Options]) -> AgentGraph:
    """Pull and import in one step (the seed's "import an agent by platform and id")."""
    return _imported(check_platform(platform), agent_id, pull(platform, agent_id, **options))


def push(platform: str, graph: AgentGraph, *, agent_id: str | None = None, name: str | None = None, **options: Unpack[Options]) -> PushResult:
    """Update `agent_id` with `graph`, or create a new agent; the result holds the id."""
    with connect(platform, **options) as client:
        target = check_agent_id(agent_id, client.name) if agent_id is not None else None
        return client.push(graph, target, name)


def _diff(client: PlatformClient, graph: AgentGraph, agent_id: str) -> list[str]:
    remote = client.pull(agent_id)
    before = _imported(client.name, agent_id, remote)
    after = _imported(client.name, agent_id, client.planned_config(graph, remote))
    return changes(before, after)


def diff(platform: str, graph: AgentGraph, agent_id: str, **options: Unpack[Options]) -> list[str]:
    """What pushing `graph` to `agent_id` would change, one readable line each (empty: in sync)."""
    with connect(platform, **options) as client:
        return _diff(client, graph, check_agent_id(agent_id, client.name))


def sync(
    platform: str,
    graph: AgentGraph,
    agent_id: str,
    confirm: Callable[[list[str]], bool],
    **options: Unpack[Options],
) -> SyncResult:
    """Pull, compare, and push only if there are changes and `confirm(changes)` says yes."""
    with connect(platform, **options) as client:
        agent_id = check_agent_id(agent_id, client.name)
        found = _diff(client, graph, agent_id)
        if not found or not confirm(found):
            return SyncResult(client.name, agent_id, found, pushed=False)
        client.push(graph, agent_id, None)
        return SyncResult(client.name, agent_id, found, pushed=True)
