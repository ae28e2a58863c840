"""The agent-graph IR every importer produces and every exporter and the engine read."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from ..errors import InputError, did_you_mean
from ..yamlio import format_loc

NodeType = Literal["conversation", "logic", "extract", "function", "transfer", "end"]
ConditionType = Literal["llm_prompt", "equation", "tool_call", "always"]
Operator = Literal["==", "!=", ">", ">=", "<", "<=", "contains", "not_contains", "exists", "not_exist"]
OPERATORS: tuple[str, ...] = Operator.__args__  # type: ignore[attr-defined]
END_CALL_TOOL_TYPES = frozenset({"end_call", "hangup"})
TRANSFER_TOOL_TYPES = frozenset({"transfer_call", "transfer"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=False)


class Equation(_Model):
    """One comparison; `left` names a variable or holds a {{template}}."""

    left: str
    operator: Operator
    right: str = ""


class Condition(_Model):
    """When a transition fires."""

    type: ConditionType
    value: str = ""
    equations: list[Equation] = Field(default_factory=list)
    logical_operator: Literal["and", "or"] = "and"

    def label(self) -> str:
        """A short human label: the prompt, the equations, or the tool it waits for."""
        if self.type == "equation":
            return f" {self.logical_operator} ".join(f"{e.left} {e.operator} {e.right}".strip() for e in self.equations)
        if self.type == "tool_call":
            return f"calls {self.value}"
        if self.type == "always":
            return self.value or "always"
        return self.value


class Transition(_Model):
    """A directed edge to `target_node_id`."""

    target_node_id: str
    condition: Condition
    description: str = ""


class ToolDefinition(_Model):
    """A tool the agent can call; `parameters` is a JSON schema."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)
    type: str = "custom"
    url: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def ends_call(self) -> bool:
        return self.type in END_CALL_TOOL_TYPES

    @property
    def transfers_call(self) -> bool:
        return self.type in TRANSFER_TOOL_TYPES


class VariableSpec(_Model):
    """A variable an extract node (or a node with `variables_to_extract`) fills."""

    name: str
    description: str = ""
    type: str = "string"
    choices: list[str] = Field(default_factory=list)


class GlobalNodeSetting(_Model):
    """Makes a node reachable from every conversation node; go-back returns to the caller."""

    condition: str
    go_back_conditions: list[str] = Field(default_factory=list)


class AgentNode(_Model):
    """One state of the agent."""

    id: str
    state_prompt: str = ""
    node_type: NodeType = "conversation"
    tools: list[ToolDefinition] = Field(default_factory=list)
    transitions: list[Transition] = Field(default_factory=list)
    variables_to_extract: list[VariableSpec] = Field(default_factory=list)
    global_node_setting: GlobalNodeSetting | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)


class GlobalMetric(_Model):
    """A metric judged on every LLM test of the agent (the voicetest harness's shape)."""

    name: str = Field(min_length=1)
    criteria: str = Field(min_length=1)
    enabled: bool = True
    threshold: float | None = Field(default=None, ge=0.0, le=1.0, allow_inf_nan=False)


