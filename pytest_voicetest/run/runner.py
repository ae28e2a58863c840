"""Run one test case end to end: resolve models, simulate (or load the recording), judge.

Status: `error` when the call or a judge could not run; `fail` when a check, a metric
or (with `flow_judge`) the flow judge failed, or the call ended for a reason the test
does not allow (by default agent_ended and user_ended; `expect.end_reason` widens it);
`skipped` when a needed model is not configured (`error` with `strict`); otherwise
`pass`. With `repeat: N` the test runs N independent times (cassette keys include the
run index) and passes when the pass rate (or its 95% Wilson lower bound) reaches
`pass_rate`. Every test has a deadline (`test_timeout`) covering its call, judges and
retries; past it the test is an error that says so.
"""

from __future__ import annotations

import asyncio
import copy
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..config.models import ResolvedModels
from ..config.settings import RunOptions
from ..engine.conversation import CallRecord, CallSetup, Conversation
from ..engine.recorded import load_transcript
from ..errors import BudgetExceeded, VoicetestError
from ..judges.flow import judge_flow
from ..judges.metrics import judge_metrics
from ..judges.path import check_path
from ..judges.rules import check_rules
from ..llm.client import LLMClient
from ..models.graph import AgentGraph
from ..models.results import RepeatStats, TestResult, Turn, Usage
from ..models.testcase import TestCase
from ..redact import redact, redact_data

DEFAULT_END_REASONS = ("agent_ended", "user_ended")
ExtraJudge = Callable[[TestResult, LLMClient], Awaitable[None]]
HARNESS_RULES_NOTE = "the voicetest harness ignores rule checks on llm tests; pytest-voicetest applies them"
Z95 = 1.959963984540054


@dataclass
class TestRun:
    """Everything needed to run one test case."""

    __test__ = False

    test: TestCase
    test_id: str
    graph: AgentGraph | None
    models: ResolvedModels
    options: RunOptions = field(default_factory=RunOptions)
    transcript_path: Path | None = None
    recording: CallRecord | None = None
    model_flag: str = "--vt-{role}-model"
    needs: tuple[str, ...] = ()
    extra_judge: ExtraJudge | None = None
    on_turn: Callable[[Turn], None] | None = None


def needed_roles(run: TestRun, also: Sequence[str] = ()) -> list[str]:
    """The model roles the test needs: agent and caller to simulate, a judge for metrics."""
    test = run.test
    needed = [*also, *run.needs]
    if run.transcript_path is None and run.recording is None:
        needed += ["agent", "simulator"]
    global_metrics = run.graph.metrics_config.enabled() if run.graph else []
    flow = test.flow_judge or (run.options.flow_judge and run.graph is not None)
    if test.metrics or flow or (global_metrics and test.type == "llm"):
        needed.append("judge")
    return [role for role in ("agent", "simulator", "judge") if role in needed]


def missing_models(run: TestRun, also: Sequence[str] = ()) -> list[str]:
    """Roles the test (and `also` these) needs that no setting configures."""
    return [role for role in needed_roles(run, also) if not run.models[role]]


def skip_reason(run: TestRun, also: Sequence[str] = (), flag: str = "--vt-{role}-model") -> str | None:
    """Why the test cannot run for want of a model (None when it can); `flag` is how the
    running door spells its model flags."""
    missing = missing_models(run, also)
    if not missing:
        return None
    names = ", ".join(missing)
    flags = " / ".join(flag.format(role=role) for role in missing)
    return f"no {names} model configured: set {flags}, `models:` in the test file, [tool.voicetest.models] in pyproject.toml, or VOICETEST_MODEL"


def new_result(run: TestRun) -> TestResult:
    """An empty result of `run`, filled in as the test goes (so a deadline keeps what was done)."""
    return TestResult(
        test_id=run.test_id,
        test_name=run.test.name,
        models_used=dict(run.models.models),
        model_overrides=list(run.models.overrides),
        started_at=datetime.now(UTC).isoformat(timespec="milliseconds"),
    )


