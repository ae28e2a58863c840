"""THE loader: `test_*.yaml`, `scenario_*.yaml` and `voicesim_*.yaml` files -> planned tests.

pytest, `voicetest run` and `api.run_tests` all load files here, so they see the same
tests, ids and errors. A test's id is `<path from the project root>::<name>` (pytest's
node id). Any problem in a file (YAML, schema, agent config, a path outside the project,
a duplicate name, a node or tool the agent does not have, a mark that would run code)
is one `InputError` naming the file, line, field and fix.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config.resolve import Config
from ..engine.conversation import CallRecord
from ..errors import InputError, did_you_mean
from ..importers import load_agent_file
from ..models.graph import AgentGraph
from ..models.harness import harness_test
from ..models.scenario import CampaignFile, CampaignScenario
from ..models.testcase import Models, TestCase, own_models, parse_test, parse_test_file
from ..platforms.refs import is_remote_ref
from ..validation import validate
from ..yamlio import format_loc, line_of, parse_yaml, read_text
from .kinds import file_kind

REMOTE_CACHE = Path(".voicetest") / "agents"
REFUSED_MARKS = {
    "skipif": "a skipif condition is Python code, and YAML files are data: use {skip: reason}, or skip from a conftest.py",
    "usefixtures": "YAML tests take no fixtures: write a Python test with the voicetest_run fixture",
    "parametrize": "YAML tests are not parametrized: write one test per case (defaults: shares their settings)",
    "filterwarnings": "YAML tests raise no Python warnings to filter",
}


@dataclass(frozen=True)
class Mark:
    """A YAML mark: a name and a reason; an xfail may be strict."""

    name: str
    reason: str | None = None
    strict: bool | None = None


@dataclass
class Planned:
    """One test of a file, ready to run: its name (pytest item name), id and source line."""

    name: str
    test_id: str
    line: int
    marks: list[Mark] = field(default_factory=list)

    @property
    def skip_mark(self) -> Mark | None:
        return next((m for m in self.marks if m.name == "skip"), None)

    @property
    def xfail_mark(self) -> Mark | None:
        return next((m for m in self.marks if m.name == "xfail"), None)


@dataclass
class PlannedTest(Planned):
    """A test case: a simulated call (or a recording) against an agent, and its checks."""

    test: TestCase = field(default_factory=lambda: TestCase(name="-"))
    graph: AgentGraph | None = None
    agent_path: Path | None = None
    transcript_path: Path | None = None
    recording: CallRecord | None = None
    test_models: dict[str, str | None] = field(default_factory=dict)
    file_models: dict[str, str | None] = field(default_factory=dict)
    source: Path | None = None

    @property
    def recorded(self) -> bool:
        """Whether the test judges a recorded call instead of simulating one."""
        return self.transcript_path is not None or self.recording is not None


@dataclass
class PlannedCall(PlannedTest):
    """One call of a campaign scenario."""

    campaign: CampaignFile | None = None
    scenario: CampaignScenario | None = None
    call: int = 1
    campaign_name: str = ""


@dataclass
class PlannedSweep(Planned):
    """One scenario of a VoiceSim sweep file."""

    spec: Any = None
    space: Any = None
    custom: dict[str, Any] = field(default_factory=dict)
    scenario: str = ""
    scenarios: list[str] = field(default_factory=list)
    store: str = ""
    run_id: str = ""
    plot: str | None = None
    source: Path | None = None


def item_name(name: str) -> str:
    """A test name as a pytest item name: one line, no brackets (pytest reads those as params)."""
    return " ".join(name.replace("[", "(").replace("]", ")").split())


def relative_id(path: Path, config: Config) -> str:
    """The file part of a test id: the path from the project root (pytest's node id)."""
    path = config.real_path(path)
    return path.relative_to(config.root).as_posix() if path.is_relative_to(config.root) else path.name


def resolve_inside(base: Path, relative: str, config: Config, field: str, source: Path, line: int | None) -> Path:
    """`relative` resolved against `base`; refused outside the project unless allowed."""
    path = config.real_path(base / relative)
    if not config.options.allow_outside_paths and not path.is_relative_to(config.root):
        raise InputError(
            f"'{relative}' resolves to {path}, outside the project root {config.root}",
            source=source,
            line=line,
            field=field,
            fix=(
                "keep the file inside the project; or move the project root (it is the folder of the nearest "
                "pytest.ini/pyproject.toml, or --rootdir); or allow it with allow_outside_paths = true in "
                "[tool.voicetest.run], --vt-allow-outside-paths under pytest or --allow-outside-paths for voicetest run"
            ),
        )
    if not path.exists():
        raise InputError(f"'{relative}' does not exist ({path})", source=source, line=line, field=field, fix="check the path")
    return path


def parse_marks(test: TestCase, source: Path, root: Any, prefix: tuple[Any, ...]) -> list[Mark]:
    """`marks:` entries as names and reasons; anything that could run code is refused."""
    marks: list[Mark] = []
    for index, entry in enumerate(test.marks):
        where = prefix + ("marks", index)

        def refused(message: str, fix: str, where: tuple[Any, ...] = where) -> InputError:
            return InputError(message, source=source, line=line_of(root, where), field=format_loc(where), fix=fix)

        if isinstance(entry, dict) and len(entry) != 1:
            raise refused("a mark is a name or {name: reason}", "write one mark per entry, e.g. {xfail: known bug}")
        name, value = (entry, None) if isinstance(entry, str) else next(iter(entry.items()))
        if not isinstance(name, str) or not name.isidentifier():
            raise refused(f"mark name {name!r} is not a valid identifier", "use names like slow or xfail")
        if name in REFUSED_MARKS:
            raise refused(f"mark '{name}' is not available in YAML", REFUSED_MARKS[name])
        strict = None
        if name == "xfail" and isinstance(value, dict):
            options: dict[str, Any] = value
            if (
                set(options) - {"reason", "strict"}
                or not isinstance(options.get("reason", ""), str)
                or not isinstance(options.get("strict", False), bool)
            ):
                raise refused("an xfail mapping takes reason (text) and strict (true/false) only", "write {xfail: {reason: why, strict: true}}")
            value, strict = options.get("reason"), options.get("strict")
        if value is not None and not isinstance(value, str):
            raise refused(f"mark '{name}' takes a reason (text), got {type(value).__name__}", f"write {{{name}: why}} or just {name}")
        marks.append(Mark(name, value, strict))
    return marks


def check_against_graph(test: TestCase, graph: AgentGraph, source: Path, root: Any, prefix: tuple[Any, ...]) -> None:
    """Names in the test (nodes, tools, script edges) must exist in the agent."""

    def node(name: str, *where: Any) -> None:
        if name not in graph.nodes:
            nodes = list(graph.nodes)
            raise InputError(
                f"the agent has no node '{name}'{did_you_mean(name, nodes)}",
                source=source,
                line=line_of(root, prefix + where),
                field=format_loc(prefix + where),
                fix="use one of: " + ", ".join(nodes[:12]),
            )

    if test.start_node:
        node(test.start_node, "start_node")
    if test.expect:
        for index, name in enumerate(test.expect.visited):
            node(name, "expect", "visited", index)
        for index, name in enumerate(test.expect.not_visited):
            node(name, "expect", "not_visited", index)
        if test.expect.final_node:
            node(test.expect.final_node, "expect", "final_node")
    mocks = [] if test.harness else test.tool_mocks  # the harness never checks (nor runs) its mocks
    tools = ({t.name for n in graph.nodes.values() for t in n.tools} | {t.name for t in graph.tools}) if mocks else set()
    for index, mock in enumerate(mocks):
        if mock.tool not in tools:
            where = prefix + ("tool_mocks", index, "tool")
            raise InputError(
                f"the agent has no tool '{mock.tool}'{did_you_mean(mock.tool, tools)}",
                source=source,
                line=line_of(root, where),
                field=format_loc(where),
                fix="mock one of: " + (", ".join(sorted(tools)) or "(the agent has no tools)"),
            )
    if test.script:
        for index, step in enumerate(test.script.turns):
            if step.goto:
                node(step.goto, "script", index, "goto")


def _mapping(data: Any, path: Path, what: str) -> dict[str, Any]:
    if data is None:
        raise InputError("the file is empty", source=path, fix=f"write {what}")
    if not isinstance(data, dict):
        raise InputError(
            f"expected a mapping at the top level, got {type(data).__name__}", source=path, line=getattr(data, "line", 1), fix=f"write {what}"
        )
    return data


def remote_agent(ref: str, config: Config) -> Path:
    """The cached copy of a platform agent (`retell://ID`): pulled at most once per session
    (a copy younger than the session is fresh), never with `offline`."""
    from ..platforms import PlatformError, resolve_remote_agent

    try:
        cached: Path = resolve_remote_agent(
            ref, config.root / REMOTE_CACHE, offline=config.options.offline, max_age_s=max(time.time() - config.started, 0.0)
        )
        return cached
    except PlatformError as exc:
        raise InputError(
            str(exc), field="agent", fix="check the agent id and the platform key, or pass --vt-offline to use the cached copy"
        ) from None


def _agent(agent: str | None, agent_format: str, data: Any, path: Path, config: Config) -> tuple[AgentGraph | None, Path | None]:
    """The graph and file of a test file's `agent:`; the files of a folder that name the same
    agent share one read of it per run."""
    if not agent:
        return None, None
    return config.memo(("agent", os.path.dirname(path), agent, agent_format), lambda: _read_agent(agent, agent_format, data, path, config))


def _read_agent(agent: str, agent_format: str, data: Any, path: Path, config: Config) -> tuple[AgentGraph, Path]:
    line = line_of(data, ("agent",))
    if is_remote_ref(agent):
        try:
            agent_path = remote_agent(agent, config)
        except InputError as exc:
            raise exc.located(path, line) from None
    else:
        agent_path = resolve_inside(path.parent, agent, config, "agent", path, line)
    try:
        return load_agent_file(agent_path, agent_format), agent_path
    except InputError as exc:
        if exc.source:
            raise InputError(f"{exc} (agent of {path.name})") from None
        raise exc.located(path, line) from None


def load_file(path: Path, config: Config) -> list[Planned]:
    """The planned tests of one voicetest file (any kind); InputError when it is broken."""
    kind = file_kind(path)
    if kind is None:
        raise InputError("not a voicetest file", source=path, fix="name it test_*.yaml, scenario_*.yaml or voicesim_*.yaml")
    try:
        data = parse_yaml(read_text(path), path)
        loader = {"test": _test_file, "campaign": _campaign_file, "sweep": _sweep_file}[kind]
        return loader(path, data, config)
    except InputError as exc:
        raise exc.located(path) from None


def _test_file(path: Path, data: Any, config: Config) -> list[Planned]:
    spec = parse_test_file(data, path)
    graph, agent_path = _agent(spec.agent, spec.agent_format, data, path, config)
    file_models = validate(Models, spec.defaults.get("models") or {}, source=path, root=data, prefix=("defaults", "models")).model_dump()
    prefix_id = relative_id(path, config)
    planned: list[Planned] = []
    names: dict[str, int] = {}
    for raw, prefix, root, source in _entries(spec.tests, spec.tests_from, data, path, config):
        if source.suffix.lower() == ".json":  # a voicetest harness / Retell export: its meaning
            raw = harness_test(raw, spec.defaults, config.options.pattern_engine)
        test = parse_test(raw, spec.defaults, source, prefix, root)
        line = line_of(root, prefix) or 1
        name = item_name(test.name)
        if name in names:
            raise InputError(
                f"duplicate test name '{test.name}' (first at line {names[name]})",
                source=source,
                line=line,
                field=f"{format_loc(prefix)}.name",
                fix="give every test in a file a unique name",
            )
        names[name] = line
        transcript = None
        if test.transcript:
            transcript = resolve_inside(
                source.parent, test.transcript, config, f"{format_loc(prefix)}.transcript", source, line_of(root, prefix + ("transcript",))
            )
        elif graph is None:
            raise InputError(
                f"test '{test.name}' simulates a call but the file names no agent",
                source=source,
                line=line,
                field="agent",
                fix="add `agent: path/to/agent.json` at the top of the file",
            )
        if graph is not None:
            check_against_graph(test, graph, source, root, prefix)
        if not test.has_checks(len(graph.metrics_config.enabled()) if graph and test.type == "llm" else 0):
            raise InputError(
                f"test '{test.name}' has no checks, so it could never fail",
                source=source,
                line=line,
                field=format_loc(prefix),
                fix="add metrics, includes/excludes/patterns, expect or flow_judge",
            )
        planned.append(
            PlannedTest(
                name=name,
                test_id=f"{prefix_id}::{name}",
                line=line,
                marks=parse_marks(test, source, root, prefix),
                test=test,
                graph=graph,
                agent_path=agent_path,
                transcript_path=transcript,
                test_models=own_models(raw),
                file_models=file_models,
                source=source,
            )
        )
    return planned


def _entries(tests: list[Any], tests_from: list[str], data: Any, path: Path, config: Config) -> list[tuple[Any, tuple[Any, ...], Any, Path]]:
    """(raw test, its location prefix, the document it is in, that document's file)."""
    entries: list[tuple[Any, tuple[Any, ...], Any, Path]] = [(raw, ("tests", index), data, path) for index, raw in enumerate(tests)]
    for index, relative in enumerate(tests_from):
        where = ("tests_from", index) if isinstance(data.get("tests_from"), list) else ("tests_from",)
        source = resolve_inside(path.parent, relative, config, format_loc(where), path, line_of(data, where))
        loaded = parse_yaml(read_text(source), source)
        if not isinstance(loaded, list):
            raise InputError("tests_from must name a JSON/YAML array of test cases", source=source, fix="export the tests as a list")
        if not loaded:
            raise InputError("the file holds no test cases", source=source, fix="export at least one test, or drop it from tests_from")
        entries += [(raw, (position,), loaded, source) for position, raw in enumerate(loaded)]
    if not entries:
        raise InputError("the file has no tests", source=path, field="tests", fix="add `tests:` with at least one test")
    return entries


def _campaign_file(path: Path, data: Any, config: Config) -> list[Planned]:
    campaign = validate(CampaignFile, _mapping(data, path, "agent: and scenarios:"), source=path)
    graph, agent_path = _agent(campaign.agent, campaign.agent_format, data, path, config)
    lines = [line_of(data, ("scenarios", index)) or 1 for index in range(len(campaign.scenarios))]
    return list(plan_campaign(campaign, graph, relative_id(path, config), agent_path=agent_path, source=path, lines=lines))


def plan_campaign(
    campaign: CampaignFile,
    graph: AgentGraph | None,
    prefix_id: str,
    *,
    agent_path: Path | None = None,
    source: Path | None = None,
    lines: list[int] | None = None,
) -> list[PlannedCall]:
    """Every (scenario, call) of a campaign: one planned call each, ids `prefix_id::scenario - call N`."""
    from .campaigns import call_case, call_name

    name = campaign.name or (source.stem if source else prefix_id)
    planned = []
    for index, scenario in enumerate(campaign.scenarios):
        for call in range(1, campaign.number_of_call_to_make + 1):
            item = item_name(call_name(scenario, call))
            planned.append(
                PlannedCall(
                    name=item,
                    test_id=f"{prefix_id}::{item}",
                    line=lines[index] if lines else 1,
                    test=call_case(campaign, scenario, call),
                    graph=graph,
                    agent_path=agent_path,
                    file_models=campaign.models.model_dump(),
                    source=source,
                    campaign=campaign,
                    scenario=scenario,
                    call=call,
                    campaign_name=name,
                )
            )
    return planned


def _output_path(path: Path, relative: str, config: Config, field: str, data: Any) -> Path:
    """A file a sweep writes, resolved from its file; refused outside the project unless allowed."""
    target = config.real_path(path.parent / relative)
    if not config.options.allow_outside_paths and not target.is_relative_to(config.root):
        raise InputError(
            f"{field} '{relative}' would be written outside the project root {config.root}",
            source=path,
            line=line_of(data, (field,)),
            field=field,
            fix=f"write it inside the project (e.g. reports/{Path(relative).name}), or set allow_outside_paths",
        )
    return target


def sweep_run_id(*parts: Any) -> str:
    """A VoiceSim run id derived from what defines the sweep, so processes and re-runs share it."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def _sweep_file(path: Path, data: Any, config: Config) -> list[Planned]:
    from ..voicesim.sweep import parse_sweep

    spec, space, custom, names = parse_sweep(_mapping(data, path, "n_points, scenarios and thresholds"), path, require_thresholds=True)
    store = spec.store if spec.store and "://" in spec.store else None
    if spec.store and store is None:
        store = str(_output_path(path, spec.store, config, "store", data))
    plot = str(_output_path(path, spec.plot, config, "plot", data)) if spec.plot else None
    prefix_id = relative_id(path, config)
    run_id = sweep_run_id("sweep", prefix_id, spec.model_dump(), space.to_data())
    return [
        PlannedSweep(
            name=item_name(name),
            test_id=f"{prefix_id}::{item_name(name)}",
            line=line_of(data, ("scenarios",)) or 1,
            spec=spec,
            space=space,
            custom=custom,
            scenario=name,
            scenarios=names,
            store=store or config.store,
            run_id=run_id,
            plot=plot,
            source=path,
        )
        for name in names
    ]


def plan_case(
    case: TestCase | dict[str, Any] | str,
    graph: AgentGraph | None,
    *,
    test_id: str,
    base: Path,
    config: Config,
    transcript: str | Path | None = None,
    recording: CallRecord | None = None,
    check: bool = True,
) -> PlannedTest:
    """One test case given in code (a TestCase, a dict or a YAML mapping), checked as a
    file's test is (unless not `check`): against the agent, with its transcript fenced
    inside the project. `recording` gives the call to judge directly."""
    source = Path("<test case>")
    if isinstance(case, TestCase):
        test, raw = case, case.model_dump(exclude_defaults=True)
    else:
        raw = parse_yaml(case, source) if isinstance(case, str) else case
        if not isinstance(raw, dict):
            raise InputError(f"a test case is a mapping, not {type(raw).__name__}", field="case", fix="pass a dict or a YAML mapping")
        test = parse_test(raw, {}, source, (), raw)
    transcript = transcript or test.transcript
    transcript_path = None
    if transcript and recording is None:
        transcript_path = resolve_inside(base, str(transcript), config, "transcript", source, None)
    planned = PlannedTest(
        name=item_name(test.name),
        test_id=test_id,
        line=1,
        marks=parse_marks(test, source, raw, ()),
        test=test,
        graph=graph,
        transcript_path=transcript_path,
        recording=recording,
        test_models=own_models(raw),
        file_models={},
        source=source,
    )
    if not check:
        return planned
    if graph is None and not planned.recorded:
        raise InputError("a simulated test needs an agent", field="agent", fix="pass agent=, or give a transcript to judge")
    if graph is not None:
        check_against_graph(test, graph, source, raw, ())
    if not test.has_checks(len(graph.metrics_config.enabled()) if graph and test.type == "llm" else 0):
        raise InputError(
            f"test '{test.name}' has no checks, so it could never fail",
            field="case",
            fix="add metrics, includes/excludes/patterns, expect or flow_judge",
        )
    return planned
