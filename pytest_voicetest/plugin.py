"""pytest hooks of pytest-voicetest. Heavy modules load only when a voicetest file or fixture needs them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

SESSION_KEY = pytest.StashKey[Any]()
SESSION_ID = pytest.StashKey[str]()
LOG_KEY = pytest.StashKey[Any]()
VOICETEST_SUFFIXES = (".yaml", ".yml")
INI_KEYS = (
    ("voicetest_record", "record cassettes (true/false)"),
    ("voicetest_replay", "replay cassettes (true/false)"),
    ("voicetest_cassette_dir", "cassette folder"),
    ("voicetest_max_turns", "caller turns per call"),
    ("voicetest_concurrency", "calls in flight at once"),
    ("voicetest_report", "JSON report path (relative to the rootdir)"),
    ("voicetest_api_base", "OpenAI-compatible base URL"),
    ("voicetest_allow_outside_paths", "allow paths outside the project (true/false)"),
    ("voicetest_allow_real_tools", "call real tool URLs (true/false)"),
    ("voicetest_repeat", "repeat LLM tests N times"),
    ("voicetest_max_cost", "session cost budget in USD"),
    ("voicetest_max_calls", "session model-call budget"),
    ("voicetest_store", "VoiceSim store: SQLite path or postgresql:// URL"),
)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise ValueError(text)
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("voicetest", "voice agent tests (pytest-voicetest)")
    for role in ("agent", "simulator", "judge"):
        group.addoption(f"--vt-{role}-model", dest=f"vt_{role}_model", metavar="MODEL", help=f"litellm model for the {role} (overrides tests and settings)")
        parser.addini(f"voicetest_{role}_model", f"litellm model for the {role}")
    group.addoption("--vt-record", dest="vt_record", action="store_true", help="record every LLM exchange to cassettes")
    group.addoption("--vt-replay", dest="vt_replay", action="store_true", help="answer LLM calls only from cassettes")
    group.addoption("--vt-cassette-dir", dest="vt_cassette_dir", metavar="DIR", help="cassette folder (default: cassettes)")
    group.addoption("--vt-max-turns", dest="vt_max_turns", type=_positive_int, metavar="N", help="caller turns per call for tests that set none")
    group.addoption("--vt-concurrency", dest="vt_concurrency", type=_positive_int, metavar="N", help="calls in flight at once in this process")
    group.addoption("--vt-report", dest="vt_report", metavar="PATH", help="write all results as JSON")
    group.addoption("--vt-api-base", dest="vt_api_base", metavar="URL", help="OpenAI-compatible base URL for every model")
    group.addoption("--vt-allow-outside-paths", dest="vt_allow_outside_paths", action="store_true", help="allow agent/transcript paths outside the project")
    group.addoption("--vt-allow-real-tools", dest="vt_allow_real_tools", action="store_true", help="call tools' real URLs when no mock answers")
    group.addoption("--vt-repeat", dest="vt_repeat", type=_positive_int, metavar="N", help="run every LLM test N times (pass_rate decides)")
    group.addoption("--vt-max-cost", dest="vt_max_cost", type=_non_negative_float, metavar="USD", help="stop LLM tests once this much is spent")
    group.addoption("--vt-max-calls", dest="vt_max_calls", type=_positive_int, metavar="N", help="stop LLM tests after N model calls")
    group.addoption("--vt-store", dest="vt_store", metavar="PATH_OR_URL", help="VoiceSim store: SQLite path or postgresql:// URL")
    for name, help_text in INI_KEYS:
        parser.addini(name, help_text)


@pytest.hookimpl(tryfirst=True)  # before Hypothesis loads the profile named on the command line
def pytest_configure(config: pytest.Config) -> None:
    import uuid

    profile = config.getoption("hypothesis_profile", None)
    if isinstance(profile, str) and profile.startswith("voicetest-"):
        from .strategies import register_profiles

        register_profiles()
    worker = getattr(config, "workerinput", None)
    config.stash[SESSION_ID] = (worker or {}).get("voicetest_session") or uuid.uuid4().hex[:12]
    config.addinivalue_line("markers", "voicetest(agent=None, agent_format='auto'): attach an agent config to a Python test")
    config.addinivalue_line("markers", "voicesim(n_points=8, scenarios=None, seed=0): run a test over VoiceSim points x scenarios (voicesim_result)")
    if config.getoption("vt_record") and config.getoption("vt_replay"):
        raise pytest.UsageError("--vt-record and --vt-replay cannot be used together; pick one")
    if _configured(config):
        voicetest_session(config)  # report bad settings, ini values and options now, as usage errors
    if hasattr(config, "workerinput"):
        return
    from .report import ResultLog

    option, ini = config.getoption("vt_report"), config.getini("voicetest_report")
    report = Path(option).resolve() if option else (Path(config.rootpath) / ini if ini else None)  # ini paths: from the rootdir
    log = ResultLog(report)
    config.stash[LOG_KEY] = log
    config.pluginmanager.register(ResultCollector(config, log), "voicetest-results")


class ResultCollector:
    """Controller-side hooks: gather results (from xdist workers too), summarise, write the report.

    A broken voicetest file is a collection error, but it must not stop the other files:
    pytest interrupts the session when `testsfailed` is non-zero after collection, so
    these errors are taken out of that count and the exit status is made failing at the end.
    """

    def __init__(self, config: pytest.Config, log: Any) -> None:
        self.config = config
        self.log = log
        self.session: pytest.Session | None = None
        self.file_errors = 0
        self.voicesim_lines: list[str] = []
        self.campaign_lines: list[str] = []

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.session = session

    @pytest.hookimpl(trylast=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and report.nodeid.endswith(VOICETEST_SUFFIXES) and self.session is not None:
            self.session.testsfailed -= 1
            self.file_errors += 1

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        sweep = getattr(report, "voicesim", None)
        if sweep is not None:
            self.log.add_voicesim(sweep)
        data = getattr(report, "voicetest", None)
        if data is None:
            return
        self.log.add(report.nodeid, data, report.duration * 1000)
        self._junit_system_out(report, data)

    def _junit_system_out(self, report: pytest.TestReport, data: dict[str, Any]) -> None:
        from _pytest.junitxml import xml_key

        xml = self.config.stash.get(xml_key, None)
        if xml is None or not data.get("transcript"):
            return
        import xml.etree.ElementTree as ET

        from .redact import redact
        from .report import transcript_lines

        element = ET.Element("system-out")
        element.text = redact("\n".join(["voicetest transcript:", *transcript_lines(data["transcript"])]))
        xml.node_reporter(report).append(element)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        from .report import summary_lines

        lines = summary_lines(self.log)
        if lines:
            terminalreporter.section("voicetest summary")
            for line in lines:
                terminalreporter.write_line(line)
        if self.campaign_lines:
            terminalreporter.section("campaign summary")
            for line in self.campaign_lines:
                terminalreporter.write_line(line)
        if self.voicesim_lines:
            terminalreporter.section("voicesim summary")
            for line in self.voicesim_lines:
                terminalreporter.write_line(line)
        if self.log.path:
            terminalreporter.write_line(f"voicetest report: {self.log.path}")

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if self.file_errors and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.NO_TESTS_COLLECTED):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        # before the report is written (the terminal summary comes after this hook)
        self.voicesim_lines = self.log.summarise_voicesim()
        interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
        self.campaign_lines = self.log.summarise_campaigns(interrupted, self._findings)
        self.log.write(session.exitstatus)
        budget_ledger(self.config).unlink(missing_ok=True)

    def _findings(self, campaign: str, judge: str, failed: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
        """The judge's findings on a campaign's failed calls (recorded/replayed like any call)."""
        import asyncio

        from .campaigns import write_findings
        from .errors import VoicetestError

        state = voicetest_session(self.config)
        cassette = state.cassette_named(campaign, "campaign summary")
        try:
            return asyncio.run(write_findings(state.client(cassette), judge, failed))
        except VoicetestError as exc:
            return [f"(the judge could not summarise: {exc})"], []
        finally:
            if cassette is not None:
                cassette.save()


def budget_ledger(config: pytest.Config) -> Path:
    """The session's budget ledger, the same path in the controller and every worker."""
    return Path(config.rootpath) / ".voicetest" / f"budget-{config.stash[SESSION_ID]}.json"


