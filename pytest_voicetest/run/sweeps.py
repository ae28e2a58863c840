"""VoiceSim as tests: one scenario of a `voicesim_*.yaml` sweep, the cases of a
`@pytest.mark.voicesim` test, and the end-of-session summaries of the runs they wrote.

A sweep scenario samples its points into the store (resuming what is already there)
and checks the best point against the file's thresholds; the result is an ordinary
TestResult whose checks are the thresholds and whose `voicesim` field says where the
run is. Run ids derive from the file (or test) and its settings, so xdist workers
share runs and a re-run resumes them.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InputError, VoicetestError
from ..models.results import CheckResult, SweepOutcome, TestResult
from ..voicesim.space import DEFAULT_SPACE, Space, check_count, check_seed
from .testfile import PlannedSweep, load_file, sweep_run_id

if TYPE_CHECKING:
    from ..config.resolve import Config

# numpy, the sampler and the store load when a sweep runs, not when a marked test is collected

MARKER_KEYS = frozenset({"n_points", "scenarios", "seed"})


def threshold_checks(planned: PlannedSweep, score: float, penalties: list[dict[str, Any]], point: list[int]) -> list[CheckResult]:
    """The sweep's thresholds as checks on the best point of its scenario."""
    thresholds = planned.spec.thresholds
    values = ", ".join(f"{k}={v}" for k, v in planned.space.values(point).items())
    checks = []
    if thresholds.min_score is not None:
        checks.append(
            CheckResult(
                kind="threshold",
                name=f"min_score {thresholds.min_score}",
                passed=score >= thresholds.min_score,
                evidence=f"best score {score:.3f} of {planned.spec.n_points} points, at {point}: {values}",
            )
        )
    for kind, limit in thresholds.max_penalty.items():
        cost = sum(p["weight"] * p["amount"] for p in penalties if p["type"] == kind)
        checks.append(
            CheckResult(
                kind="threshold",
                name=f"max_penalty {kind} {limit}",
                passed=cost <= limit + 1e-12,
                evidence=f"{kind} cost {cost:.3f} at the best point {point}",
            )
        )
    return checks


def run_sweep(planned: PlannedSweep) -> TestResult:
    """Sample one scenario of a sweep file and judge its best point."""
    from ..voicesim import runs
    from ..voicesim.store import open_store

    result = TestResult(test_id=planned.test_id, test_name=planned.scenario)
    try:
        store = open_store(planned.store)
        try:
            name = planned.spec.name or (planned.source.stem if planned.source else planned.run_id)
            runs.create(
                store, name, space=planned.space, scenarios=planned.scenarios, seed=planned.spec.seed, custom=planned.custom, run_id=planned.run_id
            )
            sampled = runs.sample(store, planned.run_id, planned.spec.n_points, custom=planned.custom, only=[planned.scenario])
            [best] = store.evaluations(planned.run_id, planned.scenario, limit=1, order_by="score")
        finally:
            store.close()
    except VoicetestError as exc:
        result.status, result.error_message = "error", str(exc)
        return result
    point = list(best.point)
    result.checks = threshold_checks(planned, best.score, best.penalties, point)
    result.status = "pass" if all(c.passed for c in result.checks) else "fail"
    result.voicesim = SweepOutcome(
        run_id=planned.run_id,
        store=planned.store,
        scenario=planned.scenario,
        plot=planned.plot,
        best_score=round(best.score, 6),
        best_point=point,
        sampled=sampled,
    )
    return result


@dataclass(frozen=True)
class Case:
    """One (point, scenario) of a `voicesim`-marked test."""

    run_id: str
    name: str
    index: int
    n_points: int
    scenario: str
    scenarios: tuple[str, ...]
    seed: int

    @property
    def point(self) -> tuple[int, ...]:
        """The case's Latin-hypercube point (drawn on first use, not at collection)."""
        return _marker_points(self.n_points, self.seed)[self.index]


@functools.lru_cache(maxsize=64)
def _marker_points(n_points: int, seed: int) -> tuple[tuple[int, ...], ...]:
    from ..voicesim.sampling import latin_hypercube

    return tuple(tuple(int(v) for v in point) for point in latin_hypercube(DEFAULT_SPACE, n_points, seed))


