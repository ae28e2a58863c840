"""Project settings: `.voicetest.toml`, the harness's `.voicetest/settings.toml`, or `[tool.voicetest]` in pyproject.toml.

```toml
[tool.voicetest.models]      # litellm model names
agent = "openai/gpt-4o-mini"
[tool.voicetest.run]         # RunOptions
max_turns = 12
[tool.voicetest.env]         # set for the run unless the real environment has them
OPENAI_API_BASE = "http://localhost:4000"
```

Model precedence (see `llm.models`) puts these settings above the `VOICETEST_*_MODEL`
environment variables. Run options can be overridden by `VOICETEST_<OPTION>` variables
(e.g. `VOICETEST_MAX_TURNS=8`). Values of secret-looking keys are masked when shown.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import InputError
from ..redact import redact_data
from ..yamlio import format_loc, read_text
from .files import HARNESS_SETTINGS, SETTINGS_FILE, find_settings_file

ROLES = ("agent", "simulator", "judge")


class ModelSettings(BaseModel):
    """litellm model names per role."""

    model_config = ConfigDict(extra="forbid")

    agent: str | None = None
    simulator: str | None = None
    judge: str | None = None


class RunOptions(BaseModel):
    """How tests run, the same for every door. Times are seconds.

    Set in `[tool.voicetest.run]` (or `.voicetest.toml` `[run]`), `VOICETEST_<OPTION>`
    variables, pytest ini keys `voicetest_<option>`, `--vt-<option>` flags, CLI flags or
    `api.run_tests(options=...)`; later sources win in that order.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    max_turns: int = Field(default=20, ge=1, le=500)
    turn_timeout: float = Field(default=60.0, gt=0, le=86_400)
    call_timeout: float = Field(default=600.0, gt=0, le=86_400)
    llm_timeout: float = Field(default=60.0, gt=0, le=86_400)
    test_timeout: float = Field(default=300.0, gt=0, le=86_400, description="deadline of a whole test: call, judges and retries")
    max_retries: int = Field(default=4, ge=0, le=20)
    concurrency: int = Field(default=1, ge=1, le=256)
    threshold: float = Field(default=0.7, ge=0.0, le=1.0)
    test_model_precedence: bool = False
    allow_real_tools: bool = False
    allow_outside_paths: bool = False
    cassette_dir: str = "cassettes"
    record: bool = False
    replay: bool = False
    api_base: str | None = None
    repeat: int | None = Field(default=None, ge=1, le=1000)
    max_cost: float | None = Field(default=None, ge=0)
    max_calls: int | None = Field(default=None, ge=1)
    strict: bool = Field(default=False, description="fail, instead of skip, tests whose model is not configured")
    store: str | None = Field(default=None, description="VoiceSim store: SQLite path or postgresql:// URL")
    offline: bool = Field(default=False, description="remote agents (retell://ID) from the cache only: no platform request")
    pattern_engine: Literal["fnmatch", "re2"] = Field(
        default="fnmatch", description="patterns of voicetest-harness tests: fnmatch globs or re2 regexes"
    )
    # The voicetest harness's RunOptions and [run] keys, honoured here:
    timeout_seconds: float | None = Field(default=None, gt=0, le=86_400, description="harness name of turn_timeout")
    turn_timeout_seconds: float | None = Field(default=None, gt=0, le=86_400, description="harness name of turn_timeout")
    verbose: bool = Field(default=False, description="print each turn as it happens")
    flow_judge: bool = Field(default=False, description="run the flow judge on every test")
    streaming: bool = Field(default=False, description="stream the agent's replies; latency is the time to the first token")
    cot_transitions: bool = Field(default=False, description="the agent gives its reasoning before it takes a transition")
    start_speaker: Literal["agent", "user"] | None = Field(default=None, description="who opens every call")
    default_start_speaker: Literal["agent", "user"] | None = Field(default=None, description="who opens when the agent config does not say")
    agent_model: str | None = None
    simulator_model: str | None = None
    judge_model: str | None = None
    # ... and accepted but without meaning here (named in one warning):
    judge_input: str | None = None
    audio_eval: bool | None = None
    no_cache: bool | None = None

    @model_validator(mode="after")
    def _one_cassette_mode(self) -> RunOptions:
        if self.record and self.replay:
            raise ValueError("record and replay cannot both be on; pick one")
        harness_timeout = self.turn_timeout_seconds or self.timeout_seconds
        if harness_timeout is not None and "turn_timeout" not in self.model_fields_set:
            self.turn_timeout = harness_timeout
        return self

    def ignored(self) -> list[str]:
        """The harness options set here that mean nothing to pytest-voicetest."""
        meaningless = {
            "judge_input": "the judge always reads the transcript",
            "audio_eval": "there is no audio pipeline",
            "no_cache": "there is no response cache (cassettes replay on purpose)",
        }
        return [f"{name} ({why})" for name, why in meaningless.items() if getattr(self, name) not in (None, False, "transcript")]