def _configured(config: pytest.Config) -> bool:
    """Whether this project configures voicetest (settings file, ini keys or --vt-* options)."""
    from .settings_file import find_settings_file

    if find_settings_file(Path(config.rootpath).resolve()):
        return True
    names = [name for name, _ in INI_KEYS] + [f"voicetest_{role}_model" for role in ("agent", "simulator", "judge")]
    if any(config.getini(name) for name in names):
        return True
    return any(value not in (None, False) for key, value in vars(config.option).items() if key.startswith("vt_"))


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: workers share the controller's session id (and so its budget ledger)."""
    node.workerinput["voicetest_session"] = node.config.stash[SESSION_ID]


def voicetest_session(config: pytest.Config) -> Any:
    """The session state, created on first use (collection or a fixture)."""
    state = config.stash.get(SESSION_KEY, None)
    if state is None:
        from .session import VoicetestSession

        state = config.stash[SESSION_KEY] = VoicetestSession(config)
    return state


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    name = file_path.name
    if file_path.suffix not in VOICETEST_SUFFIXES:
        return None
    if name.startswith("test_"):
        from .collect import YamlTestFile

        return YamlTestFile.from_parent(parent, path=file_path)
    if name.startswith("voicesim_"):
        from .sweeps import SweepFile

        return SweepFile.from_parent(parent, path=file_path)
    if name.startswith("scenario_"):
        from .collect import CampaignCollector

        return CampaignCollector.from_parent(parent, path=file_path)
    return None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("voicesim") is not None:
        from .sweeps import parametrize

        parametrize(metafunc)


