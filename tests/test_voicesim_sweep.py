"""Sweep files (`voicesim_*.yaml`) under hostile input: every mistake is a located error."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pytest_voicetest.errors import InputError
from pytest_voicetest.voicesim.sweep import Thresholds, parse_sweep, threshold_failures
from pytest_voicetest.yamlio import parse_yaml

GOOD = "n_points: 8\nscenarios: [normal_faq]\nthresholds:\n  min_score: 0.5\n"


def parse(text: str, tmp_path: Path, **kwargs: Any) -> Any:
    source = tmp_path / "project" / "sweeps" / "voicesim_x.yaml"
    return parse_sweep(parse_yaml(text, source), source, **kwargs)


def refused(text: str, tmp_path: Path, **kwargs: Any) -> InputError:
    with pytest.raises(InputError) as raised:
        parse(text, tmp_path, **kwargs)
    assert raised.value.source and raised.value.source.endswith("voicesim_x.yaml")
    return raised.value


def test_a_good_sweep_parses(tmp_path: Path) -> None:
    spec, space, custom, names = parse(GOOD, tmp_path, root=tmp_path / "project", require_thresholds=True)
    assert (spec.n_points, names, custom, len(space)) == (8, ["normal_faq"], {}, 18)


@pytest.mark.parametrize("thresholds", ["", "thresholds: {}\n", "thresholds:\n  max_penalty: {}\n"])
def test_a_sweep_without_thresholds_is_refused_at_load_time(tmp_path: Path, thresholds: str) -> None:
    error = refused("n_points: 8\n" + thresholds, tmp_path, require_thresholds=True)
    assert error.field == "thresholds" and error.line == (2 if thresholds else 1)
    assert "sets no threshold, so it would check nothing and always pass" in error.message
    assert error.fix and "min_score" in error.fix and "max_penalty" in error.fix


def test_a_sweep_without_thresholds_never_passes_at_run_time() -> None:
    assert threshold_failures(Thresholds(), 1.0, []) == [
        "the sweep sets no threshold, so it checks nothing. Fix: add thresholds: {min_score: 0.8} and/or {max_penalty: {safety_violation: 0}}"
    ]
    assert threshold_failures(Thresholds(min_score=0.5), 0.9, []) == []
    assert threshold_failures(Thresholds(max_penalty={"dead_air": 0.0}), 0.9, [{"type": "dead_air", "weight": 0.03, "amount": 2.0}]) == [
        "dead_air cost 0.060 > max_penalty 0.0"
    ]


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("space: {overrides: {tts_speed: {bins: [1.0, .nan]}}}\n", 1, "space.overrides.tts_speed.bins[1]", "bin nan is not allowed"),
        ("space:\n  overrides:\n    tts_speed:\n      bins: [1.0, .inf]\n", 4, "space.overrides.tts_speed.bins[1]", "bin inf is not allowed"),
        (
            "space:\n  overrides:\n    end_of_turn_timeout_ms:\n      bins: [-1, 400]\n",
            4,
            "space.overrides.end_of_turn_timeout_ms.bins[0]",
            "bin -1 is not allowed; bins are numbers 0..60000",
        ),
        (
            "space:\n  overrides:\n    tts_speed: {bins: [1.0, 1.1], default: 4}\n",
            3,
            "space.overrides.tts_speed.default",
            "default index 4 is outside its 2 bins",
        ),
        (
            "space:\n  dimensions:\n    - {name: tts_speed, bins: [1.0, 1.1], default: 0}\n",
            2,
            "space.dimensions",
            "the pipeline needs the 18 standard dimensions; got 1",
        ),
        ("space:\n  dimensions: 18\n", 2, "space.dimensions", "dimensions must be a list, got int"),
        ("seed: -1\n", 1, "seed", "seed must be a whole number 0..4294967295, got -1"),
        ("n_points: 4\nseed: 4294967296\n", 2, "seed", "seed must be a whole number 0..4294967295, got 4294967296"),
        ("thresholds:\n  max_penalty: {dead_air: .nan}\n", 2, "thresholds.max_penalty", "max_penalty.dead_air must be a finite number >= 0, got nan"),
        ("thresholds:\n  min_score: .inf\n", 2, "thresholds.min_score", "less than or equal to 1"),
        ("store: ''\nthresholds: {min_score: 0.5}\n", 1, "store", "store is empty"),
    ],
)
def test_bad_sweeps_are_located(tmp_path: Path, text: str, line: int, field: str, message: str) -> None:
    error = refused(text, tmp_path)
    assert (error.line, error.field) == (line, field)
    assert message in error.message


@pytest.mark.parametrize("plot", ["../../outside.png", "/tmp/outside.png", "../../project2/x.png"])
def test_plot_paths_are_fenced_inside_the_root(tmp_path: Path, plot: str) -> None:
    text = GOOD + f"plot: {plot}\n"
    error = refused(text, tmp_path, root=tmp_path / "project")
    assert (error.line, error.field) == (5, "plot")
    assert "outside the project" in error.message and error.fix == "write plots inside the project, e.g. plot: reports/sweep.png"
    parse(text, tmp_path)  # without a root nothing is fenced (the caller decides)


def test_plot_paths_inside_the_root_are_fine(tmp_path: Path) -> None:
    for plot in ("reports/x.png", "../reports/x.png", "./x.png"):
        spec = parse(GOOD + f"plot: {plot}\n", tmp_path, root=tmp_path / "project")[0]
        assert spec.plot == plot


def test_sweep_without_thresholds_is_a_collection_error(project: pytest.Pytester) -> None:
    project.makefile(".yaml", voicesim_loose="n_points: 4\nscenarios: [normal_faq]\n")
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*voicesim_loose.yaml:1: thresholds: the sweep sets no threshold, so it would check nothing and always pass Fix: add thresholds*"]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED


YAMLISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
KEYS = st.sampled_from(["name", "n_points", "seed", "scenarios", "custom_scenarios", "space", "thresholds", "store", "plot"])
SPACES = st.fixed_dictionaries(
    {},
    optional={
        "overrides": st.dictionaries(
            st.sampled_from(["tts_speed", "filler_style", "silence_reminder_s", "nope"]),
            st.fixed_dictionaries({}, optional={"bins": YAMLISH, "default": YAMLISH}),
            max_size=3,
        ),
        "dimensions": st.lists(st.fixed_dictionaries({}, optional={"name": YAMLISH, "bins": YAMLISH, "default": YAMLISH}), max_size=3) | YAMLISH,
    },
)


@given(st.dictionaries(KEYS, YAMLISH, max_size=6), SPACES)
def test_fuzzed_sweeps_give_located_errors_only(tmp_path_factory: pytest.TempPathFactory, data: dict[str, Any], space: dict[str, Any]) -> None:
    root = tmp_path_factory.getbasetemp() / "fuzz"
    if space:
        data = data | {"space": space}
    try:
        parse_sweep(data, root / "voicesim_fuzz.yaml", root=root, require_thresholds=True)
    except InputError as exc:
        assert exc.source and exc.source.endswith("voicesim_fuzz.yaml")
        assert exc.message


@given(SPACES | YAMLISH)
def test_fuzzed_spaces_give_field_errors_only(data: Any) -> None:
    from pytest_voicetest.voicesim.space import Space

    try:
        Space.from_data(data).require_standard()
    except InputError as exc:
        assert exc.field and exc.message
