"""The plugin's per-session state and its stash keys.

`state(config)` gives the core `Session` (built from the one config resolver) plus the
collected items, so `--vt-concurrency N` can keep N calls of the coming voicetest items
running while the current one is waited for; items still report one by one, in order.
Under xdist each worker runs one call at a time (the workers are the parallelism).

litellm is imported only by a process that will call a real model, in the background,
as soon as that is known: when the first file with such a test is collected (after
collection when `-k`, `-m` or another option may still deselect it), and in an xdist
worker when an item that needs it is next. The session waits for it before the first
item that needs it, so no item's timings or timeouts include it.

After each collected voicetest file, the objects alive (imported modules, the tests
collected so far) are frozen out of the cyclic collector, which would otherwise rescan
them each time collection's new objects trigger a collection (gc.freeze moves them in
one step). An object frozen that later becomes cyclic garbage (a test deselected with
`-k`, say) stays until the process exits.
"""

from __future__ import annotations

import gc
import itertools
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..run.session import Session

STATE_KEY = pytest.StashKey["PluginState"]()
SESSION_ID = pytest.StashKey[str]()


def session_id(config: pytest.Config) -> str:
    """The session's id: the controller's, in every xdist worker too."""
    if SESSION_ID not in config.stash:
        worker = getattr(config, "workerinput", None) or {}
        config.stash[SESSION_ID] = worker.get("voicetest_session") or uuid.uuid4().hex[:12]
    return config.stash[SESSION_ID]


def budget_ledger(config: pytest.Config) -> Path:
    """The session's budget ledger, the same path in the controller and every worker."""
    return Path(config.rootpath) / ".voicetest" / f"budget-{session_id(config)}.json"


