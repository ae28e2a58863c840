"""The native IR as JSON or YAML."""

from __future__ import annotations

import json
from typing import Any

from ..models.graph import AgentGraph


def to_native(graph: AgentGraph) -> dict[str, Any]:
    """The graph as plain data; fields at their defaults are left out."""
    data = graph.model_dump(mode="json", exclude_defaults=True)
    data.setdefault("source_type", graph.source_type)
    return data


def to_json(graph: AgentGraph) -> str:
    return json.dumps(to_native(graph), indent=2, ensure_ascii=False) + "\n"


def to_yaml(graph: AgentGraph) -> str:
    import yaml

    text: str = yaml.safe_dump(to_native(graph), sort_keys=False, allow_unicode=True, width=100)
    return text
