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
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import InputError, did_you_mean
from ..validation import validate
from ..yamlio import line_of
from .scenarios import Scenario, parse_scenarios, resolve_scenarios
from .scoring import PENALTY_TYPES
from .space import Space


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
            if limit < 0:
                raise ValueError(f"max_penalty.{kind} must be >= 0")
        return value


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


def parse_sweep(data: Any, source: Path) -> tuple[SweepSpec, Space, dict[str, Scenario], list[str]]:
    """The spec, its space, its custom scenarios and the scenario names it sweeps."""
    if not isinstance(data, dict):
        raise InputError("a sweep file is a mapping (n_points, scenarios, thresholds, ...)", source=source, line=1)
    spec = validate(SweepSpec, data, source=source)
    custom = parse_scenarios(spec.custom_scenarios, source, data, ("custom_scenarios",))
    try:
        space = Space.from_data(spec.space) if spec.space else Space()
        names = [s.name for s in resolve_scenarios(spec.scenarios, custom)]
    except InputError as exc:
        raise exc.located(source, line_of(data, (exc.field or "space",))) from None
    return spec, space, custom, names


def threshold_failures(thresholds: Thresholds, score: float, penalties: list[dict[str, Any]]) -> list[str]:
    """What the best point of a scenario misses, as human lines."""
    failures = []
    if thresholds.min_score is not None and score < thresholds.min_score:
        failures.append(f"best score {score:.3f} < min_score {thresholds.min_score}")
    for kind, limit in thresholds.max_penalty.items():
        cost = sum(p["weight"] * p["amount"] for p in penalties if p["type"] == kind)
        if cost > limit + 1e-12:
            failures.append(f"{kind} cost {cost:.3f} > max_penalty {limit}")
    return failures
