"""The native IR as JSON or YAML, in a shape the voicetest harness loads too.

Graph-level fields at their defaults are left out; every node keeps the fields the harness
requires (`id`, `state_prompt`, `node_type`), conditions their `type` and `value`, tools
their `description`, and go-back
conditions are written as the harness's `{id, condition}` objects (our importer reads both).
"""

from __future__ import annotations

import json
from typing import Any

from ..models.graph import AgentGraph


def to_native(graph: AgentGraph) -> dict[str, Any]:
    """The graph as plain data; defaults left out where the harness does not need them."""
    data = graph.model_dump(mode="json", exclude_defaults=True)
    data["source_type"] = graph.source_type
    for node in graph.nodes.values():
        written = data["nodes"][node.id]
        written.update(id=node.id, state_prompt=node.state_prompt, node_type=node.node_type)
        for tool, full in zip(written.get("tools", []), node.tools, strict=True):
            tool.setdefault("description", full.description)
        for transition, full_transition in zip(written.get("transitions", []), node.transitions, strict=True):
            transition["condition"].update(type=full_transition.condition.type, value=full_transition.condition.value)
        setting = written.get("global_node_setting")
        if setting and setting.get("go_back_conditions"):
            setting["go_back_conditions"] = [
                {"id": f"go-back-{index}", "condition": {"type": "llm_prompt", "value": text}}
                for index, text in enumerate(setting["go_back_conditions"], 1)
            ]
    return data


def to_json(graph: AgentGraph) -> str:
    return json.dumps(to_native(graph), indent=2, ensure_ascii=False) + "\n"


def to_yaml(graph: AgentGraph) -> str:
    import yaml

    text: str = yaml.safe_dump(to_native(graph), sort_keys=False, allow_unicode=True, width=100)
    return text
