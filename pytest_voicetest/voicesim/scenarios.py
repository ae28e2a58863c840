"""Caller timelines the pipeline is scored on: built-in scenarios in six families, or YAML.

A scenario is a greeting (with an optional barge-in) and a list of caller turns. Each
turn says how the caller behaves: how long they speak and pause, how loud, how long
they stay silent first, whether they talk over the agent's reply (and for how long),
say 'mm-hmm', sit on a noisy line, get misrecognised, sound upset, disclose a crisis,
refer back to an earlier turn, and what the reply needs (a tool call, a number of words).

Families: normal, long (multi-turn), crisis (incl. `crisis_at_10`), barge_in (incl.
`greeting_barge_in`), silent, recognition (recognition failure).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import InputError, did_you_mean
from ..validation import validate
from ..yamlio import format_loc, line_of, load_data_file

Family = Literal["normal", "long", "crisis", "barge_in", "silent", "recognition"]
FAMILIES: tuple[str, ...] = Family.__args__  # type: ignore[attr-defined]


class CallerTurn(BaseModel):
    """One caller turn and the agent reply that follows it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    speech_s: float = Field(default=3.0, gt=0, le=120)
    pauses_s: tuple[float, ...] = ()
    level: float = Field(default=0.8, ge=0, le=1)
    silence_before_s: float = Field(default=0.0, ge=0, le=120)
    barge_in_at_s: float | None = Field(default=None, ge=0)
    barge_in_s: float = Field(default=0.0, ge=0, le=30)
    backchannels: int = Field(default=0, ge=0, le=20)
    noise: float = Field(default=0.0, ge=0, le=1)
    noise_bursts: int = Field(default=0, ge=0, le=20)
    misrecognized: bool = False
    emotional: bool = False
    crisis: bool = False
    refers_to: int | None = Field(default=None, ge=0)
    tool_s: float = Field(default=0.0, ge=0, le=120)
    answer_words: int = Field(default=30, ge=1, le=1000)


