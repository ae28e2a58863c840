"""Test cases (`test_*.yaml` entries) and test files, validated strictly.

Unknown keys are errors with a did-you-mean; every error carries the file and line.
`defaults:` merge into each test: mappings merge (the test wins per key), lists are
the defaults' items then the test's, other values are the test's when it sets them.
"""

from __future__ import annotations

import fnmatch
import math
from pathlib import Path
from typing import Any, Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from ..errors import InputError, did_you_mean
from ..validation import located_error, validate
from ..yamlio import format_loc, line_of

EndReason = Literal["agent_ended", "user_ended", "max_turns", "turn_timeout", "call_timeout", "error"]
MAX_PATTERN = 2000
END_REASONS: tuple[str, ...] = EndReason.__args__  # type: ignore[attr-defined]
LEGACY_TYPES = {"simulation": "llm", "unit": "rule"}
ROLES = ("agent", "simulator", "judge")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Models(_Strict):
    """Per-role litellm model names."""

    agent: str | None = None
    simulator: str | None = None
    judge: str | None = None


class ToolMock(_Strict):
    """Answers for calls of `tool`: `returns` every time, `sequence` in order, or `error`.

    `when` is a subset match on the call's arguments (strings compare case-insensitively).
    A mock whose `sequence` is used up no longer matches.
    """

    tool: str = Field(min_length=1)
    when: dict[str, Any] | None = None
    returns: Any = None
    sequence: list[Any] | None = None
    error: str | None = None

    @model_validator(mode="after")
    def _one_answer(self) -> ToolMock:
        given = [name for name in ("returns", "sequence", "error") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give only one of returns, sequence, error (got {', '.join(given)})")
        return self


class Metric(_Strict):
    """An LLM-judged criterion; passes when score >= threshold."""

    criterion: str = Field(min_length=1)
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)


