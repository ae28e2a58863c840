"""Per-pytest-session state: options, settings, models, cassettes and the call executor.

Option precedence: command-line flags, then pytest ini keys (`voicetest_*`), then
`[tool.voicetest]`/`.voicetest.toml`, then defaults. With `--vt-concurrency N` the
session starts the calls of the next N-1 voicetest items while the current one runs;
items still report one by one, in order. Under xdist each worker runs one call at a time.
"""

from __future__ import annotations

from collections.abc import Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from .errors import InputError
from .execution import LoopThread
from .plugin import budget_ledger
from .settings import ROLES, RunOptions, Settings, apply_env, load_settings
from .validation import validate

OPTION_INI = {
    "max_turns": ("vt_max_turns", "voicetest_max_turns"),
    "concurrency": ("vt_concurrency", "voicetest_concurrency"),
    "cassette_dir": ("vt_cassette_dir", "voicetest_cassette_dir"),
    "allow_outside_paths": ("vt_allow_outside_paths", "voicetest_allow_outside_paths"),
    "allow_real_tools": ("vt_allow_real_tools", "voicetest_allow_real_tools"),
}


def _ini(config: pytest.Config, name: str) -> Any:
    value = config.getini(name)
    return value if value not in ("", None, []) else None


def _flag(value: Any, name: str) -> bool:
    """An ini true/false value (unset is false)."""
    if value is None:
        return False
    text = str(value).strip().lower()
    if text not in {"1", "true", "yes", "on", "0", "false", "no", "off"}:
        raise pytest.UsageError(f"ini key {name} must be true or false, got {value!r}")
    return text in {"1", "true", "yes", "on"}


def _number(value: Any, name: str, kind: type[int] | type[float], minimum: float) -> Any:
    """An ini value as a number of `kind`, at least `minimum` (None when unset)."""
    if value is None:
        return None
    try:
        number = kind(value)
    except ValueError:
        raise pytest.UsageError(f"ini key {name} must be a {'whole ' if kind is int else ''}number, got {value!r}") from None
    if number < minimum:
        raise pytest.UsageError(f"ini key {name} must be at least {minimum:g}, got {number}")
    return number


