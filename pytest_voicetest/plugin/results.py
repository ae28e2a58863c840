"""Controller-side hooks: every item's outcome (from xdist workers too), the end-of-session
summaries, JUnit system-out and the JSON report.

Every collected item is in the report: voicetest items with their full result, other
tests with their outcome, items a crash or an interruption left unrun as errors, and
every file that failed to collect. A broken voicetest file is a collection error that
must not stop the other files: pytest interrupts the session when `testsfailed` is
non-zero after collection, so these errors are taken out of that count and the exit
status is made failing at the end.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from ..report.json import ResultLog
from ..run.kinds import file_kind

LOG_KEY = pytest.StashKey[ResultLog]()
PHASE_STATUS = {"passed": "pass", "failed": "fail", "skipped": "skipped"}


def _message(report: Any) -> str:
    longrepr = getattr(report, "longrepr", None)
    if longrepr is None:
        return ""
    if isinstance(longrepr, tuple):  # a skip: (path, line, reason)
        return str(longrepr[2]).removeprefix("Skipped: ")
    text = str(getattr(report, "longreprtext", "") or longrepr)
    return text.strip().splitlines()[-1][:500] if text.strip() else ""


class ResultCollector:
    """Gathers outcomes into the ResultLog and prints the summaries."""

    def __init__(self, config: pytest.Config, log: ResultLog, html: Path | None = None) -> None:
        self.config = config
        self.log = log
        self.html = html
        self.session: pytest.Session | None = None
        self.file_errors = 0
        self.collected: list[str] = []
        self.sweeps: dict[tuple[str, str], str | None] = {}
        self.lines: dict[str, list[str]] = {}
        self.interrupted = False
        self.sigints = 0
        self.previous_handler: Any = None
        self.voicetest_results = 0
        self.summary_imports: threading.Thread | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session
        if threading.current_thread() is threading.main_thread():
            self.previous_handler = signal.signal(signal.SIGINT, self._on_sigint)

    def _on_sigint(self, number: int, frame: Any) -> None:
        """Ctrl-C stops the run; a second one while it winds down is noted, not obeyed, so
        every report is still written; a third one quits at once."""
        self.sigints += 1
        if self.sigints == 1:
            raise KeyboardInterrupt
        if self.sigints > 2:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt

    @pytest.hookimpl(trylast=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if not report.failed:
            return
        self.log.add_file_error(report.nodeid or ".", _message(report) or "collection failed")
        if self.session is not None and file_kind_of(report.nodeid):
            self.session.testsfailed -= 1
            self.file_errors += 1

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = [item.nodeid for item in session.items]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        known = set(self.collected)
        self.collected += [nodeid for nodeid in ids if nodeid not in known]
        if self.summary_imports is not None:
            return
        sweep_files = sorted({nodeid.split("::")[0] for nodeid in ids if file_kind_of(nodeid) == "sweep"})
        if sweep_files:  # the controller waits while workers run: import what the summary needs now
            from ..run.sweeps import preload_summaries
            from .state import state

            root = Path(self.config.rootpath)
            self.summary_imports = preload_summaries([root / name for name in sweep_files], state(self.config).core.config)

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, "voicetest", None)
        sweep = getattr(report, "voicesim", None) or (data or {}).get("voicesim")
        if sweep:  # read before the log redacts the result: the store is a real path
            self.sweeps.setdefault((sweep["store"], sweep["run_id"]), sweep.get("plot"))
        agent = getattr(report, "voicetest_agent", None)
        if agent:
            self.log.extra.setdefault("agents", {}).update(agent)
        if report.when == "call" and data is not None:
            self.voicetest_results += 1
            self.log.add(report.nodeid, data, report.duration * 1000, report.outcome)
            self._junit_system_out(report, data)
        elif report.when == "call" or (report.when == "setup" and not report.passed) or report.when not in {"setup", "call", "teardown"}:
            # other tests; setup errors and skips; an xdist worker that crashed (when "???")
            status = PHASE_STATUS[report.outcome] if report.when == "call" else ("skipped" if report.skipped else "error")
            if status == "fail" and file_kind_of(report.nodeid):  # a voicetest item that failed with no result crashed
                status = "error"
            if hasattr(report, "wasxfail"):
                status = "fail" if report.skipped else "pass"
            self._add_without_result(report.nodeid, status, _message(report) or None, report.duration * 1000, report.outcome)

    def _add_without_result(self, nodeid: str, status: str, message: str | None, wall_ms: float, outcome: str) -> None:
        """Log an item that has no voicetest result (another test, a crash, a skip, not run)."""
        bare = {"test_id": nodeid, "test_name": nodeid.split("::")[-1], "status": status, "error_message": message}
        self.log.add(nodeid, bare, wall_ms, outcome)

    def _junit_system_out(self, report: pytest.TestReport, data: dict[str, Any]) -> None:
        from _pytest.junitxml import xml_key

        xml = self.config.stash.get(xml_key, None)
        if xml is None or not data.get("transcript"):
            return
        import xml.etree.ElementTree as ET

        from ..report.junit import system_out

        element = ET.Element("system-out")
        element.text = system_out(data)
        xml.node_reporter(report).append(element)

    def pytest_keyboard_interrupt(self, excinfo: Any) -> None:
        self.interrupted = True

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self.interrupted = self.interrupted or self.sigints > 0
        if self.file_errors and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        interrupted = self.interrupted or exitstatus == pytest.ExitCode.INTERRUPTED
        seen = self.log.seen()
        if self.config.option.collectonly:
            reason = "--collect-only"
        else:
            reason = "the session was interrupted" if interrupted else "the session stopped early (-x, --maxfail or a crash)"
        for nodeid in self.collected:
            if nodeid not in seen:
                self._add_without_result(nodeid, "skipped", f"not run: {reason}", 0.0, "skipped")
        try:
            self._summaries(interrupted)
        except KeyboardInterrupt:  # a Ctrl-C while summarising: stop summarising, keep every result
            interrupted = True
            self.lines["voicetest"] = ["interrupted while summarising; every result is in the report"]
        if interrupted:
            session.exitstatus = pytest.ExitCode.INTERRUPTED
        self.log.write(session.exitstatus)
        if self.html is not None:
            from ..report.html import write_html

            write_html(self.log.body(session.exitstatus), self.html)
        from .state import budget_ledger

        budget_ledger(self.config).unlink(missing_ok=True)

    def _summaries(self, interrupted: bool) -> None:
        """Summaries of what ran (imports stay lazy: a project without voicetest pays nothing)."""
        sweeps = dict(self.sweeps)
        if sweeps:
            if self.summary_imports is not None:
                self.summary_imports.join()
            from ..report.text import voicesim_lines
            from ..run.sweeps import summarise

            self.log.extra["voicesim"] = summarise(sweeps)
            self.lines["voicesim"] = voicesim_lines(self.log.extra["voicesim"])
        if any(r.get("campaign") for r in self.log.results):
            from ..report.text import campaign_lines
            from .state import state

            self.log.extra["campaigns"] = state(self.config).core.campaign_summaries(self.log.results, interrupted)
            self.lines["campaign"] = campaign_lines(self.log.extra["campaigns"])
        if self.voicetest_results or self.file_errors or self.log.path or self.html:
            from ..report.text import summary_lines
            from .state import state

            warnings = [f"warning: {w}" for w in state(self.config).core.config.warnings]
            self.lines["voicetest"] = warnings + summary_lines(self.log.summary(), self.log.results) + self.lines.get("voicetest", [])

    def pytest_unconfigure(self) -> None:
        if self.summary_imports is not None:  # a daemon thread importing at interpreter exit would print errors
            self.summary_imports.join(timeout=30)
        if self.previous_handler is not None:  # Ctrl-C as before, once the session's output is done
            signal.signal(signal.SIGINT, self.previous_handler)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for name in ("voicetest", "campaign", "voicesim"):
            if self.lines.get(name):
                terminalreporter.section(f"{name} summary")
                for line in self.lines[name]:
                    terminalreporter.write_line(line)
        if self.log.path:
            terminalreporter.write_line(f"voicetest report: {self.log.path}")
        if self.html is not None:
            terminalreporter.write_line(f"voicetest html report: {self.html}")


def file_kind_of(nodeid: str) -> str | None:
    """The voicetest kind of a collected file's node id (None for other files)."""
    return file_kind(Path(nodeid.split("::")[0]))
