"""VoiceSim operations: create, list, evaluate, sample, show, summary, points, complete.

Each takes a Store (see `store.open_store`) so the Python API, the CLI, the pytest
plugin and the HTTP server share one implementation and one database. Every bad
argument is an `InputError` whose `field` names it (`point[3]`, `scenario`, `n_points`,
`limit`, ...) with the valid range in the message, so a server can answer 422.
`workspace` (optional everywhere) scopes runs: a run of another workspace is "not found".
An unknown run raises `store.RunNotFound` and a write to a completed run
`store.RunCompleted` (both `InputError`s), so a server can answer 404 and 409.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from .adapters import adapter_log
from .pipeline import simulate
from .sampling import draw_new, generator
from .scenarios import BUILTIN_SCENARIOS, Scenario, resolve_scenarios
from .scoring import penalty_data
from .space import DEFAULT_SPACE, Space, check_count, check_seed
from .store import Batch, EvaluationRecord, RunRecord, Store, completed_error, encode_points
from .summary import summarise_columns

LIST_LIMIT, LIST_MAX = 20, 100
POINTS_LIMIT, POINTS_MAX = 50, 200
MAX_OFFSET = 10**9
CHUNK = 1024
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Evaluation:
    point: tuple[int, ...]
    scenario: str
    score: float
    penalties: list[dict[str, Any]]
    adapter_log: list[dict[str, Any]] = field(default_factory=list)

    def to_data(self) -> dict[str, Any]:
        return {
            "point": list(self.point),
            "scenario": self.scenario,
            "score": round(self.score, 6),
            "penalties": self.penalties,
            "adapter_log": self.adapter_log,
        }


def _bounded(value: Any, default: int, maximum: int, name: str, minimum: int = 1) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InputError(f"{name} must be a whole number {minimum}..{maximum}, got {value!r}", field=name)
    return value


def run_context(
    store: Store, run_id: str, custom: dict[str, Scenario] | None = None, strict: bool = True, *, workspace: str | None = None
) -> tuple[RunRecord, Space, list[Scenario]]:
    """The run, its space and its scenarios (`strict`: all scenarios must be known here)."""
    run = store.get_run(run_id, workspace=workspace)
    space = Space.from_data(run.space)
    available = {**BUILTIN_SCENARIOS, **(custom or {})}
    scenarios = [available[name] for name in run.scenarios if name in available]
    missing = [name for name in run.scenarios if name not in available]
    if missing and strict:
        raise InputError(f"run {run_id} uses scenarios this process does not know: {missing}", field="scenarios", fix="load the same scenario files")
    return run, space, scenarios


def _writable(run: RunRecord) -> None:
    if run.status == "completed":
        raise completed_error(run.id)


def create(
    store: Store,
    name: str,
    *,
    space: Space | None = None,
    scenarios: Sequence[str] | None = None,
    seed: int = 0,
    custom: dict[str, Scenario] | None = None,
    run_id: str | None = None,
    workspace: str = "",
) -> RunRecord:
    """A new run; with `run_id`, the existing run of that id (so a re-run resumes it)."""
    if not isinstance(name, str) or not name.strip():
        raise InputError("a run needs a non-empty name", field="name")
    check_seed(seed)
    if space is not None and not isinstance(space, Space):
        raise InputError(f"space must be a Space (Space.from_data(...)), got {type(space).__name__}", field="space")
    if scenarios is not None and (isinstance(scenarios, str) or not all(isinstance(s, str) for s in scenarios)):
        raise InputError(f"scenarios is a list of scenario names, got {scenarios!r}", field="scenarios")
    chosen = [s.name for s in resolve_scenarios(list(scenarios) if scenarios else None, custom)]
    data = (space or DEFAULT_SPACE).require_standard().to_data()
    return store.create_run(name.strip(), data, chosen, seed, workspace=workspace, run_id=run_id)


def list_runs(
    store: Store, limit: int | None = None, *, offset: int | None = None, cursor: str | None = None, workspace: str | None = None
) -> list[RunRecord]:
    """Runs newest first: `limit` (default 20, max 100) after skipping `offset` runs;
    `cursor` (`RunRecord.cursor` of the last run of a page) starts after that run."""
    return store.list_runs(
        _bounded(limit, LIST_LIMIT, LIST_MAX, "limit"),
        offset=_bounded(offset, 0, MAX_OFFSET, "offset", minimum=0),
        cursor=cursor,
        workspace=workspace,
    )


def list_page(
    store: Store, limit: int | None = None, *, offset: int | None = None, cursor: str | None = None, workspace: str | None = None
) -> dict[str, Any]:
    """A page of runs as data, with `next_cursor` (None on the last page)."""
    size = _bounded(limit, LIST_LIMIT, LIST_MAX, "limit")
    found = list_runs(store, size, offset=offset, cursor=cursor, workspace=workspace)
    more = len(found) == size and bool(store.list_runs(1, cursor=found[-1].cursor, workspace=workspace))
    return {"runs": [run.to_data() for run in found], "limit": size, "next_cursor": found[-1].cursor if more else None}


def evaluate_points(space: Space, scenario: Scenario, points: np.ndarray) -> list[Evaluation]:
    """Simulate many points on one scenario (vectorised)."""
    log = simulate(space, scenario, points)
    scores = log.scores()
    return [
        Evaluation(tuple(int(v) for v in points[i]), scenario.name, float(scores[i]), [p.to_data() for p in log.for_point(i)])
        for i in range(points.shape[0])
    ]


def evaluate(
    store: Store, run_id: str, point: Sequence[Any], scenario: str, custom: dict[str, Scenario] | None = None, *, workspace: str | None = None
) -> Evaluation:
    """Evaluate one point against one of the run's scenarios, store it, and return the
    score, the penalties and the adapter log (how the point maps to each platform)."""
    run, space, scenarios = run_context(store, run_id, custom, workspace=workspace)
    _writable(run)
    checked = space.validate_point(point)
    by_name = {s.name: s for s in scenarios}
    if not isinstance(scenario, str) or scenario not in by_name:
        raise InputError(f"run {run.id} has no scenario {scenario!r}", field="scenario", fix="use one of: " + ", ".join(by_name))
    log = simulate(space, by_name[scenario], np.array([checked]))
    score = float(log.scores()[0])
    records, _ = log.packed()
    store.add_single(run.id, scenario, checked, score, records)
    return Evaluation(checked, scenario, score, penalty_data(records), [e.to_data() for e in adapter_log(space, checked)])


def sample(
    store: Store,
    run_id: str,
    n_points: int,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
    custom: dict[str, Scenario] | None = None,
    only: Sequence[str] | None = None,
    chunk: int = CHUNK,
    workspace: str | None = None,
) -> dict[str, Any]:
    """Draw `n_points` new Latin-hypercube points and evaluate each against every scenario
    of the run.

    The run keeps its sampler state, so each call draws points no earlier call drew
    (from the run's generator, or from `seed` when given). A call that was interrupted is
    resumed by the next call of the same size and seed: it finishes the same points,
    storing nothing twice. Each chunk of `chunk` points is stored (and `progress(done,
    total)` called) as soon as it is computed, so stopping loses at most one chunk.

    `only` makes the call a shard: it evaluates those scenarios of the run's latest
    sample (drawing the first one if there is none), so processes that split the
    scenarios between them (xdist workers) evaluate the same points, and a repeated
    shard finds its work done.
    """
    check_count(n_points)
    if seed is not None:
        check_seed(seed)
    chunk = _bounded(chunk, CHUNK, 100_000, "chunk")
    run, space, scenarios = run_context(store, run_id, custom, workspace=workspace)
    _writable(run)
    if only is not None:
        if isinstance(only, str) or not all(isinstance(name, str) for name in only):
            raise InputError(f"only is a list of scenario names, got {only!r}", field="only")
        unknown = [name for name in only if name not in run.scenarios]
        if unknown:
            raise InputError(f"run {run.id} has no scenario {unknown[0]!r}", field="only", fix="use some of: " + ", ".join(run.scenarios))
        scenarios = [s for s in scenarios if s.name in set(only)]
    owner = None if only is not None else uuid.uuid4().hex

    def draw(state: dict[str, Any] | None, drawn: set[bytes]) -> tuple[np.ndarray, dict[str, Any] | None]:
        rng = generator(run.seed if seed is None else seed, state if seed is None else None)
        points = draw_new(space, n_points, rng, drawn, encode_points)
        return points, dict(rng.bit_generator.state) if seed is None else None

    batch = store.open_batch(run.id, n_points, seed=seed, chunk=chunk, owner=owner, draw=draw)
    chunks = -(-len(batch.points) // batch.chunk) * len(run.scenarios)
    try:
        counts = _evaluate_batch(store, run, space, scenarios, batch, owner, progress)
    except BaseException:
        with contextlib.suppress(Exception):  # the first error is the one to report
            store.release_batch(run.id, batch.index, owner, finished=False, chunks=chunks)
        raise
    store.release_batch(run.id, batch.index, owner, finished=True, chunks=chunks)
    return {"run_id": run.id, "batch": batch.index, "points": len(batch.points), "scenarios": len(scenarios), **counts}


def _evaluate_batch(
    store: Store, run: RunRecord, space: Space, scenarios: list[Scenario], batch: Batch, owner: str | None, progress: Progress | None
) -> dict[str, int]:
    """Simulate and store the batch's chunks that `scenarios` still lack, one transaction each.

    Chunks sit on the batch's own grid (its chunk size is fixed when it is drawn), so
    every process that resumes or shares the batch stores the same chunks."""
    stored_before = set() if batch.new else store.stored_chunks(run.id, batch.index)
    total = len(batch.points) * len(scenarios)
    stored = skipped = 0
    for scenario in scenarios:
        for first in range(0, len(batch.points), batch.chunk):
            size = min(batch.chunk, len(batch.points) - first)
            if (scenario.name, first) in stored_before:
                skipped += size
                continue
            log = simulate(space, scenario, batch.points[first : first + size])
            added = store.add_chunk(run.id, scenario.name, batch, first, log.scores(), *log.packed(), owner=owner)
            stored += added
            skipped += size - added
            if progress:
                progress(stored + skipped, total)
    if progress and not stored:
        progress(stored + skipped, total)
    return {"evaluated": stored, "skipped": skipped}


def _best_data(space: Space, record: EvaluationRecord) -> dict[str, Any]:
    return {"point": list(record.point), "score": round(record.score, 6), "values": space.values(record.point), "penalties": record.penalties}


def show(store: Store, run_id: str, *, workspace: str | None = None) -> dict[str, Any]:
    """The run (status, configuration space, samples drawn), how far it got, the best
    evaluation per scenario and the best overall."""
    run = store.get_run(run_id, workspace=workspace)
    space = Space.from_data(run.space)
    evaluations, points = store.counts(run.id, len(space))
    best = store.best_per_scenario(run.id)
    overall = max(best.values(), key=lambda record: record.score, default=None)
    return {
        **run.to_data(),
        "evaluations": evaluations,
        "points": points,
        "best": overall.to_data() if overall else None,
        "best_per_scenario": {name: _best_data(space, record) for name, record in best.items()},
    }


def summary(store: Store, run_id: str, custom: dict[str, Scenario] | None = None, *, workspace: str | None = None) -> dict[str, Any]:
    """best_per_scenario, penalty_frequency and config_diff (with the defaults' mean score)."""
    run, space, scenarios = run_context(store, run_id, custom, strict=False, workspace=workspace)
    default = np.array([space.default_point()])
    default_scores = [evaluate_points(space, scenario, default)[0].score for scenario in scenarios]
    result = summarise_columns(space, store.columns(run.id, len(space)))
    if default_scores:
        result["config_diff"]["default_mean_score"] = round(sum(default_scores) / len(default_scores), 6)
    return result | {"run_id": run.id, "status": run.status}


def points(
    store: Store,
    run_id: str,
    *,
    scenario: str | None = None,
    limit: int | None = None,
    order_by: str = "score",
    offset: int | None = None,
    workspace: str | None = None,
) -> list[EvaluationRecord]:
    """Scored points: best first (`score`) or oldest first (`time`); `limit` default 50,
    max 200, after skipping `offset`."""
    run = store.get_run(run_id, workspace=workspace)
    if order_by not in {"score", "time"}:
        raise InputError(f"order_by must be score or time, got {order_by!r}", field="order_by")
    if scenario is not None and scenario not in run.scenarios:
        raise InputError(f"run {run.id} has no scenario {scenario!r}", field="scenario", fix="use one of: " + ", ".join(run.scenarios))
    return store.evaluations(
        run.id, scenario, _bounded(limit, POINTS_LIMIT, POINTS_MAX, "limit"), order_by, offset=_bounded(offset, 0, MAX_OFFSET, "offset", minimum=0)
    )


def complete(store: Store, run_id: str, *, workspace: str | None = None) -> RunRecord:
    """Mark the run completed; completing it again changes nothing."""
    return store.complete_run(run_id, workspace=workspace)


def adapters_for(
    store: Store, run_id: str, point: Sequence[Any], platforms: Sequence[str] | None = None, *, workspace: str | None = None
) -> list[dict[str, Any]]:
    run = store.get_run(run_id, workspace=workspace)
    space = Space.from_data(run.space)
    return [entry.to_data() for entry in adapter_log(space, point, platforms or ("retell", "vapi", "livekit"))]
