"""Recorded calls to judge without simulating: the native format, the voicetest harness's
Message shape, and Retell call exports.

Native and harness: a JSON/YAML list of turns `{role, content, node_id? | metadata.node_id?,
timestamp?}` (roles agent/assistant/bot, user/caller, tool, system), or a mapping with the
turns under `turns`, `transcript` (a harness TestResult) or `transcript_json` (a harness
stored result) and an optional `end_reason`. Timestamps are ISO 8601 strings, epoch
seconds or milliseconds (numbers of 1e9 and more), or milliseconds since the call began
(our own files); all become milliseconds since the first timestamped turn. Harness tool
turns named `route_to_*` are transitions, `extract_variables` turns set variables, others
are tool calls. Retell: a call object (or a webhook `{call: {...}}`) with
`transcript_with_tool_calls` (node transitions and tool calls kept) or `transcript_object`.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
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
    "simulator_exhausted": "user_ended",  # the harness's scripted caller ran out of lines
}
_ROLES = {"agent": "agent", "assistant": "agent", "bot": "agent", "user": "user", "caller": "user", "tool": "tool", "system": "system"}
TURN_KEYS = ("turns", "transcript", "transcript_json")
EPOCH_SECONDS = 1e9  # numbers from here up are epoch times, smaller ones offsets in ms


def load_transcript(path: Path) -> CallRecord:
    data = load_data_file(path)
    if isinstance(data, dict) and isinstance(data.get("call"), dict):
        data = data["call"]
    if isinstance(data, dict) and ("transcript_object" in data or "transcript_with_tool_calls" in data):
        return _retell(data, path)
    key = next((k for k in TURN_KEYS if isinstance(data, dict) and k in data), None)
    if key is not None:
        return parse_turns(data[key], path, data.get("end_reason"), field=key)
    if isinstance(data, list):
        return parse_turns(data, path)
    raise InputError(
        "not a transcript",
        source=path,
        fix="use a list of {role, content} turns, {turns: [...], end_reason: ...}, a voicetest result, or a Retell call export",
    )


def _path_from_nodes(turns: list[Turn]) -> list[str]:
    path: list[str] = []
    for turn in turns:
        node = turn.metadata.get("node_id")
        if node and (not path or path[-1] != node):
            path.append(str(node))
    return path


def _epoch_ms(value: Any, where: str, source: Path | str, line: int | None) -> float | None:
    """A timestamp as milliseconds (epoch, or an offset when small); None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        value = None
    elif isinstance(value, (int, float)) and math.isfinite(value) and value >= 0:
        return float(value) * (1000 if EPOCH_SECONDS <= value < EPOCH_SECONDS * 100 else 1)
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
        except ValueError:
            value = repr(value)
        else:
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() * 1000
    raise InputError(
        f"timestamp {value!r} is not a time",
        source=source,
        line=line,
        field=where,
        fix="use ISO 8601 (2025-01-15T10:00:04Z), epoch seconds, or milliseconds since the call began",
    )


def parse_turns(items: Any, source: Path | str, end_reason: Any = None, field: str = "") -> CallRecord:
    """A recorded call from turns in our shape or the harness's Message shape."""
    if not isinstance(items, list):
        raise InputError("the turns must be a list", source=source, field=field or "turns", fix="write a list of {role, content} turns")
    record = CallRecord()
    lines = getattr(items, "lines", None)
    stamps: list[float | None] = []
    for index, item in enumerate(items):
        where = f"{field}[{index}]"
        line = lines[index] if lines else None
        if not isinstance(item, dict) or "role" not in item:
            raise InputError("each turn needs a role and content", source=source, line=line, field=where, fix="write {role: agent, content: ...}")
        role = _ROLES.get(str(item["role"]).lower())
        if role is None:
            raise InputError(
                f"unknown role {item['role']!r}",
                source=source,
                line=line,
                field=f"{where}.role",
                fix="use agent (assistant, bot), user (caller), tool or system",
            )
        given = item.get("metadata")
        metadata: dict[str, Any] = given if isinstance(given, dict) else {}
        node = item.get("node_id") or metadata.get("node_id")
        content = item.get("content")
        if content is None:
            content = item.get("result", "")
        text = content if isinstance(content, str) else json.dumps(content, sort_keys=True, default=str)
        stamps.append(_epoch_ms(item.get("timestamp"), f"{where}.timestamp", source, line))
        kept = {"node_id": str(node)} if node else {}
        record.transcript.append(Turn(role=role, content=text, metadata=kept))  # type: ignore[arg-type]
        if role == "tool":
            _tool_turn(record, item, metadata, text, node)
    _offsets(record.transcript, stamps)
    if end_reason is not None and end_reason != "":
        reason = RETELL_END_REASONS.get(str(end_reason), end_reason)
        if reason not in END_REASONS:
            raise InputError(f"unknown end_reason {end_reason!r}", source=source, field="end_reason", fix="use one of " + ", ".join(END_REASONS))
        record.end_reason = reason
    record.nodes_visited = _path_from_nodes(record.transcript)
    record.turn_count = sum(1 for t in record.transcript if t.role == "user")
    return record


