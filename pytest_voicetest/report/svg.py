"""Geometry for the HTML report's drawings; the templates turn it into SVG.

- `layout_graph`: a layered layout of an agent graph view (`exporters.view` shape): each
  node's layer is its BFS depth from the entry (global edges leave a virtual `*` node
  beside the entry), nodes in discovery order within a layer, forward edges as curves
  down, back edges bowing out on the right, edges within a layer arching above.
- `path_overlay`: one call's visited path over that layout: step numbers, the edges
  taken (a direct jump where the graph has no such edge), failing and missing nodes.
- `heatmap`: mean score per setting bin of the most influential VoiceSim dimensions.

Everything is linear in the size of its input: the report stays fast with 1,000 calls.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NODE_W, NODE_H = 150, 42
COL_GAP, ROW_GAP, PAD, BOW = 26, 48, 14, 44
GLOBAL = "*"
NAME_CHARS = 22


def clip(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


@dataclass(frozen=True)
class Box:
    """A node's rectangle."""

    id: str
    name: str
    type: str
    x: float
    y: float
    w: float = NODE_W
    h: float = NODE_H

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def label(self) -> str:
        return clip(self.id, NAME_CHARS)

    @property
    def caption(self) -> str:
        shown = self.name if self.name != self.id else self.type
        return clip(shown, NAME_CHARS + 4)


@dataclass(frozen=True)
class Edge:
    """A drawn transition: its SVG path and the condition shown on hover."""

    source: str
    target: str
    label: str
    kind: str
    d: str


@dataclass
class GraphLayout:
    """Where every node and edge of one agent graph is drawn."""

    width: float
    height: float
    boxes: dict[str, Box]
    edges: list[Edge]
    first_edge: dict[tuple[str, str], Edge]
    layers: dict[str, int]


@dataclass(frozen=True)
class Step:
    """A visited node with the step numbers at which the call was there."""

    box: Box
    label: str


@dataclass
class Overlay:
    """One call's path drawn over its agent's layout."""

    steps: list[Step]
    edges: list[str]
    jumps: list[str]
    failing: list[Box]
    missing: list[Box]
    unknown: list[str]


def _edge_path(source: Box, target: Box, layer: Mapping[str, int]) -> str:
    if source.id == target.id:
        x, y = source.x + source.w, source.cy
        return f"M{x:.0f},{y - 8:.0f} C{x + BOW:.0f},{y - 26:.0f} {x + BOW:.0f},{y + 26:.0f} {x:.0f},{y + 8:.0f}"
    down, up = layer[target.id] > layer[source.id], layer[target.id] < layer[source.id]
    if down:
        x1, y1, x2, y2 = source.cx, source.y + source.h, target.cx, target.y
        mid = (y2 - y1) / 2
        return f"M{x1:.0f},{y1:.0f} C{x1:.0f},{y1 + mid:.0f} {x2:.0f},{y2 - mid:.0f} {x2:.0f},{y2:.0f}"
    if up:
        x1, x2 = source.x + source.w, target.x + target.w
        bow = max(x1, x2) + BOW
        return f"M{x1:.0f},{source.cy:.0f} C{bow:.0f},{source.cy:.0f} {bow:.0f},{target.cy:.0f} {x2:.0f},{target.cy:.0f}"
    top = source.y - ROW_GAP * 0.6
    return f"M{source.cx:.0f},{source.y:.0f} C{source.cx:.0f},{top:.0f} {target.cx:.0f},{top:.0f} {target.cx:.0f},{target.y:.0f}"


def _layers(view: Mapping[str, Any]) -> dict[str, int]:
    """BFS depth of every node from the entry (and the virtual global node); unreachable
    parts get the next layers down, each explored from its first node."""
    ids = [str(node["id"]) for node in view.get("nodes", [])]
    edges = view.get("edges", [])
    children: dict[str, list[str]] = {node: [] for node in ids}
    starts = [str(view.get("entry") or (ids[0] if ids else ""))]
    if any(edge.get("source") == GLOBAL for edge in edges):
        children[GLOBAL] = []
        starts.append(GLOBAL)
    for edge in edges:
        source, target = str(edge.get("source")), str(edge.get("target"))
        if source in children and target in children:
            children[source].append(target)
    layer: dict[str, int] = {}
    pending = deque((start, 0) for start in starts if start in children)
    unplaced = iter(ids)
    deepest = -1
    while True:
        while pending:
            node, depth = pending.popleft()
            if node in layer:
                continue
            layer[node] = depth
            deepest = max(deepest, depth)
            pending.extend((child, depth + 1) for child in children[node] if child not in layer)
        rest = next((node for node in unplaced if node not in layer), None)
        if rest is None:
            return layer
        pending.append((rest, deepest + 1))


