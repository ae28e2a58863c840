"""One run's shared state, the same for every door: config, budget, cassettes, clients, executor.

`Session.execute(planned)` runs any planned test (a test case, a campaign call, a sweep
scenario) and returns its TestResult; `run_files` loads and runs whole files for the
CLI and the API, honouring skip and xfail marks as pytest does.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..config.resolve import Config
from ..errors import InputError, VoicetestError
from ..llm.cassette import Cassette, cassette_path
from ..llm.client import ClientOptions, Gate, LLMClient, is_scripted
from ..models.results import FileError, Run, TestResult, Turn
from ..redact import redact
from .campaigns import call_outcome, campaign_judge, tally, write_findings
from .executor import QUEUED_PER_SLOT, Executor
from .runner import TestRun, errored_result, needed_roles, run_test
from .testfile import Planned, PlannedCall, PlannedSweep, PlannedTest, load_file


@dataclass(frozen=True)
class Door:
    """How the running door spells things in hints: its model flags and its record command."""

    model_flag: str = "--vt-{role}-model"
    record_command: str = "pytest --vt-record '{test_id}'"


PYTEST = Door()
PROGRESS_LOCK = threading.Lock()


def agent_views(planned: Sequence[Planned], session: Session) -> dict[str, Any]:
    """The graph view of every agent the planned tests use, by agent key."""
    from ..exporters.view import graph_view

    views = {}
    for item in planned:
        if isinstance(item, PlannedTest) and item.graph is not None:
            key = session.agent_key(item)
            if key and key not in views:
                views[key] = graph_view(item.graph)
    return views


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Session:
    """Runs planned tests under one Config."""

    def __init__(self, config: Config, *, door: Door = PYTEST, ledger: Path | None = None) -> None:
        self.config = config
        self.door = door
        self.executor = Executor()
        self.own_ledger: Path | None = None
        self.gate = self._budget(ledger)
        self.created_at = now()

    def _budget(self, ledger: Path | None) -> Gate | None:
        options = self.config.options
        if options.max_cost is None and options.max_calls is None:
            return None
        from ..llm.budget import Budget

        if ledger is None:  # this session's own ledger, removed when it closes
            ledger = self.own_ledger = self.config.root / ".voicetest" / f"budget-{uuid.uuid4().hex[:12]}.json"
        return Budget(ledger, options.max_cost, options.max_calls)

    # ------------------------------------------------------------- models

    def client(self, cassette: Cassette | None = None) -> LLMClient:
        options = self.config.options
        return LLMClient(
            ClientOptions(timeout=options.llm_timeout, max_retries=options.max_retries, api_base=options.api_base, streaming=options.streaming),
            cassette=cassette,
            gate=self.gate,
        )

    def cassette(self, test_id: str) -> Cassette | None:
        """The test's cassette in record/replay mode, else None."""
        mode = self.config.cassette_mode
        if mode is None:
            return None
        group, separator, name = test_id.partition("::")
        if not separator:
            group, name = "inline", test_id
        return Cassette(cassette_path(self.config.cassette_dir, group, name), mode, test_id)

    def prepare(self, planned: PlannedTest, cassette: Cassette | None = None) -> TestRun:
        """The runner's view of a planned test: models resolved, options applied."""
        test = planned.test
        repeat = self.config.options.repeat
        if repeat and test.repeat == 1 and test.type == "llm" and not planned.recorded and not isinstance(planned, PlannedCall):
            test = test.model_copy(update={"repeat": repeat})
        models = self.config.models_for(
            test=planned.test_models,
            file_defaults=planned.file_models,
            graph_default=planned.graph.default_model if planned.graph else None,
            scripted=test.script is not None,
            recorded=cassette.recorded_models() if cassette is not None and cassette.replaying else None,
            test_default={"simulator": test.llm_model},
        )
        return TestRun(
            test=test,
            test_id=planned.test_id,
            graph=planned.graph,
            models=models,
            options=self.config.options,
            transcript_path=planned.transcript_path,
            recording=planned.recording,
            model_flag=self.door.model_flag,
            needs=("judge",) if isinstance(planned, PlannedCall) else (),
            on_turn=self._progress(planned.test_id) if self.config.options.verbose else None,
        )

    # ------------------------------------------------------------ running

    async def execute(self, planned: Planned) -> TestResult:
        """Run one planned test of any kind."""
        if isinstance(planned, PlannedSweep):
            from .sweeps import run_sweep  # numpy and the store load only when a sweep runs

            return await asyncio.to_thread(run_sweep, planned)
        assert isinstance(planned, PlannedTest)
        try:
            cassette = self.cassette(planned.test_id)
        except InputError as exc:  # a damaged cassette: this test is an error, the others run
            return TestResult(test_id=planned.test_id, test_name=planned.test.name, status="error", error_message=redact(str(exc)))
        try:
            run = self.prepare(planned, cassette)
            missing = self._missing_recording(run, cassette)
            if missing:
                return errored_result(run, missing)
            outcome = None
            if isinstance(planned, PlannedCall):
                assert planned.campaign is not None and planned.scenario is not None
                outcome = call_outcome(planned.campaign, planned.scenario, planned.call, planned.campaign_name)
                run.extra_judge = campaign_judge(planned.scenario, outcome)
            try:
                result = await run_test(run, lambda: self.client(cassette))
            except Exception as exc:  # a bug of ours must still leave a result, never a lost test
                result = errored_result(run, redact(f"internal error: {type(exc).__name__}: {exc}"))
            result.agent = self.agent_key(planned)
            if outcome is not None:
                if result.status in {"skipped", "error"} and not outcome.reasoning:
                    outcome.reasoning = result.error_message or ""
                result.campaign = outcome
            return result
        finally:
            if cassette is not None:
                cassette.save()

    def _progress(self, test_id: str) -> Callable[[Turn], None]:
        """`verbose`: each turn printed to stderr as it happens (bypassing output capture)."""

        def show(turn: Turn) -> None:
            node = turn.metadata.get("node_id")
            line = f"[{test_id}] {f'[{node}] ' if node else ''}{'caller' if turn.role == 'user' else turn.role}: {turn.content}"
            with PROGRESS_LOCK:
                stream = sys.__stderr__ or sys.stderr
                stream.write(redact(line.replace("\n", " ")) + "\n")
                stream.flush()

        return show

    def agent_key(self, planned: PlannedTest) -> str | None:
        """How results name their agent: its file from the project root."""
        if planned.agent_path is None:
            return None
        path = planned.agent_path.resolve()
        return path.relative_to(self.config.root).as_posix() if path.is_relative_to(self.config.root) else path.name

    def _missing_recording(self, run: TestRun, cassette: Cassette | None) -> str | None:
        """In replay mode, why a test that needs a model cannot replay (no recording)."""
        if cassette is None or not cassette.replaying or cassette.path.exists():
            return None
        if all(is_scripted(run.models[role]) for role in needed_roles(run)):
            return None
        file, _, name = run.test_id.partition("::")
        command = self.door.record_command.format(test_id=run.test_id, file=file, name=name)
        return f"--vt-replay: no recording for this test at {cassette.path}. Record it once with a model configured: {command}"

    def run_one(self, planned: Planned) -> TestResult:
        result: TestResult = self.executor.wait(planned.test_id, lambda: self.execute(planned))
        return result

    def run_planned(
        self,
        planned: Sequence[Planned],
        window: int | None = None,
        *,
        on_result: Callable[[TestResult], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> list[TestResult]:
        """Results of `planned` in order, up to `window` calls in flight. Skip marks skip,
        xfail marks are recorded on the result; `on_result` hears of each result as it is
        done; once `cancel` is set, the calls in flight are cancelled and the rest not started."""
        window = window or self.config.options.concurrency
        runnable = [p for p in planned if p.skip_mark is None]
        jobs = [(p.test_id, self._job(p)) for p in runnable]
        position = {p.test_id: index for index, p in enumerate(runnable)}
        out = []
        for item in planned:
            if item.skip_mark is not None:
                result = TestResult(test_id=item.test_id, test_name=item.name, status="skipped", error_message=item.skip_mark.reason or "skip mark")
            elif cancel is not None and cancel.is_set():
                self.executor.cancel(item.test_id)
                result = TestResult(test_id=item.test_id, test_name=item.name, status="skipped", error_message="cancelled before it finished")
            else:
                index = position[item.test_id]
                ahead = jobs[index + 1 : index + 1 + window * QUEUED_PER_SLOT]
                result = self.executor.wait(item.test_id, jobs[index][1], ahead, window)
                if item.xfail_mark is not None:
                    result.xfail = item.xfail_mark.reason or "xfail mark"
            if on_result is not None:
                on_result(result)
            out.append(result)
        return out

    def _job(self, planned: Planned) -> Callable[[], Any]:
        return lambda: self.execute(planned)

    def run_files(self, paths: Sequence[Path], select: Callable[[Planned], bool] | None = None, **running: Any) -> Run:
        """Load and run voicetest files: a Run with every result, every file that failed to
        load, and the campaign and VoiceSim summaries (`running`: see `run_planned`)."""
        errors: list[FileError] = []
        planned: list[Planned] = []
        for path in paths:
            try:
                loaded = load_file(path, self.config)
            except InputError as exc:
                errors.append(FileError(file=str(path), error=redact(str(exc))))
                continue
            planned += [p for p in loaded if select is None or select(p)]
        return self.run_planned_as_run(planned, errors, **running)

    def run_planned_as_run(self, planned: Sequence[Planned], errors: Sequence[FileError] = (), **running: Any) -> Run:
        """Run planned tests as one Run, with the campaign and VoiceSim summaries."""
        run = Run(run_id=uuid.uuid4().hex[:12], started_at=now(), errors=list(errors))
        run.results = self.run_planned(planned, **running)
        run.agents = agent_views(planned, self)
        run.campaigns = self.campaign_summaries([r.model_dump(mode="json") for r in run.results], interrupted=False)
        sweeps = {(r.voicesim.store, r.voicesim.run_id): r.voicesim.plot for r in run.results if r.voicesim}
        if sweeps:
            from .sweeps import summarise

            run.voicesim = summarise(sweeps)
        run.completed_at = now()
        return run

    # ----------------------------------------------------------- summaries

    def campaign_summaries(self, results: Sequence[dict[str, Any]], interrupted: bool) -> dict[str, Any]:
        """Each campaign's summary from its finished calls; the judge writes what went wrong
        (its exchange recorded and replayed like any call; skipped when interrupted)."""
        calls: dict[str, list[dict[str, Any]]] = {}
        for result in results:
            if result.get("campaign"):
                calls.setdefault(result["campaign"]["campaign"], []).append(result)
        summaries = {}
        for name, finished in sorted(calls.items()):
            summary = tally(name, finished, finished[0]["campaign"]["total_calls"], interrupted)
            started = min((r["started_at"] for r in finished if r.get("started_at")), default=now())
            summary.history = [{"status": "Pending", "at": self.created_at}, {"status": "In Progress", "at": started}]
            if not interrupted:
                summary.history.append({"status": "Calculating Summary", "at": now()})
                failed = [r for r in finished if r["status"] in {"fail", "error"}]
                judge = next((r["models_used"].get("judge") for r in finished if (r.get("models_used") or {}).get("judge")), None)
                if failed and judge:
                    summary.what_went_wrong, summary.suggestions_for_improvement = self._findings(name, judge, failed)
                summary.status = "Completed" if summary.judged_calls == summary.total_calls else "Stopped"
                unjudged = summary.finished_calls - summary.judged_calls
                if unjudged:
                    summary.what_went_wrong.insert(0, f"{unjudged} of {summary.total_calls} calls were not judged (skipped or errored)")
            summary.history.append({"status": summary.status, "at": now()})
            first = finished[0]
            summaries[name] = {**summary.model_dump(), "seed": summary.seed(first["campaign"].get("settings"), agent=first.get("agent") or "")}
        return summaries

    def _findings(self, campaign: str, judge: str, failed: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
        cassette = self.cassette(f"{failed[0]['test_id'].partition('::')[0]}::campaign summary {campaign}")
        try:
            findings: tuple[list[str], list[str]] = self.executor.loop.run(write_findings(self.client(cassette), judge, failed))
            return findings
        except VoicetestError as exc:
            return [f"(the judge could not summarise: {exc})"], []
        finally:
            if cassette is not None:
                cassette.save()

    def close(self) -> None:
        self.executor.close()
        if self.own_ledger is not None:
            self.own_ledger.unlink(missing_ok=True)