class MetricsConfig(_Model):
    """The agent's judge settings: default threshold and metrics run on every test. A global
    metric is a criterion (text) or `{name, criteria, enabled, threshold}`."""

    threshold: float = Field(default=0.7, ge=0.0, le=1.0, allow_inf_nan=False)
    global_metrics: list[GlobalMetric] = Field(default_factory=list)

    @field_validator("global_metrics", mode="before")
    @classmethod
    def _criteria_as_metrics(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": item, "criteria": item} if isinstance(item, str) else item for item in value]
        return value

    def enabled(self) -> list[tuple[str, float]]:
        """(criterion, threshold) of every enabled global metric."""
        return [(m.criteria, self.threshold if m.threshold is None else m.threshold) for m in self.global_metrics if m.enabled]


class AgentGraph(_Model):
    """A whole agent: nodes keyed by id, the entry node, and call-level settings.

    `tools` are graph-wide tools (Retell `general_tools`, flow-level tools) offered at
    every conversation node in addition to the node's own tools.
    """

    nodes: dict[str, AgentNode]
    entry_node_id: str
    source_type: str = "native"
    source_metadata: dict[str, Any] = Field(default_factory=dict)
    snippets: dict[str, str] = Field(default_factory=dict)
    default_model: str | None = None
    begin_message: str | None = None
    start_speaker: Literal["agent", "user"] | None = None
    default_dynamic_variables: dict[str, str] = Field(default_factory=dict)
    tools: list[ToolDefinition] = Field(default_factory=list)
    metrics_config: MetricsConfig = Field(default_factory=MetricsConfig)

    @property
    def general_prompt(self) -> str:
        return str(self.source_metadata.get("general_prompt") or "")

    def global_nodes(self) -> list[AgentNode]:
        return [node for node in self.nodes.values() if node.global_node_setting]

    def summary(self) -> str:
        """A short human summary used by `voicetest import`."""
        kinds: dict[str, int] = {}
        edges = 0
        for node in self.nodes.values():
            kinds[node.node_type] = kinds.get(node.node_type, 0) + 1
            edges += len(node.transitions)
        kinds_text = ", ".join(f"{count} {kind}" for kind, count in sorted(kinds.items()))
        lines = [
            f"source: {self.source_type}",
            f"nodes: {len(self.nodes)} ({kinds_text})",
            f"transitions: {edges}",
            f"entry: {self.entry_node_id}",
        ]
        if self.start_speaker:
            lines.append(f"start speaker: {self.start_speaker}")
        if self.begin_message:
            lines.append(f"greeting: {self.begin_message}")
        tools = sorted({t.name for n in self.nodes.values() for t in n.tools} | {t.name for t in self.tools})
        if tools:
            lines.append(f"tools: {', '.join(tools)}")
        if self.default_dynamic_variables:
            lines.append(f"variables: {', '.join(sorted(self.default_dynamic_variables))}")
        if self.default_model:
            lines.append(f"model: {self.default_model}")
        lines.append("nodes (the ids tests refer to):")
        for node in self.nodes.values():
            marks = [node.node_type] + (["entry"] if node.id == self.entry_node_id else []) + (["global"] if node.global_node_setting else [])
            lines.append(f"  {node.id} ({', '.join(marks)})")
            for transition in node.transitions:
                label = transition.condition.label() or transition.condition.type
                lines.append(f"    -> {transition.target_node_id}: {' '.join(label.split())[:80]}")
        return "\n".join(lines)


def graph_from_data(data: Any, source: str | Path | None = None) -> AgentGraph:
    """Validate raw IR data into a checked AgentGraph (native JSON/YAML and importers)."""
    try:
        graph = AgentGraph.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        raise InputError(
            _describe_ir_error(error),
            source=source,
            field=_node_field(error["loc"]),
            fix=_ir_fix(error),
        ) from None
    check_graph(graph, source)
    return graph


def _node_field(loc: tuple[Any, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "nodes":
        return f"node '{loc[1]}' {format_loc(loc[2:])}".rstrip()
    return format_loc(loc)


def _describe_ir_error(error: ErrorDetails) -> str:
    if error["type"] == "literal_error" and error["loc"][-1] == "operator":
        return f"unknown operator {error['input']!r}"
    if error["type"] == "extra_forbidden":
        return "unknown field"
    if error["type"] == "missing":
        return "required field is missing"
    return str(error["msg"])


def _ir_fix(error: ErrorDetails) -> str | None:
    if error["type"] == "literal_error" and error["loc"][-1] == "operator":
        return "use one of " + " ".join(OPERATORS)
    if error["type"] == "literal_error":
        return "use one of the allowed values: " + str(error.get("ctx", {}).get("expected", ""))
    if error["type"] == "extra_forbidden":
        return "remove it or move it into metadata"
    return None


def check_graph(graph: AgentGraph, source: str | Path | None = None) -> None:
    """Load-time checks: ids match keys, entry and every target exist, tool names unique."""
    ids = list(graph.nodes)
    for key, node in graph.nodes.items():
        if node.id != key:
            raise InputError(
                f"node id '{node.id}' differs from its key '{key}'",
                source=source,
                field=f"node '{key}' id",
                fix="make the id equal to the key",
            )
    if graph.entry_node_id not in graph.nodes:
        raise InputError(
            f"entry node '{graph.entry_node_id}' does not exist{did_you_mean(graph.entry_node_id, ids)}",
            source=source,
            field="entry_node_id",
            fix="name one of the nodes: " + ", ".join(ids[:10]),
        )
    for node in graph.nodes.values():
        for index, transition in enumerate(node.transitions):
            target = transition.target_node_id
            if target not in graph.nodes:
                raise InputError(
                    f"transition to unknown node '{target}'{did_you_mean(target, ids)}",
                    source=source,
                    field=f"node '{node.id}' transitions[{index}].target_node_id",
                    fix="point the edge at an existing node or add the node",
                )
            condition = transition.condition
            if condition.type == "equation" and not condition.equations:
                raise InputError(
                    "equation condition without equations",
                    source=source,
                    field=f"node '{node.id}' transitions[{index}].condition.equations",
                    fix="add at least one {left, operator, right} equation",
                )
        seen: set[str] = set()
        for tool in node.tools:
            if tool.name in seen:
                raise InputError(
                    f"duplicate tool '{tool.name}'",
                    source=source,
                    field=f"node '{node.id}' tools",
                    fix="give each tool a unique name",
                )
            seen.add(tool.name)
    loop = _logic_loop(graph)
    if loop:
        raise InputError(
            "logic nodes "
            + " -> ".join(loop if len(loop) <= 12 else [*loop[:8], f"... {len(loop) - 10} more ...", *loop[-2:]])
            + " form a loop with no spoken turn;"
            " variables cannot change inside it, so a call that enters it never leaves",
            source=source,
            field=f"node '{loop[0]}' transitions",
            fix="route one of these edges through a conversation, extract or function node",
        )


def _logic_loop(graph: AgentGraph) -> list[str] | None:
    """A cycle made only of logic nodes, as a path that repeats its first node (found
    without recursion, so a chain of thousands of logic nodes is no problem)."""
    logic = {node_id for node_id, node in graph.nodes.items() if node.node_type == "logic"}
    state: dict[str, int] = {}
    for start in sorted(logic):
        if start in state:
            continue
        stack: list[str] = [start]
        pending = [iter([t.target_node_id for t in graph.nodes[start].transitions])]
        state[start] = 1
        while pending:
            target = next(pending[-1], None)
            if target is None:
                state[stack.pop()] = 2
                pending.pop()
                continue
            if target not in logic:
                continue
            if state.get(target) == 1:
                return stack[stack.index(target) :] + [target]
            if target not in state:
                state[target] = 1
                stack.append(target)
                pending.append(iter([t.target_node_id for t in graph.nodes[target].transitions]))
    return None


def duplicate_ids(ids: list[str], source: str | Path | None, what: str = "node") -> None:
    """Raise on the first id that appears twice in a platform's node list."""
    seen: set[str] = set()
    for index, node_id in enumerate(ids):
        if node_id in seen:
            raise InputError(
                f"duplicate {what} id '{node_id}'",
                source=source,
                field=f"nodes[{index}].id",
                fix=f"give every {what} a unique id",
            )
        seen.add(node_id)