class ExpectedToolCall(_Strict):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class Expect(_Strict):
    """Deterministic path assertions on the finished call."""

    visited: list[str] = Field(default_factory=list)
    not_visited: list[str] = Field(default_factory=list)
    final_node: str | None = None
    end_reason: list[EndReason] | None = None
    tools_called: list[ExpectedToolCall] = Field(default_factory=list)
    tools_not_called: list[str] = Field(default_factory=list)
    variables: dict[str, Any] = Field(default_factory=dict)
    max_turns: int | None = Field(default=None, ge=1)
    max_latency_ms: float | None = Field(default=None, gt=0)

    @field_validator("end_reason", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("tools_called", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value


class ScriptedCall(_Strict):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)


class ScriptStep(_Strict):
    """One step of a `script:`: a caller line (`user`, `hangup`) or an agent response.

    An agent step may call `tools` first, then say `agent` and/or take the edge to
    `goto` (a node id), or end the call with `end: true`. `extract` answers the next
    extraction call; `function_args` the next function-node call.
    """

    user: str | None = Field(default=None, description="the caller says this line")
    hangup: bool = Field(default=False, description="the caller hangs up")
    agent: str | None = Field(default=None, description="the agent says this line")
    goto: str | None = Field(default=None, description="the agent takes the transition to this node id")
    tools: list[ScriptedCall] = Field(default_factory=list, description="the agent calls these tools (name, arguments) before it speaks")
    end: bool = Field(default=False, description="the agent ends the call")
    extract: dict[str, Any] | None = Field(default=None, description="the values the next extract node pulls from the call")
    function_args: dict[str, Any] | None = Field(default=None, description="the arguments of the next function node's call")
    latency_ms: float | None = Field(default=None, ge=0, description="the agent's reply latency for this step")

    @property
    def is_caller(self) -> bool:
        return self.user is not None or self.hangup

    @property
    def is_agent(self) -> bool:
        return self.agent is not None or self.goto is not None or bool(self.tools) or self.end

    @model_validator(mode="after")
    def _one_side(self) -> ScriptStep:
        if self.is_caller and self.is_agent:
            raise ValueError("a step is either the caller's (user/hangup) or the agent's (agent/goto/tools/end)")
        if not (self.is_caller or self.is_agent or self.extract is not None or self.function_args is not None):
            raise ValueError("empty step: give user, hangup, agent, goto, tools, end, extract or function_args")
        return self


class CampaignVerdict(_Strict):
    """What the scripted judge says of a scenario call."""

    passed: bool = True
    sentiment: Literal["Positive", "Negative", "Neutral"] = "Neutral"
    reasoning: str = "scripted verdict"


class Flaky(_Strict):
    """Make the scripted judge fail `fail` of every `of` repeats, chosen with `seed`."""

    fail: int = Field(ge=0)
    of: int = Field(ge=1)
    seed: int = 0

    @model_validator(mode="after")
    def _within(self) -> Flaky:
        if self.fail > self.of:
            raise ValueError(f"flaky.fail ({self.fail}) cannot exceed flaky.of ({self.of})")
        return self


class Script(_Strict):
    """Deterministic turns for the `scripted` provider, plus what its judge answers.

    `judge` maps a criterion (or `"*"`) to a score; `flow_violations` is the flow
    judge's answer; `campaign` the verdict on scenario calls; `flaky` fails runs.
    """

    turns: list[ScriptStep] = Field(default_factory=list, description="the call, step by step (a plain list is read as turns)")
    judge: dict[str, float] = Field(default_factory=dict, description="criterion (or '*') -> the score 0..1 the judge gives")
    flow_violations: list[str] = Field(default_factory=list, description="what the flow judge reports")
    campaign: CampaignVerdict | None = Field(default=None, description="the verdict on a scenario call")
    flaky: Flaky | None = Field(default=None, description="fail `fail` of every `of` repeats")

    @field_validator("judge")
    @classmethod
    def _scores(cls, value: dict[str, float]) -> dict[str, float]:
        for criterion, score in value.items():
            if not math.isfinite(score) or not 0.0 <= score <= 1.0:
                raise ValueError(f"judge score of {criterion!r} must be from 0 to 1, got {score}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, value: Any) -> Any:
        return {"turns": value} if isinstance(value, list) else value


class TestCase(_Strict):
    """One test: a simulated (or recorded) call and the checks it must pass."""

    __test__ = False  # not a pytest class

    name: str = Field(min_length=1)
    type: Literal["llm", "rule"] = "llm"
    user_prompt: str = ""
    dynamic_variables: dict[str, Any] = Field(default_factory=dict)
    tool_mocks: list[ToolMock] = Field(default_factory=list)
    metrics: list[Metric] = Field(default_factory=list)
    includes: list[str] = Field(default_factory=list)
    excludes: list[str] = Field(default_factory=list)
    pattern_syntax: Literal["regex", "glob"] = Field(default="regex", description="regex (re.search) or glob (fnmatch, within one line)")
    patterns: list[str] = Field(default_factory=list)
    rules_on: Literal["agent", "user", "all", "transcript"] = Field(
        default="agent", description="agent, user or all turns; transcript: the whole call as 'ROLE: text' lines, as the voicetest harness matches"
    )
    expect: Expect | None = None
    transcript: str | None = None
    script: Script | None = None
    flow_judge: bool = False
    repeat: int = Field(default=1, ge=1, le=1000)
    pass_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    pass_rate_mode: Literal["point", "lower_bound"] = "point"
    marks: list[str | dict[str, Any]] = Field(default_factory=list)
    max_turns: int | None = Field(default=None, ge=1, le=500)
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    models: Models = Field(default_factory=Models)
    turn_timeout: float | None = Field(default=None, gt=0)
    call_timeout: float | None = Field(default=None, gt=0)
    max_call_minutes: float | None = Field(default=None, gt=0, le=60)
    allow_real_tools: bool | None = None
    start_node: str | None = None
    llm_model: str | None = Field(default=None, description="the caller simulator's model when none is configured (voicetest/Retell meaning)")
    harness: bool = Field(default=False, description="loaded from a voicetest harness file: its semantics apply")
    metadata: dict[str, Any] = Field(default_factory=dict, description="ids and timestamps the test came with")

    @model_validator(mode="before")
    @classmethod
    def _legacy(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        value = dict(value)
        if value.get("type") in LEGACY_TYPES:
            value["type"] = LEGACY_TYPES[value["type"]]
        return value

    @field_validator("metrics", mode="before")
    @classmethod
    def _metric_strings(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"criterion": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("dynamic_variables")
    @classmethod
    def _stringify(cls, value: dict[str, Any]) -> dict[str, Any]:
        return {str(k): "" if v is None else (v if isinstance(v, str) else _scalar_text(v)) for k, v in value.items()}

    @field_validator("patterns")
    @classmethod
    def _compile(cls, value: list[str], info: ValidationInfo) -> list[str]:
        syntax = info.data.get("pattern_syntax", "regex")
        for index, pattern in enumerate(value):
            try:
                compile_pattern(pattern, syntax)
            except regex.error as exc:
                raise ValueError(f"patterns[{index}] is not a valid {syntax}: {exc}") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TestCase:
        if self.type == "rule" and self.metrics:
            raise ValueError("a rule test cannot have metrics; use type: llm")
        if self.transcript and self.script:
            raise ValueError("give either transcript (judge a recorded call) or script (simulate), not both")
        return self

    @property
    def rule_checks(self) -> bool:
        return bool(self.includes or self.excludes or self.patterns)

    def has_checks(self, global_metrics: int = 0) -> bool:
        return bool(self.rule_checks or self.metrics or self.expect or self.flow_judge or global_metrics)


def compile_pattern(pattern: str, syntax: str) -> regex.Pattern[str]:
    """A rule pattern as a case-insensitive regex; a glob (`*`, `?`, `[...]`) matches within
    one line, unanchored, as the voicetest harness's fnmatch engine does."""
    if syntax == "glob":
        translated = fnmatch.translate(pattern)  # "(?s:...)\\Z": drop the wrapper, so '*' stops at line ends and the search is unanchored
        pattern = translated.removeprefix("(?s:").removesuffix(")\\Z")
    if len(pattern) > MAX_PATTERN:
        raise regex.error(f"the pattern is {len(pattern)} characters, more than {MAX_PATTERN}")
    try:
        return regex.compile(pattern, regex.IGNORECASE)
    except RecursionError:
        raise regex.error("the pattern nests too deeply") from None


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


TEST_KEYS = tuple(TestCase.model_fields)
DEFAULT_KEYS = tuple(k for k in TEST_KEYS if k not in {"name", "transcript", "script", "harness", "metadata"})


class TestFile(_Strict):
    """The top level of a `test_*.yaml` file."""

    __test__ = False

    agent: str | None = None
    agent_format: str = "auto"
    defaults: dict[str, Any] = Field(default_factory=dict)
    tests: list[dict[str, Any]] = Field(default_factory=list)
    tests_from: list[str] = Field(default_factory=list)

    @field_validator("tests_from", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


def own_models(raw: dict[str, Any]) -> dict[str, str | None]:
    """The models a test entry names itself (`models:`), apart from the file's defaults:
    model precedence needs the two levels separately."""
    named = raw.get("models")
    return Models.model_validate(named).model_dump() if named else dict.fromkeys(Models.model_fields)


def merge_defaults(defaults: dict[str, Any], test: dict[str, Any]) -> dict[str, Any]:
    merged = dict(defaults)
    for key, value in test.items():
        base = merged.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            merged[key] = {**base, **value}
        elif isinstance(base, list) and isinstance(value, list):
            merged[key] = [*base, *value]
        else:
            merged[key] = value
    return merged


def _unknown_key(key: Any, allowed: tuple[str, ...], source: Path | str, line: int | None, field: str, fix: str) -> InputError:
    return InputError(f"unknown key '{key}'{did_you_mean(str(key), allowed)}", source=source, line=line, field=field, fix=fix)


def parse_test_file(data: Any, source: Path | str) -> TestFile:
    if data is None:
        raise InputError("the file is empty", source=source, fix="add `tests:` with at least one test")
    if not isinstance(data, dict):
        raise InputError(
            f"expected a mapping at the top level, got {type(data).__name__}",
            source=source,
            line=getattr(data, "line", 1),
            fix="start the file with `agent:` and `tests:` keys",
        )
    parsed: TestFile = validate(TestFile, data, source=source)
    for key in parsed.defaults:
        if key not in DEFAULT_KEYS:
            raise _unknown_key(
                key,
                DEFAULT_KEYS,
                source,
                line_of(data, ("defaults", key)),
                f"defaults.{key}",
                "defaults take any test key except name, transcript and script",
            )
    return parsed


def parse_test(
    raw: Any,
    defaults: dict[str, Any],
    source: Path | str,
    prefix: tuple[Any, ...],
    root: Any,
) -> TestCase:
    """One test entry merged with the file's defaults; errors point at the entry's line."""
    if not isinstance(raw, dict):
        raise InputError(
            f"each test must be a mapping, got {type(raw).__name__}",
            source=source,
            line=line_of(root, prefix),
            field=format_loc(prefix),
            fix="start each test with `- name: ...`",
        )
    for key in raw:
        if key not in TEST_KEYS:
            raise _unknown_key(key, TEST_KEYS, source, line_of(root, prefix + (key,)), format_loc(prefix + (key,)), "remove it or fix the spelling")
    try:
        return TestCase.model_validate(merge_defaults(defaults, raw))
    except ValidationError as exc:
        loc = tuple(exc.errors()[0]["loc"])
        from_test = not loc or loc[0] in raw
        error = located_error(exc, TestCase, source=source, root=root, prefix=prefix if from_test else ("defaults",))
        if error.line is None:
            error.line = line_of(root, prefix)
        raise InputError(error.message, source=source, line=error.line, field=error.field, fix=error.fix) from None
