"""pytest hooks of pytest-voicetest. Heavy modules load only when a voicetest file or
fixture needs them: a project without voicetest files pays for nothing but this module."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..llm import LITELLM_NOISE
from ..run.kinds import file_kind
from .options import addoptions, configured, output_path, report_format
from .state import STATE_KEY, session_id, state


def pytest_addoption(parser: pytest.Parser) -> None:
    addoptions(parser)


@pytest.hookimpl(tryfirst=True)  # before Hypothesis loads the profile named on the command line
def pytest_configure(config: pytest.Config) -> None:
    profile = config.getoption("hypothesis_profile", None)
    if isinstance(profile, str) and profile.startswith("voicetest-"):
        from ..strategies import register_profiles

        register_profiles()
    session_id(config)
    config.addinivalue_line("markers", "voicetest(agent=None, agent_format='auto'): attach an agent config to a Python test")
    config.addinivalue_line("markers", "voicesim(n_points=8, scenarios=None, seed=0): run a test over VoiceSim points x scenarios (voicesim_result)")
    if configured(config):
        state(config)  # report bad settings, ini values and options now, as usage errors
    # litellm may load in a background thread while any test runs: keep its noise out of that test
    config.addinivalue_line("filterwarnings", f"ignore:{LITELLM_NOISE}:UserWarning")
    from .html_extras import register

    register(config)  # pytest-html extras are made where reports are made: in xdist workers too
    if hasattr(config, "workerinput"):
        return
    from ..errors import InputError
    from ..report.json import ResultLog, check_output_path
    from .results import LOG_KEY, ResultCollector

    report, html = output_path(config, "report"), output_path(config, "html")
    for path, flag in ((report, "--vt-report"), (html, "--vt-html")):
        if path is not None:
            try:
                check_output_path(path, flag)
            except InputError as exc:
                raise pytest.UsageError(str(exc)) from None
    log = ResultLog(report, report_format(config))
    log.extra["run_id"] = session_id(config)
    config.stash[LOG_KEY] = log
    config.pluginmanager.register(ResultCollector(config, log, html), "voicetest-results")


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: workers share the controller's session id (and so its budget ledger)."""
    node.workerinput["voicetest_session"] = session_id(node.config)


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_kind(file_path) is None:
        return None
    from .items import VoicetestFile

    return VoicetestFile.from_parent(parent, path=file_path)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker("voicesim")
    if marker is None:
        return
    from ..errors import InputError
    from ..run.sweeps import marker_cases

    nodeid = metafunc.definition.nodeid
    if "voicesim_result" not in metafunc.fixturenames:
        raise pytest.Collector.CollectError(f"{nodeid}: a @pytest.mark.voicesim test must take the voicesim_result fixture")
    try:
        cases, ids = marker_cases(nodeid, marker.args, dict(marker.kwargs))
    except InputError as exc:
        raise pytest.Collector.CollectError(f"{nodeid}: @pytest.mark.voicesim: {exc}") from None
    metafunc.parametrize("voicesim_result", cases, ids=ids, indirect=True)


def pytest_collection_finish(session: pytest.Session) -> None:
    found = session.config.stash.get(STATE_KEY, None)
    if found is not None:
        found.set_items(session.items)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """xdist worker: litellm imported before an item that calls a model (started one item ahead)."""
    found = item.config.stash.get(STATE_KEY, None)
    if found is not None and found.is_worker:
        found.before_item(item, nextitem)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    outcome = yield
    if call.when != "call":
        return
    result = getattr(item, "result", None)
    if result is not None:
        report = outcome.get_result()
        report.voicetest = result.model_dump(mode="json")
        view = state(item.config).graph_view_once(item)
        if view is not None:
            report.voicetest_agent = view
    sweep = getattr(item, "voicesim", None)
    if sweep is not None:
        outcome.get_result().voicesim = sweep


def pytest_unconfigure(config: pytest.Config) -> None:
    found = config.stash.get(STATE_KEY, None)
    if found is not None:
        found.close()
