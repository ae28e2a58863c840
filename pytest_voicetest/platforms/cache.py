"""Remote agents for test files: `agent: retell://AGENT_ID` pulled once into a cache folder.

A cached config younger than `max_age_s` is used without any request; offline, any cached
copy is used and a missing one is a clear error. Files are written atomically, so xdist
workers that pull the same agent at once never read half a file.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Unpack
from urllib.parse import quote

from ..errors import InputError
from .http import PlatformError
from .ops import Options, pull
from .refs import parse_remote_ref


def cache_path(ref: str, cache_dir: Path | str) -> Path:
    """Where `ref` is (or would be) cached: `<cache_dir>/<platform>/<agent id>.json`."""
    platform, agent_id = parse_remote_ref(ref)
    return Path(cache_dir) / platform / f"{quote(agent_id, safe='')}.json"


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stamp(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def resolve_remote_agent(
    ref: str,
    cache_dir: Path | str,
    offline: bool = False,
    max_age_s: float = 3600.0,
    **options: Unpack[Options],
) -> Path:
    """The path of a local, importable copy of the agent `ref` names (`retell://agent_123`)."""
    platform, agent_id = parse_remote_ref(ref)
    path = cache_path(ref, cache_dir)
    cached = path.is_file()
    if cached and (offline or time.time() - path.stat().st_mtime < max_age_s):
        return path
    if offline:
        raise InputError(
            f"{ref} is not in the agent cache ({path.parent}) and offline mode is on",
            field="agent",
            fix=f"run once without --vt-offline to pull it, or `voicetest platform pull {platform} {agent_id} -o FILE` and point agent: at FILE",
        )
    try:
        config = pull(platform, agent_id, **options)
    except PlatformError as exc:
        if cached:
            raise PlatformError(
                exc.platform,
                f"{exc.message} (while refreshing {ref}, cached {_stamp(path)})",
                status=exc.status,
                fix=(exc.fix + "; or " if exc.fix else "") + "pass --vt-offline to test the cached copy",
            ) from None
        raise
    _write_atomic(path, json.dumps(config, indent=2, ensure_ascii=False) + "\n")
    return path
