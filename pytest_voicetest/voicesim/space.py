"""The configuration space of a voice pipeline: 18 dimensions of discrete bins.

A point is 18 bin indices. Each dimension lists its bins in real units, the bin a
production deployment uses by default, and what the setting does. The defaults follow
common platform defaults (VAPI, Retell, LiveKit; see `adapters.py` for the mapping).
A space can be customised from YAML or Python (`Space.from_data`), e.g. to narrow bins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError, did_you_mean

Bin = float | int | str


@dataclass(frozen=True)
class Dimension:
    name: str
    unit: str
    bins: tuple[Bin, ...]
    default: int
    description: str

    def __post_init__(self) -> None:
        if len(self.bins) < 2:
            raise InputError(f"dimension '{self.name}' needs at least 2 bins", field=f"dimensions.{self.name}.bins")
        if len(set(self.bins)) != len(self.bins):
            raise InputError(f"dimension '{self.name}' repeats a bin", field=f"dimensions.{self.name}.bins")
        if not 0 <= self.default < len(self.bins):
            raise InputError(
                f"dimension '{self.name}': default index {self.default} is outside its {len(self.bins)} bins",
                field=f"dimensions.{self.name}.default",
                fix=f"use 0..{len(self.bins) - 1}",
            )


DEFAULT_DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("end_of_turn_timeout_ms", "ms", (250, 400, 600, 800, 1200, 1800), 2,
              "Silence after caller speech before the turn is considered over."),
    Dimension("eager_eot_threshold", "probability", (0.3, 0.5, 0.7, 0.9, 1.0), 4,
              "Confidence at which a turn detector ends the turn early (1.0 disables eager end-of-turn)."),
    Dimension("post_turn_pause_ms", "ms", (0, 100, 250, 500, 800), 1,
              "Deliberate pause between the end of the caller's turn and the agent's reply."),
    Dimension("vad_activation_threshold", "probability", (0.3, 0.4, 0.5, 0.6, 0.7, 0.8), 2,
              "Voice-activity detector activation level; higher ignores more noise and more soft speech."),
    Dimension("barge_in_min_speech_s", "s", (0.1, 0.2, 0.3, 0.5, 0.8, 1.2), 2,
              "Caller speech needed before the agent stops talking."),
    Dimension("barge_in_cooldown_s", "s", (0.0, 0.5, 1.0, 2.0), 2,
              "After a barge-in, time during which further interruptions are ignored."),
    Dimension("greeting_shield_s", "s", (0.0, 1.0, 2.0, 3.0, 5.0), 0,
              "Start of the greeting during which interruptions are ignored."),
    Dimension("backchannel_delay_ms", "ms", ("off", 800, 1500, 3000), 0,
              "How far into a long caller turn the agent says 'mm-hmm' (off: never)."),
    Dimension("filler_style", "style", ("none", "minimal", "natural", "verbose"), 1,
              "Fillers ('let me check') spoken while the reply is not ready."),
    Dimension("filler_cooldown_ms", "ms", (1000, 3000, 6000, 12000), 1,
              "Minimum time between two fillers."),
    Dimension("empathy_hold_ms", "ms", (0, 300, 700, 1200), 0,
              "Extra pause before replying to an emotional caller turn."),
    Dimension("max_response_words", "words", (15, 25, 40, 60, 100), 2,
              "Longest reply the agent speaks in one turn."),
    Dimension("tts_speed", "x", (0.8, 0.9, 1.0, 1.1, 1.25), 2,
              "Speaking rate relative to the voice's natural pace (150 words per minute at 1.0)."),
    Dimension("tts_latency_class", "class", ("fast", "balanced", "quality"), 1,
              "Text-to-speech model tier: time to first audio 150, 300 or 600 ms."),
    Dimension("progress_message_interval_ms", "ms", ("off", 2000, 4000, 8000), 2,
              "During a slow tool call, how often the agent says it is still working."),
    Dimension("context_strategy", "strategy", ("full", "window_10", "window_4", "summary"), 0,
              "What history the model sees: all turns, the last 10 or 4, or a running summary."),
    Dimension("safety_response", "policy", ("none", "deferred", "immediate", "immediate_handoff"), 2,
              "How a crisis disclosure is handled: ignored, after the current task, at once, at once with a human handoff."),
    Dimension("silence_reminder_s", "s", (3, 5, 8, 12, 20), 2,
              "Caller silence after which the agent checks in ('Are you still there?')."),
)


@dataclass(frozen=True)
class Space:
    """An ordered set of dimensions; points are tuples of bin indices in this order."""

    dimensions: tuple[Dimension, ...] = field(default=DEFAULT_DIMENSIONS)

    def __post_init__(self) -> None:
        names = [d.name for d in self.dimensions]
        if len(set(names)) != len(names):
            raise InputError("the space names a dimension twice", field="dimensions")

    def __len__(self) -> int:
        return len(self.dimensions)

    @property
    def names(self) -> list[str]:
        return [d.name for d in self.dimensions]

    @property
    def sizes(self) -> list[int]:
        return [len(d.bins) for d in self.dimensions]

    def dimension(self, name: str) -> Dimension:
        for dimension in self.dimensions:
            if dimension.name == name:
                return dimension
        raise InputError(f"unknown dimension '{name}'{did_you_mean(name, self.names)}", field="dimension")

    def default_point(self) -> tuple[int, ...]:
        return tuple(d.default for d in self.dimensions)

    def validate_point(self, point: Sequence[Any]) -> tuple[int, ...]:
        """The point as a tuple of ints, or an InputError naming the bad index."""
        if isinstance(point, (str, bytes)) or not isinstance(point, Sequence):
            raise InputError(f"a point is a list of {len(self)} bin indices, not {type(point).__name__}", field="point")
        if len(point) != len(self):
            raise InputError(
                f"a point has {len(self)} bin indices, one per dimension; got {len(point)}",
                field="point",
                fix=f"give indices for: {', '.join(self.names)}",
            )
        checked = []
        for index, (value, dimension) in enumerate(zip(point, self.dimensions)):
            whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
            if isinstance(value, bool) or not whole:
                raise InputError(f"index for {dimension.name} must be a whole number, got {value!r}", field=f"point[{index}]")
            value = int(value)
            if not 0 <= value < len(dimension.bins):
                raise InputError(
                    f"{dimension.name} has {len(dimension.bins)} bins, so its index must be 0..{len(dimension.bins) - 1}; got {value}",
                    field=f"point[{index}]",
                )
            checked.append(value)
        return tuple(checked)

    def values(self, point: Sequence[int]) -> dict[str, Bin]:
        """Bin values of a point by dimension name."""
        return {d.name: d.bins[i] for d, i in zip(self.dimensions, point)}

    def to_data(self) -> dict[str, Any]:
        return {
            "dimensions": [
                {"name": d.name, "unit": d.unit, "bins": list(d.bins), "default": d.default, "description": d.description}
                for d in self.dimensions
            ]
        }

    @classmethod
    def from_data(cls, data: Any) -> Space:
        """A space from plain data: `{dimensions: [...]}` with full dimensions, or
        `{overrides: {name: {bins: [...], default: i}}}` applied to the default space."""
        if not isinstance(data, dict):
            raise InputError("a space is a mapping with `dimensions` or `overrides`", field="space")
        if "dimensions" in data:
            dims = []
            for index, raw in enumerate(data["dimensions"] or []):
                try:
                    dims.append(
                        Dimension(str(raw["name"]), str(raw.get("unit", "")), tuple(raw["bins"]), int(raw["default"]), str(raw.get("description", "")))
                    )
                except (KeyError, TypeError, ValueError) as exc:
                    raise InputError(f"dimension {index} is incomplete ({exc})", field=f"dimensions[{index}]", fix="give name, bins and default") from None
            return cls(tuple(dims))
        dims_by_name = {d.name: d for d in DEFAULT_DIMENSIONS}
        for name, change in (data.get("overrides") or {}).items():
            if name not in dims_by_name:
                raise InputError(f"unknown dimension '{name}'{did_you_mean(name, dims_by_name)}", field=f"overrides.{name}")
            base = dims_by_name[name]
            bins = tuple(change.get("bins", base.bins))
            default = change.get("default")
            if default is None:
                default = bins.index(base.bins[base.default]) if base.bins[base.default] in bins else 0
            dims_by_name[name] = Dimension(name, base.unit, bins, int(default), base.description)
        return cls(tuple(dims_by_name[d.name] for d in DEFAULT_DIMENSIONS))


DEFAULT_SPACE = Space()
