"""The importer registry: a fixed detection order and selection by name.

Auto-detection tries, in this order: retell_flow, retell_llm, vapi_assistant,
vapi_squad, bland, telnyx, livekit (`.py`), xlsform (`.xlsx`), native. The first
format whose signature matches wins; `agent_format:` (or `format=`) skips detection.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..errors import InputError, did_you_mean
from ..models.graph import AgentGraph
from ..yamlio import MAX_FILE_BYTES, file_status, load_data_file, parse_yaml, read_bytes, read_text
from . import bland, livekit, native, retell_flow, retell_llm, telnyx, vapi, xlsform

Payload = Literal["data", "text", "bytes"]


@dataclass(frozen=True)
class Format:
    """One importable format: what it reads, how it is recognised, how it loads."""

    name: str
    description: str
    payload: Payload
    detect: Callable[[Any], bool]
    load: Callable[[Any, str | Path | None], AgentGraph]


FORMATS: tuple[Format, ...] = (
    Format("retell_flow", "Retell conversation flow (plain or conversationFlow wrapper)", "data", retell_flow.detect, retell_flow.load),
    Format("retell_llm", "Retell LLM (plain or retellLlmData wrapper)", "data", retell_llm.detect, retell_llm.load),
    Format("vapi_assistant", "VAPI assistant", "data", vapi.detect_assistant, vapi.load_assistant),
    Format("vapi_squad", "VAPI squad", "data", vapi.detect_squad, vapi.load_squad),
    Format("bland", "Bland pathway or single-prompt agent", "data", bland.detect, bland.load),
    Format("telnyx", "Telnyx AI assistant", "data", telnyx.detect, telnyx.load),
    Format("livekit", "LiveKit Agents Python file (parsed, never executed)", "text", livekit.detect, livekit.load),
    Format("xlsform", "XLSForm survey workbook (.xlsx)", "bytes", xlsform.detect, xlsform.load),
    Format("native", "pytest-voicetest graph IR (JSON or YAML)", "data", native.detect, native.load),
)
BY_NAME = {f.name: f for f in FORMATS}
ALIASES = {"retell": "retell_flow", "vapi": "vapi_assistant", "custom": "native", "json": "native", "yaml": "native"}


def get_format(name: str) -> Format:
    """A format by name (hyphens and a few aliases accepted); unknown names are clear errors."""
    key = name.strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in BY_NAME:
        raise InputError(
            f"unknown agent format '{name}'{did_you_mean(key, [*BY_NAME, *ALIASES])}",
            field="agent_format",
            fix="use auto or one of: " + ", ".join(BY_NAME),
        )
    return BY_NAME[key]


def _payload_kind(filename: str | None) -> Payload:
    suffix = Path(filename or "").suffix.lower()
    kinds: dict[str, Payload] = {".py": "text", ".xlsx": "bytes", ".xlsm": "bytes"}
    return kinds.get(suffix, "data")


def _decode(raw: bytes, kind: Payload, filename: str | None) -> Any:
    if kind == "bytes":
        return raw
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", source=filename, fix="upload UTF-8 JSON, YAML or Python") from None
    return text if kind == "text" else parse_yaml(text, filename)


def import_agent(
    source: Mapping[str, Any] | str | Path | bytes,
    *,
    format: str = "auto",
    filename: str | None = None,
) -> AgentGraph:
    """Import an agent from a config dict, a file path, or uploaded bytes with a filename."""
    origin: str | Path | None = filename
    if isinstance(source, Mapping):
        kind: Payload = "data"
        payload: Any = dict(source)
    elif isinstance(source, bytes):
        if len(source) > MAX_FILE_BYTES:
            raise InputError("upload is larger than the 5 MB limit", source=filename)
        kind = _payload_kind(filename)
        payload = _decode(source, kind, filename)
    elif isinstance(source, (str, Path)):
        path = Path(source)
        origin = path
        kind = _payload_kind(path.name)
        if kind == "bytes":
            payload = read_bytes(path)
        elif kind == "text":
            payload = read_text(path)
        else:
            payload = load_data_file(path)
    else:
        raise InputError(
            f"cannot import an agent from {type(source).__name__}",
            field="source",
            fix="pass a dict, a path, or bytes with a filename",
        )
    if format != "auto":
        chosen = get_format(format)
        if chosen.payload != kind:
            raise InputError(
                f"format '{chosen.name}' reads {_describe(chosen.payload)}, not this file",
                source=origin,
                field="agent_format",
                fix="use agent_format: auto or the matching file type",
            )
        if not chosen.detect(payload):
            found = next((c for c in FORMATS if c.payload == kind and c.detect(payload)), None)
            what = f"it looks like {found.description} ({found.name})" if found else "no known format matches it"
            raise InputError(
                f"the format was forced to '{chosen.name}' ({chosen.description}), but {what}",
                source=origin,
                field="agent_format",
                fix=f"use agent_format: {found.name if found else 'auto'}, or check that this is the file you meant",
            )
        return chosen.load(payload, origin)
    for candidate in FORMATS:
        if candidate.payload == kind and candidate.detect(payload):
            return candidate.load(payload, origin)
    raise InputError(
        "not a recognised agent config",
        source=origin,
        fix="set agent_format to one of: " + ", ".join(BY_NAME),
    )


def _describe(payload: Payload) -> str:
    return {"data": "JSON or YAML", "text": "Python (.py)", "bytes": "an .xlsx workbook"}[payload]


_CACHE: dict[tuple[Any, ...], AgentGraph] = {}
METRICS_SIDECAR = ".metrics.json"


def _identity(info: os.stat_result) -> tuple[int, ...]:
    return (info.st_dev, info.st_ino, info.st_mtime_ns, info.st_size)


def load_agent_file(path: Path, format: str = "auto") -> AgentGraph:
    """import_agent for a file, with its `<file>.metrics.json` metrics config if there is one;
    cached on the files' identities (device, inode), sizes and modification times."""
    info = file_status(path)
    sidecar = path.with_name(path.name + METRICS_SIDECAR)
    try:
        extra: os.stat_result | None = os.stat(sidecar)
    except OSError:  # no metrics config
        extra = None
    if extra is not None and not stat.S_ISREG(extra.st_mode):  # a folder or pipe of that name is not one either
        extra = None
    key = (str(path), format, _identity(info), extra and _identity(extra))
    graph = _CACHE.get(key)
    if graph is None:
        graph = import_agent(path, format=format)
        if extra is not None:
            from ..models.graph import MetricsConfig
            from ..validation import validate

            config = validate(MetricsConfig, load_data_file(sidecar), source=sidecar)
            graph = graph.model_copy(update={"metrics_config": config})
        _CACHE[key] = graph
    return graph
