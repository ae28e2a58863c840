"""VoiceSim in pytest: sweep files, the voicesim marker, the session summary, xdist."""

from __future__ import annotations

import json

import pytest

SWEEP = """
name: clinic pipeline
n_points: 24
seed: 7
scenarios: [normal_faq, crisis_at_10, backchanneler]
thresholds:
  min_score: 0.95
  max_penalty: {safety_violation: 0}
plot: out/sweep.png
"""

MARKED = """
import pytest

@pytest.mark.voicesim(n_points=3, scenarios=["crisis_at_10", "normal_faq"], seed=5)
def test_policy(voicesim_result):
    assert 0 <= voicesim_result.score <= 1
    assert len(voicesim_result.point) == 18
    if voicesim_result.values["safety_response"] != "none":
        assert voicesim_result.cost("safety_violation") == 0
    assert {e["platform"] for e in voicesim_result.adapter_log} == {"retell", "vapi", "livekit"}
"""


def report(pytester: pytest.Pytester, name: str = "r.json") -> dict:
    return json.loads((pytester.path / name).read_text())


def test_sweep_items_thresholds_summary_and_plot(project: pytest.Pytester) -> None:
    project.makefile(".yaml", voicesim_clinic=SWEEP)
    collected = project.runpytest("--collect-only", "-q")
    collected.stdout.fnmatch_lines(["voicesim_clinic.yaml::normal_faq", "voicesim_clinic.yaml::crisis_at_10", "voicesim_clinic.yaml::backchanneler"])
    result = project.runpytest("--vt-report", "r.json", "-p", "no:randomly")
    outcomes = result.parseoutcomes()
    assert outcomes["passed"] + outcomes["failed"] == 3
    result.stdout.fnmatch_lines(
        [
            "*voicesim summary*",
            "clinic pipeline (run *, */.voicetest/voicesim.db):",
            "72 evaluations",
            "*best normal_faq: *",
            "*plot: */out/sweep.png",
        ]
    )
    assert (project.path / "out/sweep.png").read_bytes()[:4] == b"\x89PNG"
    [summary] = report(project)["voicesim"].values()
    assert summary["evaluations"] == 72 and summary["name"] == "clinic pipeline"
    assert set(summary["best_per_scenario"]) == {"normal_faq", "crisis_at_10", "backchanneler"}
    failing = [s for s, best in summary["best_per_scenario"].items() if best["score"] < 0.95]
    assert outcomes.get("failed", 0) == len(failing)
    if failing:
        result.stdout.fnmatch_lines(
            [f"*voicesim '{failing[0]}': the best point misses its thresholds*", "*x min_score 0.95: best score * of 24 points, at*"]
        )


def test_sweep_resumes_from_the_store(project: pytest.Pytester) -> None:
    project.makefile(".yaml", voicesim_clinic=SWEEP.replace("min_score: 0.95", "min_score: 0.1"))
    first = project.runpytest()
    first.assert_outcomes(passed=3)
    project.makeconftest("""
import pytest
from pytest_voicetest.voicesim import runs
calls = []
original = runs.evaluate_points
def counting(*args, **kwargs):
    calls.append(1)
    return original(*args, **kwargs)
runs.evaluate_points = counting
def pytest_sessionfinish(session):
    print(f"\\nnew simulations: {len(calls)}")
""")
    second = project.runpytest("-s")
    second.assert_outcomes(passed=3)
    second.stdout.fnmatch_lines(["*new simulations: 3*"])  # only the defaults in the summary, no sweep points


