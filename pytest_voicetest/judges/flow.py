"""The flow judge: did the call follow the agent graph?

Two parts. A structural check (no model): every step of the visited path must be an
edge of the graph, a jump into a global node, or a go-back from one. Then, with a
judge model, a review of the transcript against each visited node's instructions and
the edge conditions; its findings are listed as violations.
"""

from __future__ import annotations

import itertools
from typing import Any

from ..llm.client import LLMClient
from ..models.graph import AgentGraph
from ..models.results import Turn
from .metrics import ask_judge, transcript_text

FLOW_SYSTEM = """You audit whether a voice agent followed its conversation graph.
You get the graph (nodes with instructions, edges with conditions) and a transcript whose
agent lines are tagged with the node that spoke them. List each place where the agent
ignored its node's instructions, moved along an edge whose condition was not met, or
failed to move when a condition was clearly met. Reply with JSON only:
{"violations": ["<node>: <what went wrong>", ...]} (an empty list when the flow was followed)."""


def structural_violations(graph: AgentGraph, path: list[str]) -> list[str]:
    violations = []
    global_ids = {n.id for n in graph.global_nodes()}
    for origin, target in itertools.pairwise(path):
        if origin not in graph.nodes or target not in graph.nodes:
            missing = origin if origin not in graph.nodes else target
            violations.append(f"flow judge: node '{missing}' is not in the agent graph")
            continue
        edges = {t.target_node_id for t in graph.nodes[origin].transitions}
        if target in edges or target in global_ids or origin in global_ids or origin == target:
            continue
        violations.append(f"flow judge: moved from '{origin}' to '{target}' without an edge between them")
    return violations


def describe_graph(graph: AgentGraph) -> str:
    lines = []
    for node in graph.nodes.values():
        lines.append(f"- {node.id} ({node.node_type}): {node.state_prompt[:300]}")
        for transition in node.transitions:
            lines.append(f"    -> {transition.target_node_id} when {transition.condition.label()}")
        if node.global_node_setting:
            lines.append(f"    (global: reachable from any node when {node.global_node_setting.condition})")
    return "\n".join(lines)


async def judge_flow(
    llm: LLMClient, model: str, graph: AgentGraph, turns: list[Turn], path: list[str], context: dict[str, Any], repeat_index: int = 0
) -> list[str]:
    violations = structural_violations(graph, path)
    question = f"Graph:\n{describe_graph(graph)}\n\nVisited: {' -> '.join(path)}\n\nTranscript:\n{transcript_text(turns)}"
    verdict, raw = await ask_judge(llm, "flow", model, FLOW_SYSTEM, question, context, repeat_index)
    found = verdict.get("violations")
    if not isinstance(found, list):
        violations.append(f"flow judge: the judge's reply had no violations list: {raw[:120]!r}")
        return violations
    return violations + [f"flow judge: {item}" for item in found if str(item).strip()]
