"""pytest side of VoiceSim: `voicesim_*.yaml` sweep files and the `voicesim` marker.

A sweep file gives one item per scenario (`voicesim_x.yaml::crisis_at_10`); each item
samples its scenario (resuming whatever the store already holds) and checks the best
point against the thresholds. `@pytest.mark.voicesim(n_points=.., scenarios=[..], seed=..)`
parametrizes a test over (point, scenario) with the `voicesim_result` fixture. Both write
to the session's store; the run ids are derived from the file or test and its settings,
so xdist workers share runs and a re-run resumes them. The controller prints the
summaries at the end.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .errors import InputError

MARKER = "voicesim"


def run_id_for(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


class SweepFailure(Exception):
    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))


class SweepFile(pytest.File):
    """A `voicesim_*.yaml` file."""

    def collect(self) -> Any:
        from .plugin import voicetest_session
        from .voicesim.sweep import parse_sweep
        from .yamlio import parse_yaml, read_text

        state = voicetest_session(self.config)
        try:
            data = parse_yaml(read_text(self.path), self.path)
            spec, space, custom, names = parse_sweep(data, self.path)
        except InputError as exc:
            raise self.CollectError(str(exc.located(self.path))) from None
        store = str((self.path.parent / spec.store).resolve()) if spec.store else state.store_location
        relative = self.path.relative_to(state.rootpath) if self.path.is_relative_to(state.rootpath) else self.path.name
        run_id = run_id_for("sweep", str(relative), spec.model_dump(), space.to_data())
        plot = str((self.path.parent / spec.plot).resolve()) if spec.plot else None
        return [
            SweepItem.from_parent(self, name=name, spec=spec, space=space, custom=custom, scenario=name, scenarios=names, store=store, run_id=run_id, plot=plot)
            for name in names
        ]


class SweepItem(pytest.Item):
    def __init__(self, *, spec: Any, space: Any, custom: dict[str, Any], scenario: str, scenarios: list[str], store: str, run_id: str, plot: str | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec, self.space, self.custom = spec, space, custom
        self.scenario, self.scenarios, self.store, self.run_id, self.plot = scenario, scenarios, store, run_id, plot
        self.voicesim: dict[str, Any] | None = None

    def runtest(self) -> None:
        from .voicesim import runs
        from .voicesim.store import open_store
        from .voicesim.sweep import threshold_failures

        store = open_store(self.store)
        try:
            name = self.spec.name or self.path.stem
            runs.create(store, name, space=self.space, scenarios=self.scenarios, seed=self.spec.seed, custom=self.custom, run_id=self.run_id)
            sampled = runs.sample(store, self.run_id, self.spec.n_points, custom=self.custom, only=[self.scenario])
            [best] = store.evaluations(self.run_id, self.scenario, limit=1, order_by="score")
        finally:
            store.close()
        self.voicesim = {
            "run_id": self.run_id, "store": self.store, "scenario": self.scenario, "plot": self.plot,
            "best_score": round(best.score, 6), "best_point": list(best.point), **sampled,
        }
        failures = threshold_failures(self.spec.thresholds, best.score, best.penalties)
        if failures:
            values = ", ".join(f"{k}={v}" for k, v in self.space.values(best.point).items())
            raise SweepFailure([f"voicesim '{self.scenario}': best of {self.spec.n_points} points misses its thresholds:", *[f"  x {f}" for f in failures], f"  best point {list(best.point)}: {values}"])

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, (SweepFailure, InputError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"{self.path.name}::{self.name} (voicesim)"


@dataclass(frozen=True)
class Case:
    """One (point, scenario) of a marked test."""

    run_id: str
    name: str
    point: tuple[int, ...]
    scenario: str
    scenarios: tuple[str, ...]
    seed: int


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
        return sum(p["weight"] * p["amount"] for p in self.penalties if p["type"] == kind)


def parametrize(metafunc: pytest.Metafunc) -> None:
    """Spread a `voicesim`-marked test over Latin-hypercube points x scenarios."""
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        return
    if "voicesim_result" not in metafunc.fixturenames:
        raise pytest.Collector.CollectError(f"{metafunc.definition.nodeid}: a @pytest.mark.voicesim test must take the voicesim_result fixture")
    from .voicesim.sampling import latin_hypercube
    from .voicesim.scenarios import resolve_scenarios
    from .voicesim.space import DEFAULT_SPACE

    unknown = set(marker.kwargs) - {"n_points", "scenarios", "seed"}
    if unknown or marker.args:
        raise pytest.Collector.CollectError(f"{metafunc.definition.nodeid}: voicesim takes n_points=, scenarios=, seed=; got {sorted(unknown) or marker.args}")
    try:
        n_points = marker.kwargs.get("n_points", 8)
        seed = marker.kwargs.get("seed", 0)
        scenarios = [s.name for s in resolve_scenarios(marker.kwargs.get("scenarios"))]
        points = latin_hypercube(DEFAULT_SPACE, n_points, seed)
    except InputError as exc:
        raise pytest.Collector.CollectError(f"{metafunc.definition.nodeid}: @pytest.mark.voicesim: {exc}") from None
    run_id = run_id_for("marker", metafunc.definition.nodeid, n_points, seed, scenarios)
    cases = [
        Case(run_id, metafunc.definition.nodeid, tuple(int(v) for v in point), scenario, tuple(scenarios), seed)
        for scenario in scenarios
        for point in points
    ]
    ids = [f"{scenario}-p{index:03d}" for scenario in scenarios for index in range(len(points))]
    metafunc.parametrize("voicesim_result", cases, ids=ids, indirect=True)


def result_for(case: Case, store_location: str) -> VoiceSimResult:
    """Evaluate (or read back) one case and record it in the store."""
    from .voicesim import runs
    from .voicesim.adapters import adapter_log
    from .voicesim.space import DEFAULT_SPACE
    from .voicesim.store import open_store

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
        adapter_log=[entry.to_data() for entry in adapter_log(DEFAULT_SPACE, case.point)],
    )
