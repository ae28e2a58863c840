"""pytest collection of voicetest files: one item per planned test, id `file::name`.

The file is loaded by the core loader (`run.testfile`), the same as `voicetest run` and
the Python API; a broken file is a collection error naming the line and the fix, and
the other files still collect and run. The item runs its test through the core session.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..errors import InputError
from ..models.results import TestResult
from ..run.testfile import Mark, Planned, PlannedCall, PlannedSweep, load_file
from .state import state

BUILTIN_MARKS = frozenset({"skip", "xfail"})
# Mark names in the `markers` ini list, read at the first YAML mark (one a plugin registers later
# is registered again: a duplicate `markers` line, nothing more).
REGISTERED_MARKS = pytest.StashKey[set[str]]()


class VoicetestFailure(Exception):
    """A test whose checks failed (status fail)."""

    def __init__(self, result: TestResult) -> None:
        super().__init__(result.test_name)
        self.result = result


class VoicetestCallError(Exception):
    """A test that could not run or be judged (status error)."""

    def __init__(self, result: TestResult) -> None:
        super().__init__(result.error_message or result.test_name)
        self.result = result


def pytest_mark(mark: Mark, config: pytest.Config) -> pytest.MarkDecorator:
    """A YAML mark as a pytest mark; custom names are registered for --strict-markers."""
    if mark.name not in BUILTIN_MARKS:
        registered = config.stash.get(REGISTERED_MARKS, None)
        if registered is None:
            registered = config.stash[REGISTERED_MARKS] = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
        if mark.name not in registered:
            config.addinivalue_line("markers", f"{mark.name}: declared in a voicetest YAML file")
            registered.add(mark.name)
    decorator = getattr(pytest.mark, mark.name)
    given = {key: value for key, value in (("reason", mark.reason), ("strict", mark.strict)) if value is not None}
    marked: pytest.MarkDecorator = decorator(**given) if given else decorator
    return marked


class VoicetestFile(pytest.File):
    """A `test_*.yaml`, `scenario_*.yaml` or `voicesim_*.yaml` file."""

    def collect(self) -> list[VoicetestItem]:
        try:
            planned = load_file(self.path, state(self.config).core.config)
        except InputError as exc:
            raise self.CollectError(str(exc)) from None
        items = []
        for test in planned:
            item = VoicetestItem.from_parent(self, name=test.name, planned=test)
            for mark in test.marks:
                item.add_marker(pytest_mark(mark, self.config))
            items.append(item)
        state(self.config).file_collected(items)
        return items


class VoicetestItem(pytest.Item):
    """One planned test: runs on the session's loop, then reports its result."""

    def __init__(self, *, planned: Planned, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.planned = planned
        self.result: TestResult | None = None

    @property
    def prefetchable(self) -> bool:
        """Whether the session may start this call early (never for skip-marked items or sweeps)."""
        if isinstance(self.planned, PlannedSweep):
            return False
        return not any(mark.name in {"skip", "skipif"} for mark in self.iter_markers())

    @property
    def concurrency(self) -> int:
        """Calls of this item's campaign that may run at once."""
        if isinstance(self.planned, PlannedCall) and self.planned.campaign is not None:
            return self.planned.campaign.concurrent_call_count
        return 1

    def job(self) -> Any:
        return state(self.config).core.execute(self.planned)

    def runtest(self) -> None:
        from ..report.junit import junit_properties

        result = state(self.config).run(self)
        self.result = result
        self.user_properties.extend(junit_properties(result))
        if result.status == "skipped":
            # Report the skip at the YAML test's line, as pytest does for skip marks.
            raise pytest.skip.Exception(result.error_message or "skipped", _use_item_location=True)
        if result.status == "fail":
            raise VoicetestFailure(result)
        if result.status == "error":
            raise VoicetestCallError(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        from ..report.text import failure_text

        if isinstance(excinfo.value, (VoicetestFailure, VoicetestCallError)):
            return failure_text(excinfo.value.result, self.config.getoption("verbose"))
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        # Not a suffix of the node id, so pytest shows the id as is (a suffix would have
        # its dots turned into '::'); it heads the failure section. A test pulled in with
        # `tests_from:` is located in the file that holds it.
        source = getattr(self.planned, "source", None) or self.path
        return source, self.planned.line - 1, f"{self.path.name}::{self.name} ({source.name} line {self.planned.line})"