async def run_once(run: TestRun, llm: LLMClient, repeat_index: int = 0, result: TestResult | None = None) -> TestResult:
    """One run of the test: call (or recording), then judges. Fills `result` as it goes
    (not yet redacted: `run_test` cleans the final result, repeats included)."""
    test, graph = run.test, run.graph
    result = result if result is not None else new_result(run)
    try:
        if run.recording is not None:
            record = copy.deepcopy(run.recording)
        elif run.transcript_path is not None:
            record = load_transcript(run.transcript_path)
        else:
            assert graph is not None
            setup = CallSetup(
                graph=graph,
                test=test,
                models=run.models,
                max_turns=test.max_turns or run.options.max_turns,
                turn_timeout=test.turn_timeout or run.options.turn_timeout,
                call_timeout=test.call_timeout or run.options.call_timeout,
                allow_real_tools=bool(test.allow_real_tools if test.allow_real_tools is not None else run.options.allow_real_tools),
                repeat_index=repeat_index,
                max_call_minutes=test.max_call_minutes,
                start_speaker=run.options.start_speaker or graph.start_speaker or run.options.default_start_speaker,
                cot_transitions=run.options.cot_transitions,
                on_turn=run.on_turn,
            )
            record = await Conversation(setup, llm).run()
        _fill(result, record)
        if record.error:
            result.status = "error"
            result.error_message = redact(record.error)
        else:
            await _judge(run, llm, result, repeat_index)
            if run.extra_judge is not None:
                await run.extra_judge(result, llm)
    except BudgetExceeded:
        raise
    except VoicetestError as exc:
        result.status = "error"
        result.error_message = redact(str(exc))
    result.usage = llm.usage.model_copy()
    return result


def clean(result: TestResult) -> TestResult:
    """The result with every secret masked."""
    return TestResult.model_validate(redact_data(result.model_dump()))


def _fill(result: TestResult, record: CallRecord) -> None:
    result.transcript = record.transcript
    result.nodes_visited = record.nodes_visited
    result.tools_called = record.tools_called
    result.constraint_violations = list(record.violations)
    result.variables = {k: str(v) for k, v in record.variables.items()}
    result.turn_count = record.turn_count
    result.latencies_ms = record.latencies_ms
    result.duration_ms = record.duration_ms
    result.end_reason = record.end_reason  # type: ignore[assignment]


async def _judge(run: TestRun, llm: LLMClient, result: TestResult, repeat_index: int) -> None:
    test, graph = run.test, run.graph
    note = HARNESS_RULES_NOTE if test.harness and test.type == "llm" else ""
    result.checks = check_rules(result.transcript, test.includes, test.excludes, test.patterns, test.rules_on, test.pattern_syntax, note)
    if test.expect:
        result.checks += check_path(
            test.expect,
            nodes_visited=result.nodes_visited,
            tools_called=result.tools_called,
            end_reason=result.end_reason,
            turn_count=result.turn_count,
            variables=result.variables,
            latencies_ms=result.latencies_ms,
        )
    context = {"script": test.script.model_dump()} if test.script else {}
    threshold = test.threshold if test.threshold is not None else (graph.metrics_config.threshold if graph else run.options.threshold)
    metrics = [(m.criterion, m.threshold if m.threshold is not None else threshold) for m in test.metrics]
    if graph and test.type == "llm":
        named = {c for c, _ in metrics}
        metrics += [(criterion, limit) for criterion, limit in graph.metrics_config.enabled() if criterion not in named]
    judge = run.models["judge"]
    if metrics and judge:
        result.metric_results = await judge_metrics(llm, judge, metrics, result.transcript, context, repeat_index)
    flow_failed = False
    if (test.flow_judge or run.options.flow_judge) and judge and graph:
        violations = await judge_flow(llm, judge, graph, result.transcript, result.nodes_visited, context, repeat_index)
        result.constraint_violations += violations
        flow_failed = bool(violations)
    allowed = test.expect.end_reason if test.expect and test.expect.end_reason else DEFAULT_END_REASONS
    if any(m.error for m in result.metric_results):
        result.status = "error"
        result.error_message = "; ".join(f"metric '{m.metric}': {m.error}" for m in result.metric_results if m.error)
    elif (
        any(not c.passed for c in result.checks)
        or any(not m.passed for m in result.metric_results)
        or flow_failed
        or (result.end_reason is not None and result.end_reason not in allowed)
    ):
        result.status = "fail"
    else:
        result.status = "pass"


