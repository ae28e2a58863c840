"""The adapter log: how each dimension of a point becomes a concrete platform setting.

For Retell (agent API), VAPI (assistant API) and LiveKit Agents (`AgentSession`,
Silero VAD, TTS options), each dimension maps to a field and a converted value, or to
a note when the platform has no direct setting (then it belongs in the prompt or in
orchestration code). `export_snippet` turns a point into a config fragment per platform.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InputError, did_you_mean
from .space import Bin, Space

PLATFORMS = ("retell", "vapi", "livekit")
Convert = Callable[[Bin], Any]


def _seconds(value: Bin) -> Any:
    return None if value == "off" else round(float(value) / 1000, 3)


def _same(value: Bin) -> Any:
    return value


def _scale(low: float, high: float, invert: bool = False) -> Convert:
    """A value in [low, high] as 0..1 (for Retell's sensitivity-style fields)."""

    def convert(value: Bin) -> Any:
        share = (float(value) - low) / (high - low)
        share = min(1.0, max(0.0, share))
        return round(1 - share if invert else share, 2)

    return convert


TTS_MODELS = {"fast": "eleven_flash_v2_5", "balanced": "eleven_turbo_v2_5", "quality": "eleven_multilingual_v2"}


def _tts_model(value: Bin) -> Any:
    """The ElevenLabs model of a latency tier (the same voice vendor on all three platforms)."""
    return TTS_MODELS[str(value)]


@dataclass(frozen=True)
class Rule:
    platform: str
    field: str
    convert: Convert | None
    note: str = ""


RULES: dict[str, tuple[Rule, ...]] = {
    "end_of_turn_timeout_ms": (
        Rule("retell", "responsiveness", _scale(250, 1800, invert=True), "1 answers fastest; derived from the timeout"),
        Rule("vapi", "startSpeakingPlan.waitSeconds", _seconds),
        Rule("livekit", "AgentSession.min_endpointing_delay", _seconds),
    ),
    "eager_eot_threshold": (
        Rule("retell", "", None, "no setting: Retell's turn detector is not exposed"),
        Rule(
            "vapi",
            "startSpeakingPlan.smartEndpointingPlan",
            lambda v: None if float(v) >= 1 else {"provider": "livekit"},
            "1.0 disables smart endpointing",
        ),
        Rule("livekit", "AgentSession.preemptive_generation", lambda v: float(v) < 1.0, "with the turn detector's unlikely_threshold = value"),
    ),
    "post_turn_pause_ms": (
        Rule("retell", "", None, "no setting: part of responsiveness"),
        Rule("vapi", "startSpeakingPlan.transcriptionEndpointingPlan.onPunctuationSeconds", _seconds),
        Rule("livekit", "AgentSession.max_endpointing_delay", lambda v: round(float(v) / 1000 + 0.5, 3), "extra wait on top of the minimum delay"),
    ),
    "vad_activation_threshold": (
        Rule("retell", "denoising_mode", lambda v: "noise-and-background-speech-cancellation" if float(v) >= 0.6 else "noise-cancellation"),
        Rule("vapi", "backgroundSpeechDenoisingPlan.smartDenoisingPlan.enabled", lambda v: float(v) >= 0.6),
        Rule("livekit", "silero.VAD.load(activation_threshold=...)", _same),
    ),
    "barge_in_min_speech_s": (
        Rule("retell", "interruption_sensitivity", _scale(0.1, 1.2, invert=True), "1 stops at the slightest speech"),
        Rule("vapi", "stopSpeakingPlan.voiceSeconds", _same),
        Rule("livekit", "AgentSession.min_interruption_duration", _same),
    ),
    "barge_in_cooldown_s": (
        Rule("retell", "", None, "no setting"),
        Rule("vapi", "stopSpeakingPlan.backoffSeconds", _same),
        Rule("livekit", "AgentSession.false_interruption_timeout", _same),
    ),
    "greeting_shield_s": (
        Rule("retell", "begin_message_delay_ms", lambda v: int(float(v) * 1000), "closest setting: delays instead of shielding"),
        Rule("vapi", "firstMessageInterruptionsEnabled", lambda v: float(v) == 0),
        Rule("livekit", "session.say(greeting, allow_interruptions=...)", lambda v: float(v) == 0),
    ),
    "backchannel_delay_ms": (
        Rule("retell", "enable_backchannel", lambda v: v != "off", "with backchannel_frequency lower for longer delays"),
        Rule("vapi", "backchannelingEnabled", lambda v: v != "off"),
        Rule("livekit", "", None, "no setting: implement in a user_state_changed handler"),
    ),
    "filler_style": (
        Rule("retell", "", None, "no setting: put filler guidance in the prompt"),
        Rule("vapi", "voice.fillerInjectionEnabled", lambda v: v != "none"),
        Rule("livekit", "", None, "no setting: say fillers from on_user_turn_completed"),
    ),
    "filler_cooldown_ms": (
        Rule("retell", "", None, "no setting"),
        Rule("vapi", "", None, "no setting: fixed by fillerInjection"),
        Rule("livekit", "", None, "no setting: rate-limit fillers in code"),
    ),
    "empathy_hold_ms": (
        Rule("retell", "", None, "no setting: prompt for a pause on emotional turns"),
        Rule("vapi", "", None, "no setting: prompt"),
        Rule("livekit", "", None, "no setting: delay in on_user_turn_completed"),
    ),
    "max_response_words": (
        Rule("retell", "max_tokens (response engine LLM)", lambda v: int(float(v) * 1.4) + 10, "plus a length rule in the prompt"),
        Rule("vapi", "model.maxTokens", lambda v: int(float(v) * 1.4) + 10),
        Rule("livekit", "LLM(max_completion_tokens=...)", lambda v: int(float(v) * 1.4) + 10),
    ),
    "tts_speed": (
        Rule("retell", "voice_speed", _same),
        Rule("vapi", "voice.speed", _same),
        Rule("livekit", "TTS(speed=...)", _same),
    ),
    "tts_latency_class": (
        Rule("retell", "voice_model", _tts_model),
        Rule("vapi", "voice.model", _tts_model),
        Rule("livekit", "elevenlabs.TTS(model=...)", _tts_model),
    ),
    "progress_message_interval_ms": (
        Rule("retell", "tool speak_during_execution", lambda v: v != "off", "with execution_message_description"),
        Rule("vapi", "tool messages[type=request-response-delayed].timingMilliseconds", lambda v: None if v == "off" else int(float(v))),
        Rule("livekit", "", None, "no setting: say progress updates from the tool"),
    ),
    "context_strategy": (
        Rule("retell", "", None, "no setting: Retell keeps the full history"),
        Rule("vapi", "", None, "no setting: trim history in a custom LLM server"),
        Rule("livekit", "ChatContext truncation in llm_node", _same),
    ),
    "safety_response": (
        Rule("retell", "general_prompt safety section", _same, "with a transfer_call tool for immediate_handoff"),
        Rule("vapi", "model.messages safety section", _same, "with a transferCall tool for immediate_handoff"),
        Rule("livekit", "Agent instructions safety section", _same, "with a handoff function tool for immediate_handoff"),
    ),
    "silence_reminder_s": (
        Rule("retell", "reminder_trigger_ms", lambda v: int(float(v) * 1000)),
        Rule("vapi", "messagePlan.idleTimeoutSeconds", _same),
        Rule("livekit", "AgentSession.user_away_timeout", _same),
    ),
}


@dataclass(frozen=True)
class AdapterEntry:
    dimension: str
    value: Bin
    platform: str
    field: str
    platform_value: Any
    note: str

    def to_data(self) -> dict[str, Any]:
        return {
            "dimension": self.dimension,
            "value": self.value,
            "platform": self.platform,
            "field": self.field or None,
            "platform_value": self.platform_value,
            "note": self.note,
        }


def adapter_log(space: Space, point: Sequence[int], platforms: Sequence[str] = PLATFORMS) -> list[AdapterEntry]:
    """How a point is applied on each platform, dimension by dimension."""
    for platform in platforms:
        if platform not in PLATFORMS:
            raise InputError(f"unknown platform '{platform}'{did_you_mean(platform, PLATFORMS)}", field="platform", fix="use retell, vapi or livekit")
    values = space.values(space.validate_point(point))
    entries = []
    for dimension, value in values.items():
        for rule in RULES.get(dimension, ()):
            if rule.platform in platforms:
                converted = rule.convert(value) if rule.convert else None
                entries.append(AdapterEntry(dimension, value, rule.platform, rule.field, converted, rule.note))
    return entries


def export_snippet(space: Space, point: Sequence[int], platform: str) -> dict[str, Any]:
    """A config fragment for one platform: dotted fields nested, unsupported ones listed."""
    snippet: dict[str, Any] = {}
    manual: list[str] = []
    for entry in adapter_log(space, point, [platform]):
        if not entry.field or entry.platform_value is None or not entry.field.replace(".", "").replace("_", "").isalnum():
            manual.append(f"{entry.dimension}={entry.value}: {entry.field or entry.note}")
            continue
        target = snippet
        *parents, leaf = entry.field.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
        target[leaf] = entry.platform_value
    if manual:
        snippet["_apply_by_hand"] = manual
    return snippet
