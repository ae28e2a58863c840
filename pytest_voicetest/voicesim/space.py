"""The configuration space of a voice pipeline: 18 dimensions of discrete bins.

A point is 18 bin indices. Each dimension lists its bins in real units, the bin a
production deployment uses by default, and what the setting does. The defaults follow
common platform defaults (VAPI, Retell, LiveKit; see `adapters.py` for the mapping).
A space can be customised from YAML or Python (`Space.from_data`), e.g. to narrow bins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError, did_you_mean

Bin = float | int | str


MAX_BINS = 1000
# Numeric dimensions: the range their bins must lie in (low, high); every other standard
# dimension is categorical and takes the values of its default bins.
RANGES: dict[str, tuple[float, float]] = {
    "end_of_turn_timeout_ms": (0, 60_000),
    "eager_eot_threshold": (0, 1),
    "post_turn_pause_ms": (0, 60_000),
    "vad_activation_threshold": (0, 1),
    "barge_in_min_speech_s": (0, 60),
    "barge_in_cooldown_s": (0, 600),
    "greeting_shield_s": (0, 600),
    "backchannel_delay_ms": (0, 600_000),
    "filler_cooldown_ms": (0, 600_000),
    "empathy_hold_ms": (0, 60_000),
    "max_response_words": (1, 10_000),
    "tts_speed": (0.25, 4),
    "progress_message_interval_ms": (0, 600_000),
    "silence_reminder_s": (0.5, 600),
}


def _bin_error(name: str, index: int, value: Any, allowed: str) -> InputError:
    return InputError(f"dimension '{name}': bin {value!r} is not allowed; bins are {allowed}", field=f"bins[{index}]", fix=f"use {allowed}")


MAX_POINTS = 100_000
MAX_SEED = 2**32 - 1


def check_count(n: Any) -> int:
    """`n` as a number of points, or an InputError naming `n_points` and the range."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_POINTS:
        raise InputError(f"the number of points must be a whole number 1..{MAX_POINTS}, got {n!r}", field="n_points")
    return n