class PluginState:
    """The core session and the item order it looks ahead in."""

    def __init__(self, config: pytest.Config) -> None:
        from ..config.resolve import resolve_config
        from ..errors import InputError
        from ..run.session import Session
        from .options import layers

        try:
            resolved = resolve_config(Path(config.rootpath), layers(config))
        except InputError as exc:
            raise pytest.UsageError(f"voicetest settings: {exc}") from None
        self.config = config
        self.core: Session = Session(resolved, ledger=budget_ledger(config))
        self.is_worker = hasattr(config, "workerinput")
        self.items: list[Any] = []
        self.order: dict[str, int] = {}
        self.sent_agents: set[str] = set()
        self.agent_keys: dict[Path, str | None] = {}
        self.model_items: dict[str, bool] = {}
        self.litellm_started = False
        self.litellm_frozen = False
        option = config.option
        deselecting = ("keyword", "markexpr", "deselect", "lf", "stepwise", "collectonly")
        self.preload_while_collecting = not self.is_worker and not any(getattr(option, name, None) for name in deselecting)

    @property
    def settings(self) -> Any:
        return self.core.config.settings

    def set_items(self, items: list[Any]) -> None:
        self.items = items
        self.order = {item.nodeid: index for index, item in enumerate(items)}
        if self.config.option.collectonly or not any(hasattr(item, "planned") for item in items):
            return
        self.warm_up()
        if not self.is_worker and any(self.calls_a_model(item) for item in items):
            self.ready_litellm()

    def warm_up(self) -> None:
        """Pay the run's one-time costs before the first item, so that no item pays for the
        others: the event loop's thread and the modules every reported result needs."""
        from ..exporters import view  # noqa: F401
        from ..report import junit, text  # noqa: F401

        self.core.executor.loop.start()

    def file_collected(self, items: list[Any]) -> None:
        """Freeze the file's tests (they live all session) out of the cyclic collector, and
        start importing litellm as soon as a collected file has an item that will call a model."""
        gc.freeze()
        if self.preload_while_collecting and not self.litellm_started and any(self.calls_a_model(item) for item in items):
            self.start_litellm()

    def before_item(self, item: Any, nextitem: Any) -> None:
        """xdist worker: litellm ready before an item that calls a model; its import started
        while the item before one runs."""
        if self.calls_a_model(item):
            self.ready_litellm()
        elif nextitem is not None and self.calls_a_model(nextitem):
            self.start_litellm()

    def start_litellm(self) -> None:
        """Start importing litellm in the background (once)."""
        if not self.litellm_started:
            from ..llm.client import preload

            self.litellm_started = True
            preload()

    def ready_litellm(self) -> None:
        """Start importing litellm if needed and wait until it is ready (between tests, on
        the main thread: the moment to freeze its objects out of the cyclic collector)."""
        from ..llm.client import freeze_loaded_objects, wait_for_preload

        self.start_litellm()
        if wait_for_preload() and not self.litellm_frozen:
            self.litellm_frozen = True
            freeze_loaded_objects()

    def calls_a_model(self, item: Any) -> bool:
        """Whether running this item will call a real model through litellm (so far as
        can be told before it runs: no scripted models, no replay, no missing model)."""
        from ..errors import VoicetestError
        from ..llm.client import is_scripted
        from ..run.runner import missing_models, needed_roles
        from ..run.testfile import PlannedTest

        if item.nodeid not in self.model_items:
            planned = getattr(item, "planned", None)
            calls = False
            if isinstance(planned, PlannedTest) and item.prefetchable and self.core.config.cassette_mode != "replay":
                try:
                    run = self.core.prepare(planned)
                except VoicetestError:  # the item reports it when it runs
                    run = None
                calls = run is not None and not missing_models(run) and any(not is_scripted(run.models[role]) for role in needed_roles(run))
            self.model_items[item.nodeid] = calls
        return self.model_items[item.nodeid]

    def run(self, item: Any) -> Any:
        """Start this item's call, keep the next ones running up to the window, and wait for
        its result.

        `--vt-concurrency` looks ahead over all voicetest items; a campaign's own
        `concurrent_call_count` looks ahead over that campaign's calls only.
        """
        from ..run.executor import QUEUED_PER_SLOT

        concurrency = 1 if self.is_worker else self.core.config.options.concurrency
        own = 1 if self.is_worker else item.concurrency
        window = max(concurrency, own)
        ahead: list[tuple[str, Any]] = []
        position = self.order.get(item.nodeid)
        if window > 1 and position is not None:
            upcoming = (
                i for i in self.items[position + 1 :] if getattr(i, "prefetchable", False) and (concurrency >= own or i.parent is item.parent)
            )
            ahead = [(i.nodeid, i.job) for i in itertools.islice(upcoming, window * QUEUED_PER_SLOT)]
        return self.core.executor.wait(item.nodeid, item.job, ahead, window)

    def graph_view_once(self, item: Any) -> dict[str, Any] | None:
        """{agent key: graph view} the first time this process reports a test of that agent."""
        from ..run.testfile import PlannedTest

        planned = getattr(item, "planned", None)
        if not isinstance(planned, PlannedTest) or planned.graph is None or planned.agent_path is None:
            return None
        if planned.agent_path not in self.agent_keys:  # resolving a path costs a system call per part
            self.agent_keys[planned.agent_path] = self.core.agent_key(planned)
        key = self.agent_keys[planned.agent_path]
        if key is None or key in self.sent_agents:
            return None
        self.sent_agents.add(key)
        from ..exporters.view import graph_view

        return {key: graph_view(planned.graph)}

    def close(self) -> None:
        self.core.close()
        if self.litellm_started:
            from ..llm.client import wait_for_preload

            wait_for_preload(timeout=30)  # a daemon thread importing at interpreter exit would print errors


def state(config: pytest.Config) -> PluginState:
    """The session state, created on first use (collection or a fixture)."""
    found = config.stash.get(STATE_KEY, None)
    if found is None:
        found = config.stash[STATE_KEY] = PluginState(config)
    return found
