"""Summaries of evaluations: best point per scenario, penalty frequency, the best
configuration's difference from production defaults, dimension influence, and a plot.

Everything is computed with numpy over a run's evaluations as columns (`store.Columns`),
so a summary of 100,000 evaluations takes milliseconds. Influence of a dimension = the
spread (max - min) of the mean score per bin; the plot shows mean score over the two
most influential dimensions.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..errors import InputError
from .scoring import PENALTY_TYPES
from .space import Space
from .store import Columns, unique_points


class Scored(Protocol):
    @property
    def point(self) -> tuple[int, ...]: ...

    @property
    def score(self) -> float: ...


def best_per_scenario(space: Space, table: Columns) -> dict[str, dict[str, Any]]:
    """Per scenario (by name), the highest-scoring point (the earliest among equals)."""
    best = {}
    for name in sorted(set(table.scenarios.tolist())):
        rows = np.flatnonzero(table.scenarios == name)
        row = rows[np.argmax(table.scores[rows])]
        point = tuple(int(v) for v in table.points[row])
        best[name] = {"point": list(point), "score": round(float(table.scores[row]), 6), "values": space.values(point)}
    return best


def penalty_frequency(table: Columns) -> list[dict[str, Any]]:
    """Per penalty type: evaluations hit, share of evaluations, occurrences, total cost; most frequent first."""
    total = max(len(table.scores), 1)
    rows = [
        {
            "type": PENALTY_TYPES[code],
            "evaluations": int(hit),
            "share": round(int(hit) / total, 4),
            "occurrences": int(occurrences),
            "total_cost": round(float(cost), 4),
        }
        for code, (hit, occurrences, cost) in enumerate(table.penalty_stats.tolist())
        if hit
    ]
    return sorted(rows, key=lambda row: (-row["evaluations"], -row["total_cost"], row["type"]))


def mean_by_point(table: Columns) -> tuple[np.ndarray, np.ndarray, int]:
    """Points scored on every scenario of the table (sorted by index tuple) and their mean score."""
    scenario_count = len(set(table.scenarios.tolist()))
    if not len(table.scores):
        return table.points[:0], np.zeros(0), 0
    unique, inverse = unique_points(table.points)
    counts = np.bincount(inverse, minlength=len(unique))
    means = np.bincount(inverse, weights=table.scores, minlength=len(unique)) / np.maximum(counts, 1)
    complete = counts == scenario_count
    return unique[complete], means[complete], scenario_count


def config_diff(space: Space, table: Columns) -> dict[str, Any]:
    """The best point over all scenarios against the production defaults."""
    points, means, scenario_count = mean_by_point(table)
    if not len(means):
        return {"best_point": None, "changes": []}
    index = int(np.argmax(means))  # points are sorted, so among equal means the lowest indices win
    best_point = tuple(int(v) for v in points[index])
    default = space.default_point()
    at_default = np.flatnonzero((points == np.array(default)).all(axis=1))
    changes = [
        {"dimension": d.name, "default": d.bins[d.default], "best": d.bins[best_point[i]], "description": d.description}
        for i, d in enumerate(space.dimensions)
        if best_point[i] != default[i]
    ]
    return {
        "best_point": list(best_point),
        "best_mean_score": round(float(means[index]), 6),
        "default_mean_score": round(float(means[at_default[0]]), 6) if len(at_default) else None,
        "scenarios": scenario_count,
        "changes": changes,
    }


def influence(space: Space, points: np.ndarray, scores: np.ndarray) -> list[dict[str, Any]]:
    """Per dimension, the spread of the mean score across its bins; largest first."""
    rows = []
    for index, dimension in enumerate(space.dimensions):
        column = points[:, index]
        counts = np.bincount(column, minlength=len(dimension.bins))
        sums = np.bincount(column, weights=scores, minlength=len(dimension.bins))
        present = np.flatnonzero(counts)
        means = sums[present] / counts[present]
        spread = float(means.max() - means.min()) if len(means) > 1 else 0.0
        rows.append(
            {
                "dimension": dimension.name,
                "spread": round(spread, 6),
                "bin_means": {str(dimension.bins[b]): round(float(m), 4) for b, m in zip(present.tolist(), means.tolist(), strict=False)},
            }
        )
    return sorted(rows, key=lambda row: (-row["spread"], row["dimension"]))


def summarise_columns(space: Space, table: Columns) -> dict[str, Any]:
    return {
        "evaluations": len(table.scores),
        "best_per_scenario": best_per_scenario(space, table),
        "penalty_frequency": penalty_frequency(table),
        "config_diff": config_diff(space, table),
        "influence": influence(space, table.points, table.scores)[:5],
    }


def summary_lines(summary: dict[str, Any], top: int = 5) -> list[str]:
    """Terminal lines for a summary."""
    lines = [f"{summary['evaluations']} evaluations"]
    for name, best in summary["best_per_scenario"].items():
        lines.append(f"  best {name}: {best['score']:.3f} at {best['point']}")
    frequent = summary["penalty_frequency"][:top]
    if frequent:
        lines.append("  penalties: " + ", ".join(f"{row['type']} {row['share']:.0%}" for row in frequent))
    diff = summary["config_diff"]
    if diff.get("best_point"):
        default = diff.get("default_mean_score")
        if default is not None and default >= diff["best_mean_score"]:
            lines.append(f"  production defaults ({default:.3f}) beat every sampled point (best {diff['best_mean_score']:.3f}): keep them")
        else:
            versus = f" vs defaults {default:.3f}" if default is not None else ""
            lines.append(f"  best overall {diff['best_mean_score']:.3f}{versus}; changes from defaults:")
            lines += [f"    {c['dimension']}: {c['default']} -> {c['best']}" for c in diff["changes"]]
    return lines


def preload_plotting() -> None:
    """Import most of what `plot` needs (matplotlib's figure and Agg modules) without
    choosing a backend, so a thread may do it; nothing when matplotlib is missing."""
    with contextlib.suppress(ImportError):
        import matplotlib.backends.backend_agg  # noqa: F401
        import matplotlib.figure  # noqa: F401


def plot(space: Space, evaluations: Sequence[Scored], path: Path) -> Path:
    """A PNG heatmap of mean score over the two most influential dimensions."""
    if not evaluations:
        raise InputError("nothing to plot: the run has no evaluations", field="run_id", fix="sample points first")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise InputError("plots need matplotlib", fix="pip install 'pytest-voicetest[plot]'") from None

    points = np.array([e.point for e in evaluations], dtype=np.int64)
    scores = np.array([e.score for e in evaluations], dtype=float)
    first, second = (space.names.index(row["dimension"]) for row in influence(space, points, scores)[:2])
    a, b = space.dimensions[first], space.dimensions[second]
    cells = points[:, second] * len(a.bins) + points[:, first]
    size = len(a.bins) * len(b.bins)
    count = np.bincount(cells, minlength=size).reshape(len(b.bins), len(a.bins))
    total = np.bincount(cells, weights=scores, minlength=size).reshape(count.shape)
    grid = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    figure, axes = plt.subplots(figsize=(7, 5))
    image = axes.imshow(grid, origin="lower", cmap="viridis", vmin=0, vmax=1, aspect="auto")
    axes.set_xticks(range(len(a.bins)), [str(v) for v in a.bins])
    axes.set_yticks(range(len(b.bins)), [str(v) for v in b.bins])
    axes.set_xlabel(f"{a.name} ({a.unit})")
    axes.set_ylabel(f"{b.name} ({b.unit})")
    axes.set_title(f"Mean score over {len(evaluations)} evaluations")
    for (row, column), value in np.ndenumerate(grid):
        if not np.isnan(value):
            axes.text(column, row, f"{value:.2f}", ha="center", va="center", color="white" if value < 0.6 else "black", fontsize=8)
    figure.colorbar(image, ax=axes, label="score")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