def pytest_collection_finish(session: pytest.Session) -> None:
    state = session.config.stash.get(SESSION_KEY, None)
    if state is not None:
        state.set_items(session.items)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    outcome = yield
    if call.when != "call":
        return
    result = getattr(item, "result", None)
    if result is not None:
        outcome.get_result().voicetest = result.model_dump(mode="json")
    sweep = getattr(item, "voicesim", None)
    if sweep is not None:
        outcome.get_result().voicesim = sweep


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(SESSION_KEY, None)
    if state is not None:
        state.close()


# ------------------------------------------------------------------ fixtures


@pytest.fixture
def voicesim_result(request: pytest.FixtureRequest) -> Any:
    """The evaluation of this (point, scenario) case of a @pytest.mark.voicesim test."""
    from .sweeps import Case, result_for

    case = getattr(request, "param", None)
    if not isinstance(case, Case):
        raise pytest.UsageError(f"{request.node.nodeid}: voicesim_result needs @pytest.mark.voicesim(...) on the test")
    result = result_for(case, voicetest_session(request.config).store_location)
    request.node.voicesim = {
        "run_id": result.run_id, "store": voicetest_session(request.config).store_location, "scenario": result.scenario,
        "best_score": round(result.score, 6), "best_point": list(result.point), "plot": None,
    }
    return result


@pytest.fixture
def voicetest_settings(request: pytest.FixtureRequest) -> Any:
    """The project's voicetest Settings (from .voicetest.toml or [tool.voicetest])."""
    return voicetest_session(request.config).settings


@pytest.fixture
def voicetest_agent(request: pytest.FixtureRequest) -> Any:
    """The AgentGraph named by `@pytest.mark.voicetest(agent="path")` (relative to the test file)."""
    from .errors import InputError
    from .importers import load_agent_file

    marker = request.node.get_closest_marker("voicetest")
    agent = marker.kwargs.get("agent") if marker else None
    if not agent:
        raise pytest.UsageError(
            f"{request.node.nodeid}: the voicetest_agent fixture needs @pytest.mark.voicetest(agent='path/to/agent.json')"
        )
    path = (Path(request.node.path).parent / agent).resolve()
    try:
        return load_agent_file(path, marker.kwargs.get("agent_format", "auto"))
    except (InputError, FileNotFoundError) as exc:
        raise pytest.UsageError(f"{request.node.nodeid}: cannot load agent: {exc}") from None


@pytest.fixture
def voicetest_run(request: pytest.FixtureRequest) -> Any:
    """Run a test case (a dict or a YAML snippet) against the marked agent; returns the TestResult."""
    from .api import run_test

    state = voicetest_session(request.config)

    def run(case: dict[str, Any] | str, agent: Any = None) -> Any:
        graph = agent if agent is not None else request.getfixturevalue("voicetest_agent")
        return run_test(case, graph, session=state, test_id=f"{request.node.nodeid}::inline")

    return run
