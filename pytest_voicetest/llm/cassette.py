"""Record/replay of every model exchange of one test, in one readable JSON file.

Entries are keyed by a SHA-256 of the canonical request (model, messages, tools,
tool choice, parameters, and the repeat index when non-zero). Identical requests
replay their recorded answers in order. Secrets are masked before anything is
written; a replay miss raises CassetteMiss naming the test, the file and the request.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

from ..errors import CassetteMiss, InputError
from ..redact import redact_data
from ..yamlio import load_data_file
from .client import LLMReply, LLMRequest

VERSION = 1
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def request_key(request: LLMRequest) -> str:
    canonical = json.dumps(request.key_material(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def cassette_path(directory: Path, test_file: str, test_name: str) -> Path:
    """<dir>/<test file's folder>/<test file stem>/<test name>.json, unsafe characters replaced;
    a name that had to change gets a short hash of itself, so "call 1" and "call_1" differ."""
    relative = Path(test_file)
    parts = [_UNSAFE.sub("_", p) for p in relative.parent.parts if p not in {"", ".", ".."}]
    stem = _UNSAFE.sub("_", relative.stem).strip("_") or "tests"
    name = _UNSAFE.sub("_", test_name).strip("_")[:120] or "test"
    if name != test_name:
        name += "-" + hashlib.sha256(test_name.encode("utf-8")).hexdigest()[:8]
    return directory.joinpath(*parts, stem, f"{name}.json")


def _interactions(path: Path) -> list[dict[str, Any]]:
    """The recorded exchanges of a cassette file; a damaged file is a located error."""
    fix = f"delete {path.name} and re-record it with --vt-record"
    data = load_data_file(path)
    entries = data.get("interactions") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(
        isinstance(e, dict) and isinstance(e.get("key"), str) and isinstance(e.get("response"), dict) for e in entries
    ):
        raise InputError("not a voicetest cassette (no list of {key, response} interactions)", source=path, fix=fix)
    return entries


class Cassette:
    """The recorded exchanges of one test; `mode` is "record" or "replay"."""

    def __init__(self, path: Path, mode: str, test_id: str) -> None:
        if mode not in {"record", "replay"}:
            raise ValueError(f"cassette mode must be record or replay, not {mode!r}")
        self.path = path
        self.mode = mode
        self.test_id = test_id
        self.entries: list[dict[str, Any]] = []
        self._served: dict[str, int] = {}
        if mode == "replay" and path.exists():
            self.entries = _interactions(path)

    @property
    def replaying(self) -> bool:
        return self.mode == "replay"

    def recorded_models(self) -> dict[str, str]:
        """The model each role used when this cassette was recorded."""
        models: dict[str, str] = {}
        for entry in self.entries:
            request = entry.get("request") or {}
            if isinstance(request.get("role"), str) and isinstance(request.get("model"), str):
                models.setdefault(request["role"], request["model"])
        return models

    def replay(self, request: LLMRequest) -> LLMReply:
        key = request_key(request)
        matches = [entry for entry in self.entries if entry["key"] == key]
        if not matches:
            raise CassetteMiss(self._miss_message(request))
        served = self._served.get(key, 0)
        self._served[key] = served + 1
        return LLMReply.from_dict(matches[min(served, len(matches) - 1)]["response"])

    def record(self, request: LLMRequest, reply: LLMReply) -> None:
        self.entries.append(
            {
                "key": request_key(request),
                "request": redact_data(
                    {
                        "role": request.role,
                        "kind": request.kind,
                        "model": request.model,
                        "messages": request.messages,
                        "tools": [t["function"]["name"] for t in request.tools or []],
                        "params": request.params,
                    }
                ),
                "response": redact_data(reply.to_dict()),
            }
        )

    def save(self) -> None:
        """Write the recorded exchanges (record mode only), atomically."""
        if self.mode != "record":
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = {"version": VERSION, "test": self.test_id, "interactions": self.entries}
        temporary = self.path.with_suffix(f".tmp{os.getpid()}")
        temporary.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        temporary.replace(self.path)

    def _miss_message(self, request: LLMRequest) -> str:
        last = request.messages[-1] if request.messages else {}
        content = str(last.get("content") or "")[:80].replace("\n", " ")
        where = f"cassette {self.path}" if self.path.is_file() else f"no cassette at {self.path}"
        return (
            f"replay miss in test '{self.test_id}' ({where}): no recorded {request.role} "
            f"{request.kind} request to {request.model} with this content "
            f"(last message, {last.get('role', '?')}: '{content}'). Re-record with --vt-record."
        )