class Settings(BaseModel):
    """Everything `[tool.voicetest]` may hold."""

    model_config = ConfigDict(extra="forbid")

    models: ModelSettings = Field(default_factory=ModelSettings)
    run: RunOptions = Field(default_factory=RunOptions)
    env: dict[str, str] = Field(default_factory=dict)


def load_settings(start: Path | None = None, environ: dict[str, str] | None = None) -> Settings:
    """Settings from the nearest file (or defaults), with VOICETEST_<OPTION> run overrides."""
    return read_settings(start, environ)[0]


def _harness_tables(data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The voicetest harness's settings file: what we know, and the keys it has that we ignore."""
    kept: dict[str, Any] = {}
    ignored = [table for table in data if table not in Settings.model_fields]
    known_keys = {"run": RunOptions.model_fields, "models": ModelSettings.model_fields}
    for table in Settings.model_fields:
        values = data.get(table)
        if not isinstance(values, dict):
            continue
        known = known_keys.get(table)
        if known is not None:
            ignored += [f"{table}.{key}" for key in values if key not in known]
            values = {key: value for key, value in values.items() if key in known}
        kept[table] = values
    return kept, ignored


def read_settings(start: Path | None = None, environ: dict[str, str] | None = None) -> tuple[Settings, list[str]]:
    """Settings and warnings: the nearest settings file (or defaults), with VOICETEST_<OPTION>
    run overrides. The harness's `.voicetest/settings.toml` never fails on keys we do not
    know: they are named in a warning instead."""
    environ = dict(os.environ if environ is None else environ)
    found = find_settings_file((start or Path.cwd()).resolve())
    data: dict[str, Any] = {}
    source: Path | None = None
    ignored: list[str] = []
    if found:
        source, is_pyproject = found
        try:
            parsed = tomllib.loads(read_text(source))
        except tomllib.TOMLDecodeError as exc:
            raise InputError(f"invalid TOML: {exc}", source=source, fix="check the quoting on that line") from None
        data = parsed.get("tool", {}).get("voicetest", {}) if is_pyproject else parsed
        if source.parts[-2:] == HARNESS_SETTINGS.parts:
            data, ignored = _harness_tables(data)
    run = dict(data.get("run") or {})
    for name in RunOptions.model_fields:
        value = environ.get(f"VOICETEST_{name.upper()}")
        if value is not None and not name.endswith("_model"):  # VOICETEST_<ROLE>_MODEL are environment models
            run[name] = value
    if run:
        data = {**data, "run": run}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InputError(
            str(error["msg"]),
            source=source or "environment",
            field=format_loc(error["loc"]),
            fix="see `voicetest settings` for the known keys",
        ) from None
    ignored += settings.run.ignored()
    warnings = [f"{source or 'environment'}: ignored, as they mean nothing to pytest-voicetest: {', '.join(ignored)}"] if ignored else []
    return settings, warnings


def apply_env(settings: Settings, environ: Any = None) -> list[str]:
    """Set the settings' env table in the process environment; real variables win."""
    environ = os.environ if environ is None else environ
    applied = []
    for key, value in settings.env.items():
        if key not in environ:
            environ[key] = value
            applied.append(key)
    return applied


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def dump_settings(settings: Settings) -> str:
    """TOML text for `.voicetest.toml` (only values that differ from the defaults)."""
    data = settings.model_dump(exclude_defaults=True)
    lines: list[str] = []
    for table in ("models", "run", "env"):
        values = {k: v for k, v in (data.get(table) or {}).items() if v is not None}
        if values:
            lines.append(f"[{table}]")
            lines += [f"{key if re.fullmatch(r'[A-Za-z0-9_-]+', key) else _toml_value(key)} = {_toml_value(v)}" for key, v in values.items()]
            lines.append("")
    return "\n".join(lines)


def write_settings(settings: Settings, directory: Path) -> Path:
    """Write `.voicetest.toml` in `directory` (it then wins over pyproject.toml)."""
    path = directory / SETTINGS_FILE
    path.write_text(dump_settings(settings), encoding="utf-8")
    return path


def update_settings(settings: Settings, assignments: dict[str, str]) -> Settings:
    """A copy with dotted assignments applied, e.g. {"models.agent": "openai/gpt-4o"}."""
    data = settings.model_dump()
    for dotted, value in assignments.items():
        table, _, key = dotted.partition(".")
        if table not in data or not key:
            raise InputError(
                f"unknown setting '{dotted}'",
                field=dotted,
                fix="use models.<role>, run.<option> or env.<NAME>",
            )
        data[table][key] = value
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InputError(str(error["msg"]), field=format_loc(error["loc"]), fix="check the value's type") from None


def masked(settings: Settings) -> dict[str, Any]:
    """Settings as data with secrets hidden: secret-named env values, and passwords and
    tokens inside any URL (an `[env]` base URL, the api_base, a store URL)."""
    masked_data: dict[str, Any] = redact_data(settings.model_dump())
    return masked_data
