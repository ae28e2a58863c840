"""The app factory: one FastAPI app over one store, with the three seeds' routes.

On start it opens the store (SQLite file by default, or a postgresql:// URL), takes the
one-server-per-store lock, marks runs a previous process left unfinished as
interrupted, and starts the background runner; on stop, runs in flight are interrupted
(their finished results kept). OpenAPI is at `/openapi.json`, docs at `/docs`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from ..database import Database, open_database
from ..redact import redact
from ..voicesim.store import Store
from . import errors, routes_agents, routes_platforms, routes_runs, routes_settings, routes_sims, routes_simulations
from .auth import Keys
from .bodies import reject_unknown_query
from .context import Context
from .events import Broker
from .limits import DEFAULT_LIMIT, BodyLimit
from .lock import ServeLock
from .runner import Runner, recover
from .store import ServerStore

log = logging.getLogger("pytest_voicetest.server")
DEFAULT_STORE = Path(".voicetest") / "server.db"
DESCRIPTION = """The three seed APIs of pytest-voicetest on one core:

* **VoiceSim** (seed 000): `/v1/{workspace_id}/sims...`, `/v1/{workspace_id}/network/egress-ips`;
* **voice-agent test harness** (seed 001): `/api/agents...`, `/api/tests/...`, `/api/runs...`, `/api/evaluate`, `/api/settings`;
* **simulation campaigns** (seed 002): `POST /simulations`, `GET /simulations/{id}`.

Every route except `/api/health`, `/openapi.json` and `/docs` needs `Authorization: Bearer KEY`
(a workspace key from `voicetest serve --create-key WORKSPACE`). A workspace sees only its own
objects. Errors are JSON: `{"detail", "field", "fix"}`.
"""


@dataclass(frozen=True)
class ServerOptions:
    """Where the server keeps its data and how it runs: `store` is a SQLite path or a
    postgresql:// URL (default `<root>/.voicetest/server.db`); `root` is the project whose
    settings every workspace's runs start from."""

    root: Path = field(default_factory=Path.cwd)
    store: str | None = None
    body_limit: int = DEFAULT_LIMIT
    run_workers: int = 2

    @property
    def where(self) -> str:
        if self.store and "://" in self.store:
            return self.store
        return str((self.root / (self.store or DEFAULT_STORE)).resolve())


def open_store(options: ServerOptions) -> tuple[Database, ServerStore]:
    """The server's database and tables (created on first use)."""
    database = open_database(options.where)
    try:
        return database, ServerStore(database)
    except BaseException:
        database.close()
        raise


def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error on %s %s: %s", request.method, request.url.path, redact(f"{type(exc).__name__}: {exc}"))
    return JSONResponse({"detail": "internal error (logged on the server)", "field": None, "fix": None}, status_code=500)


def create_app(options: ServerOptions | None = None) -> FastAPI:
    options = options or ServerOptions()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database, store = open_store(options)
        lock = ServeLock(database)
        try:
            lock.acquire()
            sims = Store(database)
            interrupted = recover(store)
            if interrupted:
                log.warning("marked %d run(s) left unfinished by a previous server as interrupted", len(interrupted))
            if store.key_count() == 0:
                log.warning("no API key in the store yet: every request except health and docs gets 401 (voicetest serve --create-key WORKSPACE)")
            broker = Broker()
            runner = Runner(store, broker, options.run_workers)
            app.state.context = Context(options.root.resolve(), store, sims, broker, runner)
            app.state.keys = Keys(store)
            try:
                yield
            finally:
                runner.shutdown()
        finally:
            lock.release()
            database.close()

    app = FastAPI(
        title="pytest-voicetest server", version="1", description=DESCRIPTION, lifespan=lifespan, dependencies=[Depends(reject_unknown_query)]
    )
    app.add_middleware(BodyLimit, limit=options.body_limit)
    errors.install(app)
    app.add_exception_handler(Exception, _unexpected)

    @app.get("/api/health", tags=["Health"], summary="Liveness (no key needed)")
    def health() -> dict[str, Any]:
        return {"status": "ok"}

    for module in (routes_sims, routes_agents, routes_runs, routes_settings, routes_simulations, routes_platforms):
        app.include_router(module.router)
    return app
