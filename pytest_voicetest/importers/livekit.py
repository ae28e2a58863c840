"""LiveKit Agents Python code, read with `ast` and never executed.

Each `Agent` subclass becomes a node: `instructions=` (string literals, f-strings with
`{name}` kept as `{{name}}`, concatenations and module-level constants) is its prompt;
`@function_tool` methods are tools, except those that return another Agent, which are
handoff edges whose condition is the tool's docstring. `session.start(agent=X())`
(or `get_entry_agent`, or the first class) picks the entry node; `session.say("...")`
at the start becomes the greeting; `llm=openai.LLM(model="...")` the default model.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..models.graph import AgentGraph, graph_from_data
from .common import builtin_tool_type

_JSON_TYPES = {"str": "string", "int": "integer", "float": "number", "bool": "boolean", "dict": "object"}
_CONTEXT_TYPES = {"RunContext", "JobContext"}


def detect(source_text: str) -> bool:
    return "livekit" in source_text and "Agent" in source_text


class _Module:
    """Resolves constant strings and finds agent classes in one parsed module."""

    def __init__(self, tree: ast.Module) -> None:
        self.tree = tree
        self.constants: dict[str, str] = {}
        self.functions: dict[str, ast.AsyncFunctionDef | ast.FunctionDef] = {}
        for stmt in tree.body:
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
                value = self.string(stmt.value)
                if value is not None:
                    self.constants[stmt.targets[0].id] = value
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.functions[stmt.name] = stmt
        self.classes = self._agent_classes()

    def string(self, node: ast.AST | None) -> str | None:
        """The string a constant expression evaluates to, with f-string fields as {{name}}."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return self.constants.get(node.id)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.string(node.left), self.string(node.right)
            return None if left is None or right is None else left + right
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                if isinstance(value, ast.Constant):
                    parts.append(str(value.value))
                elif isinstance(value, ast.FormattedValue):
                    parts.append("{{" + ast.unparse(value.value).split(".")[-1] + "}}")
            return "".join(parts)
        return None

    def _agent_classes(self) -> dict[str, ast.ClassDef]:
        classes: dict[str, ast.ClassDef] = {}
        changed = True
        all_classes = [s for s in ast.walk(self.tree) if isinstance(s, ast.ClassDef)]
        while changed:
            changed = False
            for cls in all_classes:
                if cls.name in classes:
                    continue
                bases = {_dotted_tail(b) for b in cls.bases}
                if "Agent" in bases or bases & classes.keys():
                    classes[cls.name] = cls
                    changed = True
        return dict(sorted(classes.items(), key=lambda item: item[1].lineno))


