"""Hypothesis strategies for property tests of voice agents (public API).

- `agent_graphs()`: valid graphs of any size (every edge targets a node, logic nodes never
  loop among themselves, function nodes have a tool, extract nodes have variables);
- `scripts(graph)`: scripted calls that wander the graph, taking offered and unoffered edges;
- `voice_test_cases(graph)`: valid test cases for a graph; `tool_mocks(names)`;
- `transcripts()`: recorded calls as native turns;
- `voicesim_points(space)`, `voicesim_scenarios()`: points within bins, caller timelines.

Hypothesis is imported with this module only. The plugin registers the profiles below
when `--hypothesis-profile` names one of them.
"""

from __future__ import annotations

import string
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from .models.graph import OPERATORS, AgentGraph
from .models.testcase import TestCase
from .voicesim.scenarios import FAMILIES, Scenario
from .voicesim.space import DEFAULT_SPACE, Space


def register_profiles() -> None:
    """`voicetest-ci`: 50 derandomized examples, no deadline (calls vary in time), failures
    printed as reproducible blobs; `voicetest-thorough`: 500 examples for nightly runs."""
    slow = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
    settings.register_profile("voicetest-ci", max_examples=50, deadline=None, derandomize=True, print_blob=True, suppress_health_check=slow)
    settings.register_profile("voicetest-thorough", max_examples=500, deadline=None, print_blob=True, suppress_health_check=slow)


IDENTIFIER = st.text(string.ascii_lowercase + "_", min_size=1, max_size=10).filter(lambda s: s.strip("_"))
WORDS = st.text(string.ascii_letters + string.digits + " ,.?!'-", min_size=1, max_size=60).map(str.strip).filter(bool)


@st.composite
def tool_definitions(draw: st.DrawFn, names: list[str] | None = None) -> dict[str, Any]:
    name = draw(st.sampled_from(names) if names else IDENTIFIER)
    properties = draw(st.dictionaries(IDENTIFIER, st.just({"type": "string"}), max_size=3))
    return {
        "name": name,
        "description": draw(WORDS),
        "parameters": {"type": "object", "properties": properties} if properties else {},
        "type": draw(st.sampled_from(["custom", "custom", "custom", "end_call"])),
    }


def _condition(draw: st.DrawFn, kinds: list[str]) -> dict[str, Any]:
    kind = draw(st.sampled_from(kinds))
    if kind == "equation":
        equations = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"left": IDENTIFIER, "operator": st.sampled_from(OPERATORS), "right": st.text(string.ascii_lowercase + string.digits, max_size=5)}
                ),
                min_size=1,
                max_size=3,
            )
        )
        return {"type": "equation", "value": "", "equations": equations, "logical_operator": draw(st.sampled_from(["and", "or"]))}
    return {"type": kind, "value": draw(WORDS)}


@st.composite
def agent_graphs(draw: st.DrawFn, min_nodes: int = 1, max_nodes: int = 10) -> AgentGraph:
    """A valid AgentGraph of `min_nodes`..`max_nodes` nodes."""
    ids = draw(st.lists(IDENTIFIER, min_size=min_nodes, max_size=max_nodes, unique=True))
    kinds = {node_id: draw(st.sampled_from(["conversation", "conversation", "logic", "extract", "function", "end", "transfer"])) for node_id in ids}
    kinds[ids[0]] = "conversation"
    speaking = [i for i in ids if kinds[i] != "logic"]
    nodes: dict[str, Any] = {}
    for node_id in ids:
        kind = kinds[node_id]
        targets = speaking if kind == "logic" else ids  # logic nodes never point at logic nodes: no silent loops
        transitions = []
        if kind not in {"end", "transfer"}:
            conditions = ["llm_prompt"] if kind == "conversation" else ["equation", "llm_prompt"]
            least = 1 if node_id == ids[0] and len(ids) > 1 else 0  # the entry leads somewhere
            for target in draw(st.lists(st.sampled_from(targets), min_size=least, max_size=3)):
                transitions.append(
                    {"target_node_id": target, "condition": _condition(draw, conditions + (["equation"] if kind == "conversation" else []))}
                )
            if kind != "conversation":
                transitions.append({"target_node_id": draw(st.sampled_from(targets)), "condition": {"type": "always", "value": "Else"}})
        node: dict[str, Any] = {"id": node_id, "node_type": kind, "state_prompt": draw(WORDS), "transitions": transitions}
        if kind == "function":
            node["tools"] = [draw(tool_definitions()) | {"name": f"{node_id}_tool", "type": "custom"}]
        if kind == "extract":
            node["variables_to_extract"] = [{"name": name} for name in draw(st.lists(IDENTIFIER, min_size=1, max_size=3, unique=True))]
        if kind == "conversation" and draw(st.booleans()) and len(ids) > 1 and node_id != ids[0]:
            node["global_node_setting"] = {"condition": draw(WORDS), "go_back_conditions": draw(st.lists(WORDS, max_size=2))}
        nodes[node_id] = node
    data = {
        "nodes": nodes,
        "entry_node_id": ids[0],
        "source_type": "native",
        "begin_message": draw(st.none() | WORDS),
        "start_speaker": draw(st.sampled_from([None, "agent", "user"])),
        "default_dynamic_variables": draw(st.dictionaries(IDENTIFIER, st.text(string.ascii_letters, max_size=8), max_size=3)),
        "tools": draw(st.lists(tool_definitions(), max_size=2, unique_by=lambda t: t["name"])),
    }
    return AgentGraph.model_validate(data)


