"""Transitions: equation evaluation and the edges a node offers the model.

Equations: `left` is a `{{template}}` or a bare variable name; `right` is a template or
a literal. Numbers compare numerically, everything else as case-insensitive text.
`exists`/`not_exist` test whether the left side has a non-empty value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from ..models.graph import AgentGraph, AgentNode, Condition, Equation
from .templating import VARIABLE, render

_BARE_NAME = re.compile(r"^[A-Za-z_][\w.\-]*$")
_TOOL_NAME = re.compile(r"[^A-Za-z0-9_-]")
ROUTE_PREFIX = "route_to_"


def _operand(text: str, variables: dict[str, str], *, left: bool) -> str | None:
    if VARIABLE.search(text):
        rendered = render(text, variables)
        return None if VARIABLE.search(rendered) else rendered
    if left and _BARE_NAME.match(text):
        return variables.get(text)
    return text


def _number(text: str) -> float | None:
    try:
        return float(text.strip())
    except ValueError:
        return None


def evaluate_equation(equation: Equation, variables: dict[str, str]) -> bool:
    left = _operand(equation.left, variables, left=True)
    if equation.operator == "exists":
        return left is not None and left.strip() != ""
    if equation.operator == "not_exist":
        return left is None or left.strip() == ""
    right = _operand(equation.right, variables, left=False) or ""
    if left is None:
        return equation.operator in {"!=", "not_contains"}
    if equation.operator == "contains":
        return right.casefold() in left.casefold()
    if equation.operator == "not_contains":
        return right.casefold() not in left.casefold()
    a, b = _number(left), _number(right)
    if a is not None and b is not None:
        pair: tuple[float, float] | tuple[str, str] = (a, b)
    else:
        pair = (left.strip().casefold(), right.strip().casefold())
    x, y = pair
    return {
        "==": x == y,
        "!=": x != y,
        ">": x > y,  # type: ignore[operator]
        ">=": x >= y,  # type: ignore[operator]
        "<": x < y,  # type: ignore[operator]
        "<=": x <= y,  # type: ignore[operator]
    }[equation.operator]


def holds(condition: Condition, variables: dict[str, str]) -> bool:
    """Whether a deterministic (equation or always) condition holds."""
    if condition.type == "always":
        return True
    if condition.type != "equation":
        return False
    results = (evaluate_equation(eq, variables) for eq in condition.equations)
    return any(results) if condition.logical_operator == "or" else all(results)


@dataclass(frozen=True)
class Edge:
    """An edge the model may take, offered as the function `tool_name`."""

    target: str
    condition: str
    tool_name: str
    kind: Literal["edge", "global", "go_back"] = "edge"


def tool_name_for(target: str, taken: set[str]) -> str:
    base = (ROUTE_PREFIX + _TOOL_NAME.sub("_", target))[:60]
    name, counter = base, 2
    while name in taken:
        name = f"{base}_{counter}"
        counter += 1
    taken.add(name)
    return name


def offered_edges(graph: AgentGraph, node: AgentNode, return_to: str | None) -> list[Edge]:
    """The llm_prompt edges of `node`, edges into global nodes, and go-back edges."""
    taken: set[str] = set()
    edges = [
        Edge(t.target_node_id, t.condition.value or f"Move on to {t.target_node_id}", tool_name_for(t.target_node_id, taken))
        for t in node.transitions
        if t.condition.type == "llm_prompt"
    ]
    if node.node_type == "conversation":
        for other in graph.global_nodes():
            if other.id != node.id and other.global_node_setting:
                edges.append(Edge(other.id, other.global_node_setting.condition, tool_name_for(other.id, taken), "global"))
    if node.global_node_setting and return_to:
        for condition in node.global_node_setting.go_back_conditions:
            edges.append(Edge(return_to, condition, tool_name_for(return_to, taken), "go_back"))
    return edges


def route_tool(edge: Edge, reasoning: bool = False) -> dict[str, Any]:
    """The OpenAI function definition offering one edge (with `reasoning`, the model must say
    why the condition holds before the edge is taken)."""
    parameters: dict[str, Any] = {"type": "object", "properties": {}}
    if reasoning:
        parameters = {
            "type": "object",
            "properties": {"reasoning": {"type": "string", "description": "why the condition is met, step by step"}},
            "required": ["reasoning"],
        }
    return {
        "type": "function",
        "function": {
            "name": edge.tool_name,
            "description": f"Call when: {edge.condition}. Moves the conversation to '{edge.target}'.",
            "parameters": parameters,
        },
    }


def deterministic_target(node: AgentNode, variables: dict[str, str], kinds: frozenset[str] = frozenset({"equation", "always"})) -> str | None:
    """The first edge of one of `kinds` (equation, always) that holds, in order."""
    for transition in node.transitions:
        if transition.condition.type in kinds and holds(transition.condition, variables):
            return transition.target_node_id
    return None
