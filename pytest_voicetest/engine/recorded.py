"""Recorded calls to judge without simulating: the native format and Retell call exports.

Native: a JSON/YAML list of `{role: agent|assistant|user|tool, content, node_id?}`
(tool entries may carry `name` and `arguments`), or a mapping `{turns: [...],
end_reason: ...}`. Retell: a call object (or a webhook `{call: {...}}`) with
`transcript_with_tool_calls` (node transitions and tool calls kept) or `transcript_object`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..models.results import ToolCallRecord, Turn
from ..models.testcase import END_REASONS
from ..yamlio import load_data_file
from .conversation import CallRecord

RETELL_END_REASONS = {
    "user_hangup": "user_ended",
    "agent_hangup": "agent_ended",
    "call_transfer": "agent_ended",
    "voicemail_reached": "agent_ended",
    "max_duration_reached": "call_timeout",
    "inactivity": "turn_timeout",
}
_ROLES = {"agent": "agent", "assistant": "agent", "bot": "agent", "user": "user", "caller": "user", "tool": "tool"}


def load_transcript(path: Path) -> CallRecord:
    data = load_data_file(path)
    if isinstance(data, dict) and isinstance(data.get("call"), dict):
        data = data["call"]
    if isinstance(data, dict) and ("transcript_object" in data or "transcript_with_tool_calls" in data):
        return _retell(data, path)
    if isinstance(data, dict) and "turns" in data:
        return parse_turns(data["turns"], path, data.get("end_reason"))
    if isinstance(data, list):
        return parse_turns(data, path)
    raise InputError(
        "not a transcript",
        source=path,
        fix="use a list of {role, content} turns, {turns: [...], end_reason: ...}, or a Retell call export",
    )


def _path_from_nodes(turns: list[Turn]) -> list[str]:
    path: list[str] = []
    for turn in turns:
        node = turn.metadata.get("node_id")
        if node and (not path or path[-1] != node):
            path.append(str(node))
    return path


def parse_turns(items: Any, source: Path | str, end_reason: Any = None) -> CallRecord:
    """A recorded call from native turns ({role, content, node_id?}; tool turns may name the tool)."""
    if not isinstance(items, list):
        raise InputError("turns must be a list", source=source, field="turns")
    record = CallRecord()
    for index, item in enumerate(items):
        if not isinstance(item, dict) or "role" not in item:
            raise InputError(
                "each turn needs a role and content",
                source=source,
                line=getattr(items, "lines", [None] * (index + 1))[index],
                field=f"[{index}]",
                fix="write {role: agent, content: ...}",
            )
        role = _ROLES.get(str(item["role"]).lower())
        if role is None:
            raise InputError(f"unknown role '{item['role']}'", source=source, field=f"[{index}].role", fix="use agent, assistant, user or tool")
        content = str(item.get("content") or item.get("result") or "")
        metadata = {"node_id": str(item["node_id"])} if item.get("node_id") else {}
        record.transcript.append(Turn(role=role, content=content, timestamp=float(item.get("timestamp") or 0.0), metadata=metadata))  # type: ignore[arg-type]
        if role == "tool" and item.get("name"):
            arguments = item.get("arguments") or {}
            record.tools_called.append(
                ToolCallRecord(name=str(item["name"]), arguments=arguments if isinstance(arguments, dict) else {}, result=item.get("result", content))
            )
    if end_reason is not None and end_reason not in END_REASONS:
        raise InputError(f"unknown end_reason '{end_reason}'", source=source, field="end_reason", fix="use one of " + ", ".join(END_REASONS))
    record.end_reason = end_reason
    record.nodes_visited = _path_from_nodes(record.transcript)
    record.turn_count = sum(1 for t in record.transcript if t.role == "user")
    return record


def _retell(call: dict[str, Any], source: Path) -> CallRecord:
    record = CallRecord()
    entries = call.get("transcript_with_tool_calls") or call.get("transcript_object") or []
    node: str | None = None
    for entry in entries:
        role = entry.get("role")
        if role == "node_transition":
            node = entry.get("new_node_id") or entry.get("new_node_name")
            if node:
                record.nodes_visited.append(str(node))
            continue
        if role == "tool_call_invocation":
            try:
                arguments = json.loads(entry.get("arguments") or "{}")
            except json.JSONDecodeError:
                arguments = {}
            record.tools_called.append(
                ToolCallRecord(name=str(entry.get("name")), arguments=arguments if isinstance(arguments, dict) else {}, node_id=node)
            )
            continue
        if role == "tool_call_result":
            if record.tools_called:
                record.tools_called[-1].result = entry.get("content")
            continue
        if role not in {"agent", "user"} or not entry.get("content"):
            continue
        words = entry.get("words") or []
        timestamp = float(words[0].get("start", 0.0)) * 1000 if words else 0.0
        metadata = {"node_id": node} if node and role == "agent" else {}
        record.transcript.append(Turn(role=role, content=str(entry["content"]), timestamp=round(timestamp, 1), metadata=metadata))
    reason = call.get("disconnection_reason")
    record.end_reason = RETELL_END_REASONS.get(str(reason)) if reason else None
    if reason and record.end_reason is None:
        record.end_reason = "error"
        record.error = f"Retell disconnection_reason: {reason}"
    if not record.nodes_visited:
        record.nodes_visited = _path_from_nodes(record.transcript)
    record.duration_ms = float(call.get("duration_ms") or 0.0)
    record.turn_count = sum(1 for t in record.transcript if t.role == "user")
    return record
