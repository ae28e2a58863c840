"""Exporters: mermaid, Retell (LLM and flow), VAPI, LiveKit, Bland, Telnyx, native.

The voicetest harness's format names are accepted too (`voicetest`, `retell-cf`,
`vapi-assistant`, `vapi-squad`, `retell-llm`).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from ..errors import InputError, did_you_mean
from ..models.graph import AgentGraph
from .bland import to_bland_pathway
from .livekit import to_livekit
from .mermaid import to_mermaid
from .native import to_json, to_yaml
from .retell import to_retell_flow, to_retell_llm
from .telnyx import to_telnyx_assistant
from .vapi import to_vapi


def _as_json(build: Callable[[AgentGraph], object]) -> Callable[[AgentGraph], str]:
    return lambda graph: json.dumps(build(graph), indent=2, ensure_ascii=False) + "\n"


EXPORTERS: dict[str, Callable[[AgentGraph], str]] = {
    "mermaid": to_mermaid,
    "retell_llm": _as_json(to_retell_llm),
    "retell_flow": _as_json(to_retell_flow),
    "vapi": _as_json(to_vapi),
    "livekit": to_livekit,
    "bland": _as_json(to_bland_pathway),
    "telnyx": _as_json(to_telnyx_assistant),
    "native": to_json,
    "native_yaml": to_yaml,
}
ALIASES = {"voicetest": "native", "retell_cf": "retell_flow", "vapi_assistant": "vapi", "vapi_squad": "vapi"}


def export_agent(graph: AgentGraph, format: str) -> str:
    """The graph in `format` (one of EXPORTERS; hyphens accepted) as text."""
    key = format.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in EXPORTERS:
        raise InputError(
            f"unknown export format '{format}'{did_you_mean(key, EXPORTERS)}",
            field="format",
            fix="use one of: " + ", ".join(EXPORTERS),
        )
    return EXPORTERS[key](graph)


__all__ = ["EXPORTERS", "export_agent", "to_mermaid"]
