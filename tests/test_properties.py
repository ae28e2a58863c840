"""Property tests over generated graphs, scripts, transcripts, YAML and VoiceSim points."""

from __future__ import annotations

import asyncio
import json

import numpy as np
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_voicetest.config.models import resolve_models
from pytest_voicetest.errors import InputError
from pytest_voicetest.exporters import EXPORTERS, export_agent
from pytest_voicetest.importers import import_agent
from pytest_voicetest.judges.flow import structural_violations
from pytest_voicetest.judges.rules import check_rules
from pytest_voicetest.llm.client import LLMClient
from pytest_voicetest.models.results import Turn
from pytest_voicetest.models.testcase import TestCase, parse_test, parse_test_file
from pytest_voicetest.run.runner import TestRun, run_test
from pytest_voicetest.strategies import agent_graphs, scripts, transcripts, voice_test_cases, voicesim_points, voicesim_scenarios
from pytest_voicetest.voicesim.pipeline import simulate
from pytest_voicetest.voicesim.space import DEFAULT_SPACE
from pytest_voicetest.yamlio import parse_yaml

SLOW = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)


@SLOW
@given(agent_graphs())
def test_generated_graphs_round_trip_through_native(graph) -> None:
    assert import_agent(json.loads(export_agent(graph, "native")), format="native") == graph
    assert import_agent(yaml.safe_load(export_agent(graph, "native_yaml")), format="native") == graph


@SLOW
@given(agent_graphs())
def test_exporters_never_crash(graph) -> None:
    for name in EXPORTERS:
        assert export_agent(graph, name)


@SLOW
@given(st.data())
def test_scripted_engine_follows_edges_and_ends_within_max_turns(data) -> None:
    graph = data.draw(agent_graphs(max_nodes=7))
    max_turns = data.draw(st.integers(1, 6))
    steps = data.draw(scripts(graph, max_turns=max_turns))
    case = TestCase.model_validate({"name": "p", "script": steps, "max_turns": max_turns, "includes": ["x"]})
    models = resolve_models(cli={}, test={}, file_defaults={}, settings={}, environment={}, graph_default=None, scripted=True)
    result = asyncio.run(run_test(TestRun(test=case, test_id="p", graph=graph, models=models), LLMClient))
    assert result.end_reason is not None
    assert result.turn_count <= max_turns
    assert result.nodes_visited[0] == graph.entry_node_id
    assert structural_violations(graph, result.nodes_visited) == []


@SLOW
@given(agent_graphs(), st.data())
def test_generated_test_cases_are_valid(graph, data) -> None:
    case = data.draw(voice_test_cases(graph))
    assert case.has_checks()
    assert TestCase.model_validate(case.model_dump()) == case


@SLOW
@given(voicesim_scenarios(), st.lists(voicesim_points(), min_size=1, max_size=8))
def test_voicesim_scores_are_bounded_and_deterministic(scenario, points) -> None:
    array = np.array(points)
    first = simulate(DEFAULT_SPACE, scenario, array).scores()
    assert ((first >= 0) & (first <= 1)).all()
    assert (first == simulate(DEFAULT_SPACE, scenario, array).scores()).all()


@given(st.lists(st.text(), max_size=6), st.lists(st.text(max_size=8), max_size=3), st.lists(st.text(max_size=8), max_size=3))
def test_rule_checks_never_raise_on_unicode(contents, includes, excludes) -> None:
    turns = [Turn(role="agent" if i % 2 else "user", content=c) for i, c in enumerate(contents)]
    results = check_rules(turns, includes, excludes, [], "all")
    assert len(results) == len(includes) + len(excludes)


@given(transcripts())
def test_rule_checks_on_generated_transcripts(turns) -> None:
    parsed = [Turn(role="agent" if t["role"] in {"agent", "assistant"} else "user", content=t["content"]) for t in turns]
    for result in check_rules(parsed, ["a"], ["b"], ["c+"], "agent"):
        assert isinstance(result.passed, bool)


YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def load_as_test_file(text: str) -> None:
    data = parse_yaml(text, "generated.yaml")
    spec = parse_test_file(data, "generated.yaml")
    for index, raw in enumerate(spec.tests):
        parse_test(raw, spec.defaults, "generated.yaml", ("tests", index), data)


@SLOW
@given(
    st.one_of(
        st.text(max_size=200),
        YAML_VALUES.map(lambda v: yaml.safe_dump(v)),
        st.dictionaries(st.sampled_from(["agent", "tests", "defaults", "tests_from"]), YAML_VALUES).map(yaml.safe_dump),
    )
)
def test_yaml_loader_gives_a_clear_error_or_a_valid_file(text: str) -> None:
    try:
        load_as_test_file(text)
    except InputError as exc:
        assert str(exc).startswith("generated.yaml")
