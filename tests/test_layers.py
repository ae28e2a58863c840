"""The package's import graph: layers point one way and nothing imports in a cycle.

Every import counts, at module level and inside functions (lazy imports too). A module
may import its own package and packages of a higher layer (a lower rank), never a
lower layer or another package of its own layer.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "pytest_voicetest"
RANKS = {
    "__init__": 0,
    "errors": 0,
    "redact": 0.1,
    "yamlio": 0.2,
    "database": 0.2,
    "validation": 0.3,  # foundation, in order
    "models": 1,
    "config": 2,
    "importers": 3,
    "exporters": 3.5,  # may read an importer's format tables
    "voicesim": 3,
    "llm": 4,
    "platforms": 4,
    "engine": 5,
    "judges": 6,
    "run": 7,
    "report": 8,
    "api": 9,
    "strategies": 9,
    "testing": 9,
    "cli": 10,
    "plugin": 10,
    "server": 9.5,  # below the CLI, which alone imports it (cli/serve.py)
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, name: str) -> Iterator[tuple[str, int]]:
    """(imported pytest_voicetest module, line) for every import in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("pytest_voicetest"):
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("pytest_voicetest"):
                continue
            for alias in node.names:  # `from . import x` and `from .pkg import module` name modules
                candidate = f"{target}.{alias.name}"
                yield (candidate if candidate in MODULES else target), node.lineno


MODULES = {module_name(path): path for path in PACKAGE.rglob("*.py")}
EDGES = {(name, target, line) for name, path in MODULES.items() for target, line in imports(path, name) if target != name}


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_module_has_a_layer() -> None:
    assert sorted({layer(m) for m in MODULES} - set(RANKS)) == []


def upward(edges: set[tuple[str, str, int]]) -> list[str]:
    """The imports that point into the importer's own layer (another package) or below it."""
    return [
        f"{source}:{line} imports {target} ({layer(source)} rank {RANKS[layer(source)]} -> {layer(target)} rank {RANKS[layer(target)]})"
        for source, target, line in sorted(edges)
        if layer(source) != layer(target) and RANKS[layer(target)] >= RANKS[layer(source)]
    ]


def cycles(edges: set[tuple[str, str, int]]) -> list[list[str]]:
    """The import cycles (strongly connected components of more than one module)."""
    graph: dict[str, set[str]] = {}
    for source, target, _ in edges:
        graph.setdefault(source, set()).add(target)
        graph.setdefault(target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return found


def test_imports_only_point_up() -> None:
    assert upward(EDGES) == []


def test_no_import_cycles() -> None:
    assert cycles(EDGES) == []


def test_the_checks_catch_violations() -> None:
    assert upward({("pytest_voicetest.models.graph", "pytest_voicetest.run.runner", 3)}) != []
    assert upward({("pytest_voicetest.importers.vapi", "pytest_voicetest.exporters.vapi", 3)}) != []  # same layer, other package
    assert cycles({("pytest_voicetest.run.a", "pytest_voicetest.run.b", 1), ("pytest_voicetest.run.b", "pytest_voicetest.run.a", 1)}) != []


def test_figures() -> None:
    """The graph is not trivially empty: every layer has modules and the edges were found."""
    assert len(MODULES) > 60 and len(EDGES) > 150
    assert {layer(m) for m in MODULES} == set(RANKS)


def test_only_the_plugin_imports_pytest() -> None:
    importers = sorted(
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        if layer(module_name(path)) not in {"plugin", "strategies"}
        and any(
            (isinstance(n, ast.Import) and any(a.name == "pytest" or a.name.startswith("_pytest") for a in n.names))
            or (isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] in {"pytest", "_pytest"})
            for n in ast.walk(ast.parse(path.read_text()))
        )
    )
    assert importers == []