def layout_graph(view: Mapping[str, Any]) -> GraphLayout:
    """A layered layout of a graph view: {entry, nodes[{id, type, name}], edges[{source, target, label, kind}]}."""
    layer = _layers(view)
    names = {str(node["id"]): (str(node.get("name") or node["id"]), str(node.get("type") or "")) for node in view.get("nodes", [])}
    names[GLOBAL] = ("any node", "global")
    rows: dict[int, list[str]] = {}
    for node, depth in layer.items():
        rows.setdefault(depth, []).append(node)
    widest = max((len(row) for row in rows.values()), default=0)
    width = PAD * 2 + widest * NODE_W + max(widest - 1, 0) * COL_GAP + BOW
    boxes: dict[str, Box] = {}
    for depth, row in rows.items():
        used = len(row) * NODE_W + (len(row) - 1) * COL_GAP
        left = PAD + (width - BOW - 2 * PAD - used) / 2
        for index, node in enumerate(row):
            name, kind = names[node]
            boxes[node] = Box(node, name, kind, left + index * (NODE_W + COL_GAP), PAD + ROW_GAP * 0.6 + depth * (NODE_H + ROW_GAP))
    height = PAD * 2 + ROW_GAP * 0.6 + len(rows) * NODE_H + max(len(rows) - 1, 0) * ROW_GAP
    edges: list[Edge] = []
    first: dict[tuple[str, str], Edge] = {}
    for edge in view.get("edges", []):
        source, target = str(edge.get("source")), str(edge.get("target"))
        if source not in boxes or target not in boxes:
            continue
        drawn = Edge(source, target, str(edge.get("label") or ""), str(edge.get("kind") or ""), _edge_path(boxes[source], boxes[target], layer))
        edges.append(drawn)
        first.setdefault((source, target), drawn)
    return GraphLayout(round(width), round(height), boxes, edges, first, layer)


def path_overlay(layout: GraphLayout, visited: Sequence[str], failing: Iterable[str] = (), missing: Iterable[str] = ()) -> Overlay:
    """The visited path over `layout`: numbered steps, edges taken, failing and missing nodes."""
    numbers: dict[str, list[int]] = {}
    for index, node in enumerate(visited, start=1):
        numbers.setdefault(node, []).append(index)
    steps = [
        Step(layout.boxes[node], ",".join(map(str, seen[:3])) + ("\u2026" if len(seen) > 3 else ""))
        for node, seen in numbers.items()
        if node in layout.boxes
    ]
    edges: list[str] = []
    jumps: list[str] = []
    for source, target in zip(visited, visited[1:], strict=False):
        if source not in layout.boxes or target not in layout.boxes:
            continue
        taken = layout.first_edge.get((source, target))
        if taken is not None:
            edges.append(taken.d)
        else:
            jumps.append(_edge_path(layout.boxes[source], layout.boxes[target], layout.layers))
    return Overlay(
        steps=steps,
        edges=edges,
        jumps=jumps,
        failing=[layout.boxes[node] for node in dict.fromkeys(failing) if node in layout.boxes],
        missing=[layout.boxes[node] for node in dict.fromkeys(missing) if node in layout.boxes],
        unknown=[node for node in numbers if node not in layout.boxes],
    )


# ------------------------------------------------------------------ heatmap

CELL_W, CELL_H, LABEL_W = 70, 38, 200
_SCALE = ((0.0, (215, 48, 39)), (0.5, (254, 224, 139)), (1.0, (26, 152, 80)))


def score_color(score: float) -> str:
    """A red-yellow-green colour for a score in [0, 1]."""
    score = min(max(score, 0.0), 1.0)
    (low, a), (high, b) = (_SCALE[0], _SCALE[1]) if score <= 0.5 else (_SCALE[1], _SCALE[2])
    t = (score - low) / (high - low)
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(a, b, strict=True))


@dataclass(frozen=True)
class Cell:
    x: float
    y: float
    bin: str
    score: float
    color: str


@dataclass
class Heatmap:
    """Rows of dimensions, one cell per bin, coloured by the mean score there."""

    width: float
    height: float
    rows: list[tuple[str, float, float]]
    cells: list[Cell]
    cell_w: float = CELL_W
    cell_h: float = CELL_H
    label_x: float = LABEL_W - 8


def heatmap(influence: Sequence[Mapping[str, Any]]) -> Heatmap | None:
    """The heatmap of a VoiceSim summary's `influence` rows ({dimension, spread, bin_means}), or None."""
    rows: list[tuple[str, float, float]] = []
    cells: list[Cell] = []
    columns = 0
    for index, row in enumerate(r for r in influence if r.get("bin_means")):
        y = PAD + index * (CELL_H + 4)
        rows.append((clip(str(row["dimension"]), 28), float(row.get("spread") or 0.0), y))
        means = row["bin_means"]
        columns = max(columns, len(means))
        for column, (value, score) in enumerate(means.items()):
            cells.append(Cell(LABEL_W + column * (CELL_W + 4), y, clip(str(value), 9), float(score), score_color(float(score))))
    if not rows:
        return None
    return Heatmap(LABEL_W + columns * (CELL_W + 4) + PAD, PAD * 2 + len(rows) * (CELL_H + 4), rows, cells)