@st.composite
def scripts(draw: st.DrawFn, graph: AgentGraph, max_turns: int = 8) -> list[dict[str, Any]]:
    """A script of caller lines and agent replies; gotos mostly name edge targets, sometimes
    any node (so unoffered edges are tried too)."""
    nodes = list(graph.nodes)
    targets = [t.target_node_id for n in graph.nodes.values() for t in n.transitions] + [n.id for n in graph.global_nodes()]
    goto = st.sampled_from(targets) | st.sampled_from(nodes) if targets else st.sampled_from(nodes)
    steps: list[dict[str, Any]] = []
    if graph.start_speaker != "user" and not graph.begin_message:
        steps.append({"agent": draw(WORDS)})
    for _ in range(draw(st.integers(1, max_turns + 2))):
        steps.append({"user": draw(WORDS)})
        step: dict[str, Any] = {"agent": draw(WORDS)}
        if draw(st.integers(0, 2)):  # two replies in three take an edge
            step["goto"] = draw(goto)
        steps.append(step)
        steps.append({"extract": {"value": draw(WORDS)}})
    if draw(st.booleans()):
        steps.append({"hangup": True})
    return steps


def tool_mocks(names: list[str]) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Tool mocks for these tool names: fixed answers, sequences or errors."""
    if not names:
        return st.just([])
    answer = st.one_of(
        st.fixed_dictionaries({"returns": st.dictionaries(IDENTIFIER, WORDS, max_size=2)}),
        st.fixed_dictionaries({"sequence": st.lists(WORDS, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"error": WORDS}),
    )
    mock = st.tuples(st.sampled_from(names), answer).map(lambda pair: {"tool": pair[0], **pair[1]})
    return st.lists(mock, max_size=4)


@st.composite
def voice_test_cases(draw: st.DrawFn, graph: AgentGraph | None = None) -> TestCase:
    """A valid test case (for `graph`: its node and tool names)."""
    nodes = list(graph.nodes) if graph else []
    tools = sorted({t.name for n in graph.nodes.values() for t in n.tools} | {t.name for t in graph.tools}) if graph else []
    data: dict[str, Any] = {
        "name": draw(WORDS),
        "type": draw(st.sampled_from(["llm", "rule"])),
        "user_prompt": draw(WORDS),
        "includes": draw(st.lists(WORDS, max_size=2)),
        "excludes": draw(st.lists(WORDS, max_size=2)),
        "patterns": draw(st.lists(WORDS.map(lambda w: w.replace("?", r"\?").replace(".", r"\.")), max_size=1)),
        "tool_mocks": draw(tool_mocks(tools)),
        "max_turns": draw(st.integers(1, 12)),
    }
    wants_expect: bool = draw(st.booleans())
    if nodes and wants_expect:
        data["expect"] = {"visited": draw(st.lists(st.sampled_from(nodes), max_size=3)), "final_node": draw(st.sampled_from(nodes))}
    if data["type"] == "llm" and draw(st.booleans()):
        data["metrics"] = draw(st.lists(WORDS, min_size=1, max_size=2))
    if not (data["includes"] or data["excludes"] or data["patterns"] or data.get("expect") or data.get("metrics")):
        data["includes"] = [draw(WORDS)]
    return TestCase.model_validate(data)


def transcripts(max_turns: int = 12) -> st.SearchStrategy[list[dict[str, Any]]]:
    """Recorded calls as native turns ({role, content, node_id?})."""
    turn = st.fixed_dictionaries(
        {"role": st.sampled_from(["agent", "assistant", "user"]), "content": st.text(max_size=120)},
        optional={"node_id": IDENTIFIER},
    )
    return st.lists(turn, max_size=max_turns)


def voicesim_points(space: Space = DEFAULT_SPACE) -> st.SearchStrategy[tuple[int, ...]]:
    """Points whose every index lies within its dimension's bins."""
    return st.tuples(*(st.integers(0, size - 1) for size in space.sizes))


@st.composite
def voicesim_scenarios(draw: st.DrawFn, max_turns: int = 12) -> Scenario:
    turn = st.fixed_dictionaries(
        {},
        optional={
            "speech_s": st.floats(0.5, 15),
            "pauses_s": st.lists(st.floats(0.05, 2.5), max_size=3).map(tuple),
            "level": st.floats(0, 1),
            "silence_before_s": st.floats(0, 25),
            "barge_in_at_s": st.floats(0, 20),
            "barge_in_s": st.floats(0, 3),
            "backchannels": st.integers(0, 5),
            "noise": st.floats(0, 1),
            "noise_bursts": st.integers(0, 5),
            "misrecognized": st.booleans(),
            "emotional": st.booleans(),
            "crisis": st.booleans(),
            "tool_s": st.floats(0, 10),
            "answer_words": st.integers(1, 200),
        },
    )
    turns = draw(st.lists(turn, min_size=1, max_size=max_turns))
    for index, item in enumerate(turns):
        if index and draw(st.booleans()):
            item["refers_to"] = draw(st.integers(0, index - 1))
    greeting_barge = draw(st.none() | st.floats(0, 6))
    return Scenario.model_validate(
        {
            "name": draw(IDENTIFIER),
            "family": draw(st.sampled_from(FAMILIES)),
            "greeting_s": draw(st.floats(0.5, 10)),
            "greeting_barge_in_at_s": greeting_barge,
            "greeting_barge_in_s": draw(st.floats(0, 3)) if greeting_barge is not None else 0.0,
            "turns": turns,
        }
    )