def wilson_interval(passed: int, runs: int) -> tuple[float, float]:
    """The 95% Wilson score interval of a pass rate."""
    if runs == 0:
        return 0.0, 1.0
    p = passed / runs
    denominator = 1 + Z95**2 / runs
    center = (p + Z95**2 / (2 * runs)) / denominator
    half = Z95 * math.sqrt(p * (1 - p) / runs + Z95**2 / (4 * runs**2)) / denominator
    return max(0.0, center - half), min(1.0, center + half)


def aggregate(test: TestCase, runs: list[TestResult]) -> TestResult:
    """One result for `repeat` runs: the statistics decide the status."""
    judged = [r for r in runs if r.status in {"pass", "fail"}]
    passed = sum(1 for r in judged if r.status == "pass")
    low, high = wilson_interval(passed, len(judged))
    rate = passed / len(judged) if judged else 0.0
    stats = RepeatStats(
        runs=len(runs),
        passed=passed,
        rate=round(rate, 4),
        pass_all=passed == len(runs),
        ci_low=round(low, 4),
        ci_high=round(high, 4),
        required=test.pass_rate,
        mode=test.pass_rate_mode,
    )
    decisive = rate if test.pass_rate_mode == "point" else low
    representative = next((r for r in runs if r.status != "pass"), runs[0])
    combined = representative.model_copy(deep=True)
    combined.runs = runs
    combined.repeat = stats
    combined.usage = Usage()
    for r in runs:
        combined.usage.add(r.usage)
    if any(r.status == "error" for r in runs):
        combined.status = "error"
        combined.error_message = next(r.error_message for r in runs if r.status == "error")
    else:
        combined.status = "pass" if decisive >= test.pass_rate - 1e-12 else "fail"
    return combined


async def run_test(run: TestRun, make_client: Callable[[], LLMClient]) -> TestResult:
    """Run a test (`repeat` times when asked) within its deadline and return its result.

    Skipped without the models it needs (an error with `strict`), or once the session's
    budget is spent; what an aborted or timed-out test did and spent is still reported.
    """
    reason = skip_reason(run, flag=run.model_flag)
    if reason:
        if run.options.strict:
            return errored_result(run, f"strict mode: {reason}")
        return skipped_result(run, reason)
    clients: list[LLMClient] = []
    partial: list[TestResult] = []
    started = time.perf_counter()

    def client() -> LLMClient:
        clients.append(make_client())
        return clients[-1]

    async def runs() -> TestResult:
        for index in range(run.test.repeat):
            partial.append(new_result(run))
            partial[-1] = await run_once(run, client(), index, partial[-1])
        return partial[0] if run.test.repeat == 1 else aggregate(run.test, partial)

    deadline = run.options.test_timeout
    try:
        result = await asyncio.wait_for(runs(), deadline)
    except BudgetExceeded as exc:
        result = skipped_result(run, str(exc))
    except TimeoutError:
        result = partial[-1] if partial else new_result(run)
        if len(partial) > 1:
            result.runs = partial[:-1]
        result.status = "error"
        result.error_message = (
            f"the test ran past its deadline of {deadline:g} s (call, judges and retries; "
            f"{len(partial) - 1} of {run.test.repeat} runs finished): raise test_timeout or look for a hung model server"
        )
    if result.status in {"skipped", "error"}:
        result.usage = Usage()
        for used in clients:
            result.usage.add(used.usage)
    if not result.duration_ms:  # no simulated or recorded call time (scripted, or never called): the wall time
        result.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    return clean(result)


def errored_result(run: TestRun, message: str) -> TestResult:
    """A result for a test that could not run at all."""
    result = new_result(run)
    result.status, result.error_message = "error", message
    return result


def skipped_result(run: TestRun, reason: str) -> TestResult:
    """A result for a test that did not run, with the models it would have used."""
    result = new_result(run)
    result.status, result.error_message = "skipped", reason
    return result
