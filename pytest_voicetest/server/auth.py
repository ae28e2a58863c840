"""Workspace API keys: created once, shown once, stored as SHA-256 digests.

A key is `vt_` + 43 random URL-safe characters (256 bits), so a plain digest is as
strong as a slow hash would be. Every route except health and docs takes
`Authorization: Bearer KEY`; the key decides the workspace, and a workspace id in a
path that is not the key's answers 404, never 403.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..errors import InputError
from .errors import NotFound, Unauthorized
from .store import ServerStore

WORKSPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
KEY_PREFIX = "vt_"
CACHE_S = 30.0
bearer = HTTPBearer(auto_error=False, description="a workspace API key from `voicetest serve --create-key WORKSPACE`")


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def check_workspace(name: str) -> str:
    if not isinstance(name, str) or not WORKSPACE.fullmatch(name):
        raise InputError(
            f"workspace {name!r} is not a valid workspace id",
            field="workspace",
            fix="use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return name


def create_key(store: ServerStore, workspace: str) -> str:
    """A new key for `workspace`; only its digest is stored, so show it now or never."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    store.add_key(digest(key), check_workspace(workspace), key[:8])
    return key


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, store: ServerStore) -> None:
    """Refuse to listen beyond this machine while no key could let anyone in."""
    if not is_loopback(host) and store.key_count() == 0:
        raise InputError(
            f"refusing to listen on {host} with no API key in the store: the API would be reachable from other machines",
            field="host",
            fix="create a key first (voicetest serve --create-key WORKSPACE), or bind 127.0.0.1",
        )


@dataclass(frozen=True)
class Principal:
    workspace: str


class Keys:
    """Looks keys up in the store; known keys are remembered for `CACHE_S` seconds."""

    def __init__(self, store: ServerStore) -> None:
        self.store = store
        self._known: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def workspace(self, key: str) -> str | None:
        hashed = digest(key)
        with self._lock:
            hit = self._known.get(hashed)
        if hit and hit[1] > time.monotonic():
            return hit[0]
        workspace = self.store.key_workspace(hashed)
        if workspace is not None:
            with self._lock:
                self._known[hashed] = (workspace, time.monotonic() + CACHE_S)
        return workspace


def principal(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
    """The workspace of the request's bearer key, or 401."""
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorized(
            "this route needs an API key", field="Authorization", fix="send Authorization: Bearer KEY (voicetest serve --create-key WORKSPACE)"
        )
    keys: Keys = request.app.state.keys
    workspace = keys.workspace(credentials.credentials)
    if workspace is None:
        raise Unauthorized("unknown API key", field="Authorization", fix="use a key made by voicetest serve --create-key for this store")
    return Principal(workspace)


Who = Annotated[Principal, Depends(principal)]


def in_workspace(workspace_id: str, who: Who) -> Principal:
    """The principal, when the path's workspace is its own; any other workspace is not found."""
    if workspace_id != who.workspace:
        raise NotFound(f"no workspace {workspace_id!r}", field="path.workspace_id", fix="use the workspace of your API key")
    return who


InWorkspace = Annotated[Principal, Depends(in_workspace)]
