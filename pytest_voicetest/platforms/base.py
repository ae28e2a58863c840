"""What every platform client provides, and the small result types they return."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

from ..models.graph import AgentGraph
from .http import Http, PlatformError


@dataclass(frozen=True)
class RemoteAgent:
    """One agent as a platform lists it."""

    id: str
    name: str
    kind: str

    def to_data(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class PushResult:
    """Where a push went: the platform's id for the agent, and whether it was created."""

    platform: str
    id: str
    name: str
    created: bool

    def to_data(self) -> dict[str, Any]:
        return asdict(self)


class PlatformClient(ABC):
    """A vendor's REST API seen through four operations on our config shapes.

    `pull` returns the config in the shape our importer reads; `planned_config` is the
    config a push of `graph` would leave on the platform (what `diff` compares with).
    """

    name: ClassVar[str]
    default_base_url: ClassVar[str]

    def __init__(self, http: Http) -> None:
        self.http = http

    @staticmethod
    @abstractmethod
    def auth_headers(api_key: str) -> dict[str, str]:
        """The headers that carry the key, as the vendor documents them."""

    @abstractmethod
    def list_agents(self) -> list[RemoteAgent]:
        """Every agent of the account, following the vendor's pagination."""

    @abstractmethod
    def pull(self, agent_id: str) -> dict[str, Any]:
        """The agent's full config, importable by `pytest_voicetest.importers.import_agent`."""

    @abstractmethod
    def planned_config(self, graph: AgentGraph, remote: Mapping[str, Any] | None) -> dict[str, Any]:
        """The config (pull shape) that pushing `graph` over `remote` would store."""

    @abstractmethod
    def push(self, graph: AgentGraph, agent_id: str | None = None, name: str | None = None) -> PushResult:
        """Update `agent_id`, or create a new agent when it is None; returns the id."""

    def malformed(self, where: str, what: str) -> PlatformError:
        """The error for a vendor answer that lacks what its documentation promises."""
        return PlatformError(
            self.name,
            f"unexpected answer to {where}: {what}",
            fix="check the base URL points at the platform's API; report it if it does",
        )

    def expect_object(self, data: Any, where: str) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.malformed(where, f"expected a JSON object, got {type(data).__name__}")
        return data

    def expect_list(self, data: Any, where: str) -> list[Any]:
        if not isinstance(data, list):
            raise self.malformed(where, f"expected a JSON list, got {type(data).__name__}")
        return data

    def expect_str(self, data: Mapping[str, Any], key: str, where: str) -> str:
        value = data.get(key)
        if not isinstance(value, str) or not value:
            raise self.malformed(where, f"field '{key}' is missing")
        return value
