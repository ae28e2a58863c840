"""pytest collection of `test_*.yaml` files: one item per test case, id `file::name`.

Any problem in a file (YAML, schema, agent config, a path outside the project, a node
or tool name the agent does not have) is a collection error for that file naming the
line and the fix; the other files still collect and run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .errors import InputError, did_you_mean
from .models.graph import AgentGraph
from .models.results import TestResult
from .models.testcase import Models, TestCase, TestFile, own_models, parse_test, parse_test_file
from .validation import validate
from .yamlio import format_loc, line_of, parse_yaml, read_text

SKIP_MARKS = frozenset({"skip", "skipif"})


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


def resolve_inside(base: Path, relative: str, root: Path, allow_outside: bool, field: str, source: Path, line: int | None) -> Path:
    """`relative` resolved against `base`; refused outside `root` unless allowed."""
    path = (base / relative).resolve()
    if not allow_outside and not path.is_relative_to(root.resolve()):
        raise InputError(
            f"'{relative}' resolves to {path}, outside the project ({root})",
            source=source,
            line=line,
            field=field,
            fix="keep the file inside the project, or set allow_outside_paths = true in [tool.voicetest.run]",
        )
    if not path.exists():
        raise InputError(f"'{relative}' does not exist ({path})", source=source, line=line, field=field, fix="check the path")
    return path


def build_marks(test: TestCase, config: pytest.Config) -> list[pytest.MarkDecorator]:
    """pytest marks from `marks:`; custom names are registered for --strict-markers."""
    marks = []
    for entry in test.marks:
        name, value = (entry, None) if isinstance(entry, str) else next(iter(entry.items()))
        if not isinstance(name, str) or not name.isidentifier():
            raise InputError(f"mark name {name!r} is not a valid identifier", field="marks", fix="use names like slow or xfail")
        if name not in {"skip", "skipif", "xfail", "usefixtures", "filterwarnings", "parametrize"}:
            registered = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
            if name not in registered:
                config.addinivalue_line("markers", f"{name}: declared in a voicetest YAML file")
        decorator = getattr(pytest.mark, name)
        if value is None:
            marks.append(decorator)
        elif isinstance(value, str) and name in {"skip", "xfail"}:
            marks.append(decorator(reason=value))
        elif isinstance(value, dict):
            marks.append(decorator(**value))
        elif isinstance(value, list):
            marks.append(decorator(*value))
        else:
            marks.append(decorator(value))
    return marks


class YamlTestFile(pytest.File):
    """A `test_*.yaml` file."""

    def collect(self) -> Any:
        from .plugin import voicetest_session

        state = voicetest_session(self.config)
        try:
            data = parse_yaml(read_text(self.path), self.path)
            spec = parse_test_file(data, self.path)
            graph, agent_path = self._agent(spec, data, state)
            entries = self._entries(spec, data, state)
            items = []
            names: dict[str, int] = {}
            defaults_models = validate(Models, spec.defaults.get("models") or {}, source=self.path, root=data, prefix=("defaults", "models")).model_dump()
            for raw, prefix, root, source in entries:
                test = parse_test(raw, spec.defaults, source, prefix, root)
                line = line_of(root, prefix) or 1
                name = " ".join(test.name.replace("[", "(").replace("]", ")").split())
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
                        Path(source).parent, test.transcript, state.rootpath, state.options.allow_outside_paths,
                        f"{format_loc(prefix)}.transcript", Path(source), line_of(root, prefix + ("transcript",)),
                    )
                elif graph is None:
                    raise InputError(
                        f"test '{test.name}' simulates a call but the file names no agent",
                        source=source, line=line, field="agent", fix="add `agent: path/to/agent.json` at the top of the file",
                    )
                if graph is not None:
                    check_against_graph(test, graph, Path(source), root, prefix)
                if not test.has_checks(len(graph.metrics_config.global_metrics) if graph and test.type == "llm" else 0):
                    raise InputError(
                        f"test '{test.name}' has no checks, so it could never fail",
                        source=source, line=line, field=format_loc(prefix),
                        fix="add metrics, includes/excludes/patterns, expect or flow_judge",
                    )
                item = VoicetestItem.from_parent(
                    self,
                    name=name,
                    test=test,
                    graph=graph,
                    agent_path=agent_path,
                    transcript_path=transcript,
                    test_models=own_models(raw),
                    file_models=defaults_models,
                    line=line,
                )
                for mark in build_marks(test, self.config):
                    item.add_marker(mark)
                items.append(item)
        except InputError as exc:
            raise self.CollectError(str(exc.located(self.path))) from None
        return items

    def _agent(self, spec: TestFile, data: Any, state: Any) -> tuple[AgentGraph | None, Path | None]:
        if not spec.agent:
            return None, None
        from .importers import load_agent_file

        line = line_of(data, ("agent",))
        path = resolve_inside(self.path.parent, spec.agent, state.rootpath, state.options.allow_outside_paths, "agent", self.path, line)
        try:
            return load_agent_file(path, spec.agent_format), path
        except InputError as exc:
            if exc.source:
                raise InputError(f"{exc} (agent of {self.path.name})") from None
            raise exc.located(self.path, line) from None

    def _entries(self, spec: TestFile, data: Any, state: Any) -> list[tuple[Any, tuple[Any, ...], Any, Path]]:
        entries: list[tuple[Any, tuple[Any, ...], Any, Path]] = [
            (raw, ("tests", index), data, self.path) for index, raw in enumerate(spec.tests)
        ]
        for index, relative in enumerate(spec.tests_from):
            path = resolve_inside(
                self.path.parent, relative, state.rootpath, state.options.allow_outside_paths,
                f"tests_from[{index}]", self.path, line_of(data, ("tests_from",)),
            )
            loaded = parse_yaml(read_text(path), path)
            if not isinstance(loaded, list):
                raise InputError("tests_from must name a JSON/YAML array of test cases", source=path, fix="export the tests as a list")
            entries += [(raw, (position,), loaded, path) for position, raw in enumerate(loaded)]
        if not entries:
            raise InputError("the file has no tests", source=self.path, field="tests", fix="add `tests:` with at least one test")
        return entries


def check_against_graph(test: TestCase, graph: AgentGraph, source: Path, root: Any, prefix: tuple[Any, ...]) -> None:
    """Names in the test (nodes, tools, script edges) must exist in the agent."""
    nodes = list(graph.nodes)
    tools = {t.name for n in graph.nodes.values() for t in n.tools} | {t.name for t in graph.tools}

    def node(name: str, *field: Any) -> None:
        if name not in graph.nodes:
            raise InputError(
                f"the agent has no node '{name}'{did_you_mean(name, nodes)}",
                source=source, line=line_of(root, prefix + field), field=format_loc(prefix + field),
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
    for index, mock in enumerate(test.tool_mocks):
        if mock.tool not in tools:
            raise InputError(
                f"the agent has no tool '{mock.tool}'{did_you_mean(mock.tool, tools)}",
                source=source, line=line_of(root, prefix + ("tool_mocks", index, "tool")),
                field=format_loc(prefix + ("tool_mocks", index, "tool")),
                fix="mock one of: " + (", ".join(sorted(tools)) or "(the agent has no tools)"),
            )
    if test.script:
        for index, step in enumerate(test.script.turns):
            if step.goto:
                node(step.goto, "script", index, "goto")


class VoicetestItem(pytest.Item):
    """One test case: runs the call on the session's loop and judges it."""

    def __init__(
        self,
        *,
        test: TestCase,
        graph: AgentGraph | None,
        agent_path: Path | None,
        transcript_path: Path | None,
        test_models: dict[str, str | None],
        file_models: dict[str, str | None],
        line: int,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.test = test
        self.graph = graph
        self.agent_path = agent_path
        self.transcript_path = transcript_path
        self.test_models = test_models
        self.file_models = file_models
        self.line = line
        self.result: TestResult | None = None

    @property
    def prefetchable(self) -> bool:
        """Whether the session may start this call early (never for skip-marked items)."""
        return not any(mark.name in SKIP_MARKS for mark in self.iter_markers())

    async def execute(self) -> TestResult:
        from .plugin import voicetest_session
        from .runner import run_test

        state = voicetest_session(self.config)
        cassette = state.cassette_for(self)
        try:
            run = state.test_run(
                test=self.test, test_id=self.nodeid, graph=self.graph, test_models=self.test_models,
                file_models=self.file_models, transcript_path=self.transcript_path,
            )
            return await run_test(run, lambda: state.client(cassette))
        finally:
            if cassette is not None:
                cassette.save()

    def runtest(self) -> None:
        from .plugin import voicetest_session
        from .report import junit_properties

        result = voicetest_session(self.config).run(self)
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
        from .report import failure_text

        if isinstance(excinfo.value, (VoicetestFailure, VoicetestCallError)):
            return failure_text(excinfo.value.result, self.config.getoption("verbose"))
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        # Not a suffix of the node id, so pytest shows the id as is (a suffix would have
        # its dots turned into '::'); it heads the failure section.
        return self.path, self.line - 1, f"{self.path.name}::{self.name} (line {self.line})"


class CampaignCollector(pytest.File):
    """A `scenario_*.yaml` campaign: one item per (scenario, call)."""

    def collect(self) -> Any:
        from .campaigns import call_case, call_name
        from .importers import load_agent_file
        from .models.scenario import CampaignFile
        from .plugin import voicetest_session
        from .validation import validate

        state = voicetest_session(self.config)
        try:
            data = parse_yaml(read_text(self.path), self.path)
            if not isinstance(data, dict):
                raise InputError("a campaign file is a mapping with agent: and scenarios:", source=self.path, line=1)
            campaign = validate(CampaignFile, data, source=self.path)
            line = line_of(data, ("agent",))
            agent_path = resolve_inside(self.path.parent, campaign.agent, state.rootpath, state.options.allow_outside_paths, "agent", self.path, line)
            graph = load_agent_file(agent_path, campaign.agent_format)
            name = campaign.name or self.path.stem
            items = []
            for index, scenario in enumerate(campaign.scenarios):
                for call in range(1, campaign.number_of_call_to_make + 1):
                    items.append(
                        CampaignItem.from_parent(
                            self,
                            name=call_name(scenario, call),
                            test=call_case(campaign, scenario, call),
                            graph=graph,
                            agent_path=agent_path,
                            transcript_path=None,
                            test_models={},
                            file_models=campaign.models.model_dump(),
                            line=line_of(data, ("scenarios", index)) or 1,
                            campaign=campaign,
                            scenario=scenario,
                            call=call,
                            campaign_name=name,
                        )
                    )
        except InputError as exc:
            raise self.CollectError(str(exc.located(self.path))) from None
        return items


class CampaignItem(VoicetestItem):
    """One campaign call; up to `concurrent_call_count` calls of a campaign run at once."""

    def __init__(self, *, campaign: Any, scenario: Any, call: int, campaign_name: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.campaign = campaign
        self.scenario = scenario
        self.call = call
        self.campaign_name = campaign_name

    @property
    def concurrency(self) -> int:
        return self.campaign.concurrent_call_count

    async def execute(self) -> TestResult:
        from .campaigns import run_call, skipped_call
        from .errors import BudgetExceeded
        from .plugin import voicetest_session
        from .runner import skip_reason

        state = voicetest_session(self.config)
        cassette = state.cassette_for(self)
        run = state.test_run(test=self.test, test_id=self.nodeid, graph=self.graph, test_models=self.test_models, file_models=self.file_models)
        reason = skip_reason(run, also=("judge",))
        try:
            if reason is None:
                return await run_call(run, state.client(cassette), self.campaign, self.scenario, self.call, self.campaign_name)
        except BudgetExceeded as exc:
            reason = str(exc)
        finally:
            if cassette is not None:
                cassette.save()
        return skipped_call(run, self.campaign, self.scenario, self.call, self.campaign_name, reason)
