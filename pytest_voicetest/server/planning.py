"""From HTTP input to the core's inputs: a workspace's Config, planned tests and calls.

A workspace's settings (models, run options, env) sit at the settings level of the one
config resolver, on top of the server project's own settings; a request's `options`
sit where command-line flags do. The workspace's env table is applied to a private
copy of the environment (so `VOICETEST_*` variables work), never to the process:
provider credentials are the server's. Options and test keys that would let a client
touch the server's files or send its credentials elsewhere are refused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..config.resolve import Config, Layer, resolve_config
from ..config.settings import RunOptions
from ..errors import InputError
from ..models.graph import AgentGraph
from ..models.harness import harness_test
from ..models.testcase import parse_test
from ..run.session import Door
from ..run.testfile import PlannedTest, plan_case

SERVER_DOOR = Door(
    model_flag="models.{role} (PUT /api/settings)", record_command="(recording is not offered over HTTP: record with pytest) '{test_id}'"
)
REFUSED_OPTIONS = {
    "store": "the VoiceSim store is the server's",
    "cassette_dir": "cassettes are files on the server",
    "record": "cassettes are files on the server",
    "replay": "cassettes are files on the server",
    "allow_outside_paths": "it would open the server's files",
    "allow_real_tools": "tool calls would reach real URLs from the server",
    "api_base": "the server's provider keys would be sent there; the operator sets it (VOICETEST_API_BASE)",
}
REFUSED_TEST_KEYS = {
    "transcript": "it names a file on the server; judge a recorded call with POST /api/evaluate",
    "allow_real_tools": "tool calls would reach real URLs from the server",
}
CONSOLE_ONLY = ("verbose",)  # it prints every turn on the server's console: never for a client's run


def refuse_options(values: Mapping[str, Any], prefix: str) -> None:
    """Refuse the server-only options unless left at their defaults (as a read settings body has them)."""
    for key, value in values.items():
        if key in REFUSED_OPTIONS and value != RunOptions.model_fields[key].default:
            raise InputError(f"{key} cannot be set over HTTP: {REFUSED_OPTIONS[key]}", field=f"{prefix}{key}")


def refuse_env(env: Mapping[str, str], prefix: str) -> None:
    for key in env:
        option = key.upper().removeprefix("VOICETEST_").lower()
        if key.upper().startswith("VOICETEST_") and option in REFUSED_OPTIONS:
            raise InputError(f"{key} cannot be set over HTTP: {REFUSED_OPTIONS[option]}", field=f"{prefix}{key}")


def request_options(options: Mapping[str, Any] | None, prefix: str = "body.options.") -> dict[str, Any]:
    """A request's (or a workspace's) run options for the core: nulls dropped, `verbose`
    ignored, the server-only options refused. The core understands the seed's names
    (`timeout_seconds`, `agent_model`, `flow_judge`, `cot_transitions`, ...) itself."""
    values = {key: value for key, value in (options or {}).items() if value is not None and key not in CONSOLE_ONLY}
    refuse_options(values, prefix)
    return values


def workspace_config(root: Path, settings: Mapping[str, Any], options: Mapping[str, Any] | None = None) -> Config:
    """The Config of one request: the server project, the workspace's settings, the request's options."""
    environ = dict(os.environ)
    for key, value in (settings.get("env") or {}).items():
        environ.setdefault(key, value)
    layers = [
        Layer(
            "workspace settings",
            request_options(settings.get("run"), "settings.run."),
            models=dict(settings.get("models") or {}),
            models_are_settings=True,
            pattern="settings.run.{}",
        ),
        Layer("request", request_options(options), pattern="body.options.{}"),
    ]
    return resolve_config(root, layers, environ=environ)


def as_test(case: dict[str, Any], pattern_engine: str) -> dict[str, Any]:
    """A stored test case (the harness's shape, maybe with our keys) as a core test entry,
    with the harness's meaning (see `models.harness`)."""
    converted: dict[str, Any] = harness_test(case, {}, pattern_engine)
    return converted


def check_case(case: dict[str, Any], pattern_engine: str) -> None:
    """A test case's shape, checked by the core (InputError naming the field)."""
    for key, why in REFUSED_TEST_KEYS.items():
        if case.get(key) not in (None, False):
            raise InputError(f"{key} cannot be used over HTTP: {why}", field=key)
    entry = as_test(case, pattern_engine)
    parse_test(entry, {}, "request body", (), entry)


def plan_test(case: dict[str, Any], graph: AgentGraph, test_id: str, config: Config) -> PlannedTest:
    """One stored test case against the agent, planned as any file's test is."""
    check_case(case, config.options.pattern_engine)
    entry = as_test(case, config.options.pattern_engine)
    planned = plan_case(entry, graph, test_id=test_id, base=config.root, config=config)
    planned.test_id = test_id
    return planned
