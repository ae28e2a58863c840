"""The turn loop of one simulated call.

The start speaker (agent unless the graph says user) opens; the agent uses the
platform greeting when there is one. Each turn the simulator speaks or hangs up, then
the agent answers at the current node with the node's tools and its edges offered as
`route_to_*` functions. Equation edges of a conversation node are checked when the
caller has spoken, `always` edges after the node has spoken; logic, extract and
function nodes run without speaking; end and transfer nodes speak (if they have a
prompt) and end the call. A route the node does not offer is recorded as a
constraint violation and not taken. The call ends on a hang-up, an end node, an
end-call or transfer tool, `max_turns` caller turns, a turn timeout or the call timeout,
or (with `max_call_minutes`) when the words spoken at 150 per minute exceed the limit.

Time on the call is the sum of model (and real tool) latencies, so a replayed call
has the same timestamps as the recorded one.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config.models import ResolvedModels
from ..errors import BudgetExceeded, VoicetestError
from ..llm.client import LLMClient, LLMReply, LLMRequest, ToolCall
from ..models.graph import AgentGraph, AgentNode, ToolDefinition, VariableSpec
from ..models.results import ToolCallRecord, Turn
from ..models.testcase import TestCase
from .caller import Simulator
from .routing import ROUTE_PREFIX, Edge, deterministic_target, offered_edges, route_tool
from .templating import missing_names, render
from .tools import ToolMocker, call_url, openai_tool, parse_arguments

MAX_TOOL_ROUNDS = 8
WORDS_PER_MINUTE = 150  # simulated speaking time for max_call_minutes
MAX_HOPS = 25
SILENT = frozenset({"logic", "extract", "function"})
ENDING = frozenset({"end", "transfer"})

COT_RULE = "Before you take a route_to_* function, reason step by step about whether its condition is met and give that reasoning in its `reasoning` argument."
AGENT_RULES = (
    "You are speaking on a live phone call. Reply with exactly what you say to the caller: "
    "short, natural sentences, no markdown or lists. Use a tool when you need data or an action. "
    "When a route_to_* function's condition is met, call it (you may speak in the same reply)."
)


@dataclass
class CallSetup:
    graph: AgentGraph
    test: TestCase
    models: ResolvedModels
    max_turns: int = 20
    turn_timeout: float = 60.0
    call_timeout: float = 600.0
    allow_real_tools: bool = False
    repeat_index: int = 0
    max_call_minutes: float | None = None
    start_speaker: str | None = None
    cot_transitions: bool = False
    on_turn: Callable[[Turn], None] | None = None


@dataclass
class CallRecord:
    transcript: list[Turn] = field(default_factory=list)
    nodes_visited: list[str] = field(default_factory=list)
    tools_called: list[ToolCallRecord] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    turn_count: int = 0
    end_reason: str | None = None
    error: str | None = None
    latencies_ms: list[float] = field(default_factory=list)
    duration_ms: float = 0.0


class CallEnded(Exception):
    """Raised inside the loop once the call has ended."""


class Conversation:
    """Runs one call of `setup.test` against `setup.graph`."""

    def __init__(self, setup: CallSetup, llm: LLMClient) -> None:
        self.setup = setup
        self.graph = setup.graph
        self.llm = llm
        self.record = CallRecord()
        self.record.variables = {**setup.graph.default_dynamic_variables, **setup.test.dynamic_variables}
        self.mocker = ToolMocker(setup.test.tool_mocks)
        self.script = setup.test.script.model_dump() if setup.test.script else None
        self.history: list[dict[str, Any]] = []
        self.node_id = setup.test.start_node or setup.graph.entry_node_id
        self.return_to: dict[str, str] = {}
        self.spoke_in_node = False
        self.clock_ms = 0.0
        self.turn_latency = 0.0
        self.hops: list[str] = []
        self.counters: dict[str, int] = {}
        self.caller_count = 0
        self.words_spoken = 0
        self.unset: set[str] = set()
        self._check_placeholders("the test's user_prompt", setup.test.user_prompt)
        persona = render(setup.test.user_prompt, self.record.variables, setup.graph.snippets)
        simulator_model = setup.models["simulator"] or "scripted"
        self.simulator = Simulator(llm, simulator_model, persona, self._context(), setup.repeat_index)

    # ----------------------------------------------------------------- running

    async def run(self) -> CallRecord:
        try:
            await asyncio.wait_for(self._run(), self.setup.call_timeout)
        except CallEnded:
            pass
        except TimeoutError:
            self._end("call_timeout")
        self.record.duration_ms = round(self.clock_ms, 1)
        self.record.turn_count = self.caller_count
        return self.record

    async def _run(self) -> None:
        try:
            await self._enter(self.node_id, first=True)
            if (self.setup.start_speaker or self.graph.start_speaker) != "user":
                await self._turn(self._opening())
            while True:
                if self.caller_count >= self.setup.max_turns:
                    self._finish("max_turns")
                line = await self.simulator.next_line(self.record.transcript)
                self._advance(line.latency_ms)
                if line.text:
                    self._say("user", line.text)
                    self.history.append({"role": "user", "content": line.text})
                if line.hangup:
                    self._finish("user_ended")
                await self._turn(self._agent_turn())
        except BudgetExceeded:
            raise
        except VoicetestError as exc:
            self._finish("error", str(exc))

    async def _turn(self, coroutine: Any) -> None:
        self.turn_latency = 0.0
        self.hops = []
        try:
            await asyncio.wait_for(coroutine, self.setup.turn_timeout)
        except TimeoutError:
            self._finish("turn_timeout")

    async def _opening(self) -> None:
        if self.graph.begin_message:
            self._speak(render(self.graph.begin_message, self.record.variables, self.graph.snippets), latency=False)
            return
        await self._agent_turn()

    # --------------------------------------------------------------- the agent

    async def _agent_turn(self) -> None:
        spoke = False
        while True:
            node = self.graph.nodes[self.node_id]
            if node.node_type in ENDING:
                if node.state_prompt.strip() and not spoke:
                    await self._agent_step(node, offer_edges=False)
                self._finish("agent_ended")
            if not spoke and self.caller_count and self.spoke_in_node:
                target = deterministic_target(node, self.record.variables, frozenset({"equation"}))
                if target:
                    await self._go(node, target)
                    continue
            if node.metadata.get("static_text") and not self.spoke_in_node:
                self._speak(render(node.state_prompt, self.record.variables, self.graph.snippets), latency=False)
                said, target = True, None
            else:
                said, target = await self._agent_step(node)
            spoke = spoke or said
            if target is None and said:
                target = deterministic_target(node, self.record.variables, frozenset({"always"}))
                if target:
                    await self._go(node, target)
                    continue
                return
            if target is None:
                return
            await self._go(node, target)
            if said and self.graph.nodes[self.node_id].node_type not in ENDING:
                return

    def _system_prompt(self, node: AgentNode, end_tools: list[str]) -> str:
        parts = [self.graph.general_prompt, f"## Current step: {node.id}\n{node.state_prompt}", AGENT_RULES]
        if self.setup.cot_transitions:
            parts.append(COT_RULE)
        if end_tools:
            parts.append(f"Call {end_tools[0]} to hang up when the conversation is complete.")
        text = "\n\n".join(p for p in parts if p.strip())
        self._check_placeholders(f"the prompt at node '{node.id}'", text)
        return render(text, self.record.variables, self.graph.snippets)

    def _check_placeholders(self, where: str, text: str) -> None:
        """Record each {{variable}} or {%snippet%} nothing defines, once per call."""
        for name in missing_names(text, self.record.variables, self.graph.snippets):
            if name not in self.unset:
                self.unset.add(name)
                self.record.violations.append(f"{where} uses {name}, which no variable or snippet defines")

    def _node_tools(self, node: AgentNode) -> list[ToolDefinition]:
        tools = list(node.tools)
        if node.node_type in {"conversation", "end", "transfer"}:
            names = {t.name for t in tools}
            tools += [t for t in self.graph.tools if t.name not in names]
        return tools

    async def _agent_step(self, node: AgentNode, offer_edges: bool = True) -> tuple[bool, str | None]:
        """One spoken response at `node` (with any tool rounds): (spoke, chosen target)."""
        tools = self._node_tools(node)
        by_name = {t.name: t for t in tools}
        edges = offered_edges(self.graph, node, self.return_to.get(node.id)) if offer_edges else []
        by_route = {e.tool_name: e for e in edges}
        end_tools = [t.name for t in tools if t.ends_call]
        definitions = [openai_tool(t) for t in tools] + [route_tool(e, self.setup.cot_transitions) for e in edges]
        for _ in range(MAX_TOOL_ROUNDS):
            reply = await self._ask(
                "agent",
                [{"role": "system", "content": self._system_prompt(node, end_tools)}, *self.history],
                definitions or None,
                "auto" if definitions else None,
                node,
                routes={e.target: e.tool_name for e in edges},
                end_tools=end_tools,
            )
            self._remember(reply)
            target: str | None = None
            ended = False
            ran_tools = False
            for call in reply.tool_calls:
                if call.name in by_route:
                    edge = by_route[call.name]
                    if target is None:
                        target = self._take(node, edge)
                        self._tool_result(call, f"Moving to {edge.target}.")
                    else:
                        self.record.violations.append(f"at node '{node.id}' the agent chose a second edge ({call.name}) in one reply; ignored")
                        self._tool_result(call, "Ignored: only one route per reply.")
                elif call.name in by_name:
                    tool = by_name[call.name]
                    arguments, problem = parse_arguments(call.arguments)
                    if tool.ends_call or tool.transfers_call:
                        self.record.tools_called.append(ToolCallRecord(name=tool.name, arguments=arguments, result="ok", node_id=node.id))
                        self._tool_result(call, "ok")
                        ended = True
                        continue
                    result = await self._run_tool(tool, arguments, problem, node)
                    self._tool_result(call, result)
                    ran_tools = True
                    edge_target = next(
                        (t.target_node_id for t in node.transitions if t.condition.type == "tool_call" and t.condition.value == tool.name),
                        None,
                    )
                    if edge_target and target is None:
                        target = edge_target
                else:
                    kind = "edge" if call.name.startswith(ROUTE_PREFIX) else "tool"
                    offered = ", ".join(by_route) if kind == "edge" else ", ".join(by_name)
                    self.record.violations.append(
                        f"at node '{node.id}' the agent chose {kind} '{call.name}', which is not offered there"
                        f" (offered: {offered or 'none'}); not taken"
                    )
                    self._tool_result(call, f"Error: '{call.name}' is not available here.")
            spoke = bool(reply.content.strip())
            if spoke:
                self._speak(reply.content.strip())
            if ended:
                self._finish("agent_ended")
            if spoke or target is not None or not ran_tools:
                if not (spoke or target or reply.tool_calls):
                    self.record.violations.append(f"at node '{node.id}' the agent gave an empty reply")
                return spoke, target
        self.record.violations.append(f"at node '{node.id}' the agent made more than {MAX_TOOL_ROUNDS} tool rounds in one turn")
        return False, None

    def _take(self, node: AgentNode, edge: Edge) -> str:
        if edge.kind == "global":
            self.return_to[edge.target] = node.id
        return edge.target

    async def _run_tool(self, tool: ToolDefinition, arguments: dict[str, Any], problem: str | None, node: AgentNode) -> Any:
        if problem:
            result: Any = {"error": f"{tool.name}: {problem}"}
            self.record.tools_called.append(ToolCallRecord(name=tool.name, arguments=arguments, result=result, node_id=node.id, mocked=False))
            return result
        answer = self.mocker.answer(tool.name, arguments)
        mocked = answer.mocked
        result = answer.result
        if not mocked and self.setup.allow_real_tools and tool.url:
            started = time.perf_counter()
            result = await call_url(tool, arguments, timeout=min(self.setup.turn_timeout, 30.0))
            self._advance((time.perf_counter() - started) * 1000)
            mocked = True
        elif not mocked:
            self.record.violations.append(f"unmocked tool call {tool.name}({json.dumps(arguments, sort_keys=True)}) at node '{node.id}'")
        self.record.tools_called.append(ToolCallRecord(name=tool.name, arguments=arguments, result=result, node_id=node.id, mocked=mocked))
        response_variables = tool.metadata.get("response_variables") or {}
        if isinstance(result, dict):
            for variable, path in response_variables.items():
                value = _lookup(result, str(path))
                if value is not None:
                    self.record.variables[str(variable)] = str(value)
        return result

    # ---------------------------------------------------------------- movement

    async def _go(self, node: AgentNode, target: str) -> None:
        """Leave `node` (extracting its variables, if it has any) and enter `target`."""
        if node.node_type == "conversation" and node.variables_to_extract:
            await self._extract(node, node.variables_to_extract)
        await self._enter(target)

    async def _enter(self, target: str, first: bool = False) -> None:
        """Move to `target`, then through logic, extract and function nodes."""
        while True:
            if not first:
                self.hops.append(target)
                if len(self.hops) > MAX_HOPS:
                    path = " -> ".join(self.hops[-8:])
                    raise _Loop(f"more than {MAX_HOPS} transitions without the caller speaking (... {path}); the graph loops")
            first = False
            self.node_id = target
            self.spoke_in_node = False
            self.record.nodes_visited.append(target)
            node = self.graph.nodes[target]
            if node.node_type not in SILENT:
                return
            if node.node_type == "extract":
                await self._extract(node, node.variables_to_extract)
            elif node.node_type == "function":
                await self._function_node(node)
            chosen = deterministic_target(node, self.record.variables)
            if chosen is None and any(t.condition.type == "llm_prompt" for t in node.transitions):
                chosen = await self._choose_edge(node)
            if chosen is None:
                raise _Stuck(
                    f"{node.node_type} node '{node.id}' has no edge that applies "
                    f"(variables: {json.dumps(self.record.variables, sort_keys=True)[:200]}); add an else edge"
                )
            target = chosen

    async def _choose_edge(self, node: AgentNode) -> str | None:
        edges = offered_edges(self.graph, node, None)
        reply = await self._ask(
            "agent",
            [{"role": "system", "content": self._system_prompt(node, [])}, *self.history],
            [route_tool(e, self.setup.cot_transitions) for e in edges],
            "required",
            node,
            routes={e.target: e.tool_name for e in edges},
        )
        by_route = {e.tool_name: e for e in edges}
        for call in reply.tool_calls:
            if call.name in by_route:
                return by_route[call.name].target
        self.record.violations.append(f"at {node.node_type} node '{node.id}' the model chose no offered edge")
        return None

    async def _extract(self, node: AgentNode, specs: list[VariableSpec]) -> None:
        properties = {
            spec.name: {"type": "string", "description": spec.description or spec.name} | ({"enum": spec.choices} if spec.choices else {})
            for spec in specs
        }
        tool = {
            "type": "function",
            "function": {
                "name": "record_variables",
                "description": "Record the values stated in the call.",
                "parameters": {"type": "object", "properties": properties},
            },
        }
        transcript = "\n".join(f"{'Agent' if t.role == 'agent' else 'Caller'}: {t.content}" for t in self.record.transcript if t.role != "tool")
        reply = await self._ask(
            "extract",
            [
                {
                    "role": "system",
                    "content": "Extract the requested variables from this phone call transcript and call record_variables. Leave out values that were not stated.",
                },
                {"role": "user", "content": transcript or "(nothing has been said yet)"},
            ],
            [tool],
            {"type": "function", "function": {"name": "record_variables"}},
            node,
        )
        for call in reply.tool_calls:
            values, _ = parse_arguments(call.arguments)
            for name, value in values.items():
                if name in properties and value is not None:
                    self.record.variables[name] = value if isinstance(value, str) else json.dumps(value)

    async def _function_node(self, node: AgentNode) -> None:
        if not node.tools:
            raise _Stuck(f"function node '{node.id}' has no tool to call")
        tool = node.tools[0]
        reply = await self._ask(
            "function",
            [{"role": "system", "content": self._system_prompt(node, [])}, *self.history],
            [openai_tool(tool)],
            {"type": "function", "function": {"name": tool.name}},
            node,
            function=tool.name,
        )
        call = next((c for c in reply.tool_calls if c.name == tool.name), None)
        if call is None:
            call = ToolCall(id=f"call_{node.id}", name=tool.name, arguments="{}")
            reply.tool_calls = [call]
        reply.content = ""
        self._remember(reply)
        arguments, problem = parse_arguments(call.arguments)
        self._tool_result(call, await self._run_tool(tool, arguments, problem, node))

    # ----------------------------------------------------------------- helpers

    def _context(self, **extra: Any) -> dict[str, Any]:
        return {"script": self.script or {}, **extra} if self.script is not None else dict(extra)

    async def _ask(
        self,
        kind: str,
        messages: list[dict[str, Any]],
        tools: list[dict[str, Any]] | None,
        tool_choice: Any,
        node: AgentNode,
        **context: Any,
    ) -> LLMReply:
        index = self.counters.get(kind, 0)
        self.counters[kind] = index + 1
        model = self.setup.models["agent"] or "scripted"
        request = LLMRequest(
            role="agent",
            kind=kind,
            model=model,
            messages=messages,
            tools=tools,
            tool_choice=tool_choice,
            params=self._params(),
            context=self._context(index=index, caller_turns=self.caller_count, node=node.id, **context),
            repeat_index=self.setup.repeat_index,
        )
        reply = await self.llm.complete(request)
        self._advance(reply.latency_ms)
        self.turn_latency += reply.latency_ms
        return reply

    def _params(self) -> dict[str, Any]:
        temperature = self.graph.source_metadata.get("model_temperature")
        return {"temperature": temperature} if isinstance(temperature, (int, float)) else {}

    def _remember(self, reply: LLMReply) -> None:
        message: dict[str, Any] = {"role": "assistant", "content": reply.content or None}
        if reply.tool_calls:
            message["tool_calls"] = [
                {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments or "{}"}} for c in reply.tool_calls
            ]
        self.history.append(message)

    def _tool_result(self, call: ToolCall, result: Any) -> None:
        content = result if isinstance(result, str) else json.dumps(result, sort_keys=True, default=str)
        self.history.append({"role": "tool", "tool_call_id": call.id, "content": content})

    def _speak(self, text: str, latency: bool = True) -> None:
        if latency:
            self.record.latencies_ms.append(round(self.turn_latency, 1))
            self.turn_latency = 0.0
        self.spoke_in_node = True
        self._say("agent", text)
        if not latency:
            self.history.append({"role": "assistant", "content": text})

    def _say(self, role: str, text: str) -> None:
        if role == "user":
            self.caller_count += 1
        metadata = {"node_id": self.node_id} if role == "agent" else {}
        turn = Turn(role=role, content=text, timestamp=round(self.clock_ms, 1), metadata=metadata)  # type: ignore[arg-type]
        self.record.transcript.append(turn)
        if self.setup.on_turn is not None:
            self.setup.on_turn(turn)
        self.words_spoken += len(text.split())
        limit = self.setup.max_call_minutes
        if limit is not None and self.words_spoken / WORDS_PER_MINUTE > limit:
            self._finish("call_timeout")

    def _advance(self, milliseconds: float) -> None:
        self.clock_ms += milliseconds

    def _end(self, reason: str, error: str | None = None) -> None:
        self.record.end_reason = reason
        self.record.error = error

    def _finish(self, reason: str, error: str | None = None) -> None:
        self._end(reason, error)
        raise CallEnded(reason)


class _Loop(VoicetestError):
    """The graph moved too many times without a spoken turn."""


class _Stuck(VoicetestError):
    """A node that does not speak has no edge to take."""


def _lookup(data: dict[str, Any], path: str) -> Any:
    current: Any = data
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current
