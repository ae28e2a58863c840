"""The HTTP door through the ASGI test client: the three seeds' routes, keys, errors, limits.

Runs use the scripted provider (offline) or the local fake model server; each test has
its own store in a temporary project.
"""

from __future__ import annotations

import json
import re
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi", reason="the server extra (fastapi) is not installed")

with warnings.catch_warnings():  # starlette's test client warns that it still uses httpx
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from pytest_voicetest.errors import InputError  # noqa: E402
from pytest_voicetest.server import ServerOptions, create_app  # noqa: E402
from pytest_voicetest.server.app import open_store  # noqa: E402
from pytest_voicetest.server.auth import check_bind, create_key, digest, is_loopback  # noqa: E402
from pytest_voicetest.server.store import NewResult  # noqa: E402
from pytest_voicetest.testing.server import FakeLLMServer, default_responder  # noqa: E402

from .conftest import PLATFORMS  # noqa: E402
from .test_voicesim_runs import postgres_url  # noqa: E402, F401 - a fixture, used through request.getfixturevalue

EXAMPLE = Path(__file__).parents[1] / "example_project"
CLINIC = json.loads((EXAMPLE / "agents" / "clinic_flow.json").read_text())
SECRET = "sk-test-SECRET-0123456789abcdef"
HOURS_SCRIPT = [
    {"agent": "Thank you for calling Riverside Family Clinic."},
    {"user": "When are you open?"},
    {"goto": "hours"},
    {"agent": "We're open Monday to Friday, 8am to 6pm."},
    {"user": "Thanks!", "hangup": True},
]
SCRIPTED = {"agent": "scripted", "simulator": "scripted", "judge": "scripted"}
FAKE = {"agent": "openai/fake-agent", "simulator": "openai/fake-sim", "judge": "openai/fake-judge"}


