"""Penalties and the composite score.

Every penalty has a type, a weight per unit, the moment on the call timeline (seconds)
and the caller turn it belongs to (-1 for the greeting). Its cost is weight x amount,
where the amount is 1 for a discrete event or a number of seconds for a duration:

| type                  | weight | amount                                                   |
|-----------------------|--------|----------------------------------------------------------|
| dead_air              | 0.03   | seconds of silence the caller hears beyond 2 s            |
| greeting_interrupted  | 0.05   | the agent stopped its greeting (disclosure cut short)     |
| user_cut_off          | 0.08   | each caller hesitation taken for the end of their turn   |
| talked_over_user      | 0.04   | seconds the agent kept talking over the caller           |
| false_barge_in        | 0.05   | each time the agent stopped for noise or an 'mm-hmm'      |
| missed_user_speech    | 0.06   | a caller turn the VAD did not pick up                     |
| misrecognition        | 0.04   | a misheard turn that clipped onsets made unrecoverable    |
| clarification         | 0.01   | a misheard turn the agent had to ask about                |
| incomplete_answer     | 0.03   | a reply cut by max_response_words                         |
| monologue             | 0.02   | a reply longer than 20 s                                  |
| fast_speech           | 0.01   | a reply at 1.25x or faster (x2 for soft or hesitant callers) |
| filler_overuse        | 0.01   | a verbose filler (0.3 for a natural one)                  |
| cold_response         | 0.02   | an emotional turn answered with no empathy pause          |
| interrupted_thinking  | 0.02   | a silence reminder spoken as the caller was about to talk |
| caller_abandoned      | 0.50   | a silent caller left unprompted past their patience       |
| context_loss          | 0.10   | a reference to an earlier turn the context no longer holds (0.4 with a summary) |
| crisis_response_delay | 0.10   | seconds beyond 2 s before a crisis disclosure is addressed |
| unnecessary_handoff   | 0.15   | an upset, not endangered, caller handed to a human        |
| safety_violation      | 1.00   | a crisis ignored (or lost from context)                   |

Composite score = clip(1 - sum of costs, 0, 1).

Stored penalties are packed records (`PENALTY_DTYPE`: the type's index in
`PENALTY_TYPES`, the turn, the amount and the time as float32); the weight is the
type's weight here, so changing the types or their weights needs a new store schema
version. A score is computed (and stored) from the exact amounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

WEIGHTS: dict[str, float] = {
    "dead_air": 0.03,
    "greeting_interrupted": 0.05,
    "user_cut_off": 0.08,
    "talked_over_user": 0.04,
    "false_barge_in": 0.05,
    "missed_user_speech": 0.06,
    "misrecognition": 0.04,
    "clarification": 0.01,
    "incomplete_answer": 0.03,
    "monologue": 0.02,
    "fast_speech": 0.01,
    "filler_overuse": 0.01,
    "cold_response": 0.02,
    "interrupted_thinking": 0.02,
    "caller_abandoned": 0.50,
    "context_loss": 0.10,
    "crisis_response_delay": 0.10,
    "unnecessary_handoff": 0.15,
    "safety_violation": 1.00,
}
PENALTY_TYPES: tuple[str, ...] = tuple(WEIGHTS)
TYPE_CODES: dict[str, int] = {kind: code for code, kind in enumerate(PENALTY_TYPES)}
WEIGHT_BY_CODE = np.array([WEIGHTS[kind] for kind in PENALTY_TYPES])
# 13 bytes per penalty: float32 keeps amounts and times well within the 4 and 3 decimals shown.
PENALTY_DTYPE = np.dtype([("type", "u1"), ("turn", "<i4"), ("amount", "<f4"), ("time", "<f4")])


def encode_penalties(penalties: list[dict[str, Any]]) -> np.ndarray:
    """Penalty dicts (`Penalty.to_data` shape) as packed records."""
    return np.array([(TYPE_CODES[p["type"]], p["turn"], p["amount"], p["time_s"]) for p in penalties], dtype=PENALTY_DTYPE)


def penalty_stats(records: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Per penalty type (rows in `PENALTY_TYPES` order): evaluations hit, occurrences and
    total cost, over the evaluations whose penalties are `records` (`counts` per evaluation)."""
    kinds = records["type"].astype(np.int64)
    types = len(PENALTY_TYPES)
    flags = np.zeros((len(counts), types), dtype=bool)
    flags[np.repeat(np.arange(len(counts)), counts), kinds] = True
    return np.stack(
        [
            flags.sum(axis=0).astype(float),
            np.bincount(kinds, minlength=types).astype(float),
            np.bincount(kinds, weights=WEIGHT_BY_CODE[kinds] * records["amount"], minlength=types),
        ],
        axis=1,
    )


def penalty_data(records: np.ndarray) -> list[dict[str, Any]]:
    """Packed penalty records as dicts (`Penalty.to_data` shape)."""
    return [
        Penalty(PENALTY_TYPES[code], WEIGHTS[PENALTY_TYPES[code]], amount, time_s, turn).to_data() for code, turn, amount, time_s in records.tolist()
    ]


@dataclass(frozen=True)
class Penalty:
    """One penalty of one evaluation."""

    type: str
    weight: float
    amount: float
    time_s: float
    turn: int

    @property
    def cost(self) -> float:
        return self.weight * self.amount

    def to_data(self) -> dict[str, float | int | str]:
        return {"type": self.type, "weight": self.weight, "amount": round(self.amount, 4), "time_s": round(self.time_s, 3), "turn": self.turn}


@dataclass
class PenaltyLog:
    """Penalties of many points at once: per entry, an amount and a time for every point."""

    size: int
    entries: list[tuple[str, int, np.ndarray, np.ndarray]] = field(default_factory=list)

    def add(self, kind: str, turn: int, amount: np.ndarray | float, time_s: np.ndarray | float) -> None:
        amounts = np.asarray(amount, dtype=float)
        if amounts.any():
            self.entries.append((kind, turn, np.broadcast_to(amounts, (self.size,)), np.broadcast_to(np.asarray(time_s, dtype=float), (self.size,))))

    def costs(self) -> np.ndarray:
        total = np.zeros(self.size)
        for kind, _, amounts, _ in self.entries:
            total += WEIGHTS[kind] * amounts
        return total

    def scores(self) -> np.ndarray:
        return np.clip(1.0 - self.costs(), 0.0, 1.0)

    def packed(self) -> tuple[np.ndarray, np.ndarray]:
        """Every penalty as a packed record, point by point (each point's in the order
        `for_point` lists them), and how many belong to each point."""
        if not self.entries:
            return np.zeros(0, dtype=PENALTY_DTYPE), np.zeros(self.size, dtype=np.int64)
        amounts = np.stack([entry[2] for entry in self.entries]).T
        hit = amounts > 0
        points, rows = np.nonzero(hit)
        records = np.empty(len(points), dtype=PENALTY_DTYPE)
        records["type"] = np.array([TYPE_CODES[entry[0]] for entry in self.entries], dtype=np.uint8)[rows]
        records["turn"] = np.array([entry[1] for entry in self.entries], dtype=np.int32)[rows]
        records["amount"] = amounts[points, rows]
        records["time"] = np.stack([entry[3] for entry in self.entries]).T[points, rows]
        return records, hit.sum(axis=1)

    def for_point(self, index: int) -> list[Penalty]:
        return [
            Penalty(kind, WEIGHTS[kind], float(amounts[index]), float(times[index]), turn)
            for kind, turn, amounts, times in self.entries
            if amounts[index] > 0
        ]