def _dotted_tail(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _dotted_tail(node.func)
    return ""


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _is_function_tool(func: ast.AsyncFunctionDef | ast.FunctionDef) -> ast.expr | None:
    for decorator in func.decorator_list:
        if _dotted_tail(decorator) == "function_tool":
            return decorator
    return None


def _annotation_schema(node: ast.expr | None) -> dict[str, Any]:
    if node is None:
        return {"type": "string"}
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return {"type": "string"}
    if isinstance(node, ast.Subscript):
        head = _dotted_tail(node.value)
        inner = node.slice
        if head == "Annotated" and isinstance(inner, ast.Tuple) and inner.elts:
            schema = _annotation_schema(inner.elts[0])
            for extra in inner.elts[1:]:
                if isinstance(extra, ast.Call):
                    description = _keyword(extra, "description")
                    if isinstance(description, ast.Constant):
                        schema["description"] = str(description.value)
            return schema
        if head == "Literal":
            values = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            return {"type": "string", "enum": [v.value for v in values if isinstance(v, ast.Constant)]}
        if head in {"list", "List", "Sequence"}:
            return {"type": "array", "items": _annotation_schema(inner)}
        if head in {"Optional"}:
            return _annotation_schema(inner)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left = node.left
        return _annotation_schema(node.right if isinstance(left, ast.Constant) and left.value is None else left)
    return {"type": _JSON_TYPES.get(_dotted_tail(node), "string")}


def _arg_docs(docstring: str) -> dict[str, str]:
    """Descriptions from a Google-style `Args:` section."""
    docs: dict[str, str] = {}
    in_args = False
    for line in docstring.splitlines():
        stripped = line.strip()
        if stripped.lower() in {"args:", "arguments:", "parameters:"}:
            in_args = True
        elif in_args and ":" in stripped and not stripped.endswith(":"):
            name, _, description = stripped.partition(":")
            docs[name.split("(")[0].strip()] = description.strip()
        elif in_args:
            in_args = False
    return docs


def _is_context(arg: ast.arg) -> bool:
    if arg.annotation is None:
        return arg.arg in {"self", "cls", "ctx", "context"}
    return _dotted_tail(arg.annotation) in _CONTEXT_TYPES


def _parameters(func: ast.AsyncFunctionDef | ast.FunctionDef, docstring: str) -> dict[str, Any]:
    positional = func.args.args
    defaults = {a.arg for a in positional[len(positional) - len(func.args.defaults) :]}
    defaults |= {a.arg for a, d in zip(func.args.kwonlyargs, func.args.kw_defaults, strict=True) if d is not None}
    docs = _arg_docs(docstring)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for arg in positional + func.args.kwonlyargs:
        if _is_context(arg):
            continue
        schema = _annotation_schema(arg.annotation)
        if arg.arg in docs and "description" not in schema:
            schema["description"] = docs[arg.arg]
        properties[arg.arg] = schema
        if arg.arg not in defaults:
            required.append(arg.arg)
    if not properties:
        return {}
    return {"type": "object", "properties": properties, "required": required}


def _handoff_target(func: ast.AsyncFunctionDef | ast.FunctionDef, classes: dict[str, ast.ClassDef]) -> str | None:
    for node in ast.walk(func):
        if isinstance(node, ast.Return) and node.value is not None:
            values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
            for value in values:
                if isinstance(value, ast.Call) and _dotted_tail(value.func) in classes:
                    return _dotted_tail(value.func)
    return None


def _tool(func: ast.AsyncFunctionDef | ast.FunctionDef, decorator: ast.expr) -> dict[str, Any]:
    docstring = inspect.cleandoc(ast.get_docstring(func) or "")
    name, description = func.name, docstring.split("\n\n")[0].strip()
    if isinstance(decorator, ast.Call):
        for key in ("name", "description"):
            value = _keyword(decorator, key)
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                name, description = (value.value, description) if key == "name" else (name, value.value)
    return {
        "name": name,
        "description": description,
        "parameters": _parameters(func, docstring),
        "type": builtin_tool_type(name) or "custom",
        "metadata": {"line": func.lineno},
    }


def _calls(tree: ast.AST, method: str) -> list[ast.Call]:
    return [node for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == method]


def _node_id(class_name: str) -> str:
    return class_name[len("Agent_") :] if class_name.startswith("Agent_") and len(class_name) > 6 else class_name


def load(source_text: str, source: str | Path | None = None) -> AgentGraph:
    try:
        return _load(source_text, source)
    except (RecursionError, MemoryError):
        raise InputError(
            "the code nests too deeply to read (an expression thousands of levels deep)",
            source=source,
            fix="build long prompts from fewer pieces, e.g. one string constant",
        ) from None


def _load(source_text: str, source: str | Path | None) -> AgentGraph:
    try:
        tree = ast.parse(source_text, filename=str(source or "<agent>"))
    except SyntaxError as exc:
        raise InputError(f"Python syntax error: {exc.msg}", source=source, line=exc.lineno, fix="fix the agent code") from None
    module = _Module(tree)
    if not module.classes:
        raise InputError("no LiveKit Agent subclass found", source=source, fix="define `class MyAgent(Agent)` in this file")
    nodes: dict[str, Any] = {}
    for class_name, cls in module.classes.items():
        instructions = ""
        tools: list[dict[str, Any]] = []
        transitions: list[dict[str, Any]] = []
        metadata: dict[str, Any] = {"class": class_name, "line": cls.lineno}
        for call in (c for c in ast.walk(cls) if isinstance(c, ast.Call) and _dotted_tail(c.func) == "__init__"):
            instructions = module.string(_keyword(call, "instructions")) or instructions
            listed = _keyword(call, "tools")
            for item in listed.elts if isinstance(listed, (ast.List, ast.Tuple)) else []:
                func = module.functions.get(_dotted_tail(item))
                decorator = func and _is_function_tool(func)
                if func and decorator:
                    tools.append(_tool(func, decorator))
        for stmt in cls.body:
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            decorator = _is_function_tool(stmt)
            if decorator is not None:
                tool = _tool(stmt, decorator)
                target = _handoff_target(stmt, module.classes)
                if target:
                    transitions.append(
                        {
                            "target_node_id": _node_id(target),
                            "condition": {"type": "llm_prompt", "value": tool["description"] or tool["name"]},
                            "description": tool["name"],
                        }
                    )
                else:
                    tools.append(tool)
            elif stmt.name == "on_enter":
                for say in _calls(stmt, "say"):
                    metadata["on_enter_say"] = module.string(say.args[0]) if say.args else None
                for reply in _calls(stmt, "generate_reply"):
                    metadata["on_enter_instructions"] = module.string(_keyword(reply, "instructions"))
        docstring = ast.get_docstring(cls)
        if docstring:
            metadata["docstring"] = docstring
        node_id = _node_id(class_name)
        nodes[node_id] = {
            "id": node_id,
            "state_prompt": instructions,
            "node_type": "conversation",
            "tools": tools,
            "transitions": transitions,
            "metadata": metadata,
        }
    entry, greeting, model = _session_settings(module)
    entry_id = _node_id(entry) if entry else next(iter(nodes))
    graph = {
        "nodes": nodes,
        "entry_node_id": entry_id,
        "source_type": "livekit",
        "source_metadata": {"file": Path(source).name if source else None},
        "default_model": model,
        "begin_message": greeting or nodes[entry_id]["metadata"].get("on_enter_say"),
    }
    return graph_from_data(graph, source)


def _session_settings(module: _Module) -> tuple[str | None, str | None, str | None]:
    """The entry agent class, a spoken greeting and the LLM model named by the session code."""
    entry: str | None = None
    for call in _calls(module.tree, "start"):
        agent = _keyword(call, "agent")
        if isinstance(agent, ast.Call) and _dotted_tail(agent.func) in module.classes:
            entry = _dotted_tail(agent.func)
    if entry is None and "get_entry_agent" in module.functions:
        target = _handoff_target(module.functions["get_entry_agent"], module.classes)
        entry = target
    greeting = None
    for name in ("entrypoint", "main"):
        func = module.functions.get(name)
        for say in _calls(func, "say") if func else []:
            greeting = greeting or (module.string(say.args[0]) if say.args else None)
    model: str | None = None
    for call in (c for c in ast.walk(module.tree) if isinstance(c, ast.Call) and _dotted_tail(c.func) == "AgentSession"):
        llm = _keyword(call, "llm")
        if isinstance(llm, ast.Call):
            model_name = module.string(_keyword(llm, "model"))
            provider = ast.unparse(llm.func).split(".")[0]
            if model_name:
                model = model_name if "/" in model_name else f"{provider}/{model_name}"
        elif llm is not None:
            model = module.string(llm)
    return entry, greeting, model