def _tool_turn(record: CallRecord, item: dict[str, Any], metadata: dict[str, Any], text: str, node: Any) -> None:
    """What a tool turn means: a transition, extracted variables, or a tool call."""
    name = item.get("name") or metadata.get("tool_name")
    if not name or str(name).startswith("route_to_"):
        return
    if name == "extract_variables" and isinstance(metadata.get("extracted"), dict):
        record.variables.update({str(k): str(v) for k, v in metadata["extracted"].items()})
        return
    arguments = item.get("arguments") or {}
    record.tools_called.append(
        ToolCallRecord(
            name=str(name),
            arguments=arguments if isinstance(arguments, dict) else {},
            result=item.get("result", text),
            node_id=str(node) if node else None,
        )
    )


def _offsets(turns: list[Turn], stamps: list[float | None]) -> None:
    """Timestamps as milliseconds since the first timestamped turn (our offsets stay as given)."""
    known = [s for s in stamps if s is not None]
    if not known:
        return
    start = min(known) if max(known) >= EPOCH_SECONDS else 0.0
    for turn, stamp in zip(turns, stamps, strict=True):
        if stamp is not None:
            turn.timestamp = round(stamp - start, 1)


def _retell_text(content: Any) -> str:
    """Retell content: a string, or {text: ...} (never a Python repr of a mapping)."""
    if isinstance(content, dict):
        content = content.get("text", content.get("content", ""))
    return content if isinstance(content, str) else ("" if content is None else json.dumps(content, default=str))


def _seconds(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else 0.0


def _retell(call: dict[str, Any], source: Path) -> CallRecord:
    record = CallRecord()
    key = "transcript_with_tool_calls" if call.get("transcript_with_tool_calls") else "transcript_object"
    entries = call.get(key) or []
    if not isinstance(entries, list):
        raise InputError(f"{key} must be a list of transcript entries", source=source, field=key, fix="export the call from Retell again")
    node: str | None = None
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise InputError(
                f"entry is a {type(entry).__name__}, not a transcript entry",
                source=source,
                field=f"{key}[{index}]",
                fix="each entry is an object with role and content",
            )
        role = entry.get("role")
        if role == "node_transition":
            node = entry.get("new_node_id") or entry.get("new_node_name")
            if node:
                record.nodes_visited.append(str(node))
            continue
        if role == "tool_call_invocation":
            try:
                arguments = json.loads(entry.get("arguments") or "{}")
            except (json.JSONDecodeError, TypeError):
                arguments = {}
            record.tools_called.append(
                ToolCallRecord(name=str(entry.get("name")), arguments=arguments if isinstance(arguments, dict) else {}, node_id=node)
            )
            continue
        if role == "tool_call_result":
            if record.tools_called:
                record.tools_called[-1].result = entry.get("content")
            continue
        text = _retell_text(entry.get("content"))
        if role not in {"agent", "user"} or not text:
            continue
        words = entry.get("words") if isinstance(entry.get("words"), list) else []
        first = words[0] if words and isinstance(words[0], dict) else {}
        metadata = {"node_id": node} if node and role == "agent" else {}
        record.transcript.append(Turn(role=role, content=text, timestamp=round(_seconds(first.get("start")) * 1000, 1), metadata=metadata))
    reason = call.get("disconnection_reason")
    record.end_reason = RETELL_END_REASONS.get(str(reason)) if reason else None
    if reason and record.end_reason is None:
        record.end_reason = "error"
        record.error = f"Retell disconnection_reason: {reason}"
    if not record.nodes_visited:
        record.nodes_visited = _path_from_nodes(record.transcript)
    record.duration_ms = _seconds(call.get("duration_ms"))
    record.turn_count = sum(1 for t in record.transcript if t.role == "user")
    return record
