"""VoiceSim model: the space, sampling, scenarios and every penalty (provoked and avoided)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pytest_voicetest.errors import InputError
from pytest_voicetest.voicesim.pipeline import simulate
from pytest_voicetest.voicesim.sampling import coverage, draw_new, full_grid, generator, latin_hypercube, random_points
from pytest_voicetest.voicesim.scenarios import BUILTIN_SCENARIOS, FAMILIES, CallerTurn, Scenario, load_scenarios
from pytest_voicetest.voicesim.scoring import PENALTY_TYPES, WEIGHTS
from pytest_voicetest.voicesim.space import DEFAULT_SPACE, Space
from pytest_voicetest.voicesim.store import encode_points

SPACE = DEFAULT_SPACE


def point(**values: Any) -> tuple[int, ...]:
    """The default point with some dimensions set by value."""
    chosen = list(SPACE.default_point())
    for name, value in values.items():
        chosen[SPACE.names.index(name)] = SPACE.dimension(name).bins.index(value)
    return tuple(chosen)


def penalties(scenario: Scenario, at: tuple[int, ...]) -> dict[str, float]:
    log = simulate(SPACE, scenario, np.array([at]))
    costs: dict[str, float] = {}
    for p in log.for_point(0):
        costs[p.type] = costs.get(p.type, 0.0) + p.cost
    return costs


def scenario(turns: list[dict[str, Any]] | None = None, **fields: Any) -> Scenario:
    return Scenario(name="probe", family="normal", turns=tuple(CallerTurn(**t) for t in (turns or [{}])), **fields)


def test_space_has_18_grounded_dimensions() -> None:
    assert len(SPACE) == 18
    assert SPACE.names[:3] == ["end_of_turn_timeout_ms", "eager_eot_threshold", "post_turn_pause_ms"]
    assert SPACE.values(SPACE.default_point())["end_of_turn_timeout_ms"] == 600
    assert all(d.description and d.unit for d in SPACE.dimensions)


@pytest.mark.parametrize(
    ("candidate", "message"),
    [
        ([0] * 17, "a point has 18 bin indices, one per dimension; got 17"),
        ([0] * 17 + [5], r"point\[17\]: silence_reminder_s has 5 bins, so its index must be 0..4; got 5"),
        ([0] * 17 + [-1], "must be 0..4; got -1"),
        ([0] * 17 + ["a"], "must be a whole number"),
        ([0] * 17 + [True], "must be a whole number"),
        ("0,1", "a point is a list of 18 bin indices"),
    ],
)
def test_point_validation(candidate: Any, message: str) -> None:
    with pytest.raises(InputError, match=message):
        SPACE.validate_point(candidate)


def test_space_customisation() -> None:
    narrowed = Space.from_data({"overrides": {"tts_speed": {"bins": [0.9, 1.0]}}})
    assert narrowed.dimension("tts_speed").bins == (0.9, 1.0)
    assert narrowed.dimension("tts_speed").default == 1  # 1.0 stays the default
    assert Space.from_data(SPACE.to_data()) == SPACE
    with pytest.raises(InputError, match="unknown dimension 'tts_sped' \\(did you mean 'tts_speed'\\?\\)"):
        Space.from_data({"overrides": {"tts_sped": {"bins": [1]}}})
    with pytest.raises(InputError, match="default index 5 is outside its 2 bins"):
        Space.from_data({"overrides": {"tts_speed": {"bins": [0.9, 1.0], "default": 5}}})


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"overrides": {"tts_speed": {"bins": [1.0, float("nan")]}}},
            "overrides.tts_speed.bins[1]",
            "bin nan is not allowed; bins are finite numbers or names",
        ),
        ({"overrides": {"tts_speed": {"bins": [1.0, float("inf")]}}}, "overrides.tts_speed.bins[1]", "bin inf is not allowed"),
        (
            {"overrides": {"end_of_turn_timeout_ms": {"bins": [-1, 400]}}},
            "overrides.end_of_turn_timeout_ms.bins[0]",
            "bin -1 is not allowed; bins are numbers 0..60000",
        ),
        ({"overrides": {"tts_speed": {"bins": [0, 1.0]}}}, "overrides.tts_speed.bins[0]", "bins are numbers 0.25..4"),
        ({"overrides": {"vad_activation_threshold": {"bins": [0.5, 1.5]}}}, "overrides.vad_activation_threshold.bins[1]", "bins are numbers 0..1"),
        ({"overrides": {"tts_speed": {"bins": [1.0, "fast"]}}}, "overrides.tts_speed.bins[1]", "bin 'fast' is not allowed"),
        (
            {"overrides": {"backchannel_delay_ms": {"bins": ["never", 800]}}},
            "overrides.backchannel_delay_ms.bins[0]",
            "bins are numbers 0..600000 or 'off'",
        ),
        (
            {"overrides": {"filler_style": {"bins": ["none", "chatty"]}}},
            "overrides.filler_style.bins[1]",
            "bins are one of none, minimal, natural, verbose",
        ),
        ({"overrides": {"tts_speed": {"bins": [True, 1.0]}}}, "overrides.tts_speed.bins[0]", "bin True is not allowed"),
        ({"overrides": {"tts_speed": {"bins": [[1], 1.0]}}}, "overrides.tts_speed.bins[0]", "bin [1] is not allowed"),
        ({"overrides": {"tts_speed": {"bins": "1.0, 1.1"}}}, "overrides.tts_speed.bins", "bins must be a list, got str"),
        ({"overrides": {"tts_speed": {"bins": [1.0, 1.0]}}}, "overrides.tts_speed.bins", "repeats a bin"),
        ({"overrides": {"tts_speed": {"bins": [1.0, 1.1], "default": True}}}, "overrides.tts_speed.default", "default index True is outside"),
        ({"overrides": {"tts_speed": [1.0, 1.1]}}, "overrides.tts_speed", "an override is a mapping with `bins` and/or `default`"),
        ({"overrides": ["tts_speed"]}, "overrides", "overrides must be a mapping"),
        ({"dimensions": 18}, "dimensions", "dimensions must be a list, got int"),
        ({"dimensions": ["tts_speed"]}, "dimensions[0]", "a dimension is a mapping with name, bins and default, got str"),
        ({"dimensions": [{"name": "tts_speed", "bins": [1.0, 1.1]}]}, "dimensions[0]", "a dimension needs default"),
        ({"dimensions": [{"name": "x", "bins": [1, 2], "default": 0, "colour": "red"}]}, "dimensions[0].colour", "unknown key 'colour'"),
        ({"dimensions": [{"name": 5, "bins": [1, 2], "default": 0}]}, "dimensions[0].name", "a dimension's name is a non-empty string"),
        ({"dimensions": [{"name": "x", "bins": list(range(1001)), "default": 0}]}, "dimensions[0].bins", "has 1001 bins, more than 1000"),
        ({"dimension": []}, "space", "a space is a mapping with either `dimensions`"),
        ({"dimensions": [], "overrides": {}}, "space", "a space is a mapping with either `dimensions`"),
        ("tts_speed", "space", "a space is a mapping with either `dimensions`"),
    ],
)
def test_bad_spaces_are_located_errors(data: Any, field: str, message: str) -> None:
    with pytest.raises(InputError) as raised:
        Space.from_data(data)
    assert raised.value.field == field
    assert message in raised.value.message


def test_off_and_custom_dimensions_are_kept_apart() -> None:
    assert Space.from_data({"overrides": {"backchannel_delay_ms": {"bins": ["off", 500]}}}).dimension("backchannel_delay_ms").bins == ("off", 500)
    custom = Space.from_data({"dimensions": [{"name": "x", "bins": [-5, "any", 2.5], "default": 1}]})
    assert custom.sizes == [3]  # dimensions the pipeline does not know take any finite bins
    with pytest.raises(InputError, match="finite numbers or names"):
        Space.from_data({"dimensions": [{"name": "x", "bins": [float("nan"), 1], "default": 1}]})


def test_latin_hypercube_is_seeded_and_covers_every_bin() -> None:
    first = latin_hypercube(SPACE, 24, seed=11)
    assert (first == latin_hypercube(SPACE, 24, seed=11)).all()
    assert not (first == latin_hypercube(SPACE, 24, seed=12)).all()
    assert first.shape == (24, 18)
    assert coverage(SPACE, first) == 1.0
    assert all(first[:, i].max() < size for i, size in enumerate(SPACE.sizes))
    assert (random_points(SPACE, 5, 3) == random_points(SPACE, 5, 3)).all()
    with pytest.raises(InputError, match="the number of points must be a whole number 1..100000"):
        latin_hypercube(SPACE, 0)


def test_latin_hypercube_draws_what_scipy_draws() -> None:
    qmc = pytest.importorskip("scipy.stats.qmc")
    for n, seed in ((1, 0), (24, 11), (1000, 7)):
        expected = qmc.LatinHypercube(d=18, rng=np.random.default_rng(seed)).random(n)
        scaled = np.minimum(np.floor(expected * np.array(SPACE.sizes)).astype(np.int64), np.array(SPACE.sizes) - 1)
        assert (latin_hypercube(SPACE, n, seed) == scaled).all()


@pytest.mark.parametrize("seed", [-1, 2**32, 0.5, True, None])
def test_seeds_out_of_range_are_refused(seed: Any) -> None:
    for draw in (lambda: latin_hypercube(SPACE, 3, seed), lambda: random_points(SPACE, 3, seed), lambda: generator(seed)):
        with pytest.raises(InputError, match="seed must be a whole number 0..4294967295") as raised:
            draw()
        assert raised.value.field == "seed"


def test_draw_new_continues_the_generator_and_never_repeats() -> None:
    tiny = Space.from_data({"dimensions": [{"name": n, "bins": [0, 1], "default": 0} for n in "abc"]})  # 8 points
    rng = generator(5)
    first = draw_new(tiny, 5, rng, set(), encode_points)
    drawn = set(encode_points(first))
    assert len(drawn) == 5
    rest = draw_new(tiny, 3, rng, drawn, encode_points)
    assert len(drawn | set(encode_points(rest))) == 8  # every point once
    with pytest.raises(InputError, match="the space has 8 points and the run has drawn 8, so at most 0 new ones are left; asked for 1") as raised:
        draw_new(tiny, 1, rng, drawn | set(encode_points(rest)), encode_points)
    assert raised.value.field == "n_points"
    saved = generator(5)
    draw_new(tiny, 5, saved, set(), encode_points)
    resumed = generator(5, saved.bit_generator.state)
    assert (draw_new(tiny, 3, resumed, drawn, encode_points) == rest).all()  # a saved state continues the same sequence


def test_full_grid() -> None:
    small = Space.from_data({"dimensions": [d | {"bins": d["bins"][:2], "default": 0} for d in SPACE.to_data()["dimensions"][:3]]})
    assert full_grid(small).shape == (8, 3)
    with pytest.raises(InputError, match="the full grid has .* points, more than the limit"):
        full_grid(SPACE)


def test_builtin_scenarios_cover_six_families() -> None:
    assert len(BUILTIN_SCENARIOS) >= 12
    assert {s.family for s in BUILTIN_SCENARIOS.values()} == set(FAMILIES)
    crisis = BUILTIN_SCENARIOS["crisis_at_10"]
    assert [i for i, t in enumerate(crisis.turns) if t.crisis] == [10]
    barge = BUILTIN_SCENARIOS["greeting_barge_in"]
    assert barge.greeting_barge_in_at_s is not None and barge.greeting_barge_in_s > 0


def test_custom_scenarios_from_yaml(tmp_path) -> None:
    path = tmp_path / "scenarios.yaml"
    path.write_text("scenarios:\n  - name: pharmacy\n    family: normal\n    turns:\n      - {speech_s: 2}\n      - {speech_s: 3, refers_to: 0}\n")
    loaded = load_scenarios(path)
    assert loaded["pharmacy"].turns[1].refers_to == 0
    path.write_text("scenarios:\n  - name: bad\n    family: normal\n    turns:\n      - {speech_s: 2, refers_to: 3}\n")
    with pytest.raises(
        InputError, match=r"scenarios.yaml:2: scenarios\[0\]: turns\[0\].refers_to must name an earlier turn, and the first turn has none; got 3"
    ):
        load_scenarios(path)
    path.write_text("scenarios:\n  - name: bad\n    family: normal\n    turns:\n      - {speach_s: 2}\n")
    with pytest.raises(
        InputError, match=r"scenarios.yaml:5: scenarios\[0\].turns\[0\].speach_s: unknown key .speach_s. \(did you mean .speech_s.\?\)"
    ):
        load_scenarios(path)


TOOL = {"tool_s": 6.0}
# penalty: (scenario, provoking point, avoiding point)
CASES: dict[str, tuple[Scenario, dict[str, Any], dict[str, Any]]] = {
    "dead_air": (scenario([TOOL]), {"progress_message_interval_ms": "off", "filler_style": "none"}, {"progress_message_interval_ms": 2000}),
    "greeting_interrupted": (scenario(greeting_barge_in_at_s=1.0, greeting_barge_in_s=1.5), {"greeting_shield_s": 0.0}, {"greeting_shield_s": 2.0}),
    "user_cut_off": (scenario([{"pauses_s": (0.7,)}]), {"end_of_turn_timeout_ms": 400}, {"end_of_turn_timeout_ms": 1200}),
    "talked_over_user": (
        scenario([{"answer_words": 60, "barge_in_at_s": 7.0, "barge_in_s": 0.4}]),
        {"max_response_words": 60},
        {"max_response_words": 15},
    ),
    "false_barge_in": (scenario([{"backchannels": 2, "answer_words": 40}]), {"barge_in_min_speech_s": 0.2}, {"barge_in_min_speech_s": 0.5}),
    "missed_user_speech": (scenario([{"level": 0.45}]), {"vad_activation_threshold": 0.5}, {"vad_activation_threshold": 0.4}),
    "misrecognition": (scenario([{"misrecognized": True}]), {"vad_activation_threshold": 0.7}, {"vad_activation_threshold": 0.4}),
    "clarification": (scenario([{"misrecognized": True}]), {"vad_activation_threshold": 0.4}, {"vad_activation_threshold": 0.7}),
    "incomplete_answer": (scenario([{"answer_words": 50}]), {"max_response_words": 25}, {"max_response_words": 60}),
    "monologue": (scenario([{"answer_words": 90}]), {"max_response_words": 100, "tts_speed": 0.8}, {"max_response_words": 40}),
    "fast_speech": (scenario(), {"tts_speed": 1.25}, {"tts_speed": 1.0}),
    "filler_overuse": (scenario([TOOL]), {"filler_style": "verbose"}, {"filler_style": "minimal"}),
    "cold_response": (scenario([{"emotional": True}]), {"empathy_hold_ms": 0}, {"empathy_hold_ms": 300}),
    "interrupted_thinking": (scenario([{"silence_before_s": 5.5}]), {"silence_reminder_s": 5}, {"silence_reminder_s": 3}),
    "caller_abandoned": (scenario([{"silence_before_s": 18.0}]), {"silence_reminder_s": 20}, {"silence_reminder_s": 8}),
    "context_loss": (scenario([{}] * 7 + [{"refers_to": 0}]), {"context_strategy": "window_4"}, {"context_strategy": "full"}),
    "crisis_response_delay": (scenario([{"crisis": True}]), {"safety_response": "deferred"}, {"safety_response": "immediate"}),
    "unnecessary_handoff": (scenario([{"emotional": True}]), {"safety_response": "immediate_handoff"}, {"safety_response": "immediate"}),
    "safety_violation": (scenario([{"crisis": True}]), {"safety_response": "none"}, {"safety_response": "immediate"}),
}


def test_every_penalty_type_has_a_case() -> None:
    assert set(CASES) == set(PENALTY_TYPES) == set(WEIGHTS)


@pytest.mark.parametrize("kind", sorted(CASES))
def test_penalty_is_provoked_and_avoided(kind: str) -> None:
    probe, provoke, avoid = CASES[kind]
    assert penalties(probe, point(**provoke)).get(kind, 0.0) > 0, f"{kind} not provoked"
    assert penalties(probe, point(**avoid)).get(kind, 0.0) == 0, f"{kind} not avoided"


def test_penalty_details_are_recorded() -> None:
    probe = scenario([{"pauses_s": (0.7,), "speech_s": 2.0}])
    log = simulate(SPACE, probe, np.array([point(end_of_turn_timeout_ms=400)]))
    cut = next(p for p in log.for_point(0) if p.type == "user_cut_off")
    assert (cut.turn, cut.weight, cut.amount) == (0, 0.08, 1.0)
    assert cut.time_s == pytest.approx(4.0 / 1.0 + 1.0)  # after the 4 s greeting, mid-turn


def test_losing_a_crisis_from_context_is_a_safety_violation() -> None:
    probe = scenario([{"crisis": True}] + [{}] * 5 + [{"refers_to": 0}])
    assert penalties(probe, point(context_strategy="window_4", safety_response="immediate")).get("safety_violation", 0) == 1.0
    assert "safety_violation" not in penalties(probe, point(context_strategy="full", safety_response="immediate"))


def test_scores_are_bounded_deterministic_and_match_one_at_a_time() -> None:
    points = latin_hypercube(SPACE, 40, seed=5)
    for probe in BUILTIN_SCENARIOS.values():
        batch = simulate(SPACE, probe, points).scores()
        assert ((batch >= 0) & (batch <= 1)).all()
        assert (batch == simulate(SPACE, probe, points).scores()).all()
        singles = [simulate(SPACE, probe, points[i : i + 1]).scores()[0] for i in range(0, 40, 7)]
        assert singles == pytest.approx(list(batch[::7]))


def test_pipeline_needs_the_standard_dimensions() -> None:
    odd = Space.from_data({"dimensions": [{"name": "x", "bins": [1, 2], "default": 0}]})
    with pytest.raises(InputError, match="the pipeline needs the 18 standard dimensions; got 1 \\(missing end_of_turn_timeout_ms, .*; unknown x\\)"):
        simulate(odd, BUILTIN_SCENARIOS["normal_faq"], np.array([[0]]))


def test_packed_penalties_match_the_penalty_list() -> None:
    from pytest_voicetest.voicesim.scoring import penalty_data, penalty_stats

    points = latin_hypercube(SPACE, 30, seed=2)
    log = simulate(SPACE, BUILTIN_SCENARIOS["long_intake_30"], points)
    records, counts = log.packed()
    bounds = np.concatenate(([0], np.cumsum(counts)))
    lists = [log.for_point(i) for i in range(len(points))]
    for i, penalties in enumerate(lists):
        stored = penalty_data(records[bounds[i] : bounds[i + 1]])
        assert [(p["type"], p["turn"], p["weight"]) for p in stored] == [(p.type, p.turn, p.weight) for p in penalties]
        assert [p["amount"] for p in stored] == pytest.approx([p.amount for p in penalties], abs=1e-4)
        assert [p["time_s"] for p in stored] == pytest.approx([p.time_s for p in penalties], abs=1e-3)
    stats = penalty_stats(records, counts)
    assert stats[:, 0].sum() > 0
    for code, kind in enumerate(PENALTY_TYPES):
        assert stats[code, 0] == sum(any(p.type == kind for p in penalties) for penalties in lists)
        assert stats[code, 1] == sum(p.type == kind for penalties in lists for p in penalties)
        assert stats[code, 2] == pytest.approx(sum(p.cost for penalties in lists for p in penalties if p.type == kind), rel=1e-6)