def test_marker_parametrizes_points_times_scenarios(project: pytest.Pytester) -> None:
    project.makepyfile(test_policy=MARKED)
    collected = project.runpytest("--collect-only", "-q")
    collected.stdout.fnmatch_lines(
        ["test_policy.py::test_policy[[]crisis_at_10-p000[]]", "test_policy.py::test_policy[[]normal_faq-p002[]]", "6 tests collected*"]
    )
    result = project.runpytest("--vt-report", "r.json")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*voicesim summary*", "test_policy.py::test_policy (run *", "6 evaluations"])
    [summary] = report(project)["voicesim"].values()
    assert summary["evaluations"] == 6


def test_marker_errors(project: pytest.Pytester) -> None:
    project.makepyfile(
        test_bad="""
import pytest

@pytest.mark.voicesim(n_points=2, scenarios=["nope"])
def test_unknown(voicesim_result):
    pass
"""
    )
    project.makepyfile(
        test_missing_fixture="""
import pytest

@pytest.mark.voicesim(n_points=2)
def test_no_fixture():
    pass
"""
    )
    result = project.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED  # a broken Python test module stops collection, as usual in pytest
    result.stdout.fnmatch_lines_random(
        [
            "test_bad.py::test_unknown: @pytest.mark.voicesim: scenarios: unknown scenario 'nope' Fix: use one of: normal_booking*",
            "test_missing_fixture.py::test_no_fixture: a @pytest.mark.voicesim test must take the voicesim_result fixture",
        ]
    )
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("n_points: 10\nscenaros: [normal_faq]\n", "*voicesim_bad.yaml:2: scenaros: unknown key 'scenaros' (did you mean 'scenarios'?)*"),
        ("scenarios: [normal_faqq]\n", "*voicesim_bad.yaml:1: scenarios: unknown scenario 'normal_faqq' (did you mean 'normal_faq'?)*"),
        (
            "thresholds:\n  max_penalty: {dead_aire: 0.1}\n",
            "*voicesim_bad.yaml:2: thresholds.max_penalty: unknown penalty type 'dead_aire' (did you mean 'dead_air'?)*",
        ),
        ("n_points: 0\n", "*voicesim_bad.yaml:1: n_points: Input should be greater than or equal to 1*"),
        ("space: {overrides: {tts_speed: {bins: [1.0]}}}\n", "*dimension 'tts_speed' needs at least 2 bins*"),
    ],
)
def test_bad_sweep_files(project: pytest.Pytester, body: str, message: str) -> None:
    project.makefile(".yaml", voicesim_bad=body)
    result = project.runpytest()
    result.stdout.fnmatch_lines([message])
    assert result.ret == pytest.ExitCode.TESTS_FAILED


@pytest.mark.slow
def test_xdist_workers_write_one_store_and_one_summary(project: pytest.Pytester) -> None:
    project.makefile(".yaml", voicesim_clinic=SWEEP.replace("min_score: 0.95", "min_score: 0.1"))
    project.makepyfile(test_policy=MARKED)
    result = project.runpytest("-n", "2", "--vt-report", "r.json")
    result.assert_outcomes(passed=9)
    summaries = report(project)["voicesim"]
    assert sorted(s["evaluations"] for s in summaries.values()) == [6, 72]


CONTROLLER_PROBE = """
import json, sys, threading
import pytest

SEEN = {}


@pytest.hookimpl(trylast=True)
def pytest_xdist_node_collection_finished(node, ids):
    SEEN.setdefault("importing", "voicetest-summary-import" in {t.name for t in threading.enumerate()} or "numpy" in sys.modules)


def pytest_unconfigure(config):
    if not hasattr(config, "workerinput"):
        SEEN["matplotlib"] = "matplotlib" in sys.modules
        with open("controller.json", "w") as out:
            json.dump(SEEN, out)
"""


@pytest.mark.parametrize("plots", [True, False])
def test_the_xdist_controller_imports_the_summary_modules_while_workers_run(project: pytest.Pytester, plots: bool) -> None:
    sweep = SWEEP.replace("min_score: 0.95", "min_score: 0.1")
    project.makefile(".yaml", voicesim_clinic=sweep if plots else sweep.replace("plot: out/sweep.png", ""))
    project.makeconftest(CONTROLLER_PROBE)
    result = project.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert json.loads((project.path / "controller.json").read_text()) == {"importing": True, "matplotlib": plots}
    assert (project.path / "out/sweep.png").exists() is plots