class Scenario(BaseModel):
    """A caller timeline."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    family: Family
    description: str = ""
    greeting_s: float = Field(default=4.0, gt=0, le=60)
    greeting_barge_in_at_s: float | None = Field(default=None, ge=0)
    greeting_barge_in_s: float = Field(default=0.0, ge=0, le=30)
    patience_s: float = Field(default=15.0, gt=0)
    turns: tuple[CallerTurn, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _references_point_back(self) -> Scenario:
        for index, turn in enumerate(self.turns):
            if turn.refers_to is not None and turn.refers_to >= index:
                earlier = f"an earlier turn (0..{index - 1})" if index else "an earlier turn, and the first turn has none"
                raise ValueError(f"turns[{index}].refers_to must name {earlier}; got {turn.refers_to}")
        return self


def _turns(count: int, seed: str, **overrides: Any) -> list[dict[str, Any]]:
    """`count` ordinary turns with seeded variety."""
    rng = random.Random(seed)
    return [
        {
            "speech_s": round(rng.uniform(1.5, 5.0), 1),
            "pauses_s": (round(rng.uniform(0.2, 0.5), 2),) if rng.random() < 0.4 else (),
            "answer_words": rng.choice([12, 20, 30, 40]),
            **overrides,
        }
        for _ in range(count)
    ]


def _builtins() -> dict[str, Scenario]:
    scenarios: list[dict[str, Any]] = []

    booking = _turns(6, "normal_booking")
    booking[2]["tool_s"] = 1.5
    scenarios.append({"name": "normal_booking", "family": "normal", "description": "Books an appointment; one quick lookup.", "turns": booking})
    scenarios.append(
        {"name": "normal_faq", "family": "normal", "description": "Three short questions about hours and parking.", "turns": _turns(3, "normal_faq")}
    )
    slow_tool = _turns(5, "normal_slow_tool")
    slow_tool[1]["tool_s"] = 6.0
    slow_tool[3]["tool_s"] = 3.0
    scenarios.append(
        {"name": "normal_slow_tool", "family": "normal", "description": "Order status that needs two slow backend calls.", "turns": slow_tool}
    )

    intake = _turns(30, "long_intake_30")
    for index in (12, 19, 26):
        intake[index]["refers_to"] = index - 10
    intake[24]["refers_to"] = 3
    scenarios.append(
        {"name": "long_intake_30", "family": "long", "description": "A 30-turn medical intake that refers back to early answers.", "turns": intake}
    )
    support = _turns(18, "long_support_18")
    for index in (6, 11, 15):
        support[index]["tool_s"] = 2.5
    support[14]["refers_to"] = 8
    support[17]["refers_to"] = 2
    scenarios.append(
        {"name": "long_support_18", "family": "long", "description": "Troubleshooting with several lookups and recaps.", "turns": support}
    )

    crisis = _turns(12, "crisis_at_10")
    crisis[9].update({"emotional": True})
    crisis[10].update({"crisis": True, "emotional": True, "speech_s": 6.0, "pauses_s": (0.9, 1.1)})
    scenarios.append(
        {"name": "crisis_at_10", "family": "crisis", "description": "A routine call where the caller discloses a crisis at turn 10.", "turns": crisis}
    )
    early = _turns(14, "crisis_early_reference")
    early[2].update({"crisis": True, "emotional": True, "speech_s": 5.0})
    early[12].update({"refers_to": 2, "emotional": True})
    scenarios.append(
        {"name": "crisis_early_reference", "family": "crisis", "description": "Crisis at turn 2, referred back to at turn 12.", "turns": early}
    )
    upset = _turns(6, "emotional_no_crisis")
    for index in (1, 2, 4):
        upset[index]["emotional"] = True
    scenarios.append(
        {"name": "emotional_no_crisis", "family": "crisis", "description": "An upset caller (a cancelled surgery) with no crisis.", "turns": upset}
    )

    scenarios.append(
        {
            "name": "greeting_barge_in",
            "family": "barge_in",
            "description": "The caller talks over the greeting at 1.2 s for 1.5 s.",
            "greeting_barge_in_at_s": 1.2,
            "greeting_barge_in_s": 1.5,
            "turns": _turns(4, "greeting_barge_in"),
        }
    )
    frequent = _turns(8, "frequent_barge_ins", answer_words=45)
    for index, turn in enumerate(frequent):
        if index % 2 == 0:
            turn.update({"barge_in_at_s": 3.0 + index * 0.2, "barge_in_s": 1.0})
        else:
            turn.update({"barge_in_at_s": 4.0, "barge_in_s": 0.25})
    scenarios.append(
        {"name": "frequent_barge_ins", "family": "barge_in", "description": "An impatient caller who cuts in on long replies.", "turns": frequent}
    )
    scenarios.append(
        {
            "name": "backchanneler",
            "family": "barge_in",
            "description": "A caller who says 'mm-hmm' through every reply.",
            "turns": _turns(6, "backchanneler", backchannels=3, answer_words=40),
        }
    )

    silent = _turns(5, "silent_caller")
    for index, seconds in ((0, 14.0), (2, 9.0), (3, 18.0)):
        silent[index]["silence_before_s"] = seconds
    scenarios.append(
        {
            "name": "silent_caller",
            "family": "silent",
            "description": "Long silences before answering; hangs up after 15 s unanswered.",
            "turns": silent,
        }
    )
    elderly = _turns(6, "hesitant_elderly", pauses_s=(1.0, 1.4), level=0.55)
    for index in (1, 3):
        elderly[index]["silence_before_s"] = 4.5
    scenarios.append({"name": "hesitant_elderly", "family": "silent", "description": "Slow, soft speech with long hesitations.", "turns": elderly})

    scenarios.append(
        {
            "name": "noisy_line",
            "family": "recognition",
            "description": "A street call: noise bursts during every reply, some misrecognition.",
            "turns": [t | {"noise": 0.65, "noise_bursts": 2, "misrecognized": i % 3 == 1} for i, t in enumerate(_turns(6, "noisy_line"))],
        }
    )
    scenarios.append(
        {
            "name": "soft_spoken",
            "family": "recognition",
            "description": "A quiet speaker the VAD can miss.",
            "turns": _turns(5, "soft_spoken", level=0.45, misrecognized=False),
        }
    )
    scenarios.append(
        {
            "name": "accented_misrecognition",
            "family": "recognition",
            "description": "Names and numbers misrecognised twice.",
            "turns": [t | {"misrecognized": i in (1, 3)} for i, t in enumerate(_turns(5, "accented_misrecognition"))],
        }
    )
    return {s["name"]: Scenario.model_validate(s) for s in scenarios}


BUILTIN_SCENARIOS: dict[str, Scenario] = _builtins()


def resolve_scenarios(names: list[str] | None, custom: dict[str, Scenario] | None = None) -> list[Scenario]:
    """Scenarios by name (built-in or custom); None or [] means every scenario."""
    available = {**BUILTIN_SCENARIOS, **(custom or {})}
    if not names:
        return list(available.values())
    chosen = []
    for name in names:
        if name not in available:
            raise InputError(
                f"unknown scenario '{name}'{did_you_mean(name, available)}",
                field="scenarios",
                fix="use one of: " + ", ".join(available),
            )
        chosen.append(available[name])
    return chosen


def load_scenarios(path: Path) -> dict[str, Scenario]:
    """User scenarios from a YAML/JSON file holding `scenarios: [...]` (or a list)."""
    data = load_data_file(path)
    items = data.get("scenarios") if isinstance(data, dict) else data
    prefix: tuple[Any, ...] = ("scenarios",) if isinstance(data, dict) else ()
    return parse_scenarios(items, path, data, prefix)


def parse_scenarios(items: Any, source: Path | str, root: Any, prefix: tuple[Any, ...]) -> dict[str, Scenario]:
    if not isinstance(items, list):
        raise InputError("scenarios must be a list", source=source, field=format_loc(prefix) or "scenarios")
    scenarios: dict[str, Scenario] = {}
    for index, raw in enumerate(items):
        scenario = validate(
            Scenario,
            raw,
            source=source,
            root=root,
            prefix=prefix + (index,),
            fix="see the CallerTurn fields in pytest_voicetest.voicesim.scenarios",
        )
        if scenario.name in scenarios or scenario.name in BUILTIN_SCENARIOS:
            raise InputError(
                f"scenario name '{scenario.name}' is already taken",
                source=source,
                line=line_of(root, prefix + (index,)),
                field=format_loc(prefix + (index, "name")),
            )
        scenarios[scenario.name] = scenario
    return scenarios
