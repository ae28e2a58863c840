"""A deterministic event simulation of one call, vectorised with numpy across points.

For a scenario and an array of points (one row of 18 bin indices each) the call is
played turn by turn; every quantity is an array with one value per point.

Greeting. The greeting lasts `greeting_s / tts_speed`. A barge-in at `b` lasting `d` is
ignored while `b < greeting_shield_s`, and heard when `d >= barge_in_min_speech_s`;
a heard barge-in stops the greeting (greeting_interrupted) after the detection time
`barge_in_min_speech_s` of overlap; an ignored one is talked over for
`min(d, greeting - b)` seconds (talked_over_user).

Each caller turn:
1. Silence first (`silence_before_s = s`): a reminder fires at `silence_reminder_s = r`
   when `r < s`; if the caller then speaks within 1 s it is interrupted_thinking. The
   silence nobody breaks is `min(r, s)`; beyond 6 s it is dead air. With no reminder and
   `s > patience_s` the caller gives up (caller_abandoned).
2. Speech. If `level < vad_activation_threshold` the turn is missed (missed_user_speech).
   The effective end-of-turn wait is `eot = end_of_turn_timeout_ms * (0.4 + 0.6 * eager_eot_threshold)`;
   every hesitation `>= eot` is a user_cut_off.
3. A misrecognised turn costs a clarification, or a misrecognition when onsets were clipped
   (`vad_activation_threshold >= 0.6`) or the caller was cut off.
4. Reply latency (ms) = eot + post_turn_pause_ms + empathy_hold_ms (emotional turns)
   + model time 450 + 12 per turn of history (full: all, window_N: N, summary: 4, +150)
   + first audio 150/300/600 (tts_latency_class) + the turn's tool time.
   Fillers start at 700 ms when the style is not `none` and `filler_cooldown_ms` has
   passed since the last one (lasting 400/700/1500 ms for minimal/natural/verbose);
   during a tool call a progress message plays every `progress_message_interval_ms`.
   The longest silence the caller hears, beyond 2 s, is dead_air. Verbose and natural
   fillers cost filler_overuse.
5. Crisis disclosure: `none` is a safety_violation; the delay before it is addressed is
   the latency (immediate, immediate_handoff) or the latency plus the rest of the reply
   and one more exchange (deferred); beyond 2 s it is crisis_response_delay. Emotional
   turns without an empathy pause are cold_response; `immediate_handoff` hands upset
   callers without a crisis to a human (unnecessary_handoff).
6. A reference back `age` turns is lost with window_N when `age > N`, and with a summary
   when `age > 10` (at 0.4 weight); losing a crisis turn is also a safety_violation.
7. The reply speaks `min(answer_words, max_response_words)` words at 150 wpm x tts_speed:
   truncation is incomplete_answer, over 20 s is monologue, 1.25x speed is fast_speech.
8. While the reply plays: a barge-in at `a` lasting `d` is ignored within
   `barge_in_cooldown_s` of the last heard barge-in, heard when `d >= barge_in_min_speech_s`
   (the reply stops after that much overlap) and talked over otherwise. Each 0.3 s
   'mm-hmm' stops the agent when `barge_in_min_speech_s <= 0.3`, and each 0.4 s noise burst
   of level `noise >= vad_activation_threshold` does when `barge_in_min_speech_s <= 0.4`
   (false_barge_in).
The call clock advances by the silence, the speech, the latency and the reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .scenarios import Scenario
from .scoring import PenaltyLog
from .space import Space

WORDS_PER_SECOND = 150 / 60
FIRST_AUDIO_MS = {"fast": 150.0, "balanced": 300.0, "quality": 600.0}
FILLER_MS = {"none": 0.0, "minimal": 400.0, "natural": 700.0, "verbose": 1500.0}
FILLER_COST = {"none": 0.0, "minimal": 0.0, "natural": 0.3, "verbose": 1.0}
FILLER_AFTER_MS = 700.0
DEAD_AIR_GRACE_S = 2.0
MODEL_BASE_MS = 450.0
MODEL_MS_PER_TURN = 12.0
SUMMARY_MS = 150.0
HISTORY = {"full": None, "window_10": 10, "window_4": 4, "summary": 4}
LOST_AFTER = {"full": None, "window_10": 10, "window_4": 4, "summary": 10}
LOSS_SHARE = {"full": 0.0, "window_10": 1.0, "window_4": 1.0, "summary": 0.4}
BACKCHANNEL_S = 0.3
NOISE_BURST_S = 0.4


@dataclass
class Settings:
    """Per-point setting values as arrays (one entry per point)."""

    eot_s: np.ndarray
    post_pause_ms: np.ndarray
    vad: np.ndarray
    min_speech: np.ndarray
    cooldown: np.ndarray
    shield: np.ndarray
    filler_after_ms: np.ndarray
    filler_ms: np.ndarray
    filler_cost: np.ndarray
    filler_cooldown_ms: np.ndarray
    empathy_ms: np.ndarray
    max_words: np.ndarray
    speed: np.ndarray
    first_audio_ms: np.ndarray
    progress_ms: np.ndarray
    context: np.ndarray
    safety: np.ndarray
    reminder_s: np.ndarray


def _numeric(values: tuple[Any, ...], indices: np.ndarray) -> np.ndarray:
    table = np.array([np.inf if v == "off" else float(v) for v in values])
    picked: np.ndarray = table[indices]
    return picked


def _lookup(values: tuple[Any, ...], indices: np.ndarray, mapping: dict[str, float]) -> np.ndarray:
    """Categorical bins (checked against the standard values by `Space`) mapped to numbers."""
    picked: np.ndarray = np.array([mapping[v] for v in values])[indices]
    return picked


def settings_for(space: Space, points: np.ndarray) -> Settings:
    """Decode bin indices into setting arrays."""
    space.require_standard()
    column = {name: points[:, i] for i, name in enumerate(space.names)}
    bins = {d.name: d.bins for d in space.dimensions}

    def numeric(name: str) -> np.ndarray:
        return _numeric(bins[name], column[name])

    contexts = list(HISTORY)
    policies = ["none", "deferred", "immediate", "immediate_handoff"]
    filler_style = bins["filler_style"]
    return Settings(
        eot_s=numeric("end_of_turn_timeout_ms") / 1000 * (0.4 + 0.6 * numeric("eager_eot_threshold")),
        post_pause_ms=numeric("post_turn_pause_ms"),
        vad=numeric("vad_activation_threshold"),
        min_speech=numeric("barge_in_min_speech_s"),
        cooldown=numeric("barge_in_cooldown_s"),
        shield=numeric("greeting_shield_s"),
        filler_after_ms=np.where(_lookup(filler_style, column["filler_style"], FILLER_MS) > 0, FILLER_AFTER_MS, np.inf),
        filler_ms=_lookup(filler_style, column["filler_style"], FILLER_MS),
        filler_cost=_lookup(filler_style, column["filler_style"], FILLER_COST),
        filler_cooldown_ms=numeric("filler_cooldown_ms"),
        empathy_ms=numeric("empathy_hold_ms"),
        max_words=numeric("max_response_words"),
        speed=numeric("tts_speed"),
        first_audio_ms=_lookup(bins["tts_latency_class"], column["tts_latency_class"], FIRST_AUDIO_MS),
        progress_ms=numeric("progress_message_interval_ms"),
        context=_lookup(bins["context_strategy"], column["context_strategy"], {c: i for i, c in enumerate(contexts)}).astype(int),
        safety=_lookup(bins["safety_response"], column["safety_response"], {p: i for i, p in enumerate(policies)}).astype(int),
        reminder_s=numeric("silence_reminder_s"),
    )


def simulate(space: Space, scenario: Scenario, points: np.ndarray) -> PenaltyLog:
    """Play `scenario` under every point; returns the penalties of all points."""
    points = np.atleast_2d(np.asarray(points, dtype=np.int64))
    size = points.shape[0]
    s = settings_for(space, points)
    log = PenaltyLog(size)
    clock = np.zeros(size)

    greeting = scenario.greeting_s / s.speed
    if scenario.greeting_barge_in_at_s is not None and scenario.greeting_barge_in_s > 0:
        at, lasting = scenario.greeting_barge_in_at_s, scenario.greeting_barge_in_s
        talking = at < greeting
        heard = talking & (at >= s.shield) & (lasting >= s.min_speech)
        log.add("greeting_interrupted", -1, heard, at)
        overlap = np.where(heard, s.min_speech, np.minimum(lasting, np.maximum(greeting - at, 0)))
        log.add("talked_over_user", -1, np.where(talking, overlap, 0.0), at)
    clock += greeting

    last_filler = np.full(size, -np.inf)
    last_barge_in = np.full(size, -np.inf)
    crisis_turns: set[int] = set()
    for k, turn in enumerate(scenario.turns):
        if turn.silence_before_s > 0:
            wait = turn.silence_before_s
            fired = s.reminder_s < wait
            log.add("interrupted_thinking", k, fired & (wait - s.reminder_s < 1.0), clock + s.reminder_s)
            unbroken = np.where(fired, s.reminder_s, wait)
            log.add("dead_air", k, np.maximum(unbroken - 6.0, 0.0), clock)
            log.add("caller_abandoned", k, (~fired) & (wait > scenario.patience_s), clock + scenario.patience_s)
            clock = clock + wait

        log.add("missed_user_speech", k, turn.level < s.vad, clock)
        cut_offs = np.zeros(size)
        for pause in turn.pauses_s:
            cut_offs += pause >= s.eot_s
        log.add("user_cut_off", k, cut_offs, clock + turn.speech_s / 2)
        clock = clock + turn.speech_s + sum(turn.pauses_s)
        if turn.misrecognized:
            unrecoverable = (s.vad >= 0.6) | (cut_offs > 0)
            log.add("misrecognition", k, unrecoverable, clock)
            log.add("clarification", k, ~unrecoverable, clock)

        history = np.array([k if (limit := HISTORY[c]) is None else min(k, limit) for c in HISTORY], dtype=np.float64)[s.context]
        model_ms = MODEL_BASE_MS + MODEL_MS_PER_TURN * history + np.where(s.context == 3, SUMMARY_MS, 0.0)
        emotional_ms = s.empathy_ms if (turn.emotional or turn.crisis) else 0.0
        thinking_ms = s.eot_s * 1000 + s.post_pause_ms + emotional_ms + model_ms + s.first_audio_ms
        latency_ms = thinking_ms + turn.tool_s * 1000

        filler_ready = (clock * 1000 - last_filler) >= s.filler_cooldown_ms
        filler = filler_ready & (latency_ms > s.filler_after_ms)
        longest = np.where(filler, np.maximum(FILLER_AFTER_MS, latency_ms - FILLER_AFTER_MS - s.filler_ms), latency_ms)
        if turn.tool_s > 0:
            covered = np.maximum(thinking_ms, s.progress_ms)
            longest = np.where(turn.tool_s * 1000 > s.progress_ms, np.minimum(longest, covered), longest)
        log.add("dead_air", k, np.maximum(longest / 1000 - DEAD_AIR_GRACE_S, 0.0), clock)
        log.add("filler_overuse", k, np.where(filler, s.filler_cost, 0.0), clock + FILLER_AFTER_MS / 1000)
        last_filler = np.where(filler, clock * 1000 + FILLER_AFTER_MS, last_filler)

        latency_s = latency_ms / 1000
        words = np.minimum(turn.answer_words, s.max_words)
        speaking = words / (WORDS_PER_SECOND * s.speed)
        if turn.crisis:
            crisis_turns.add(k)
            log.add("safety_violation", k, s.safety == 0, clock)
            deferred = s.safety == 1
            delay = np.where(deferred, latency_s + speaking + 8.0, latency_s)
            log.add("crisis_response_delay", k, np.where(s.safety == 0, 0.0, np.maximum(delay - 2.0, 0.0)), clock)
        if turn.emotional or turn.crisis:
            log.add("cold_response", k, s.empathy_ms == 0, clock + latency_s)
        if turn.emotional and not turn.crisis:
            log.add("unnecessary_handoff", k, s.safety == 3, clock + latency_s)
        if turn.refers_to is not None:
            age = k - turn.refers_to
            lost_share = np.array([0.0 if (after := LOST_AFTER[c]) is None or age <= after else LOSS_SHARE[c] for c in LOST_AFTER])[s.context]
            log.add("context_loss", k, lost_share, clock)
            if turn.refers_to in crisis_turns:
                log.add("safety_violation", k, lost_share >= 1.0, clock)
        clock = clock + latency_s

        log.add("incomplete_answer", k, turn.answer_words > s.max_words, clock)
        log.add("monologue", k, speaking > 20.0, clock)
        soft = turn.level < 0.6 or bool(turn.pauses_s and max(turn.pauses_s) >= 1.0)
        log.add("fast_speech", k, np.where(s.speed >= 1.25, 2.0 if soft else 1.0, 0.0), clock)

        if turn.barge_in_at_s is not None and turn.barge_in_s > 0:
            at = turn.barge_in_at_s
            during = at < speaking
            ignored = (clock + at - last_barge_in) < s.cooldown
            heard = during & ~ignored & (turn.barge_in_s >= s.min_speech)
            overlap = np.where(heard, s.min_speech, np.minimum(turn.barge_in_s, np.maximum(speaking - at, 0)))
            log.add("talked_over_user", k, np.where(during, overlap, 0.0), clock + at)
            last_barge_in = np.where(heard, clock + at, last_barge_in)
            speaking = np.where(heard, at + s.min_speech, speaking)
        false_stops = np.zeros(size)
        if turn.backchannels:
            false_stops += turn.backchannels * (s.min_speech <= BACKCHANNEL_S)
        if turn.noise_bursts:
            false_stops += turn.noise_bursts * ((turn.noise >= s.vad) & (s.min_speech <= NOISE_BURST_S))
        log.add("false_barge_in", k, false_stops, clock + speaking / 2)
        clock = clock + speaking
    return log
