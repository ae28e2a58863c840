"""Exporters: mermaid, Retell (LLM and flow), VAPI, native; test cases to the Retell format."""

from __future__ import annotations

import json
from collections.abc import Callable

from ..errors import InputError, did_you_mean
from ..models.graph import AgentGraph
from .mermaid import to_mermaid
from .native import to_json, to_yaml
from .retell import to_retell_flow, to_retell_llm
from .vapi import to_vapi


def _as_json(build: Callable[[AgentGraph], object]) -> Callable[[AgentGraph], str]:
    return lambda graph: json.dumps(build(graph), indent=2, ensure_ascii=False) + "\n"


EXPORTERS: dict[str, Callable[[AgentGraph], str]] = {
    "mermaid": to_mermaid,
    "retell_llm": _as_json(to_retell_llm),
    "retell_flow": _as_json(to_retell_flow),
    "vapi": _as_json(to_vapi),
    "native": to_json,
    "native_yaml": to_yaml,
}


def export_agent(graph: AgentGraph, format: str) -> str:
    """The graph in `format` (one of EXPORTERS; hyphens accepted) as text."""
    key = format.strip().lower().replace("-", "_")
    if key not in EXPORTERS:
        raise InputError(
            f"unknown export format '{format}'{did_you_mean(key, EXPORTERS)}",
            field="format",
            fix="use one of: " + ", ".join(EXPORTERS),
        )
    return EXPORTERS[key](graph)


__all__ = ["EXPORTERS", "export_agent", "to_mermaid"]
