"""Small helpers shared by the platform importers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import InputError

_SLUG = re.compile(r"[^a-z0-9]+")


def slug(name: str, taken: set[str] | None = None) -> str:
    """A readable node id from a display name, unique within `taken` (which it updates)."""
    base = _SLUG.sub("_", name.lower()).strip("_") or "node"
    candidate, counter = base, 2
    while taken is not None and candidate in taken:
        candidate = f"{base}_{counter}"
        counter += 1
    if taken is not None:
        taken.add(candidate)
    return candidate


def require_list(data: Any, source: str | Path | None, field: str) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise InputError(f"expected a list, got {type(data).__name__}", source=source, field=field)
    return data


def text(value: Any) -> str:
    """A string field that may be missing or null."""
    return "" if value is None else str(value)


def function_tool(function: Mapping[str, Any], **extra: Any) -> dict[str, Any]:
    """An IR tool from an OpenAI-style {name, description, parameters} function."""
    name = text(function.get("name"))
    return {
        "name": name,
        "description": text(function.get("description")),
        "parameters": dict(function.get("parameters") or {}),
        "type": extra.pop("type", None) or builtin_tool_type(name) or "custom",
        **extra,
    }


def builtin_tool_type(name: str) -> str | None:
    """end_call/transfer_call for tools whose name says so, as platforms use them."""
    key = name.lower().replace("-", "_")
    if key in {"end_call", "endcall", "hangup", "hang_up"}:
        return "end_call"
    if key in {"transfer_call", "transfercall", "transfer"}:
        return "transfer_call"
    return None


def object_schema(*schemas: Mapping[str, Any] | None) -> dict[str, Any]:
    """Merge several JSON object schemas (path, query, body parameters) into one."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    for schema in schemas:
        if not schema:
            continue
        properties.update(schema.get("properties") or {})
        required.extend(name for name in schema.get("required") or [] if name not in required)
    if not properties:
        return {}
    merged: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        merged["required"] = required
    return merged


TERMINAL_TOOLS = {"end_call": "end", "hangup": "end", "transfer_call": "transfer", "transfer": "transfer"}


def terminal_node(node: dict[str, Any]) -> dict[str, Any]:
    """A node whose only action is one end-call (or transfer) tool, with no way out, as an
    end (or transfer) node: how Retell LLM states and VAPI assistants hold our end nodes."""
    tools = node.get("tools") or []
    if node.get("transitions") or len(tools) != 1 or tools[0].get("type") not in TERMINAL_TOOLS:
        return node
    return {**node, "node_type": TERMINAL_TOOLS[tools[0]["type"]], "tools": []}
