"""Retell, VAPI, Bland and Telnyx REST clients: list, pull, push, diff, sync, behind explicit keys.

A thin facade: names load on first use (PEP 562), so `import pytest_voicetest.platforms`
(for instance to call `is_remote_ref` while collecting) does not import httpx.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "PLATFORM_NAMES": "credentials",
    "AlreadyConfigured": "credentials",
    "KeyStatus": "credentials",
    "get_api_key": "credentials",
    "key_status": "credentials",
    "remove_api_key": "credentials",
    "save_api_key": "credentials",
    "is_remote_ref": "refs",
    "parse_remote_ref": "refs",
    "PlatformError": "http",
    "RetryPolicy": "http",
    "PushResult": "base",
    "RemoteAgent": "base",
    "SyncResult": "ops",
    "base_url_for": "ops",
    "diff": "ops",
    "import_remote": "ops",
    "list_agents": "ops",
    "pull": "ops",
    "push": "ops",
    "sync": "ops",
    "cache_path": "cache",
    "resolve_remote_agent": "cache",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
