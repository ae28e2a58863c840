"""Summaries of evaluations: best point per scenario, penalty frequency, the best
configuration's difference from production defaults, dimension influence, and a plot.

Influence of a dimension = the spread (max - min) of the mean score per bin; the plot
shows mean score over the two most influential dimensions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Protocol

from ..errors import InputError
from .space import Space


class Scored(Protocol):
    point: tuple[int, ...]
    scenario: str
    score: float
    penalties: list[dict[str, Any]]


def _values(space: Space, point: Sequence[int]) -> dict[str, Any]:
    return space.values(point)


def best_per_scenario(space: Space, evaluations: Iterable[Scored]) -> dict[str, dict[str, Any]]:
    best: dict[str, Scored] = {}
    for evaluation in evaluations:
        current = best.get(evaluation.scenario)
        if current is None or evaluation.score > current.score:
            best[evaluation.scenario] = evaluation
    return {
        name: {"point": list(e.point), "score": round(e.score, 6), "values": _values(space, e.point)}
        for name, e in sorted(best.items())
    }


def penalty_frequency(evaluations: Sequence[Scored]) -> list[dict[str, Any]]:
    """Per penalty type: evaluations hit, share of evaluations, occurrences, total cost; most frequent first."""
    hit: dict[str, int] = defaultdict(int)
    occurrences: dict[str, int] = defaultdict(int)
    cost: dict[str, float] = defaultdict(float)
    for evaluation in evaluations:
        seen = set()
        for penalty in evaluation.penalties:
            occurrences[penalty["type"]] += 1
            cost[penalty["type"]] += penalty["weight"] * penalty["amount"]
            seen.add(penalty["type"])
        for kind in seen:
            hit[kind] += 1
    total = max(len(evaluations), 1)
    rows = [
        {"type": kind, "evaluations": hit[kind], "share": round(hit[kind] / total, 4), "occurrences": occurrences[kind], "total_cost": round(cost[kind], 4)}
        for kind in hit
    ]
    return sorted(rows, key=lambda row: (-row["evaluations"], -row["total_cost"], row["type"]))


def mean_by_point(evaluations: Sequence[Scored]) -> tuple[dict[tuple[int, ...], float], int]:
    """Mean score of each point over the scenarios it was scored on, for points scored on all of them."""
    scenarios = {e.scenario for e in evaluations}
    scores: dict[tuple[int, ...], list[float]] = defaultdict(list)
    for evaluation in evaluations:
        scores[tuple(evaluation.point)].append(evaluation.score)
    complete = {point: sum(values) / len(values) for point, values in scores.items() if len(values) == len(scenarios)}
    return complete, len(scenarios)


def config_diff(space: Space, evaluations: Sequence[Scored]) -> dict[str, Any]:
    """The best point over all scenarios against the production defaults."""
    means, scenario_count = mean_by_point(evaluations)
    if not means:
        return {"best_point": None, "changes": []}
    best_point, best_mean = max(means.items(), key=lambda item: (item[1], [-i for i in item[0]]))
    default = space.default_point()
    changes = [
        {"dimension": d.name, "default": d.bins[d.default], "best": d.bins[best_point[i]], "description": d.description}
        for i, d in enumerate(space.dimensions)
        if best_point[i] != default[i]
    ]
    return {
        "best_point": list(best_point),
        "best_mean_score": round(best_mean, 6),
        "default_mean_score": round(means[default], 6) if default in means else None,
        "scenarios": scenario_count,
        "changes": changes,
    }


def influence(space: Space, evaluations: Sequence[Scored]) -> list[dict[str, Any]]:
    """Per dimension, the spread of the mean score across its bins; largest first."""
    rows = []
    for index, dimension in enumerate(space.dimensions):
        per_bin: dict[int, list[float]] = defaultdict(list)
        for evaluation in evaluations:
            per_bin[evaluation.point[index]].append(evaluation.score)
        means = {b: sum(v) / len(v) for b, v in per_bin.items()}
        spread = max(means.values()) - min(means.values()) if len(means) > 1 else 0.0
        rows.append({"dimension": dimension.name, "spread": round(spread, 6), "bin_means": {str(dimension.bins[b]): round(m, 4) for b, m in sorted(means.items())}})
    return sorted(rows, key=lambda row: (-row["spread"], row["dimension"]))


def summarise(space: Space, evaluations: Sequence[Scored]) -> dict[str, Any]:
    return {
        "evaluations": len(evaluations),
        "best_per_scenario": best_per_scenario(space, evaluations),
        "penalty_frequency": penalty_frequency(evaluations),
        "config_diff": config_diff(space, evaluations),
        "influence": influence(space, evaluations)[:5],
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
    import numpy as np

    first, second = (space.names.index(row["dimension"]) for row in influence(space, evaluations)[:2])
    a, b = space.dimensions[first], space.dimensions[second]
    total = np.zeros((len(b.bins), len(a.bins)))
    count = np.zeros_like(total)
    for evaluation in evaluations:
        total[evaluation.point[second], evaluation.point[first]] += evaluation.score
        count[evaluation.point[second], evaluation.point[first]] += 1
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
