"""VoiceSim operations: create, list, evaluate, sample, show, summary, points, complete.

Each takes a Store (see `store.open_store`) so the Python API, the CLI and the pytest
plugin share one implementation and one database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from .adapters import adapter_log
from .pipeline import simulate
from .scenarios import BUILTIN_SCENARIOS, Scenario, resolve_scenarios
from .space import DEFAULT_SPACE, Space
from .store import EvaluationRecord, RunRecord, Store, point_key
from .summary import summarise

LIST_LIMIT, LIST_MAX = 20, 100
POINTS_LIMIT, POINTS_MAX = 50, 200
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Evaluation:
    point: tuple[int, ...]
    scenario: str
    score: float
    penalties: list[dict[str, Any]]

    def to_data(self) -> dict[str, Any]:
        return {"point": list(self.point), "scenario": self.scenario, "score": round(self.score, 6), "penalties": self.penalties}


def _bounded(value: Any, default: int, maximum: int, field: str) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise InputError(f"{field} must be a whole number 1..{maximum}, got {value!r}", field=field)
    return value


def run_context(
    store: Store, run_id: str, custom: dict[str, Scenario] | None = None, strict: bool = True
) -> tuple[RunRecord, Space, list[Scenario]]:
    """The run, its space and its scenarios (`strict`: all scenarios must be known here)."""
    run = store.get_run(run_id)
    space = Space.from_data(run.space)
    available = {**BUILTIN_SCENARIOS, **(custom or {})}
    scenarios = [available[name] for name in run.scenarios if name in available]
    missing = [name for name in run.scenarios if name not in available]
    if missing and strict:
        raise InputError(f"run {run_id} uses scenarios this process does not know: {missing}", field="scenarios", fix="load the same scenario files")
    return run, space, scenarios


def create(
    store: Store,
    name: str,
    *,
    space: Space | None = None,
    scenarios: Sequence[str] | None = None,
    seed: int = 0,
    custom: dict[str, Scenario] | None = None,
    run_id: str | None = None,
) -> RunRecord:
    """A new run; with `run_id`, the existing run of that id (so a re-run resumes it)."""
    if not isinstance(name, str) or not name.strip():
        raise InputError("a run needs a non-empty name", field="name")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InputError(f"seed must be a whole number, got {seed!r}", field="seed")
    chosen = [s.name for s in resolve_scenarios(list(scenarios) if scenarios else None, custom)]
    data = (space or DEFAULT_SPACE).to_data()
    if run_id is not None:
        return store.ensure_run(run_id, name.strip(), data, chosen, seed)
    return store.create_run(name.strip(), data, chosen, seed)


def list_runs(store: Store, limit: int | None = None) -> list[RunRecord]:
    return store.list_runs(_bounded(limit, LIST_LIMIT, LIST_MAX, "limit"))


def evaluate_points(space: Space, scenario: Scenario, points: np.ndarray) -> list[Evaluation]:
    """Simulate many points on one scenario (vectorised)."""
    log = simulate(space, scenario, points)
    scores = log.scores()
    return [
        Evaluation(tuple(int(v) for v in points[i]), scenario.name, float(scores[i]), [p.to_data() for p in log.for_point(i)])
        for i in range(points.shape[0])
    ]


def evaluate(store: Store, run_id: str, point: Sequence[Any], scenario: str, custom: dict[str, Scenario] | None = None) -> Evaluation:
    """Evaluate one point against one of the run's scenarios and store it."""
    run, space, scenarios = run_context(store, run_id, custom)
    checked = space.validate_point(point)
    by_name = {s.name: s for s in scenarios}
    if scenario not in by_name:
        raise InputError(f"run {run_id} has no scenario '{scenario}'", field="scenario", fix="use one of: " + ", ".join(by_name))
    [result] = evaluate_points(space, by_name[scenario], np.array([checked]))
    store.add_evaluations(run.id, [(result.point, result.scenario, result.score, result.penalties)])
    return result


def sample(
    store: Store,
    run_id: str,
    n_points: int,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
    custom: dict[str, Scenario] | None = None,
    only: Sequence[str] | None = None,
    chunk: int = 64,
) -> dict[str, Any]:
    """Latin-hypercube `n_points` and evaluate each against every scenario of the run
    (or the `only` ones).

    Evaluations already stored (an interrupted sweep) are skipped, and each chunk is
    stored as soon as it is computed, so stopping loses at most one chunk.
    """
    from .sampling import latin_hypercube

    run, space, scenarios = run_context(store, run_id, custom)
    if only is not None:
        scenarios = [s for s in scenarios if s.name in set(only)]
    points = latin_hypercube(space, n_points, run.seed if seed is None else seed)
    done = store.evaluated(run.id)
    total = len(points) * len(scenarios)
    computed = skipped = 0
    for scenario in scenarios:
        todo = np.array([p for p in points if (point_key(p), scenario.name) not in done], dtype=np.int64).reshape(-1, len(space))
        skipped += len(points) - len(todo)
        for start in range(0, len(todo), chunk):
            results = evaluate_points(space, scenario, todo[start:start + chunk])
            store.add_evaluations(run.id, [(r.point, r.scenario, r.score, r.penalties) for r in results])
            computed += len(results)
            if progress:
                progress(computed + skipped, total)
        if progress and not len(todo):
            progress(computed + skipped, total)
    return {"run_id": run.id, "points": len(points), "scenarios": len(scenarios), "evaluated": computed, "skipped": skipped}


def show(store: Store, run_id: str) -> dict[str, Any]:
    """The run, how far it got, and the best evaluation so far."""
    run = store.get_run(run_id)
    evaluations = store.evaluations(run.id)
    best = max(evaluations, key=lambda e: e.score, default=None)
    return {
        **run.to_data(),
        "evaluations": len(evaluations),
        "points": len({e.point for e in evaluations}),
        "best": best.to_data() if best else None,
    }


def summary(store: Store, run_id: str, custom: dict[str, Scenario] | None = None) -> dict[str, Any]:
    """best_per_scenario, penalty_frequency and config_diff (with the defaults' mean score)."""
    run, space, scenarios = run_context(store, run_id, custom, strict=False)
    default = np.array([space.default_point()])
    default_scores = [evaluate_points(space, scenario, default)[0].score for scenario in scenarios]
    result = summarise(space, store.evaluations(run.id))
    if default_scores:
        result["config_diff"]["default_mean_score"] = round(sum(default_scores) / len(default_scores), 6)
    return result | {"run_id": run.id, "status": run.status}


def points(store: Store, run_id: str, *, scenario: str | None = None, limit: int | None = None, order_by: str = "score") -> list[EvaluationRecord]:
    run = store.get_run(run_id)
    if order_by not in {"score", "time"}:
        raise InputError(f"order_by must be score or time, got {order_by!r}", field="order_by")
    if scenario is not None and scenario not in run.scenarios:
        raise InputError(f"run {run_id} has no scenario '{scenario}'", field="scenario", fix="use one of: " + ", ".join(run.scenarios))
    return store.evaluations(run.id, scenario, _bounded(limit, POINTS_LIMIT, POINTS_MAX, "limit"), order_by)


def complete(store: Store, run_id: str) -> RunRecord:
    return store.complete_run(run_id)


def adapters_for(store: Store, run_id: str, point: Sequence[Any], platforms: Sequence[str] | None = None) -> list[dict[str, Any]]:
    run = store.get_run(run_id)
    space = Space.from_data(run.space)
    return [entry.to_data() for entry in adapter_log(space, point, platforms or ("retell", "vapi", "livekit"))]
