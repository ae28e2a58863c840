"""The real server process end to end: `voicetest serve` on a free port, a VoiceSim sample
followed over Server-Sent Events, a background test run against the local fake model
server, a crash mid-run and a restart that keeps what finished."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("uvicorn", reason="the server extra (uvicorn) is not installed")

from pytest_voicetest.testing.server import FakeLLMServer  # noqa: E402

from .test_server import CLINIC, FAKE, parse_events  # noqa: E402


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Process:
    """One `voicetest serve` process; its output goes to a log file."""

    def __init__(self, root: Path, port: int, env: dict[str, str]) -> None:
        self.log = root / f"serve-{time.monotonic_ns()}.log"
        self.base = f"http://127.0.0.1:{port}"
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "pytest_voicetest.cli", "serve", "--port", str(port), "--store", "store.db"],
                cwd=root,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.base}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert self.popen.poll() is None, self.log.read_text()
            assert time.monotonic() < deadline, "the server did not start: " + self.log.read_text()
            time.sleep(0.1)

    def stop(self, sig: int) -> int:
        self.popen.send_signal(sig)
        return self.popen.wait(timeout=60)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOICETEST_")}
    with FakeLLMServer(latency=0.2) as fake:
        env["VOICETEST_API_BASE"] = fake.api_base  # the operator's model endpoint
        yield tmp_path, env


@pytest.mark.slow
def test_sample_over_sse_and_a_run_that_survives_a_crash(project: tuple[Path, dict[str, str]]) -> None:
    root, env = project
    made = subprocess.run(
        [sys.executable, "-m", "pytest_voicetest.cli", "serve", "--create-key", "e2e", "--store", "store.db", "--json"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)["key"]
    headers = {"Authorization": f"Bearer {key}"}
    port = free_port()
    server = Process(root, port, env)
    client = httpx.Client(base_url=server.base, headers=headers, timeout=30)
    try:
        # VoiceSim: a sample's progress arrives as Server-Sent Events while it runs.
        sim = client.post("/v1/e2e/sims", json={"name": "e2e"}).json()
        arrivals: list[tuple[float, str]] = []

        def follow() -> None:
            with httpx.stream("GET", f"{server.base}/v1/e2e/sims/{sim['id']}/events", headers=headers, timeout=60) as stream:
                for line in stream.iter_lines():
                    arrivals.append((time.monotonic(), line))

        follower = threading.Thread(target=follow)
        follower.start()
        time.sleep(0.5)
        sampled = client.post(f"/v1/e2e/sims/{sim['id']}/sample", json={"n_points": 20_000}, timeout=120).json()
        returned = time.monotonic()
        follower.join(timeout=60)
        events = parse_events([line for _, line in arrivals])
        progress = [data for name, data in events if name == "progress"]
        assert sampled["evaluated"] == 20_000 * 16 and events[-1] == ("sample_completed", sampled)
        assert len(progress) == 20 * 16 and progress[-1] == {"done": 320_000, "total": 320_000}
        first_progress = next(at for at, line in arrivals if line == "event: progress")
        assert first_progress < returned  # streamed while sampling, not after

        # A background run: returns at once, results appear as they finish.
        agent = client.post("/api/agents", json={"name": "clinic", "config": CLINIC}).json()
        client.put("/api/settings", json={"models": FAKE})
        ids = [
            client.post(
                f"/api/agents/{agent['id']}/tests", json={"name": f"call {i}", "user_prompt": "Book a checkup.", "metrics": ["The agent helped."]}
            ).json()["id"]
            for i in range(4)
        ]
        began = time.monotonic()
        started = client.post(f"/api/agents/{agent['id']}/runs", json={"test_ids": ids}).json()
        assert time.monotonic() - began < 2 and started["status"] == "running"
        run: dict[str, Any] = {}
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            run = client.get(f"/api/runs/{started['id']}").json()
            statuses = [r["status"] for r in run["results"]]
            if statuses[0] != "running":
                break
            time.sleep(0.1)
        assert statuses[0] == "pass" and "running" in statuses, statuses
        finished = [r for r in run["results"] if r["status"] != "running"]
        assert finished[0]["transcript"] and finished[0]["metric_results"][0]["score"] == 0.9
    finally:
        client.close()
        server.stop(signal.SIGKILL)  # a crash: nothing gets to clean up

    restarted = Process(root, port, env)
    try:
        with httpx.Client(base_url=restarted.base, headers=headers, timeout=30) as client:
            after = client.get(f"/api/runs/{started['id']}").json()
            assert after["status"] == "interrupted" and after["completed_at"]
            kept = {r["id"]: r for r in after["results"]}
            for result in finished:
                assert kept[result["id"]] == result  # every finished test kept as it was
            rest = [r for r in after["results"] if r["id"] not in {f["id"] for f in finished}]
            assert rest and all(r["status"] == "error" and r["error_message"].startswith("interrupted") for r in rest)
            assert client.get(f"/v1/e2e/sims/{sim['id']}").json()["evaluations"] == 320_000
    finally:
        code = restarted.stop(signal.SIGTERM)
    log = restarted.log.read_text()
    assert code in {0, -signal.SIGTERM} and "Application shutdown complete" in log  # uvicorn re-raises the signal once shut down
    assert "marked 1 run(s) left unfinished by a previous server as interrupted" in log