@dataclass
class Served:
    """A running app (lifespan and all) with keys for the workspaces alpha and beta."""

    client: TestClient
    keys: dict[str, str]
    options: ServerOptions

    def call(self, method: str, path: str, ws: str | None = "alpha", **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}))
        if ws is not None:
            headers["Authorization"] = f"Bearer {self.keys[ws]}"
        return self.client.request(method, path, headers=headers, **kwargs)

    def ok(self, method: str, path: str, ws: str = "alpha", **kwargs: Any) -> Any:
        response = self.call(method, path, ws, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def agent(self, ws: str = "alpha", config: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = self.ok("POST", "/api/agents", ws, json={"name": "clinic", "config": config or CLINIC})
        return body

    def wait(self, path: str, done: Callable[[Any], bool], ws: str = "alpha", timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            body = self.ok("GET", path, ws)
            if done(body):
                return body
            assert time.monotonic() < deadline, f"timed out waiting on {path}: {str(body)[:500]}"
            time.sleep(0.05)


def serve_app(options: ServerOptions, keys: dict[str, str]) -> Iterator[Served]:
    with TestClient(create_app(options)) as client:
        yield Served(client, keys, options)


def clear_model_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("VOICETEST_MODEL", "VOICETEST_AGENT_MODEL", "VOICETEST_SIMULATOR_MODEL", "VOICETEST_JUDGE_MODEL", "VOICETEST_API_BASE"):
        monkeypatch.delenv(name, raising=False)


def new_store(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ServerOptions, dict[str, str]]:
    """A store in `root` with keys for alpha and beta; no model configured by the environment."""
    clear_model_env(monkeypatch)
    options = ServerOptions(root=root)
    database, store = open_store(options)
    keys = {ws: create_key(store, ws) for ws in ("alpha", "beta")}
    database.close()
    return options, keys


@pytest.fixture
def keyed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ServerOptions, dict[str, str]]:
    return new_store(tmp_path, monkeypatch)


@pytest.fixture
def server(keyed: tuple[ServerOptions, dict[str, str]]) -> Iterator[Served]:
    yield from serve_app(*keyed)


@pytest.fixture
def slow_llm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeLLMServer]:
    """A fake model server answering after 0.15 s, reached through the operator's VOICETEST_API_BASE."""
    with FakeLLMServer(default_responder(caller_lines=3), latency=0.15) as fake:
        monkeypatch.setenv("VOICETEST_API_BASE", fake.api_base)
        yield fake


def hours_test(name: str = "opening hours", **extra: Any) -> dict[str, Any]:
    return {"name": name, "user_prompt": "Ask when the clinic is open.", "type": "rule", "includes": ["8am"], "script": HOURS_SCRIPT, **extra}


# Keys, errors, limits -----------------------------------------------------------------


def test_every_route_but_health_and_docs_needs_a_key(server: Served) -> None:
    assert server.call("GET", "/api/health", ws=None).json() == {"status": "ok"}
    assert server.call("GET", "/openapi.json", ws=None).status_code == 200
    assert server.call("GET", "/docs", ws=None).status_code == 200
    paths = server.client.get("/openapi.json").json()["paths"]
    for path, methods in paths.items():
        if path == "/api/health":
            continue
        for method in methods:
            concrete = re.sub(r"\{[^}]+\}", "x", path)
            response = server.call(method.upper(), concrete, ws=None)
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.json()["field"] == "Authorization" and response.headers["www-authenticate"] == "Bearer"
    wrong = server.call("GET", "/api/agents", ws=None, headers={"Authorization": "Bearer vt_not-a-key"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "unknown API key"


def test_keys_are_stored_hashed_and_shown_once(keyed: tuple[ServerOptions, dict[str, str]]) -> None:
    options, keys = keyed
    stored = b"".join(path.read_bytes() for path in Path(options.where).parent.iterdir() if path.is_file())
    assert keys["alpha"].encode() not in stored and digest(keys["alpha"]).encode() in stored
    database, store = open_store(options)
    try:
        assert store.key_workspace(digest(keys["alpha"])) == "alpha"
        assert store.key_workspace(keys["alpha"]) is None
        with pytest.raises(InputError, match="not a valid workspace id"):
            create_key(store, "no spaces allowed")
    finally:
        database.close()


def test_unknown_paths_and_methods_are_json_errors(server: Served) -> None:
    for path in ("/api/nope", "/api/agents/x/nope", "/v1/alpha/nope", "/nope"):
        response = server.call("GET", path)
        assert response.status_code == 404 and response.headers["content-type"] == "application/json", path
        assert response.json()["detail"] == "Not Found"
    assert server.call("PATCH", "/api/agents").status_code == 405
    unknown = server.call("GET", "/api/agents?colour=red")
    assert unknown.status_code == 422 and unknown.json()["field"] == "query.colour"


def test_malformed_and_wrongly_typed_bodies_name_the_field(server: Served) -> None:
    bad_json = server.call("POST", "/api/agents", content=b"{not json", headers={"content-type": "application/json"})
    assert bad_json.status_code == 422 and bad_json.json()["field"].startswith("body")
    wrong_type = server.call("POST", "/api/agents", json={"name": 3, "config": CLINIC})
    assert wrong_type.status_code == 422 and wrong_type.json()["field"] == "body.name"
    assert "input" not in wrong_type.json()["detail"][0]  # the input is never echoed (it may hold secrets)
    extra = server.call("POST", "/v1/alpha/sims", json={"name": "x", "bogus": 1})
    assert extra.status_code == 422 and extra.json()["field"] == "body.bogus"
    query = server.call("GET", "/v1/alpha/sims", params={"limit": "many"})
    assert query.status_code == 422 and query.json()["field"] == "query.limit"
    for body, field in (({"seed": False}, "body.seed"), ({"name": "x", "seed": "3"}, "body.seed"), ({"scenarios": "normal_faq"}, "body.scenarios")):
        coerced = server.call("POST", "/v1/alpha/sims", json=body)  # no coercion: false is not 0, "3" is not 3
        assert coerced.status_code == 422 and coerced.json()["field"] == field, body
    lax = server.call("PUT", "/api/settings", json={"run": {"strict": 0}})
    assert lax.status_code == 422 and lax.json()["field"] == "body.run.strict"
    not_utf8 = server.call("POST", "/api/agents", content=b"\xff\xfe{}", headers={"content-type": "application/json"})
    assert not_utf8.status_code in {400, 422} and not_utf8.json()["field"].startswith("body")


def test_request_bodies_are_size_limited(keyed: tuple[ServerOptions, dict[str, str]]) -> None:
    options, keys = keyed
    small = ServerOptions(root=options.root, body_limit=2048)
    for served in serve_app(small, keys):
        big = served.call("POST", "/api/agents", json={"name": "x", "config": {"pad": "y" * 5000}})
        assert big.status_code == 413 and big.json()["field"] == "body"
        chunked = served.call("POST", "/api/agents", content=iter([b'{"name": "', b"z" * 4000, b'"}']), headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        assert served.call("POST", "/api/agents", json={"name": "x"}).status_code == 422  # small bodies still reach the route


def test_binding_beyond_loopback_needs_a_key(tmp_path: Path) -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.com")
    database, store = open_store(ServerOptions(root=tmp_path))
    try:
        check_bind("127.0.0.1", store)
        with pytest.raises(InputError) as refused:
            check_bind("0.0.0.0", store)
        assert refused.value.field == "host" and "--create-key" in str(refused.value)
        create_key(store, "team")
        check_bind("0.0.0.0", store)
    finally:
        database.close()


def test_one_server_per_store(keyed: tuple[ServerOptions, dict[str, str]]) -> None:
    options, keys = keyed
    for _ in serve_app(options, keys):
        with pytest.raises(InputError, match="another voicetest serve"), TestClient(create_app(options)):
            pass


def test_the_serve_command_creates_keys_and_refuses_an_open_bind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from pytest_voicetest.cli import serve
    from pytest_voicetest.cli.common import Parser

    parser = Parser(prog="voicetest")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    def command(name: str, handler: Any, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--json", action="store_true")
        cmd.set_defaults(handler=handler)
        return cmd

    serve.add_parsers(command)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="refusing to listen on 0.0.0.0"):
        args = parser.parse_args(["serve", "--host", "0.0.0.0"])
        args.handler(args)
    args = parser.parse_args(["serve", "--create-key", "team", "--json"])
    assert args.handler(args) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["workspace"] == "team" and printed["key"].startswith("vt_")
    assert (tmp_path / ".voicetest" / "server.db").is_file()
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--port", "70000"])


# Seed 000: VoiceSim ----------------------------------------------------------------------


def test_sims_list_newest_first_paginated(server: Served) -> None:
    made = [server.ok("POST", "/v1/alpha/sims", json={"name": f"run {i}", "scenarios": ["normal_faq"]})["id"] for i in range(3)]
    assert server.ok("POST", "/v1/alpha/sims")["name"] == "VoiceSim run"  # the body is optional
    first = server.ok("GET", "/v1/alpha/sims", params={"limit": 2})
    assert first["limit"] == 2 and len(first["runs"]) == 2 and first["next_cursor"]
    second = server.ok("GET", "/v1/alpha/sims", params={"limit": 2, "cursor": first["next_cursor"]})
    listed = [r["id"] for r in first["runs"] + second["runs"]]
    assert listed[1:] == made[::-1] and second["next_cursor"] is None
    assert server.ok("GET", "/v1/alpha/sims")["limit"] == 20
    too_many = server.call("GET", "/v1/alpha/sims", params={"limit": 101})
    assert too_many.status_code == 422 and too_many.json()["field"] == "query.limit"
    bad_cursor = server.call("GET", "/v1/alpha/sims", params={"cursor": "nonsense"})
    assert bad_cursor.status_code == 422 and bad_cursor.json()["field"] == "query.cursor"


def test_sims_create_returns_the_space_and_checks_its_input(server: Served) -> None:
    run = server.ok("POST", "/v1/alpha/sims", json={"name": "sweep", "scenarios": ["crisis_at_10", "greeting_barge_in"], "seed": 7})
    assert run["status"] == "running" and run["seed"] == 7 and len(run["space"]["dimensions"]) == 18
    assert run["scenarios"] == ["crisis_at_10", "greeting_barge_in"]
    unknown = server.call("POST", "/v1/alpha/sims", json={"scenarios": ["crisis_at_11"]})
    assert unknown.status_code == 422 and unknown.json()["field"] == "body.scenarios" and "crisis_at_10" in unknown.json()["detail"]
    assert server.call("POST", "/v1/alpha/sims", json={"seed": -1}).json()["field"] == "body.seed"


def test_evaluate_gives_score_penalties_and_adapter_log_or_names_the_bad_field(server: Served) -> None:
    run = server.ok("POST", "/v1/alpha/sims", json={"scenarios": ["crisis_at_10", "normal_faq"]})
    path = f"/v1/alpha/sims/{run['id']}/evaluate"
    done = server.ok("POST", path, json={"point_indices": [0] * 18, "scenario_name": "crisis_at_10"})
    assert 0 <= done["score"] <= 1 and done["penalties"] and done["adapter_log"]
    assert {"type", "weight", "amount"} <= set(done["penalties"][0])
    short = server.call("POST", path, json={"point_indices": [0] * 17, "scenario_name": "crisis_at_10"})
    assert short.status_code == 422 and short.json()["field"] == "body.point_indices" and "18" in short.json()["detail"]
    sizes = [len(d["bins"]) for d in run["space"]["dimensions"]]
    point = [0] * 18
    point[5] = sizes[5]
    out = server.call("POST", path, json={"point_indices": point, "scenario_name": "normal_faq"})
    assert out.status_code == 422 and out.json()["field"] == "body.point_indices[5]" and f"0..{sizes[5] - 1}" in out.json()["detail"]
    scenario = server.call("POST", path, json={"point_indices": [0] * 18, "scenario_name": "silent_caller"})
    assert scenario.status_code == 422 and scenario.json()["field"] == "body.scenario_name" and "normal_faq" in scenario.json()["fix"]
    text = server.call("POST", path, json={"point_indices": ["a"] * 18, "scenario_name": "normal_faq"})
    assert text.status_code == 422 and text.json()["field"] == "body.point_indices[0]"
    missing = server.call("POST", "/v1/alpha/sims/nope/evaluate", json={"point_indices": [0] * 18, "scenario_name": "normal_faq"})
    assert missing.status_code == 404 and missing.json()["field"] == "path.run_id" and str(server.options.where) not in missing.text


def test_sample_points_summary_get_and_complete(server: Served) -> None:
    run = server.ok("POST", "/v1/alpha/sims", json={"scenarios": ["normal_faq", "crisis_at_10", "silent_caller"]})
    base = f"/v1/alpha/sims/{run['id']}"
    sampled = server.ok("POST", f"{base}/sample", json={"n_points": 40})
    assert sampled["points"] == 40 and sampled["evaluated"] == 120 and sampled["skipped"] == 0
    assert server.call("POST", f"{base}/sample", json={"n_points": 0}).json()["field"] == "body.n_points"
    assert server.call("POST", f"{base}/sample", json={"n_points": 100_001}).status_code == 422
    best = server.ok("GET", f"{base}/points")
    scores = [p["score"] for p in best["points"]]
    assert best["limit"] == 50 and len(scores) == 50 and scores == sorted(scores, reverse=True)
    assert len(server.ok("GET", f"{base}/points", params={"limit": 200})["points"]) == 120
    assert server.call("GET", f"{base}/points", params={"limit": 201}).json()["field"] == "query.limit"
    oldest = server.ok("GET", f"{base}/points", params={"order_by": "time", "scenario": "crisis_at_10", "limit": 200})["points"]
    assert {p["scenario"] for p in oldest} == {"crisis_at_10"} and len(oldest) == 40
    assert [p["created_at"] for p in oldest] == sorted(p["created_at"] for p in oldest)
    paged = server.ok("GET", f"{base}/points", params={"offset": 115, "limit": 10})["points"]
    assert len(paged) == 5
    assert server.call("GET", f"{base}/points", params={"scenario": "normal_booking"}).json()["field"] == "query.scenario"
    assert server.call("GET", f"{base}/points", params={"order_by": "random"}).json()["field"] == "query.order_by"
    summary = server.ok("GET", f"{base}/summary")
    assert set(summary["best_per_scenario"]) == {"normal_faq", "crisis_at_10", "silent_caller"}
    assert summary["penalty_frequency"] and "changes" in summary["config_diff"]
    got = server.ok("GET", base)
    assert got["evaluations"] == 120 and got["points"] == 40 and set(got["best_per_scenario"]) == set(summary["best_per_scenario"])
    completed = server.ok("POST", f"{base}/complete")
    assert completed["status"] == "completed" and completed["completed_at"]
    refused = server.call("POST", f"{base}/sample", json={"n_points": 5})
    assert refused.status_code == 409 and refused.json()["field"] == "path.run_id"
    assert server.call("POST", f"{base}/evaluate", json={"point_indices": [0] * 18, "scenario_name": "normal_faq"}).status_code == 409
    assert server.ok("GET", f"{base}/summary")["status"] == "completed"


def test_sample_progress_is_published_as_server_sent_events(server: Served) -> None:
    run = server.ok("POST", "/v1/alpha/sims", json={"scenarios": ["normal_faq", "crisis_at_10"]})
    received: list[str] = []
    subscribed = threading.Event()

    def follow() -> None:
        with server.client.stream("GET", f"/v1/alpha/sims/{run['id']}/events", headers={"Authorization": f"Bearer {server.keys['alpha']}"}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                subscribed.set()  # the first line is sent once the stream follows the channel
                received.append(line)

    follower = threading.Thread(target=follow)
    follower.start()
    assert subscribed.wait(30)
    done = server.ok("POST", f"/v1/alpha/sims/{run['id']}/sample", json={"n_points": 1500})
    follower.join(timeout=30)
    events = parse_events(received)
    names = [name for name, _ in events]
    assert names[0] == "sample_started" and names[-1] == "sample_completed"
    progress = [data for name, data in events if name == "progress"]
    assert len(progress) == 4  # two 1,024-point chunks per scenario
    assert [p["done"] for p in progress] == sorted(p["done"] for p in progress) and progress[-1] == {"done": 3000, "total": 3000}
    assert events[-1][1] == done


def parse_events(lines: list[str]) -> list[tuple[str, dict[str, Any]]]:
    events, name = [], ""
    for line in lines:
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
    return events


def test_egress_ips_are_this_hosts_addresses(server: Served) -> None:
    import ipaddress

    answer = server.ok("GET", "/v1/alpha/network/egress-ips")
    for address in answer["egress_ips"]:
        ipaddress.ip_address(address)
    assert "routing table" in answer["note"] and answer["region"] == "local"


# Seed 001: agents, tests, import/export ---------------------------------------------------


def test_agent_create_get_update_graph_and_delete(server: Served) -> None:
    agent = server.agent()
    assert agent["source_type"] == "retell_flow" and agent["number"] >= 1 and agent["metrics_config"] == {"threshold": 0.7, "global_metrics": []}
    assert [a["id"] for a in server.ok("GET", "/api/agents")] == [agent["id"]]
    assert server.ok("GET", f"/api/agents/{agent['id']}") == agent
    renamed = server.ok("PUT", f"/api/agents/{agent['id']}", json={"name": "Riverside", "default_model": "openai/gpt-4o"})
    assert renamed["name"] == "Riverside" and renamed["default_model"] == "openai/gpt-4o"
    graph = server.call("GET", f"/api/agents/{agent['id']}/graph")
    assert graph.status_code == 200 and graph.json()["entry_node_id"] == CLINIC_ENTRY and graph.json()["default_model"] == "openai/gpt-4o"
    again = server.call("GET", f"/api/agents/{agent['id']}/graph", headers={"If-None-Match": graph.headers["etag"]})
    assert again.status_code == 304
    bad = server.call("PUT", f"/api/agents/{agent['id']}", json={"graph_json": "{nope"})
    assert bad.status_code == 422 and bad.json()["field"] == "body.graph_json"
    native = dict(graph.json())
    native["nodes"] = {k: v for k, v in native["nodes"].items()}
    native["entry_node_id"] = "nowhere"
    broken = server.call("PUT", f"/api/agents/{agent['id']}", json={"graph_json": json.dumps(native)})
    assert broken.status_code == 422 and broken.json()["field"].startswith("body.graph_json")
    assert server.ok("DELETE", f"/api/agents/{agent['id']}") == {"status": "deleted", "id": agent["id"]}
    for method in ("GET", "PUT", "DELETE"):
        gone = server.call(method, f"/api/agents/{agent['id']}", json={} if method == "PUT" else None)
        assert gone.status_code == 404 and gone.json()["field"] == "path.agent_id"


CLINIC_ENTRY = "greeting"


def test_agent_create_errors_name_the_field(server: Served) -> None:
    cases = [
        ({"name": "x"}, "body.config"),
        ({"name": "x", "path": "/etc/passwd"}, "body.path"),
        ({"name": "x", "config": CLINIC, "source": "nope"}, "body.source"),
        ({"name": "", "config": CLINIC}, "body.name"),
    ]
    for body, field in cases:
        response = server.call("POST", "/api/agents", json=body)
        assert response.status_code == 422 and response.json()["field"] == field, (body, response.text)
    unknown = server.call("POST", "/api/agents", json={"name": "x", "config": {"hello": "world"}})
    assert unknown.status_code == 422 and "recognised" in unknown.json()["detail"]


def test_agents_from_uploaded_files(server: Served) -> None:
    data = (EXAMPLE / "agents" / "clinic_vapi.json").read_bytes()
    made = server.ok("POST", "/api/agents/upload", files={"file": ("clinic_vapi.json", data, "application/json")})
    assert made["name"] == "clinic_vapi" and made["source_type"].startswith("vapi")
    named = server.ok("POST", "/api/agents/upload", params={"name": "Front desk"}, files={"file": ("a.json", data)})
    assert named["name"] == "Front desk"
    huge = server.call("POST", "/api/agents/upload", files={"file": ("big.json", b" " * 5_100_000 + b"{}")})
    assert huge.status_code == 422 and huge.json()["field"] == "file"
    garbage = server.call("POST", "/api/agents/upload", files={"file": ("x.json", b"\xff\xfe not utf-8")})
    assert garbage.status_code == 422 and garbage.json()["field"] == "file"
    missing = server.call("POST", "/api/agents/upload")
    assert missing.status_code == 422 and missing.json()["field"] == "body.file"
    graph = server.ok("POST", "/api/agents/import-file", params={"source": "vapi_assistant"}, files={"file": ("c.json", data)})
    assert graph["nodes"]


def test_test_cases_create_list_update_delete_in_the_harness_shape(server: Served) -> None:
    agent = server.agent()
    base = f"/api/agents/{agent['id']}/tests"
    made = server.ok("POST", base, json={"name": "Office hours", "user_prompt": "Ask the hours.", "metrics": ["Agent gave the hours."]})
    assert made["type"] == "simulation" and made["metrics"] == ["Agent gave the hours."] and made["agent_id"] == agent["id"]
    assert {"id", "created_at", "updated_at", "dynamic_variables", "tool_mocks", "llm_model", "includes", "excludes", "patterns"} <= set(made)
    ours = server.ok("POST", base, json=hours_test())
    listed = server.ok("GET", base)
    assert [(t["name"], t["source_index"]) for t in listed] == [("Office hours", 0), ("opening hours", 1)]
    assert listed[1]["script"] == HOURS_SCRIPT
    replaced = server.ok("PUT", f"/api/tests/{made['id']}", json={**made, "name": "Hours", "user_prompt": "When are you open?"})
    assert replaced["name"] == "Hours" and replaced["id"] == made["id"] and replaced["created_at"] == made["created_at"]
    assert server.ok("GET", f"/api/tests/{made['id']}")["user_prompt"] == "When are you open?"
    assert server.ok("DELETE", f"/api/tests/{ours['id']}") == {"status": "deleted", "id": ours["id"]}
    assert server.call("DELETE", f"/api/tests/{ours['id']}").status_code == 404
    assert server.call("GET", "/api/agents/nope/tests").status_code == 404
    errors = {
        "body.user_prompt": {"name": "x"},
        "body.patterns": {"name": "x", "user_prompt": "y", "type": "rule", "pattern_syntax": "regex", "patterns": ["[unclosed"]},
        "body.transcript": {"name": "x", "user_prompt": "y", "transcript": "/etc/passwd"},
        "body.allow_real_tools": {"name": "x", "user_prompt": "y", "allow_real_tools": True},
        "body.expect.visitd": {"name": "x", "user_prompt": "y", "expect": {"visitd": ["a"]}},
    }
    for field, body in errors.items():
        response = server.call("POST", base, json=body)
        assert response.status_code == 422 and response.json()["field"] == field, (field, response.text)


def test_tests_export_to_the_retell_format(server: Served) -> None:
    agent = server.agent()
    base = f"/api/agents/{agent['id']}/tests"
    one = server.ok(
        "POST",
        base,
        json={"name": "a", "user_prompt": "x", "metrics": ["m1", "m2"], "tool_mocks": [{"name": "lookup_patient", "response": {"id": 1}}]},
    )
    two = server.ok("POST", base, json={"name": "b", "user_prompt": "y", "type": "unit", "includes": ["hi"]})
    every = server.ok("POST", f"{base}/export", json={})
    assert [t["name"] for t in every] == ["a", "b"] and every[1]["type"] == "unit" and every[1]["includes"] == ["hi"]
    assert every[0]["tool_mocks"] == [{"tool_name": "lookup_patient", "input_match_rule": {"type": "any"}, "output": '{"id": 1}'}]
    assert [t["name"] for t in server.ok("POST", f"{base}/export", json={"format": "voicetest"})] == ["a", "b"]
    scripted = server.ok("POST", base, json=hours_test())
    lossy = server.call("POST", f"{base}/export", json={"test_ids": [scripted["id"]]})
    assert lossy.status_code == 200 and "script" in lossy.headers["x-voicetest-losses"]
    chosen = server.ok("POST", f"{base}/export", json={"format": "retell", "test_ids": [two["id"], one["id"]]})
    assert [t["name"] for t in chosen] == ["b", "a"]
    assert server.call("POST", f"{base}/export", json={"format": "json"}).json()["field"] == "body.format"
    assert server.call("POST", f"{base}/export", json={"test_ids": ["nope"]}).json()["field"] == "body.test_ids[0]"


def test_import_and_export_agents(server: Served) -> None:
    graph = server.ok("POST", "/api/agents/import", json={"config": CLINIC})
    assert graph["entry_node_id"] == CLINIC_ENTRY
    forced = server.call("POST", "/api/agents/import", json={"config": CLINIC, "source": "nope"})
    assert forced.status_code == 422 and forced.json()["field"] == "body.source"
    mermaid = server.ok("POST", "/api/agents/export", json={"graph": graph, "format": "mermaid"})
    assert mermaid["format"] == "mermaid" and mermaid["content"].startswith("flowchart")
    vapi = server.ok("POST", "/api/agents/export", json={"graph": CLINIC, "format": "vapi"})
    assert json.loads(vapi["content"])
    assert server.call("POST", "/api/agents/export", json={"graph": graph, "format": "nope"}).json()["field"] == "body.format"
    assert {i["source_type"] for i in server.ok("GET", "/api/importers")} >= {"retell_flow", "vapi_assistant", "native"}
    assert {"mermaid", "native"} <= {e["id"] for e in server.ok("GET", "/api/exporters")}


def test_metrics_config(server: Served) -> None:
    agent = server.agent()
    path = f"/api/agents/{agent['id']}/metrics-config"
    assert server.ok("GET", path) == {"threshold": 0.7, "global_metrics": []}
    config = {"threshold": 0.8, "global_metrics": [{"name": "Politeness", "criteria": "Agent was polite.", "enabled": True, "threshold": 0.6}]}
    assert server.ok("PUT", path, json=config) == config
    assert server.ok("GET", path) == config
    assert server.ok("GET", f"/api/agents/{agent['id']}")["metrics_config"] == config
    assert server.call("PUT", path, json={"threshold": 2}).json()["field"] == "body.threshold"
    assert server.call("PUT", path, json={"global_metrics": [{"name": "x"}]}).json()["field"] == "body.global_metrics[0].criteria"
    as_text = server.ok("PUT", path, json={"global_metrics": ["Agent was brief."]})
    assert as_text["global_metrics"] == [{"name": "Agent was brief.", "criteria": "Agent was brief.", "enabled": True, "threshold": None}]
    server.ok("PUT", path, json=config)
    graph = server.ok("GET", f"/api/agents/{agent['id']}/graph")
    graph.pop("metrics_config")
    server.ok("PUT", f"/api/agents/{agent['id']}", json={"graph_json": json.dumps(graph)})
    assert server.ok("GET", path) == config  # editing the graph keeps the metrics config


def test_settings_mask_env_values_and_refuse_server_options(server: Served) -> None:
    assert server.ok("GET", "/api/settings")["run"]["max_turns"] == 20
    assert server.ok("GET", "/api/settings/defaults")["models"] == {"agent": None, "simulator": None, "judge": None}
    put = server.ok("PUT", "/api/settings", json={"models": {"judge": "openai/judge"}, "run": {"max_turns": 8}, "env": {"OPENAI_API_KEY": SECRET}})
    assert put["env"] == {"OPENAI_API_KEY": "***"} and put["run"]["max_turns"] == 8
    shown = server.ok("GET", "/api/settings")
    assert shown["env"] == {"OPENAI_API_KEY": "***"} and SECRET not in json.dumps(shown)
    server.ok("PUT", "/api/settings", json={**shown, "models": {"judge": "openai/other"}})  # a read-modify-write keeps the key
    stored = server.client.app.state.context.store.get_settings("alpha")  # type: ignore[attr-defined]
    assert stored["env"] == {"OPENAI_API_KEY": SECRET} and stored["models"]["judge"] == "openai/other"
    refusals = {
        "body.run.api_base": {"run": {"api_base": "http://evil.example/v1"}},
        "body.run.allow_real_tools": {"run": {"allow_real_tools": True}},
        "body.run.store": {"run": {"store": "/tmp/x.db"}},
        "body.env.VOICETEST_API_BASE": {"env": {"VOICETEST_API_BASE": "http://evil.example/v1"}},
        "body.run.max_turnz": {"run": {"max_turnz": 3}},
        "body.run.max_turns": {"run": {"max_turns": 0}},
    }
    for field, body in refusals.items():
        response = server.call("PUT", "/api/settings", json=body)
        assert response.status_code == 422 and response.json()["field"] == field, (field, response.text)


# Seed 001: runs ------------------------------------------------------------------------------


def test_a_background_run_returns_at_once_and_fills_in_results(server: Served) -> None:
    agent = server.agent()
    server.ok("PUT", "/api/settings", json={"models": SCRIPTED})
    tests = [server.ok("POST", f"/api/agents/{agent['id']}/tests", json=hours_test(f"hours {i}")) for i in range(2)]
    failing = server.ok("POST", f"/api/agents/{agent['id']}/tests", json=hours_test("wants 9am", includes=["9am"]))
    unchecked = server.ok("POST", f"/api/agents/{agent['id']}/tests", json={"name": "no checks", "user_prompt": "x"})
    started = server.ok("POST", f"/api/agents/{agent['id']}/runs", json={"test_ids": [t["id"] for t in [*tests, failing, unchecked]]})
    assert started["status"] == "running" and started["test_count"] == 4
    run = server.wait(f"/api/runs/{started['id']}", lambda r: r["completed_at"] is not None)
    assert run["status"] == "completed" and run["run_id"] == run["id"]
    statuses = {r["test_name"]: (r["status"], r["test_case_id"]) for r in run["results"]}
    assert statuses == {
        "hours 0": ("pass", tests[0]["id"]),
        "hours 1": ("pass", tests[1]["id"]),
        "wants 9am": ("fail", failing["id"]),
        "no checks": ("error", unchecked["id"]),
    }
    assert "no checks" in next(r for r in run["results"] if r["test_name"] == "no checks")["error_message"]
    passed = run["results"][0]
    assert passed["transcript"] and passed["nodes_visited"][0] == CLINIC_ENTRY and passed["test_id"] == tests[0]["id"]
    listed = server.ok("GET", f"/api/agents/{agent['id']}/runs")
    assert listed[0]["id"] == run["id"] and listed[0]["summary"] | {"failed_names": None} == {
        "total": 4,
        "passed": 2,
        "failed": 1,
        "errors": 1,
        "skipped": 0,
        "running": 0,
        "failed_names": None,
    }
    assert sorted(listed[0]["summary"]["failed_names"]) == ["no checks", "wants 9am"]
    events = parse_events(server.call("GET", f"/api/runs/{run['id']}/events").text.splitlines())
    assert events == [("run_finished", {"status": "completed"})]
    assert server.call("POST", f"/api/runs/{run['id']}/cancel").status_code == 409
    assert server.ok("DELETE", f"/api/runs/{run['id']}") == {"status": "deleted", "id": run["id"]}
    assert server.call("GET", f"/api/runs/{run['id']}").status_code == 404


def test_starting_a_run_checks_ids_and_options(server: Served) -> None:
    agent = server.agent()
    base = f"/api/agents/{agent['id']}/runs"
    assert server.call("POST", base, json={}).json()["field"] == "body.test_ids"  # no tests yet
    test = server.ok("POST", f"/api/agents/{agent['id']}/tests", json=hours_test())
    assert server.call("POST", base, json={"test_ids": [test["id"], "nope"]}).json()["field"] == "body.test_ids[1]"
    assert server.call("POST", base, json={"options": {"max_turnz": 3}}).json()["field"] == "body.options.max_turnz"
    assert server.call("POST", base, json={"options": {"max_turns": 0}}).json()["field"] == "body.options.max_turns"
    assert server.call("POST", base, json={"options": {"api_base": "http://x"}}).json()["field"] == "body.options.api_base"
    assert server.call("POST", "/api/agents/nope/runs", json={}).status_code == 404
    seed_options = {"max_turns": 8, "timeout_seconds": 30, "verbose": True, "streaming": True, "cot_transitions": True, "judge_model": "scripted"}
    unscripted = server.ok("POST", f"/api/agents/{agent['id']}/tests", json={"name": "llm", "user_prompt": "Book.", "metrics": ["Helped."]})
    started = server.ok("POST", base, json={"test_ids": [unscripted["id"]], "options": seed_options})
    run = server.wait(f"/api/runs/{started['id']}", lambda r: r["completed_at"] is not None)
    assert run["options"] == seed_options and run["results"][0]["status"] == "skipped"  # no simulator model: skipped, saying how to set one
    assert "models.simulator (PUT /api/settings)" in run["results"][0]["error_message"]


def test_cancel_stops_the_call_in_flight_and_starts_no_more(server: Served, slow_llm: FakeLLMServer) -> None:
    agent = server.agent()
    server.ok("PUT", "/api/settings", json={"models": FAKE})
    ids = [
        server.ok("POST", f"/api/agents/{agent['id']}/tests", json={"name": f"t{i}", "user_prompt": "Book.", "metrics": ["Helped."]})["id"]
        for i in range(3)
    ]
    started = server.ok("POST", f"/api/agents/{agent['id']}/runs", json={"test_ids": ids})
    time.sleep(0.5)
    assert server.call("DELETE", f"/api/runs/{started['id']}").status_code == 409  # running: cancel it first
    cancelling = server.ok("POST", f"/api/runs/{started['id']}/cancel")
    assert cancelling["status"] in {"cancelling", "cancelled"}
    run = server.wait(f"/api/runs/{started['id']}", lambda r: r["completed_at"] is not None, timeout=10)
    assert run["status"] == "cancelled"
    assert [r["status"] for r in run["results"]] == ["error", "skipped", "skipped"]
    assert run["results"][0]["error_message"] == "cancelled while running"
    assert run["results"][2]["error_message"] == "cancelled before it finished"


def test_a_stopping_server_interrupts_its_runs_and_keeps_finished_results(
    keyed: tuple[ServerOptions, dict[str, str]], slow_llm: FakeLLMServer
) -> None:
    options, keys = keyed
    for served in serve_app(options, keys):
        agent = served.agent()
        served.ok("PUT", "/api/settings", json={"models": FAKE})
        quick = served.ok("POST", f"/api/agents/{agent['id']}/tests", json={**hours_test(), "models": SCRIPTED})
        slow = served.ok("POST", f"/api/agents/{agent['id']}/tests", json={"name": "slow", "user_prompt": "Book.", "metrics": ["Helped."]})
        started = served.ok("POST", f"/api/agents/{agent['id']}/runs", json={"test_ids": [quick["id"], slow["id"]]})
        served.wait(f"/api/runs/{started['id']}", lambda r: r["results"][0]["status"] != "running")
    for served in serve_app(options, keys):
        run = served.ok("GET", f"/api/runs/{started['id']}")
        assert run["status"] == "interrupted" and run["completed_at"]
        assert [r["status"] for r in run["results"]] == ["pass", "error"]
        assert run["results"][1]["error_message"].startswith("interrupted")


def test_runs_a_crashed_server_left_are_marked_interrupted_on_start(keyed: tuple[ServerOptions, dict[str, str]]) -> None:
    options, keys = keyed
    database, store = open_store(options)
    finished = {"test_id": "t1", "test_name": "done", "status": "pass"}
    run = store.create_run("alpha", "tests", "agent-1", "agent", {}, [NewResult("t1", "done", finished), NewResult("t2", "pending")])
    database.close()
    for served in serve_app(options, keys):
        served.client.app.state.context.store.database.write(  # type: ignore[attr-defined]
            lambda c: c.execute("UPDATE srv_runs SET kind = 'tests' WHERE id = ?", (run.id,))
        )
        body = served.ok("GET", f"/api/runs/{run.id}")
        assert body["status"] == "interrupted"
        assert [(r["test_name"], r["status"]) for r in body["results"]] == [("done", "pass"), ("pending", "error")]


def test_synchronous_runs(server: Served) -> None:
    graph = server.ok("POST", "/api/agents/import", json={"config": CLINIC})
    server.ok("PUT", "/api/settings", json={"models": SCRIPTED})
    single = server.ok("POST", "/api/runs/single", json={"graph": graph, "test_case": hours_test()})
    assert single["status"] == "pass" and single["test_id"] == "opening hours"
    many = server.ok("POST", "/api/runs", json={"graph": graph, "test_cases": [hours_test("a"), hours_test("b", includes=["9am"])]})
    assert [r["status"] for r in many["results"]] == ["pass", "fail"] and many["run_id"] and many["completed_at"]
    twice = server.call("POST", "/api/runs", json={"graph": graph, "test_cases": [hours_test(), hours_test()]})
    assert twice.status_code == 422 and twice.json()["field"] == "body.test_cases[1].name"
    bad = server.call("POST", "/api/runs/single", json={"graph": graph, "test_case": hours_test(expect={"visited": ["nowhere"]})})
    assert bad.status_code == 422 and bad.json()["field"] == "body.test_case.expect.visited[0]"


def test_evaluate_a_transcript(server: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    transcript = [
        {"role": "assistant", "content": "Hello, Riverside clinic.", "timestamp": "2025-01-15T10:00:00Z", "metadata": {"node_id": "greeting"}},
        {"role": "user", "content": "When are you open?", "timestamp": "2025-01-15T10:00:03.5Z"},
        {"role": "assistant", "content": "8am to 6pm.", "timestamp": 1736935206},
    ]
    missing_judge = server.call("POST", "/api/evaluate", json={"transcript": transcript, "metrics": ["Gave the hours."]})
    assert missing_judge.status_code == 422 and missing_judge.json()["field"] == "settings.models.judge"
    with FakeLLMServer() as fake:
        monkeypatch.setenv("VOICETEST_API_BASE", fake.api_base)
        server.ok("PUT", "/api/settings", json={"models": {"judge": "openai/fake-judge"}})
        results = server.ok(
            "POST", "/api/evaluate", json={"transcript": transcript, "metrics": ["Gave the hours.", {"criterion": "Brief", "threshold": 0.95}]}
        )
    assert [(r["metric"], r["passed"], r["score"]) for r in results] == [("Gave the hours.", True, 0.9), ("Brief", False, 0.9)]
    assert results[0]["threshold"] == 0.7
    role = server.call("POST", "/api/evaluate", json={"transcript": [{"role": "narrator", "content": "x"}], "metrics": ["m"]})
    assert role.status_code == 422 and role.json()["field"] == "body.transcript[0].role"
    stamp = server.call("POST", "/api/evaluate", json={"transcript": [{"role": "user", "content": "x", "timestamp": "yesterday"}], "metrics": ["m"]})
    assert stamp.status_code == 422 and stamp.json()["field"] == "body.transcript[0].timestamp"
    assert server.call("POST", "/api/evaluate", json={"transcript": transcript}).json()["field"] == "body.metrics"


# Seed 002: simulations ---------------------------------------------------------------------------


def scripted_scenario(name: str, passed: bool = True) -> dict[str, Any]:
    return {
        "name": name,
        "description": "1. Ask when the clinic is open. 2. Thank the agent.",
        "expected_result": "The caller learns the opening hours.",
        "selected_voices": [{"id": "maya", "provider": "eleven_labs"}, {"id": "theo", "provider": "cartesia"}],
        "script": {"turns": HOURS_SCRIPT, "campaign": {"passed": passed, "sentiment": "Positive" if passed else "Negative", "reasoning": "scripted"}},
    }


def test_a_simulation_runs_and_reports_in_the_seed_shape(server: Served) -> None:
    agent = server.agent()
    server.ok("PUT", "/api/settings", json={"models": SCRIPTED})
    body = {
        "name": "Launch",
        "agent_id": agent["number"],
        "number_of_call_to_make": 2,
        "concurrent_call_count": 2,
        "scenarios": [scripted_scenario("Hours"), scripted_scenario("Grumpy", passed=False)],
    }
    created = server.ok("POST", "/simulations", json=body)
    assert created["success"] is True
    simulation = created["simulation"]
    assert simulation["status"] in {"Pending", "In Progress", "Calculating Summary", "Completed"} and simulation["total_records"] == 4
    assert simulation["bot_id"] == {"id": agent["number"], "name": "clinic"} and re.fullmatch(
        r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", simulation["create_date"]
    )
    done = server.wait(f"/simulations/{simulation['id']}", lambda s: s["simulation"]["status"] == "Completed")["simulation"]
    assert done["progress"] == [100] and done["total_simulation_finished_records"] == 4 and done["total_simulation_remaining_records"] == 0
    assert done["analyticsData"] == {"Positive": 2, "Negative": 2, "Neutral": 0} and done["can_stop"] is False
    assert done["summary"].startswith("2 of 4") and [s["passed"] for s in done["scenarios_ids"]] == [2, 0]
    recordings = done["simulation_call_recording"]
    assert len(recordings) == 4 and {r["voice"]["provider"] for r in recordings} <= {"eleven_labs", "cartesia"} and recordings[0]["transcript"]
    assert server.ok("POST", "/simulations", json={"name": "By id", "agent_id": agent["id"]})["simulation"]["status"] == "Draft"


def test_simulation_input_is_validated_as_the_seed_says(server: Served) -> None:
    agent = server.agent()
    good = {"name": "x", "agent_id": agent["number"], "scenarios": [scripted_scenario("a")]}
    cases = {
        "body.number_of_call_to_make": {**good, "number_of_call_to_make": 4},
        "body.concurrent_call_count": {**good, "concurrent_call_count": 0},
        "body.max_call_duration_in_minutes": {**good, "max_call_duration_in_minutes": 11},
        "body.scenarios[0].selected_voices[0].provider": {
            **good,
            "scenarios": [{**scripted_scenario("a"), "selected_voices": [{"id": "v", "provider": "polly"}]}],
        },
        "body.scenarios[0].expected_result": {**good, "scenarios": [{"name": "a", "description": "d"}]},
        "body.scenarios[1].name": {**good, "scenarios": [scripted_scenario("a"), scripted_scenario("a")]},
        "body.name": {**good, "name": ""},
        "body.scenarios[0].script.turns[0]": {**good, "scenarios": [{**scripted_scenario("a"), "script": {"turns": [{}]}}]},
    }
    for field, body in cases.items():
        response = server.call("POST", "/simulations", json=body)
        assert response.status_code == 422 and response.json()["field"] == field, (field, response.text)
    unknown = server.call("POST", "/simulations", json={**good, "agent_id": 99999})
    assert unknown.status_code == 404 and unknown.json()["field"] == "body.agent_id"
    assert server.call("GET", "/simulations/99999").status_code == 404
    assert server.call("GET", "/simulations/abc").json()["field"] == "path.simulation_id"


def test_stopping_a_simulation(server: Served, slow_llm: FakeLLMServer) -> None:
    agent = server.agent()
    server.ok("PUT", "/api/settings", json={"models": FAKE})
    scenario = {"name": "Book", "description": "Book a checkup.", "expected_result": "Booked."}
    created = server.ok(
        "POST",
        "/simulations",
        json={"name": "s", "agent_id": agent["number"], "number_of_call_to_make": 3, "concurrent_call_count": 1, "scenarios": [scenario]},
    )
    number = created["simulation"]["id"]
    time.sleep(0.4)
    stopped = server.ok("POST", f"/simulations/{number}/stop")["simulation"]
    assert stopped["status"] == "Stopped" and stopped["can_stop"] is False and stopped["total_simulation_in_progress_records"] == 0
    deadline = time.monotonic() + 10
    while server.call("POST", f"/simulations/{number}/stop").status_code != 409:  # 409 once the calls have ended
        assert time.monotonic() < deadline
        time.sleep(0.05)
    final = server.ok("GET", f"/simulations/{number}")["simulation"]
    assert final["status"] == "Stopped" and final["progress"] == [0] and final["total_simulation_finished_records"] == 0  # nothing judged
    assert [r["status"] for r in final["simulation_call_recording"]] == ["error", "skipped", "skipped"]


# Secrets --------------------------------------------------------------------------------------------


def test_secrets_stay_out_of_responses_and_logs(server: Served, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    agent = server.agent()
    server.ok("PUT", "/api/settings", json={"models": SCRIPTED, "env": {"ANTHROPIC_API_KEY": SECRET}})
    test = server.ok("POST", f"/api/agents/{agent['id']}/tests", json=hours_test())
    started = server.ok("POST", f"/api/agents/{agent['id']}/runs", json={"test_ids": [test["id"]]})
    seen = [json.dumps(server.wait(f"/api/runs/{started['id']}", lambda r: r["completed_at"] is not None))]
    for path in ("/api/settings", "/api/agents", f"/api/agents/{agent['id']}/runs"):
        seen.append(server.call("GET", path).text)
    seen.append(server.call("PUT", "/api/settings", json={"env": {"X_TOKEN": SECRET}, "run": {"max_turns": "nope"}}).text)
    assert all(SECRET not in text for text in seen)
    assert SECRET not in caplog.text


def test_only_the_serve_command_imports_the_server_and_the_package_stays_light() -> None:
    import ast
    import subprocess
    import sys

    package = Path(__file__).parents[1] / "pytest_voicetest"
    importers = set()
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[1] == "server":
            continue
        home = list(parts[:-1])  # the importing module's package
        for node in ast.walk(ast.parse(path.read_text())):
            targets = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                base = home[: len(home) - node.level + 1] if node.level else []
                module = ".".join([*base, *([node.module] if node.module else [])])
                targets = [module, *(f"{module}.{a.name}" for a in node.names)]
            if any(t == "pytest_voicetest.server" or t.startswith("pytest_voicetest.server.") for t in targets):
                importers.add("/".join(parts[1:]) + ".py")
    assert importers == {"cli/serve.py"}
    probe = "import sys, pytest_voicetest, pytest_voicetest.cli.serve, pytest_voicetest.cli.main; print([m for m in ('fastapi', 'uvicorn', 'starlette') if m in sys.modules])"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip() == "[]"


@pytest.mark.slow  # starting a throw-away PostgreSQL cluster takes 5-10 s
def test_a_postgresql_store_serves_the_same(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = request.getfixturevalue("postgres_url")
    clear_model_env(monkeypatch)
    options = ServerOptions(root=tmp_path, store=url)
    database, store = open_store(options)
    keys = {ws: create_key(store, ws) for ws in ("alpha", "beta")}
    pending = store.create_run("alpha", "tests", "a", "agent", {}, [NewResult("t", "left running")])
    database.close()
    for served in serve_app(options, keys):
        assert served.ok("GET", f"/api/runs/{pending.id}")["status"] == "interrupted"
        agent = served.agent()
        served.ok("PUT", "/api/settings", json={"models": SCRIPTED})
        test = served.ok("POST", f"/api/agents/{agent['id']}/tests", json=hours_test())
        started = served.ok("POST", f"/api/agents/{agent['id']}/runs", json={"test_ids": [test["id"]]})
        run = served.wait(f"/api/runs/{started['id']}", lambda r: r["completed_at"] is not None)
        assert [r["status"] for r in run["results"]] == ["pass"]
        sim = served.ok("POST", "/v1/alpha/sims", json={"scenarios": ["normal_faq"]})
        assert served.ok("POST", f"/v1/alpha/sims/{sim['id']}/sample", json={"n_points": 30})["evaluated"] == 30
        assert served.call("GET", f"/v1/beta/sims/{sim['id']}", "beta").status_code == 404
        with pytest.raises(InputError, match="another voicetest serve"), TestClient(create_app(options)):
            pass


# Platforms (seed 001) --------------------------------------------------------------------


def test_platform_routes_configure_list_import_export_and_sync(server: Served, serve: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from .platform_fakes import KEYS

    fake = serve("retell", env_key=False)
    remote = fake.seed(json.loads((PLATFORMS / "retell/sample_llm_dashboard_export.json").read_text()))
    assert server.ok("GET", "/api/platforms/retell/status") == {"platform": "retell", "configured": False}
    missing = server.call("GET", "/api/platforms/retell/agents")
    assert missing.status_code == 422 and missing.json()["field"] == "path.platform"
    assert server.ok("POST", "/api/platforms/retell/configure", json={"api_key": KEYS["retell"]}) == {"platform": "retell", "configured": True}
    again = server.call("POST", "/api/platforms/retell/configure", json={"api_key": KEYS["retell"]})
    assert again.status_code == 409 and again.json()["field"] == "body.replace"
    assert server.ok("GET", "/api/settings")["env"] == {"RETELL_API_KEY": "***"}  # the key never comes back
    assert server.ok("GET", "/api/platforms/retell/status", ws="beta") == {"platform": "retell", "configured": False}  # per workspace
    assert [a["id"] for a in server.ok("GET", "/api/platforms/retell/agents")] == [remote]
    graph = server.ok("POST", f"/api/platforms/retell/agents/{remote}/import")
    created = server.ok("POST", "/api/platforms/retell/export", json={"graph": graph, "name": "copy"})
    assert created["platform"] == "retell" and created["id"] != remote
    agent = server.ok("POST", "/api/agents", json={"name": "pulled", "config": graph})
    assert server.ok("POST", f"/api/agents/{agent['id']}/sync", json={"platform": "retell", "remote_id": remote, "push": False})["changes"] == []
    unknown = server.call("GET", "/api/platforms/skype/agents")
    assert unknown.status_code == 422 and unknown.json()["field"] == "path.platform"
    refused = server.call("POST", "/api/platforms/retell/configure", ws="beta", json={"api_key": "wrong-key-123"})
    assert refused.status_code == 200
    upstream = server.call("GET", "/api/platforms/retell/agents", ws="beta")
    assert upstream.status_code == 424 and "wrong-key-123" not in upstream.text