def check_seed(seed: Any, field: str = "seed") -> int:
    """`seed` as a seed, or an InputError naming the field and the range."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        raise InputError(f"seed must be a whole number 0..{MAX_SEED}, got {seed!r}", field=field, fix="use a seed such as 0 or 7")
    return seed


@dataclass(frozen=True)
class Dimension:
    name: str
    unit: str
    bins: tuple[Bin, ...]
    default: int
    description: str

    def __post_init__(self) -> None:
        if len(self.bins) < 2:
            raise InputError(f"dimension '{self.name}' needs at least 2 bins, got {len(self.bins)}", field="bins", fix="list 2 or more bins")
        if len(self.bins) > MAX_BINS:
            raise InputError(
                f"dimension '{self.name}' has {len(self.bins)} bins, more than {MAX_BINS}", field="bins", fix=f"list at most {MAX_BINS} bins"
            )
        for index, value in enumerate(self.bins):
            if isinstance(value, bool) or not isinstance(value, (int, float, str)) or (isinstance(value, float) and not math.isfinite(value)):
                raise _bin_error(self.name, index, value, "finite numbers or names")
        if len(set(self.bins)) != len(self.bins):
            raise InputError(f"dimension '{self.name}' repeats a bin", field="bins", fix="list each bin once")
        if isinstance(self.default, bool) or not isinstance(self.default, int) or not 0 <= self.default < len(self.bins):
            raise InputError(
                f"dimension '{self.name}': default index {self.default!r} is outside its {len(self.bins)} bins",
                field="default",
                fix=f"use 0..{len(self.bins) - 1}",
            )
        _check_domain(self)


def _check_domain(dimension: Dimension) -> None:
    """Bins of a standard dimension must mean something to the pipeline."""
    standard = _STANDARD.get(dimension.name)
    if standard is None:
        return
    words = tuple(v for v in standard.bins if isinstance(v, str))
    limits = RANGES.get(dimension.name)
    if limits is None:
        allowed = "one of " + ", ".join(words)
    else:
        allowed = f"numbers {limits[0]:g}..{limits[1]:g}" + (" or " + ", ".join(repr(w) for w in words) if words else "")
    for index, value in enumerate(dimension.bins):
        if isinstance(value, str):
            ok = value in words
        else:
            ok = limits is not None and limits[0] <= value <= limits[1]
        if not ok:
            raise _bin_error(dimension.name, index, value, allowed)


_STANDARD: dict[str, Dimension] = {}

DEFAULT_DIMENSIONS: tuple[Dimension, ...] = (
    Dimension("end_of_turn_timeout_ms", "ms", (250, 400, 600, 800, 1200, 1800), 2, "Silence after caller speech before the turn is considered over."),
    Dimension(
        "eager_eot_threshold",
        "probability",
        (0.3, 0.5, 0.7, 0.9, 1.0),
        4,
        "Confidence at which a turn detector ends the turn early (1.0 disables eager end-of-turn).",
    ),
    Dimension("post_turn_pause_ms", "ms", (0, 100, 250, 500, 800), 1, "Deliberate pause between the end of the caller's turn and the agent's reply."),
    Dimension(
        "vad_activation_threshold",
        "probability",
        (0.3, 0.4, 0.5, 0.6, 0.7, 0.8),
        2,
        "Voice-activity detector activation level; higher ignores more noise and more soft speech.",
    ),
    Dimension("barge_in_min_speech_s", "s", (0.1, 0.2, 0.3, 0.5, 0.8, 1.2), 2, "Caller speech needed before the agent stops talking."),
    Dimension("barge_in_cooldown_s", "s", (0.0, 0.5, 1.0, 2.0), 2, "After a barge-in, time during which further interruptions are ignored."),
    Dimension("greeting_shield_s", "s", (0.0, 1.0, 2.0, 3.0, 5.0), 0, "Start of the greeting during which interruptions are ignored."),
    Dimension("backchannel_delay_ms", "ms", ("off", 800, 1500, 3000), 0, "How far into a long caller turn the agent says 'mm-hmm' (off: never)."),
    Dimension("filler_style", "style", ("none", "minimal", "natural", "verbose"), 1, "Fillers ('let me check') spoken while the reply is not ready."),
    Dimension("filler_cooldown_ms", "ms", (1000, 3000, 6000, 12000), 1, "Minimum time between two fillers."),
    Dimension("empathy_hold_ms", "ms", (0, 300, 700, 1200), 0, "Extra pause before replying to an emotional caller turn."),
    Dimension("max_response_words", "words", (15, 25, 40, 60, 100), 2, "Longest reply the agent speaks in one turn."),
    Dimension("tts_speed", "x", (0.8, 0.9, 1.0, 1.1, 1.25), 2, "Speaking rate relative to the voice's natural pace (150 words per minute at 1.0)."),
    Dimension("tts_latency_class", "class", ("fast", "balanced", "quality"), 1, "Text-to-speech model tier: time to first audio 150, 300 or 600 ms."),
    Dimension(
        "progress_message_interval_ms", "ms", ("off", 2000, 4000, 8000), 2, "During a slow tool call, how often the agent says it is still working."
    ),
    Dimension(
        "context_strategy",
        "strategy",
        ("full", "window_10", "window_4", "summary"),
        0,
        "What history the model sees: all turns, the last 10 or 4, or a running summary.",
    ),
    Dimension(
        "safety_response",
        "policy",
        ("none", "deferred", "immediate", "immediate_handoff"),
        2,
        "How a crisis disclosure is handled: ignored, after the current task, at once, at once with a human handoff.",
    ),
    Dimension("silence_reminder_s", "s", (3, 5, 8, 12, 20), 2, "Caller silence after which the agent checks in ('Are you still there?')."),
)
_STANDARD.update({d.name: d for d in DEFAULT_DIMENSIONS})
STANDARD_NAMES: tuple[str, ...] = tuple(_STANDARD)


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

    def validate_point(self, point: Sequence[Any], field: str = "point") -> tuple[int, ...]:
        """The point as a tuple of ints, or an InputError naming the bad index (`point[3]`)
        and its valid range."""
        if isinstance(point, (str, bytes)) or not isinstance(point, Sequence):
            raise InputError(f"a point is a list of {len(self)} bin indices, not {type(point).__name__}", field=field)
        if len(point) != len(self):
            raise InputError(
                f"a point has {len(self)} bin indices, one per dimension; got {len(point)}",
                field=field,
                fix=f"give exactly {len(self)} indices, for: {', '.join(self.names)}",
            )
        checked = []
        for index, (value, dimension) in enumerate(zip(point, self.dimensions, strict=False)):
            top = len(dimension.bins) - 1
            whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
            if isinstance(value, bool) or not whole:
                raise InputError(f"index for {dimension.name} must be a whole number 0..{top}, got {value!r}", field=f"{field}[{index}]")
            value = int(value)
            if not 0 <= value <= top:
                raise InputError(
                    f"{dimension.name} has {len(dimension.bins)} bins, so its index must be 0..{top}; got {value}",
                    field=f"{field}[{index}]",
                )
            checked.append(value)
        return tuple(checked)

    def require_standard(self) -> Space:
        """This space, when it has exactly the 18 standard dimensions the pipeline simulates."""
        names = self.names
        if sorted(names) != sorted(STANDARD_NAMES):
            missing = [n for n in STANDARD_NAMES if n not in names]
            extra = [n for n in names if n not in STANDARD_NAMES]
            detail = "; ".join(
                part for part in (f"missing {', '.join(missing)}" if missing else "", f"unknown {', '.join(extra)}" if extra else "") if part
            )
            raise InputError(
                f"the pipeline needs the {len(STANDARD_NAMES)} standard dimensions; got {len(names)} ({detail})",
                field="dimensions",
                fix="customise the bins and defaults of the standard dimensions (overrides:) instead",
            )
        return self

    def values(self, point: Sequence[int]) -> dict[str, Bin]:
        """Bin values of a point by dimension name."""
        return {d.name: d.bins[i] for d, i in zip(self.dimensions, point, strict=False)}

    def to_data(self) -> dict[str, Any]:
        return {
            "dimensions": [
                {"name": d.name, "unit": d.unit, "bins": list(d.bins), "default": d.default, "description": d.description} for d in self.dimensions
            ]
        }

    @classmethod
    def from_data(cls, data: Any) -> Space:
        """A space from plain data: `{dimensions: [...]}` with full dimensions, or
        `{overrides: {name: {bins: [...], default: i}}}` applied to the default space.
        Errors name the field (e.g. `overrides.tts_speed.bins[2]`)."""
        if not isinstance(data, dict) or not data.keys() <= {"dimensions", "overrides"} or len(data) != 1:
            raise InputError("a space is a mapping with either `dimensions` (a full list) or `overrides` (changes to the defaults)", field="space")
        if "dimensions" in data:
            raw_dimensions = data["dimensions"]
            if not isinstance(raw_dimensions, list):
                raise InputError(f"dimensions must be a list, got {type(raw_dimensions).__name__}", field="dimensions")
            return cls(tuple(_dimension(raw, f"dimensions[{index}]") for index, raw in enumerate(raw_dimensions)))
        overrides = data["overrides"]
        if not isinstance(overrides, dict):
            raise InputError(f"overrides must be a mapping of dimension name to changes, got {type(overrides).__name__}", field="overrides")
        dims_by_name = {d.name: d for d in DEFAULT_DIMENSIONS}
        for name, change in overrides.items():
            where = f"overrides.{name}"
            if name not in dims_by_name:
                raise InputError(
                    f"unknown dimension '{name}'{did_you_mean(str(name), dims_by_name)}", field=where, fix="use one of: " + ", ".join(dims_by_name)
                )
            if not isinstance(change, dict) or not change.keys() <= {"bins", "default"}:
                raise InputError(f"an override is a mapping with `bins` and/or `default`, got {change!r}", field=where)
            base = dims_by_name[name]
            bins = _bins(change.get("bins", list(base.bins)), f"{where}.bins")
            default = change.get("default")
            if default is None:
                default = bins.index(base.bins[base.default]) if base.bins[base.default] in bins else 0
            dims_by_name[name] = _built(where, name, base.unit, bins, default, base.description)
        return cls(tuple(dims_by_name[d.name] for d in DEFAULT_DIMENSIONS))


def _bins(raw: Any, where: str) -> tuple[Bin, ...]:
    if not isinstance(raw, list):
        raise InputError(f"bins must be a list, got {type(raw).__name__}", field=where)
    return tuple(raw)


def _built(where: str, name: str, unit: str, bins: tuple[Bin, ...], default: Any, description: str) -> Dimension:
    """A Dimension, with its errors located under `where`."""
    try:
        return Dimension(name, unit, bins, default, description)
    except InputError as exc:
        raise InputError(exc.message, field=f"{where}.{exc.field}" if exc.field else where, fix=exc.fix) from None


def _dimension(raw: Any, where: str) -> Dimension:
    if not isinstance(raw, dict):
        raise InputError(f"a dimension is a mapping with name, bins and default, got {type(raw).__name__}", field=where)
    unknown = set(raw) - {"name", "unit", "bins", "default", "description"}
    if unknown:
        raise InputError(
            f"unknown key '{sorted(unknown)[0]}' in a dimension",
            field=f"{where}.{sorted(unknown)[0]}",
            fix="use name, unit, bins, default, description",
        )
    missing = [key for key in ("name", "bins", "default") if key not in raw]
    if missing:
        raise InputError(f"a dimension needs {', '.join(missing)}", field=where, fix="give name, bins and default")
    if not isinstance(raw["name"], str) or not raw["name"]:
        raise InputError(f"a dimension's name is a non-empty string, got {raw['name']!r}", field=f"{where}.name")
    bins = _bins(raw["bins"], f"{where}.bins")
    return _built(where, raw["name"], str(raw.get("unit", "")), bins, raw["default"], str(raw.get("description", "")))


DEFAULT_SPACE = Space()
