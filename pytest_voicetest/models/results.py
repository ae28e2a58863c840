"""What a run produces: transcripts, judgements, usage and the per-test result."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from .testcase import EndReason

Status = Literal["pass", "fail", "error", "skipped"]
Role = Literal["agent", "user", "tool", "system"]
Sentiment = Literal["Positive", "Negative", "Neutral"]


class Turn(BaseModel):
    """One transcript entry; `timestamp` is milliseconds since the call started."""

    role: Role
    content: str
    timestamp: float = 0.0
    metadata: dict[str, Any] = Field(default_factory=dict)


class MetricResult(BaseModel):
    metric: str
    passed: bool
    score: float
    threshold: float
    reasoning: str = ""
    confidence: float | None = None
    error: str | None = None


class ToolCallRecord(BaseModel):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    result: Any = None
    node_id: str | None = None
    mocked: bool = True


class ModelOverride(BaseModel):
    role: str
    requested: str | None
    actual: str | None
    reason: str


class Usage(BaseModel):
    """Model use: `calls` are requests sent to a real model (every attempt, failed ones
    too), `retries` the attempts after a failure; scripted answers and cassette replays
    are counted apart, and cost nothing."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    retries: int = 0
    scripted_calls: int = 0
    replayed_calls: int = 0

    def add(self, other: Usage) -> None:
        for name in type(self).model_fields:
            setattr(self, name, getattr(self, name) + getattr(other, name))


class CheckResult(BaseModel):
    """A deterministic check (rule or path assertion) with its evidence."""

    kind: str
    name: str
    passed: bool
    evidence: str = ""


class CallOutcome(BaseModel):
    """A campaign call: which scenario and voice, and the judge's verdict and caller sentiment."""

    campaign: str
    scenario: str
    call: int
    total_calls: int = 1
    voice: dict[str, str] | None = None
    passed: bool = False
    sentiment: Sentiment = "Neutral"
    reasoning: str = ""
    settings: dict[str, float] = Field(default_factory=dict, description="the campaign's call count, concurrency and duration limit")


class RepeatStats(BaseModel):
    """Pass statistics over `repeat` runs of one test."""

    runs: int
    passed: int
    rate: float
    pass_all: bool
    ci_low: float
    ci_high: float
    required: float
    mode: Literal["point", "lower_bound"]


class SweepOutcome(BaseModel):
    """Where a VoiceSim sweep scenario's evaluations are, and its best point."""

    run_id: str
    store: str
    scenario: str
    best_score: float
    best_point: list[int]
    plot: str | None = None
    sampled: dict[str, Any] = Field(default_factory=dict)


class TestResult(BaseModel):
    """The outcome of one test case."""

    __test__ = False

    test_id: str
    test_name: str
    status: Status = "pass"
    transcript: list[Turn] = Field(default_factory=list)
    metric_results: list[MetricResult] = Field(default_factory=list)
    checks: list[CheckResult] = Field(default_factory=list)
    nodes_visited: list[str] = Field(default_factory=list)
    tools_called: list[ToolCallRecord] = Field(default_factory=list)
    constraint_violations: list[str] = Field(default_factory=list)
    variables: dict[str, str] = Field(default_factory=dict)
    turn_count: int = 0
    started_at: str | None = Field(default=None, description="when the test started (ISO 8601, UTC)")
    duration_ms: float = 0.0
    latencies_ms: list[float] = Field(default_factory=list)
    end_reason: EndReason | None = None
    error_message: str | None = None
    models_used: dict[str, str | None] = Field(default_factory=dict)
    model_overrides: list[ModelOverride] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    repeat: RepeatStats | None = None
    runs: list[TestResult] = Field(default_factory=list)
    campaign: CallOutcome | None = None
    voicesim: SweepOutcome | None = None
    agent: str | None = Field(default=None, description="the agent file, from the project root (its graph is in the report's agents)")
    xfail: str | None = Field(default=None, description="the reason of an xfail mark: a failure here is expected")

    def failures(self) -> list[str]:
        """Human lines for every failed check and metric."""
        lines = [f"{c.kind} {c.name}: {c.evidence}" for c in self.checks if not c.passed]
        lines += [
            f"metric '{m.metric}': score {m.score:.2f} < threshold {m.threshold:.2f}" + (f" ({m.error})" if m.error else "")
            for m in self.metric_results
            if not m.passed
        ]
        lines += [v for v in self.constraint_violations if v.startswith("flow judge")]
        if self.campaign and not self.campaign.passed:
            lines.append(f"campaign judge: the expected result was not met ({self.campaign.sentiment} caller): {self.campaign.reasoning}")
        return lines


class FileError(BaseModel):
    """A file that could not be loaded: no test of it ran."""

    file: str
    error: str


class Run(BaseModel):
    """A batch of results (`voicetest run`, `api.run_tests`), with the files that failed to
    load and the campaign and VoiceSim summaries of what ran."""

    run_id: str
    started_at: str
    completed_at: str | None = None
    results: list[TestResult] = Field(default_factory=list)
    errors: list[FileError] = Field(default_factory=list)
    campaigns: dict[str, Any] = Field(default_factory=dict)
    voicesim: dict[str, Any] = Field(default_factory=dict)
    agents: dict[str, Any] = Field(default_factory=dict, description="graph views of the agents tested, by agent file")

    def counts(self) -> dict[str, int]:
        counts = {"pass": 0, "fail": 0, "error": 0, "skipped": 0, "xfail": 0, "file_errors": len(self.errors)}
        for result in self.results:
            counts["xfail" if result.xfail and result.status == "fail" else result.status] += 1
        return counts

    @property
    def ok(self) -> bool:
        """Every file loaded, some test ran, none failed or errored (expected failures aside)."""
        counts = self.counts()
        ran = counts["pass"] + counts["fail"] + counts["error"] + counts["xfail"]
        return ran > 0 and not (counts["fail"] or counts["error"] or counts["file_errors"])

    def nothing_ran(self) -> str | None:
        """Why this run executed no test, or None when some test ran."""
        counts = self.counts()
        if counts["pass"] + counts["fail"] + counts["error"] + counts["xfail"]:
            return None
        if self.errors and not self.results:
            return "no test ran: " + "; ".join(e.error for e in self.errors)
        if not self.results:
            return "no test ran: nothing matched the selection"
        reasons = sorted({r.error_message or "skipped" for r in self.results})
        return f"no test ran: all {len(self.results)} were skipped ({'; '.join(reasons)[:400]})"
