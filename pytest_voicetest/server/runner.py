"""Background runs: test runs and simulations execute on worker threads through `Session`.

Each result is stored (and published on the run's event channel) as soon as the core
reports it, so a poll shows results as they finish. Cancelling stops the calls in
flight (they end as errors, "cancelled while running") and starts no more (the core
reports those as skipped). A run never ends silently: when the server stops, or when
it starts and finds runs a previous process left unfinished, those runs become
`interrupted`, their finished results kept and the rest errors saying so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from ..config.resolve import Config
from ..models.results import TestResult
from ..redact import redact
from ..run.campaigns import tally
from ..run.session import Session
from ..run.testfile import Planned
from .events import Broker
from .planning import SERVER_DOOR
from .store import PENDING, ResultRow, RunRow, ServerStore

log = logging.getLogger("pytest_voicetest.server")
POLL_S = 0.1
CANCELLED = "cancelled while running"
INTERRUPTED = "interrupted: the server stopped before this test finished"


def run_channel(run: RunRow) -> str:
    return f"runs:{run.workspace}:{run.id}"


@dataclass
class Job:
    """A stored run and what to execute for it: `positions` maps test ids to result rows."""

    run: RunRow
    config: Config
    planned: Sequence[Planned]
    positions: dict[str, int]
    window: int | None = None
    campaign: bool = False


class CancellableSession(Session):
    """A Session whose calls in flight end as soon as `cancel` is set."""

    def __init__(self, config: Config, cancel: threading.Event, stopping: threading.Event) -> None:
        super().__init__(config, door=SERVER_DOOR)
        self.cancel = cancel
        self.stopping = stopping

    async def execute(self, planned: Planned) -> TestResult:
        if self.cancel.is_set():  # queued before the cancel: never started
            return self._stopped(planned)
        task = asyncio.ensure_future(super().execute(planned))
        while not task.done():
            await asyncio.wait({task}, timeout=POLL_S)
            if self.cancel.is_set() and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                return self._stopped(planned)
        return task.result()

    def _stopped(self, planned: Planned) -> TestResult:
        reason = INTERRUPTED if self.stopping.is_set() else CANCELLED
        return TestResult(test_id=planned.test_id, test_name=planned.name, status="error", error_message=reason)


def pending_as_errors(rows: Sequence[ResultRow], reason: str) -> dict[int, dict[str, Any]]:
    """Error results for the rows that never got one."""
    return {
        row.position: TestResult(test_id=row.test_case_id or row.test_name, test_name=row.test_name, status="error", error_message=reason).model_dump(
            mode="json"
        )
        for row in rows
        if row.status == PENDING
    }


def stopped_summary(run: RunRow, rows: Sequence[ResultRow]) -> dict[str, Any] | None:
    """A campaign's summary from the calls that finished before it stopped."""
    if run.kind != "simulation":
        return None
    finished = [row.data for row in rows if row.status != PENDING and row.data.get("campaign")]
    return tally(run.id, finished, run.test_count, interrupted=True).model_dump()


def recover(store: ServerStore) -> list[str]:
    """Mark the runs a previous server process left unfinished as interrupted."""
    settled = []
    for run in store.unfinished_runs():
        rows = store.results(run.id)
        store.settle(run.id, "interrupted", pending_as_errors(rows, INTERRUPTED), stopped_summary(run, rows))
        settled.append(run.id)
    return settled


class Runner:
    """A small pool of worker threads, one run each."""

    def __init__(self, store: ServerStore, broker: Broker, workers: int = 2) -> None:
        self.store = store
        self.broker = broker
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="voicetest-run")
        self.cancels: dict[str, threading.Event] = {}
        self.stopping = threading.Event()
        self._lock = threading.Lock()

    def submit(self, job: Job) -> None:
        event = threading.Event()
        with self._lock:
            self.cancels[job.run.id] = event
        self.pool.submit(self._execute, job, event)

    def cancel(self, run_id: str) -> bool:
        """Ask a run of this process to stop; False when it is not running here."""
        with self._lock:
            event = self.cancels.get(run_id)
        if event is None:
            return False
        event.set()
        return True

    def _execute(self, job: Job, cancel: threading.Event) -> None:
        run = job.run
        session = CancellableSession(job.config, cancel, self.stopping)

        def report(result: TestResult) -> None:
            position = job.positions[result.test_id]
            data = result.model_dump(mode="json")
            self.store.save_result(run.id, position, data)
            self.broker.publish(run_channel(run), "result", {"position": position, "test_name": result.test_name, "status": result.status})

        status, summary = "completed", None
        try:
            results = session.run_planned(job.planned, job.window, on_result=report, cancel=cancel)
            if job.campaign and not self.stopping.is_set():
                summaries = session.campaign_summaries([r.model_dump(mode="json") for r in results], interrupted=cancel.is_set())
                summary = next(iter(summaries.values()), None)
        except Exception as exc:  # a bug or a broken store: the run ends as an error, the server stays up
            log.error("run %s failed: %s", run.id, redact(f"{type(exc).__name__}: {exc}"))
            status = "error"
        finally:
            session.close()
            with self._lock:
                self.cancels.pop(run.id, None)
        if self.stopping.is_set():
            status = "interrupted"
        elif cancel.is_set() and status == "completed":
            status = "cancelled"
        rows = self.store.results(run.id)
        reason = INTERRUPTED if status == "interrupted" else f"the run ended ({status}) before this test finished"
        if summary is None:
            summary = stopped_summary(run, rows) if status != "completed" else None
        self.store.settle(run.id, status, pending_as_errors(rows, reason), summary)
        self.broker.publish(run_channel(run), "run_finished", {"status": status}, terminal=True)

    def shutdown(self) -> None:
        """Stop every run: the calls in flight end, queued runs never start; all become interrupted."""
        self.stopping.set()
        with self._lock:
            events = list(self.cancels.values())
        for event in events:
            event.set()
        self.pool.shutdown(wait=True, cancel_futures=True)
        recover(self.store)
