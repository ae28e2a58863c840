"""The native format: the IR itself as JSON or YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..models.graph import AgentGraph, graph_from_data


def detect(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("nodes"), dict) and "entry_node_id" in data


def load(data: dict[str, Any], source: str | Path | None = None) -> AgentGraph:
    return graph_from_data(data, source)
