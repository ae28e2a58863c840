"""The JSON report: every collected item and every file that failed to load, with totals.

Entries are journaled to `<report>.partial.jsonl` as they arrive, so a killed run keeps
what finished; the report itself is written atomically at the end. Everything passes
through `redact_data` first.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..redact import redact_data

VERSION = 2
STATUSES = ("pass", "fail", "error", "skipped")
USAGE_KEYS = ("calls", "scripted_calls", "replayed_calls", "prompt_tokens", "completion_tokens", "cost_usd", "retries")


def check_output_path(path: Path, what: str) -> None:
    """Refuse, before anything runs, an output path that cannot be written: its folder is
    made and a probe file written and removed there."""
    if path.is_dir():
        raise InputError(f"{what} {path} is a folder", source=what, fix="give a file path, e.g. reports/voicetest.json")
    probe = path.with_name(f".{path.name}.{os.getpid()}.probe")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(f"{what} {path} cannot be written: {exc.strerror}", source=what, fix="choose a writable path") from None


class ResultLog:
    """Entries gathered on the controller; journaled as they arrive, written at the end."""

    def __init__(self, path: Path | None, format: str = "native") -> None:
        self.path = path
        self.format = format
        self.results: list[dict[str, Any]] = []
        self.file_errors: list[dict[str, str]] = []
        self.extra: dict[str, Any] = {}
        self.started = time.time()
        self.extra["started_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started))
        self.journal = path.with_name(path.name + ".partial.jsonl") if path else None
        if self.journal:
            self.journal.parent.mkdir(parents=True, exist_ok=True)
            self.journal.write_text("", encoding="utf-8")

    def _journal(self, entry: dict[str, Any]) -> None:
        if self.journal:
            with self.journal.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")

    def add(self, nodeid: str, result: dict[str, Any], wall_ms: float, outcome: str) -> None:
        """One finished item: its voicetest result (or, for other items, a status and message)."""
        entry = redact_data({"nodeid": nodeid, "file": nodeid.split("::")[0], "outcome": outcome, "wall_ms": round(wall_ms, 1), **result})
        self.results.append(entry)
        self._journal(entry)

    def add_file_error(self, nodeid: str, error: str) -> None:
        """A file that failed to collect: none of its tests ran."""
        entry = redact_data({"file": nodeid, "error": error})
        self.file_errors.append(entry)
        self._journal({"file_error": entry})

    def seen(self) -> set[str]:
        return {r["nodeid"] for r in self.results}

    def summary(self) -> dict[str, Any]:
        totals = {"total": len(self.results), **{status: 0 for status in STATUSES}, "file_errors": len(self.file_errors)}
        usage: dict[str, Any] = {key: 0 for key in USAGE_KEYS}
        by_file: dict[str, dict[str, Any]] = {}
        for result in self.results:
            totals[result["status"]] += 1
            spent = result.get("usage") or {}
            for key in USAGE_KEYS:
                usage[key] += spent.get(key, 0)
            row = by_file.setdefault(result["file"], {**{status: 0 for status in STATUSES}, "cost_usd": 0.0})
            row[result["status"]] += 1
            row["cost_usd"] += spent.get("cost_usd", 0.0)
        for error in self.file_errors:
            by_file.setdefault(error["file"], {**{status: 0 for status in STATUSES}, "cost_usd": 0.0})["file_error"] = error["error"]
        usage["cost_usd"] = round(usage["cost_usd"], 6)
        usage["llm_calls"] = usage.pop("calls")
        return {**totals, **usage, "wall_s": round(time.time() - self.started, 3), "by_file": by_file}

    def body(self, exit_status: int) -> dict[str, Any]:
        body: dict[str, Any] = redact_data(
            {
                "version": VERSION,
                "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "exit_status": int(exit_status),
                "summary": self.summary(),
                "results": self.results,
                "file_errors": self.file_errors,
                **self.extra,
            }
        )
        return body

    def write(self, exit_status: int) -> None:
        if not self.path:
            return
        body = self.body(exit_status)
        if self.format == "seed":
            from .seed import seed_run

            body = seed_run(body)
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(body, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        temporary.replace(self.path)
        if self.journal and self.journal.exists():
            self.journal.unlink()
