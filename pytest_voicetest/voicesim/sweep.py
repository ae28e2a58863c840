"""Sweep files (`voicesim_*.yaml`): what to sample and the thresholds the best point must meet.

```yaml
name: clinic pipeline            # default: the file name
n_points: 64                     # Latin-hypercube points per scenario
seed: 7
scenarios: [crisis_at_10, greeting_barge_in]    # default: every scenario
custom_scenarios: [{name: ..., family: ..., turns: [...]}]
space: {overrides: {tts_speed: {bins: [0.9, 1.0, 1.1], default: 1}}}
thresholds:
  min_score: 0.8                 # the best point of each scenario must reach this
  max_penalty: {safety_violation: 0, dead_air: 0.1}   # cost of that type at the best point
store: .voicetest/voicesim.db    # default: the session's store
plot: reports/sweep.png          # a heatmap written at the end of the session
```

A sweep must set at least one threshold: without one it would check nothing and always
pass. `parse_sweep(..., require_thresholds=True)` refuses such a file at load time (a
located error); `threshold_failures` fails it at run time in any case. With `root`,
a `plot:` path that resolves outside that folder is refused.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import InputError, did_you_mean
from ..validation import validate
from ..yamlio import format_loc, line_of
from .scenarios import Scenario, parse_scenarios, resolve_scenarios
from .scoring import PENALTY_TYPES
from .space import Space, check_seed

THRESHOLD_FIX = "add thresholds: {min_score: 0.8} and/or {max_penalty: {safety_violation: 0}}"


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_score: float | None = Field(default=None, ge=0, le=1)
    max_penalty: dict[str, float] = Field(default_factory=dict)

    @field_validator("max_penalty")
    @classmethod
    def _known_types(cls, value: dict[str, float]) -> dict[str, float]:
        for kind, limit in value.items():
            if kind not in PENALTY_TYPES:
                raise ValueError(f"unknown penalty type '{kind}'{did_you_mean(kind, PENALTY_TYPES)}")
            if not math.isfinite(limit) or limit < 0:
                raise ValueError(f"max_penalty.{kind} must be a finite number >= 0, got {limit}")
        return value

    @property
    def empty(self) -> bool:
        return self.min_score is None and not self.max_penalty


class SweepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    n_points: int = Field(default=64, ge=1, le=100_000)
    seed: int = 0
    scenarios: list[str] | None = None
    custom_scenarios: list[Any] = Field(default_factory=list)
    space: dict[str, Any] | None = None
    thresholds: Thresholds = Field(default_factory=Thresholds)
    store: str | None = None
    plot: str | None = None


def _loc(field: str | None) -> tuple[Any, ...]:
    """A dotted field such as `overrides.tts_speed.bins[2]` as a location tuple."""
    return tuple(int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", field or ""))


def _located(exc: InputError, source: Path, data: Any, loc: tuple[Any, ...]) -> InputError:
    return InputError(exc.message, source=source, line=line_of(data, loc), field=format_loc(loc), fix=exc.fix)


def parse_sweep(
    data: Any, source: Path, *, root: Path | None = None, require_thresholds: bool = False
) -> tuple[SweepSpec, Space, dict[str, Scenario], list[str]]:
    """The spec, its space, its custom scenarios and the scenario names it sweeps.

    Every error names the file, the line and the field. `root` fences `plot:` inside that
    folder; `require_thresholds` refuses a sweep without any threshold."""
    if not isinstance(data, dict):
        raise InputError("a sweep file is a mapping (n_points, scenarios, thresholds, ...)", source=source, line=1)
    spec = validate(SweepSpec, data, source=source)
    try:
        check_seed(spec.seed)
    except InputError as exc:
        raise _located(exc, source, data, ("seed",)) from None
    custom = parse_scenarios(spec.custom_scenarios, source, data, ("custom_scenarios",))
    try:
        space = Space.from_data(spec.space).require_standard() if spec.space else Space()
    except InputError as exc:
        raise _located(exc, source, data, ("space", *_loc(exc.field))) from None
    try:
        names = [s.name for s in resolve_scenarios(spec.scenarios, custom)]
    except InputError as exc:
        raise _located(exc, source, data, ("scenarios",)) from None
    if require_thresholds and spec.thresholds.empty:
        raise InputError(
            "the sweep sets no threshold, so it would check nothing and always pass",
            source=source,
            line=line_of(data, ("thresholds",)) or 1,
            field="thresholds",
            fix=THRESHOLD_FIX,
        )
    if spec.store is not None and not spec.store.strip():
        raise InputError(
            "store is empty",
            source=source,
            line=line_of(data, ("store",)),
            field="store",
            fix="leave store out to use the session's store, or give a file path",
        )
    if root is not None and spec.plot is not None:
        resolved = (source.parent / spec.plot).resolve()
        if not resolved.is_relative_to(root.resolve()):
            raise InputError(
                f"plot {spec.plot!r} resolves to {resolved}, outside the project {root.resolve()}",
                source=source,
                line=line_of(data, ("plot",)),
                field="plot",
                fix="write plots inside the project, e.g. plot: reports/sweep.png",
            )
    return spec, space, custom, names


def threshold_failures(thresholds: Thresholds, score: float, penalties: list[dict[str, Any]]) -> list[str]:
    """What the best point of a scenario misses, as human lines; a sweep without any
    threshold fails (it would otherwise pass whatever the scores)."""
    if thresholds.empty:
        return [f"the sweep sets no threshold, so it checks nothing. Fix: {THRESHOLD_FIX}"]
    failures = []
    if thresholds.min_score is not None and score < thresholds.min_score:
        failures.append(f"best score {score:.3f} < min_score {thresholds.min_score}")
    for kind, limit in thresholds.max_penalty.items():
        cost = sum(p["weight"] * p["amount"] for p in penalties if p["type"] == kind)
        if cost > limit + 1e-12:
            failures.append(f"{kind} cost {cost:.3f} > max_penalty {limit}")
    return failures
