"""Workspaces never see each other: another workspace's agents, tests, runs, simulations,
VoiceSim runs and settings answer 404 (never 403) and never show up in listings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the server extra (fastapi) is not installed")

from .test_server import SCRIPTED, SECRET, Served, hours_test, new_store, scripted_scenario, serve_app  # noqa: E402


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    yield from serve_app(*new_store(tmp_path, monkeypatch))


@pytest.fixture
def alphas(server: Served) -> dict[str, Any]:
    """One of everything, made by workspace alpha."""
    agent = server.agent("alpha")
    server.ok("PUT", "/api/settings", "alpha", json={"models": SCRIPTED, "env": {"OPENAI_API_KEY": SECRET}})
    test = server.ok("POST", f"/api/agents/{agent['id']}/tests", "alpha", json=hours_test())
    run = server.ok("POST", f"/api/agents/{agent['id']}/runs", "alpha", json={"test_ids": [test["id"]]})
    server.wait(f"/api/runs/{run['id']}", lambda r: r["completed_at"] is not None, "alpha")
    simulation = server.ok("POST", "/simulations", "alpha", json={"name": "s", "agent_id": agent["number"], "scenarios": [scripted_scenario("a")]})
    sim = server.ok("POST", "/v1/alpha/sims", "alpha", json={"scenarios": ["normal_faq"]})
    return {"agent": agent, "test": test, "run": run, "simulation": simulation["simulation"], "sim": sim}


def test_another_workspaces_objects_are_not_found(server: Served, alphas: dict[str, Any]) -> None:
    agent, test, run = alphas["agent"]["id"], alphas["test"]["id"], alphas["run"]["id"]
    number, sim = alphas["simulation"]["id"], alphas["sim"]["id"]
    requests: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/api/agents/{agent}", None),
        ("PUT", f"/api/agents/{agent}", {"name": "stolen"}),
        ("DELETE", f"/api/agents/{agent}", None),
        ("GET", f"/api/agents/{agent}/graph", None),
        ("GET", f"/api/agents/{agent}/metrics-config", None),
        ("PUT", f"/api/agents/{agent}/metrics-config", {"threshold": 0.1}),
        ("GET", f"/api/agents/{agent}/tests", None),
        ("POST", f"/api/agents/{agent}/tests", hours_test()),
        ("POST", f"/api/agents/{agent}/tests/export", {}),
        ("GET", f"/api/tests/{test}", None),
        ("PUT", f"/api/tests/{test}", hours_test()),
        ("DELETE", f"/api/tests/{test}", None),
        ("POST", f"/api/agents/{agent}/runs", {}),
        ("GET", f"/api/agents/{agent}/runs", None),
        ("GET", f"/api/runs/{run}", None),
        ("POST", f"/api/runs/{run}/cancel", None),
        ("DELETE", f"/api/runs/{run}", None),
        ("GET", f"/api/runs/{run}/events", None),
        ("GET", f"/simulations/{number}", None),
        ("POST", f"/simulations/{number}/stop", None),
        ("POST", "/simulations", {"name": "s", "agent_id": alphas["agent"]["number"], "scenarios": []}),
        ("POST", "/simulations", {"name": "s", "agent_id": agent, "scenarios": []}),
        ("GET", f"/v1/beta/sims/{sim}", None),
        ("GET", f"/v1/beta/sims/{sim}/summary", None),
        ("GET", f"/v1/beta/sims/{sim}/points", None),
        ("GET", f"/v1/beta/sims/{sim}/events", None),
        ("POST", f"/v1/beta/sims/{sim}/evaluate", {"point_indices": [0] * 18, "scenario_name": "normal_faq"}),
        ("POST", f"/v1/beta/sims/{sim}/sample", {"n_points": 2}),
        ("POST", f"/v1/beta/sims/{sim}/complete", None),
        ("GET", "/v1/alpha/sims", None),
        ("POST", "/v1/alpha/sims", {}),
        ("GET", f"/v1/alpha/sims/{sim}", None),
        ("GET", "/v1/alpha/network/egress-ips", None),
    ]
    for method, path, body in requests:
        response = server.call(method, path, "beta", json=body)
        assert response.status_code == 404, (method, path, response.status_code, response.text)
        assert "clinic" not in response.text and SECRET not in response.text


def test_listings_and_settings_are_per_workspace(server: Served, alphas: dict[str, Any]) -> None:
    assert server.ok("GET", "/api/agents", "beta") == []
    assert server.ok("GET", "/v1/beta/sims", "beta")["runs"] == []
    beta = server.ok("GET", "/api/settings", "beta")
    assert beta["env"] == {} and beta["models"] == {"agent": None, "simulator": None, "judge": None}
    server.ok("PUT", "/api/settings", "beta", json={"models": {"judge": "openai/beta-judge"}})
    assert server.ok("GET", "/api/settings", "alpha")["models"] == SCRIPTED
    assert server.ok("GET", "/api/settings", "alpha")["env"] == {"OPENAI_API_KEY": "***"}


def test_nothing_of_alpha_changed_after_betas_attempts(server: Served, alphas: dict[str, Any]) -> None:
    agent = alphas["agent"]["id"]
    server.call("PUT", f"/api/agents/{agent}", "beta", json={"name": "stolen"})
    server.call("DELETE", f"/api/agents/{agent}", "beta")
    server.call("DELETE", f"/api/tests/{alphas['test']['id']}", "beta")
    server.call("POST", f"/v1/beta/sims/{alphas['sim']['id']}/complete", "beta")
    assert server.ok("GET", f"/api/agents/{agent}", "alpha")["name"] == "clinic"
    assert [t["id"] for t in server.ok("GET", f"/api/agents/{agent}/tests", "alpha")] == [alphas["test"]["id"]]
    assert server.ok("GET", f"/v1/alpha/sims/{alphas['sim']['id']}", "alpha")["status"] == "running"
    assert server.ok("GET", f"/simulations/{alphas['simulation']['id']}", "alpha")["simulation"]["name"] == "s"
