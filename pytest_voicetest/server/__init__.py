"""The HTTP door (`voicetest serve`, extra `[server]`): the three seed APIs on the same core.

- seed 000, VoiceSim: `/v1/{workspace_id}/sims...` and `/v1/{workspace_id}/network/egress-ips`;
- seed 001, the voice-agent test harness: `/api/agents...`, `/api/tests/...`, `/api/runs...`,
  `/api/evaluate`, `/api/settings`, on the paths the harness's own server uses;
- seed 002, simulation campaigns: `POST /simulations`, `GET /simulations/{id}`.

Only HTTP, API keys, persistence and background scheduling live here; every run,
evaluation, import, export and VoiceSim operation is a call into the core. FastAPI and
uvicorn are imported by this package only, and only `cli/serve.py` imports it.
"""

from __future__ import annotations

from .app import ServerOptions, create_app

__all__ = ["ServerOptions", "create_app"]