class VoicetestSession:
    """Everything the plugin needs across items."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.rootpath = Path(config.rootpath)
        try:
            self.settings: Settings = load_settings(self.rootpath)
        except InputError as exc:
            raise pytest.UsageError(f"voicetest settings: {exc}") from None
        apply_env(self.settings)
        self.options = self._run_options()
        self.cli_models = {role: config.getoption(f"vt_{role}_model") for role in ROLES}
        self.ini_models = {role: _ini(config, f"voicetest_{role}_model") for role in ROLES}
        record = config.getoption("vt_record") or _flag(_ini(config, "voicetest_record"), "voicetest_record")
        replay = config.getoption("vt_replay") or _flag(_ini(config, "voicetest_replay"), "voicetest_replay")
        if record and replay:
            raise pytest.UsageError("--vt-record and --vt-replay cannot be used together; pick one")
        self.cassette_mode = "record" if record else ("replay" if replay else None)
        self.cassette_dir = (self.rootpath / self.options.cassette_dir).resolve()
        self.api_base = config.getoption("vt_api_base") or _ini(config, "voicetest_api_base")
        store = config.getoption("vt_store") or _ini(config, "voicetest_store")
        self.store_location = store if store and "://" in str(store) else str((self.rootpath / (store or ".voicetest/voicesim.db")).resolve())
        self.is_worker = hasattr(config, "workerinput")
        self.concurrency = 1 if self.is_worker else self.options.concurrency
        self.loop = LoopThread()
        self.futures: dict[str, Future[Any]] = {}
        self.order: dict[str, int] = {}
        self.items: list[Any] = []
        self.repeat = config.getoption("vt_repeat") or _number(_ini(config, "voicetest_repeat"), "voicetest_repeat", int, 1)
        self.gate = self._budget()

    def _budget(self) -> Any:
        """The session's shared budget when --vt-max-cost or --vt-max-calls is set."""
        max_cost = self.config.getoption("vt_max_cost")
        if max_cost is None:
            max_cost = _number(_ini(self.config, "voicetest_max_cost"), "voicetest_max_cost", float, 0)
        max_calls = self.config.getoption("vt_max_calls") or _number(_ini(self.config, "voicetest_max_calls"), "voicetest_max_calls", int, 1)
        if max_cost is None and max_calls is None:
            return None
        from .budget import Budget

        return Budget(budget_ledger(self.config), max_cost, max_calls)

    def _run_options(self) -> RunOptions:
        values = self.settings.run.model_dump()
        for field, (option, ini) in OPTION_INI.items():
            ini_value = _ini(self.config, ini)
            if ini_value is not None:
                values[field] = ini_value
            cli_value = self.config.getoption(option)
            if cli_value not in (None, False):
                values[field] = cli_value
        try:
            return validate(RunOptions, values, source="voicetest run options")
        except InputError as exc:
            raise pytest.UsageError(str(exc)) from None

    def settings_models(self) -> dict[str, str | None]:
        """ini keys, then [tool.voicetest.models]."""
        own = self.settings.models.model_dump()
        return {role: self.ini_models[role] or own[role] for role in ROLES}

    # ------------------------------------------------------------ test runs

    def test_run(
        self,
        *,
        test: Any,
        test_id: str,
        graph: Any,
        test_models: dict[str, str | None],
        file_models: dict[str, str | None] | None = None,
        transcript_path: Path | None = None,
    ) -> Any:
        """The runner's view of a test: test, agent, resolved models, options."""
        from .llm.models import environment_models, resolve_models
        from .runner import TestRun

        if self.repeat and test.repeat == 1 and test.type == "llm" and transcript_path is None:
            test = test.model_copy(update={"repeat": self.repeat})
        models = resolve_models(
            cli=self.cli_models,
            test=test_models,
            file_defaults=file_models or {},
            settings=self.settings_models(),
            environment=environment_models(),
            graph_default=graph.default_model if graph else None,
            test_model_precedence=self.options.test_model_precedence,
            scripted=test.script is not None,
        )
        return TestRun(test=test, test_id=test_id, graph=graph, models=models, options=self.options, transcript_path=transcript_path)

    def cassette_for(self, item: Any) -> Any:
        """The item's cassette in record/replay mode, else None."""
        path, root = Path(item.path).resolve(), self.rootpath.resolve()
        relative = path.relative_to(root) if path.is_relative_to(root) else Path(path.name)
        return self.cassette_named(str(relative), item.name, item.nodeid)

    def cassette_named(self, group: str, name: str, test_id: str | None = None) -> Any:
        """A cassette at <cassette dir>/<group>/<name>.json in record/replay mode, else None."""
        if self.cassette_mode is None:
            return None
        from .llm.cassette import Cassette, cassette_path

        return Cassette(cassette_path(self.cassette_dir, group, name), self.cassette_mode, test_id or f"{group}::{name}")

    def client(self, cassette: Any = None) -> Any:
        from .llm.client import ClientOptions, LLMClient

        options = ClientOptions(timeout=self.options.llm_timeout, max_retries=self.options.max_retries, api_base=self.api_base)
        return LLMClient(options, cassette=cassette, gate=self.gate)

    # ------------------------------------------------------------- execution

    def set_items(self, items: list[Any]) -> None:
        self.items = items
        self.order = {item.nodeid: index for index, item in enumerate(items)}

    def start(self, item: Any) -> None:
        if item.nodeid not in self.futures:
            self.futures[item.nodeid] = self.loop.submit(item.execute())

    def run(self, item: Any) -> Any:
        """Start this item's call and the next ones, up to the concurrency, then wait for its result.

        `--vt-concurrency` looks ahead over all voicetest items; a campaign's own
        `concurrent_call_count` looks ahead over that campaign's calls only.
        """
        self.start(item)
        own = 1 if self.is_worker else getattr(item, "concurrency", 1)
        window = max(self.concurrency, own)
        position = self.order.get(item.nodeid)
        if window > 1 and position is not None:
            ahead = [
                i for i in self.items[position + 1:]
                if getattr(i, "prefetchable", False) and (self.concurrency >= own or i.parent is item.parent)
            ]
            for upcoming in ahead[: window - 1]:
                self.start(upcoming)
        return self.futures.pop(item.nodeid).result()

    def run_coroutine(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run(coroutine)

    def close(self) -> None:
        for future in self.futures.values():
            future.cancel()
        self.futures.clear()
        self.loop.close()