@dataclass
class VoiceSimResult:
    """What the `voicesim_result` fixture gives a test."""

    run_id: str
    point: tuple[int, ...]
    scenario: str
    score: float
    values: dict[str, Any]
    penalties: list[dict[str, Any]] = field(default_factory=list)
    adapter_log: list[dict[str, Any]] = field(default_factory=list)

    def cost(self, kind: str) -> float:
        """Total cost of one penalty type."""
        return float(sum(p["weight"] * p["amount"] for p in self.penalties if p["type"] == kind))


def marker_cases(test_id: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[list[Case], list[str]]:
    """The cases (Latin-hypercube points x scenarios) and their ids for a marked test."""
    from ..voicesim.scenarios import resolve_scenarios

    unknown = set(kwargs) - MARKER_KEYS
    if unknown or args:
        raise InputError(f"voicesim takes n_points=, scenarios=, seed=; got {sorted(unknown) or list(args)}", field="voicesim")
    n_points = check_count(kwargs.get("n_points", 8))
    seed = check_seed(kwargs.get("seed", 0))
    scenarios = [s.name for s in resolve_scenarios(kwargs.get("scenarios"))]
    run_id = sweep_run_id("marker", test_id, n_points, seed, scenarios)
    cases = [Case(run_id, test_id, index, n_points, scenario, tuple(scenarios), seed) for scenario in scenarios for index in range(n_points)]
    ids = [f"{scenario}-p{index:03d}" for scenario in scenarios for index in range(n_points)]
    return cases, ids


def result_for(case: Case, store_location: str) -> VoiceSimResult:
    """Evaluate (or read back) one case and record it in the store."""
    from ..voicesim import runs
    from ..voicesim.store import open_store

    store = open_store(store_location)
    try:
        runs.create(store, case.name, scenarios=list(case.scenarios), seed=case.seed, run_id=case.run_id)
        evaluation = runs.evaluate(store, case.run_id, case.point, case.scenario)
    finally:
        store.close()
    return VoiceSimResult(
        run_id=case.run_id,
        point=case.point,
        scenario=case.scenario,
        score=evaluation.score,
        values=DEFAULT_SPACE.values(case.point),
        penalties=evaluation.penalties,
        adapter_log=evaluation.adapter_log,
    )


def preload_summaries(paths: Sequence[Path], config: Config) -> threading.Thread:
    """Import what `summarise` will need (numpy; matplotlib when one of these sweep files
    draws a plot) in a background thread: for a process that waits meanwhile, an xdist
    controller while its workers run. A broken file or a missing matplotlib is left for
    the run to report."""

    def load() -> None:
        try:
            from ..voicesim import runs  # noqa: F401
            from ..voicesim.summary import preload_plotting

            if any(isinstance(p, PlannedSweep) and p.plot for path in paths for p in load_file(path, config)):
                preload_plotting()
        except Exception:  # the same import or file error is reported where it matters
            return

    thread = threading.Thread(target=load, name="voicetest-summary-import", daemon=True)
    thread.start()
    return thread


def summarise(sweeps: dict[tuple[str, str], str | None]) -> dict[str, Any]:
    """Summaries of the VoiceSim runs written this session, read back from their stores
    (so xdist workers' evaluations count); plots are drawn where asked.
    `sweeps` maps (store, run_id) to the plot path or None."""
    from ..voicesim import runs
    from ..voicesim.store import open_store
    from ..voicesim.summary import plot

    summaries: dict[str, Any] = {}
    for (location, run_id), plot_path in sorted(sweeps.items()):
        try:
            store = open_store(location)
            try:
                run = store.get_run(run_id)
                data = {"name": run.name, "store": location, **runs.summary(store, run_id)}
                if plot_path:
                    data["plot"] = str(plot(Space.from_data(run.space), store.evaluations(run_id), Path(plot_path)))
            finally:
                store.close()
        except VoicetestError as exc:
            data = {"name": run_id, "store": location, "error": str(exc)}
        summaries[run_id] = data
    return summaries
