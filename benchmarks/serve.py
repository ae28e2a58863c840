"""The HTTP server under load: `voicetest serve` in its own process, clients in this one.

Reports, each the median of --repeat rounds:
- requests/s and p50/p99 latency of seed 000's `evaluate` (one point, one scenario,
  stored) and `GET points` (50 best of a 1,000 x 16 run), each with --clients
  concurrent clients (default 32, one keep-alive connection each) for --seconds seconds;
- a `sample` of 1,000 points x 16 scenarios through the API (client-side wall time of
  the POST) against the same call in-process (`voicesim.runs.sample` on a fresh SQLite
  store), both on new runs.

The server is the real command (uvicorn, one worker, default logging to /dev/null) on a
SQLite store in a temporary folder; clients share the machine's cores with it, as they
would in a single-host deployment. Start-up is not timed.

Usage: python benchmarks/serve.py [--repeat 3] [--seconds 5] [--clients 32]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pytest_voicetest.voicesim import runs  # noqa: E402
from pytest_voicetest.voicesim.store import open_store  # noqa: E402

WORKSPACE = "bench"
SAMPLE_POINTS = 1000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(folder: Path) -> tuple[subprocess.Popen[bytes], str, str]:
    """`voicetest serve` on a free port with a new key; (process, base URL, key)."""
    made = subprocess.run(
        [sys.executable, "-m", "pytest_voicetest.cli", "serve", "--create-key", WORKSPACE, "--store", "store.db", "--json"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=True,
    )
    key = json.loads(made.stdout)["key"]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest_voicetest.cli", "serve", "--port", str(port), "--store", "store.db"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return process, base, key
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the server did not start")
        time.sleep(0.1)


class Connection:
    """One keep-alive HTTP/1.1 connection, written by hand: httpx costs more CPU per request
    than the server does, and the clients share the machine's two cores with it."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, key: str) -> None:
        self.reader, self.writer = reader, writer
        self.head = f"Host: bench\r\nAuthorization: Bearer {key}\r\nContent-Type: application/json\r\n"

    async def request(self, method: str, path: str, body: bytes) -> int:
        self.writer.write(f"{method} {path} HTTP/1.1\r\n{self.head}Content-Length: {len(body)}\r\n\r\n".encode() + body)
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status


async def load(base: str, key: str, make: Any, clients: int, seconds: float) -> tuple[float, float, float, int]:
    """`clients` connections sending `make()` requests for `seconds`: (requests/s, p50 ms, p99 ms, non-200)."""
    host, port = base.removeprefix("http://").split(":")
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal errors
        connection = Connection(*await asyncio.open_connection(host, int(port)), key)
        try:
            while time.perf_counter() < stop:
                method, path, body = make()
                started = time.perf_counter()
                status = await connection.request(method, path, body)
                latencies.append(time.perf_counter() - started)
                errors += status != 200
        finally:
            connection.writer.close()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    wall = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100)
    return len(latencies) / wall, cuts[49] * 1000, cuts[98] * 1000, errors


async def measure(base: str, key: str, args: argparse.Namespace) -> dict[str, list[Any]]:
    figures: dict[str, list[Any]] = {"evaluate": [], "points": [], "sample_api": []}
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:
        run = (await client.post(f"/v1/{WORKSPACE}/sims", json={"name": "evaluate"})).json()
        sizes = [len(d["bins"]) for d in run["space"]["dimensions"]]
        scenarios = run["scenarios"]
        sampled = (await client.post(f"/v1/{WORKSPACE}/sims", json={"name": "points"})).json()  # read only: evaluations do not pile up in it
        (await client.post(f"/v1/{WORKSPACE}/sims/{sampled['id']}/sample", json={"n_points": SAMPLE_POINTS})).raise_for_status()
        rng = random.Random(0)

        def evaluate() -> tuple[str, str, bytes]:
            body = {"point_indices": [rng.randrange(size) for size in sizes], "scenario_name": rng.choice(scenarios)}
            return "POST", f"/v1/{WORKSPACE}/sims/{run['id']}/evaluate", json.dumps(body).encode()

        def points() -> tuple[str, str, bytes]:
            return "GET", f"/v1/{WORKSPACE}/sims/{sampled['id']}/points?limit=50", b""

        await load(base, key, evaluate, args.clients, 1.0)  # warm-up: connections, caches
        for _ in range(args.repeat):
            figures["evaluate"].append(await load(base, key, evaluate, args.clients, args.seconds))
            figures["points"].append(await load(base, key, points, args.clients, args.seconds))
            fresh = (await client.post(f"/v1/{WORKSPACE}/sims", json={"name": "sample"})).json()
            started = time.perf_counter()
            done = (await client.post(f"/v1/{WORKSPACE}/sims/{fresh['id']}/sample", json={"n_points": SAMPLE_POINTS})).json()
            figures["sample_api"].append(time.perf_counter() - started)
            assert done["evaluated"] == SAMPLE_POINTS * len(scenarios), done
    return figures


def in_process_sample(folder: Path, repeat: int) -> list[float]:
    """The same sample call in this process, on a fresh SQLite store and run each time."""
    times = []
    for index in range(repeat):
        store = open_store(folder / f"inproc-{index}.db")
        run = runs.create(store, "sample")
        started = time.perf_counter()
        runs.sample(store, run.id, SAMPLE_POINTS)
        times.append(time.perf_counter() - started)
        store.close()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--clients", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vt-serve-bench-") as tmp:
        folder = Path(tmp)
        process, base, key = start_server(folder)
        try:
            figures = asyncio.run(measure(base, key, args))
        finally:
            process.terminate()
            process.wait(timeout=60)
        local = in_process_sample(folder, args.repeat)
    median = statistics.median
    print(f"voicetest serve: {os.cpu_count()} cores, {args.clients} concurrent clients, {args.seconds:g} s per round, median of {args.repeat} rounds")
    for name, label in (("evaluate", "POST evaluate"), ("points", "GET points (limit 50)")):
        rows = figures[name]
        rps, p50, p99 = (median(r[i] for r in rows) for i in range(3))
        errors = sum(r[3] for r in rows)
        print(f"  {label:24s} {rps:8.0f} req/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms   non-200: {errors}")
    api, inproc = median(figures["sample_api"]), median(local)
    print(f"  sample {SAMPLE_POINTS} x 16 scenarios   API {api:.3f} s   in-process {inproc:.3f} s   API / in-process {api / inproc:.2f}x")


if __name__ == "__main__":
    main()
