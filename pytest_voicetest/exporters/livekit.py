"""LiveKit Agents Python code: one `Agent` subclass per node, handoffs as function tools.

The code is written as text with every string a Python literal (`repr`), so whatever a
prompt holds stays data; `ast` parses it back and our LiveKit importer reads the same
graph (node ids, prompts, handoff conditions, tools and their parameters, the entry node,
the greeting and the model). Class names are `Agent_<node id>`.
"""

from __future__ import annotations

import keyword
import re

from ..models.graph import AgentGraph, AgentNode, ToolDefinition

_UNSAFE = re.compile(r"\W")
_TYPES = {"string": "str", "integer": "int", "number": "float", "boolean": "bool", "object": "dict"}


def _identifier(text: str, taken: set[str]) -> str:
    name = _UNSAFE.sub("_", text) or "node"
    if name[0].isdigit() or keyword.iskeyword(name):
        name = f"n_{name}"
    base, index = name, 2
    while name in taken:
        name, index = f"{base}_{index}", index + 1
    taken.add(name)
    return name


def _docstring(text: str, indent: str) -> str:
    return f"{indent}{repr(text)}\n" if text else ""


def _tool(tool: ToolDefinition, taken: set[str]) -> str:
    name = _identifier(tool.name, taken)
    properties = tool.parameters.get("properties") or {}
    required = set(tool.parameters.get("required") or [])
    params = "".join(
        f", {_identifier(p, set())}: {_TYPES.get(str(spec.get('type')), 'str')}" + ("" if p in required else " = None")
        for p, spec in properties.items()
        if isinstance(spec, dict)
    )
    args = "".join(f"\n        {p}: {spec.get('description', '')}" for p, spec in properties.items() if isinstance(spec, dict))
    doc = tool.description + (f"\n\n        Args:{args}\n        " if args else "")
    decorator = "@function_tool" if name == tool.name else f"@function_tool(name={tool.name!r})"
    body = "        await context.session.aclose()\n" if tool.ends_call else "        return {}\n"
    return f"    {decorator}\n    async def {name}(self, context: RunContext{params}):\n{_docstring(doc, '        ')}{body}"


def _agent(graph: AgentGraph, node: AgentNode, classes: dict[str, str]) -> str:
    prompt = "\n\n".join(part for part in (graph.general_prompt if node.id == graph.entry_node_id else "", node.state_prompt) if part)
    taken: set[str] = set()
    lines = [f"class {classes[node.id]}(Agent):\n", _docstring(f"{node.node_type} node {node.id}", "    "), "\n"]
    lines.append(f"    def __init__(self) -> None:\n        super().__init__(instructions={prompt!r})\n")
    for transition in node.transitions:
        target = classes.get(transition.target_node_id)
        if target is None:
            continue
        name = _identifier(f"route_to_{transition.target_node_id}", taken)
        condition = transition.condition.label() or transition.description or f"go to {transition.target_node_id}"
        lines.append(
            f"\n    @function_tool\n    async def {name}(self, context: RunContext):\n{_docstring(condition, '        ')}        return {target}()\n"
        )
    for tool in node.tools:
        lines.append("\n" + _tool(tool, taken))
    return "".join(lines)


def to_livekit(graph: AgentGraph) -> str:
    """The graph as a LiveKit Agents module (valid Python, never executed by us)."""
    taken: set[str] = set()
    classes = {node_id: "Agent_" + _identifier(node_id, taken) for node_id in graph.nodes}
    parts = [
        '"""LiveKit agents exported by pytest-voicetest."""\n\n',
        "from livekit.agents import Agent, AgentSession, JobContext, RunContext, function_tool\n",
        "from livekit.plugins import openai\n",
    ]
    parts += ["\n\n" + _agent(graph, node, classes) for node in graph.nodes.values()]
    parts.append(f"\n\ndef get_entry_agent() -> Agent:\n    return {classes[graph.entry_node_id]}()\n")
    model = (graph.default_model or "gpt-4o-mini").split("/")[-1]
    session = f"\n\nasync def entrypoint(ctx: JobContext) -> None:\n    session = AgentSession(llm=openai.LLM(model={model!r}))\n"
    session += f"    await session.start(agent={classes[graph.entry_node_id]}(), room=ctx.room)\n"
    if graph.begin_message:
        session += f"    await session.say({graph.begin_message!r})\n"
    parts.append(session)
    return "".join(parts)
