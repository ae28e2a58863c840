"""Schemathesis over the served OpenAPI: generated requests (valid and invalid) to every
operation, a bounded number per operation, against a live server with real objects.

Checks: no 5xx, every status code documented, the content type and the body matching the
documented response schema, and invalid input (by the schema) refused with a 4xx. Path ids
are swapped for real ones about half the time, so routes are exercised past the 404.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("schemathesis", reason="schemathesis is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the server extra (uvicorn) is not installed")

import httpx  # noqa: E402
import schemathesis  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from pytest_voicetest.server import ServerOptions, create_app  # noqa: E402
from pytest_voicetest.server.app import open_store  # noqa: E402
from pytest_voicetest.server.auth import create_key  # noqa: E402
from pytest_voicetest.voicesim.space import MAX_POINTS  # noqa: E402

from .test_server import CLINIC, SCRIPTED, hours_test, scripted_scenario  # noqa: E402
from .test_server_process import free_port  # noqa: E402

EXAMPLES = 20
MAX_SAMPLE = 200  # keep generated samples small: the sweep's speed is benchmarked elsewhere
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance, negative_data_rejection]


@dataclass
class Live:
    base: str
    key: str
    ids: dict[str, Any]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The app under uvicorn on a free port, with an agent, a test, a run, a simulation and a VoiceSim run."""
    root: Path = tmp_path_factory.mktemp("schema")
    options = ServerOptions(root=root)
    database, store = open_store(options)
    key = create_key(store, "fuzz")
    database.close()
    server = uvicorn.Server(uvicorn.Config(create_app(options), host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    base = f"http://127.0.0.1:{server.config.port}"
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        client.put("/api/settings", json={"models": SCRIPTED}).raise_for_status()
        agent = client.post("/api/agents", json={"name": "clinic", "config": CLINIC}).json()
        test = client.post(f"/api/agents/{agent['id']}/tests", json=hours_test()).json()
        run = client.post(f"/api/agents/{agent['id']}/runs", json={}).json()
        simulation = client.post("/simulations", json={"name": "s", "agent_id": agent["number"], "scenarios": [scripted_scenario("a")]}).json()
        sim = client.post("/v1/fuzz/sims", json={"scenarios": ["normal_faq", "crisis_at_10"]}).json()
        client.post(f"/v1/fuzz/sims/{sim['id']}/sample", json={"n_points": 20}).raise_for_status()
    ids = {
        "workspace_id": "fuzz",
        "agent_id": agent["id"],
        "test_id": test["id"],
        "run_id": run["id"],
        "simulation_id": simulation["simulation"]["id"],
    }
    yield Live(base, key, {**ids, "sim_run_id": sim["id"]})
    server.should_exit = True
    thread.join(timeout=30)


# The document the app serves, built without starting it (so operations are known at collection).
DOCUMENT = create_app(ServerOptions(root=Path.cwd())).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT).exclude(path_regex=r".*/events$")  # event streams stay open: not request/response


def real_ids(case: Any, live: Live) -> None:
    """The workspace always; other ids swapped for real ones when the drawn id hashes even."""
    params = case.path_parameters or {}
    for name, value in params.items():
        real = live.ids["sim_run_id"] if name == "run_id" and case.path.startswith("/v1/") else live.ids.get(name)
        if real is not None and (name == "workspace_id" or hashlib.sha256(str(value).encode()).digest()[0] % 2 == 0):
            params[name] = real
    points = case.body.get("n_points") if case.path.endswith("/sample") and isinstance(case.body, dict) else None
    if type(points) is int and MAX_SAMPLE < points <= MAX_POINTS:  # a large valid count stays valid, an invalid one stays invalid
        case.body["n_points"] = MAX_SAMPLE


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_5xx_and_responses_match_the_schema(case: Any, live: Live) -> None:
    real_ids(case, live)
    response = case.call(base_url=live.base, headers={"Authorization": f"Bearer {live.key}"}, timeout=30)
    case.validate_response(response, checks=CHECKS)
    if response.status_code >= 400 and response.headers.get("content-type", [""])[0].startswith("application/json"):
        body = json.loads(response.content)
        assert {"detail", "field", "fix"} <= set(body), body  # every error names what it can


def test_the_served_document_is_the_one_tested(live: Live) -> None:
    served = httpx.get(f"{live.base}/openapi.json").json()
    assert served == json.loads(json.dumps(DOCUMENT))
    assert len(served["paths"]) >= 35 and served["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
