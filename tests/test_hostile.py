"""Hostile input and faults, round 2: no silent pass, no lost result, no traceback, no hang,
no leak. Each test is one case of the probe, built from its description."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_voicetest import api
from pytest_voicetest.config.resolve import resolve_config
from pytest_voicetest.errors import InputError
from pytest_voicetest.importers import import_agent
from pytest_voicetest.judges.rules import check_rules
from pytest_voicetest.models.results import Turn
from pytest_voicetest.redact import redact, redact_data
from pytest_voicetest.run.testfile import load_file
from pytest_voicetest.testing.server import FakeLLMServer

from .conftest import PLATFORMS

AGENT = PLATFORMS / "retell/sample_config.json"
MODELS = {"agent": "openai/a", "simulator": "openai/s", "judge": "openai/j"}


def judged(score: Any) -> Any:
    def respond(body: dict[str, Any]) -> dict[str, Any]:
        system = str(body["messages"][0].get("content", ""))
        if "grade phone calls" in system:
            return {"content": json.dumps({"score": score, "reasoning": "r"})}
        if "role-playing a caller" in system:
            return {"content": "Bye.", "tool_calls": [("end_call", {"reason": "goal_met"})]}
        return {"content": "Hello, happy to help."}

    return respond


# ------------------------------------------------------------- silent wrong results


@pytest.mark.parametrize("score", [3, True, "high", -0.5, None])
def test_a_judge_score_outside_0_to_1_is_a_judge_error_never_clamped(score: Any) -> None:
    with FakeLLMServer(judged(score)) as server:
        result = api.run_test(
            {"name": "t", "user_prompt": "hi", "metrics": ["polite"]}, AGENT, models=MODELS, api_base=server.api_base, project=PLATFORMS
        )
    assert result.status == "error" and "not a verdict" in result.error_message


@pytest.mark.parametrize(
    ("mark", "message"),
    [
        ("{skipif: \"__import__('os').system('touch pwned')\"}", "mark 'skipif' is not available in YAML*Python code"),
        ("usefixtures", "mark 'usefixtures' is not available in YAML"),
        ("{parametrize: [a, [1, 2]]}", "mark 'parametrize' is not available in YAML"),
        ("{skip: 5}", "mark 'skip' takes a reason (text), got int"),
    ],
)
def test_yaml_marks_take_names_and_reasons_only(project: pytest.Pytester, mark: str, message: str) -> None:
    project.makefile(
        ".yaml",
        test_marks=f"agent: agents/retell/sample_config.json\ntests:\n  - {{name: t, includes: [hi], script: [{{agent: hi}}], marks: [{mark}]}}\n",
    )
    result = project.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*test_marks.yaml:3: tests[[]0[]].marks[[]0[]]: {message}*"])
    assert not (project.path / "pwned").exists()


@pytest.mark.parametrize(
    ("flag", "value", "message"), [("--vt-max-cost", "nan", "finite number"), ("--vt-repeat", "1000000000", "less than or equal to 1000")]
)
def test_option_values_that_would_switch_a_check_off_are_usage_errors(project: pytest.Pytester, flag: str, value: str, message: str) -> None:
    result = project.runpytest(flag, value)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*command line: {flag}: *{message}*"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"threshold": 7}, "threshold must be 0..1"), ({"threshold": math.nan}, "threshold must be 0..1"), ({"threshold": -1}, "0..1")],
)
def test_evaluate_refuses_thresholds_outside_0_to_1(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        api.evaluate_transcript([{"role": "user", "content": "x"}], ["polite"], judge_model="openai/j", **kwargs)
    with pytest.raises(InputError, match="metrics must be a non-empty list"):
        api.evaluate_transcript([{"role": "user", "content": "x"}], "polite", judge_model="openai/j")  # type: ignore[arg-type]


def test_files_outside_the_project_are_fenced_in_every_door(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "agent.json").write_text(AGENT.read_text())
    (project / "test_out.yaml").write_text("agent: ../agent.json\ntests:\n  - {name: t, includes: [x], script: [{agent: x}]}\n")
    (project / "voicesim_out.yaml").write_text("n_points: 2\nscenarios: [normal_faq]\nthresholds: {min_score: 0}\nplot: ../../x.png\n")
    with pytest.raises(api.NothingRan, match=r"outside the project root .*project.*pytest.ini"):
        api.run_tests(project / "test_out.yaml")
    with pytest.raises(InputError, match=r"voicesim_out.yaml:4: plot: plot '../../x.png' would be written outside the project root"):
        load_file(project / "voicesim_out.yaml", resolve_config(project))


def test_failed_attempts_count_toward_usage_and_the_call_budget(tmp_path: Path) -> None:
    with FakeLLMServer() as server:
        server.inject("500", "500", "500")
        result = api.run_test(
            {"name": "t", "user_prompt": "hi", "includes": ["x"]},
            AGENT,
            models=MODELS,
            api_base=server.api_base,
            project=tmp_path,
            options={"max_calls": 2, "max_retries": 5},
        )
    assert result.status == "skipped" and "call budget reached: 2 of 2 model calls" in result.error_message
    assert result.usage.calls == 2 and server.stats.requests == 2
    assert not list((tmp_path / ".voicetest").glob("budget-*.json"))  # the API's own ledger goes with its run


# -------------------------------------------------------------------- lost results


def test_control_characters_in_a_transcript_keep_junit_well_formed(project: pytest.Pytester) -> None:
    project.makefile(
        ".yaml",
        test_ctrl='agent: agents/retell/sample_config.json\ntests:\n  - {name: t, includes: [nope], script: [{agent: "bell \\a esc \\e nul \\0 end"}]}\n',
    )
    project.runpytest("--junitxml", "j.xml").assert_outcomes(failed=1)
    out = ET.parse(project.path / "j.xml").getroot().find(".//system-out")
    assert out is not None and "bell \\x07 esc \\x1b nul \\x00 end" in out.text


def test_crashes_setup_errors_and_collection_errors_are_all_in_the_report(project: pytest.Pytester) -> None:
    project.makefile(
        ".yaml",
        test_good="agent: agents/retell/sample_config.json\ntests:\n  - {name: a, includes: [hi], script: [{agent: hi}]}\n  - {name: b, includes: [hi], script: [{agent: hi}]}\n",
    )
    project.makefile(".yaml", test_broken="agent: agents/retell/sample_config.json\ntests:\n  - {name: t, includez: [x]}\n")
    project.makepyfile(
        test_python="import pytest\n\n@pytest.fixture\ndef boom():\n    raise RuntimeError('setup')\n\ndef test_setup(boom):\n    pass\n"
    )
    project.makeconftest("def pytest_runtest_call(item):\n    if item.name == 'b':\n        raise RuntimeError('raw crash')\n")
    result = project.runpytest("--vt-report", "r.json")
    report = json.loads((project.path / "r.json").read_text())
    status = {r["nodeid"]: r["status"] for r in report["results"]}
    assert status == {"test_good.yaml::a": "pass", "test_good.yaml::b": "error", "test_python.py::test_setup": "error"}
    assert [e["file"] for e in report["file_errors"]] == ["test_broken.yaml"]
    assert report["summary"]["error"] == 2 and report["summary"]["file_errors"] == 1 and report["exit_status"] == result.ret != 0
    project.makepyfile(test_syntax="def test_x(:\n")  # pytest stops before running anything: still every item is listed
    stopped = project.runpytest("--vt-report", "r.json")
    again = json.loads((project.path / "r.json").read_text())
    assert sorted(e["file"] for e in again["file_errors"]) == ["test_broken.yaml", "test_syntax.py"]
    assert {r["status"] for r in again["results"]} == {"skipped"} and len(again["results"]) == 3 and again["exit_status"] == stopped.ret != 0


@pytest.mark.parametrize("target", ["folder", "unwritable"])
def test_report_paths_are_checked_before_anything_runs(project: pytest.Pytester, target: str) -> None:
    (project.path / "out").mkdir()
    path = "out" if target == "folder" else "/proc/nope/r.json"
    project.makefile(".yaml", test_x="agent: agents/retell/sample_config.json\ntests:\n  - {name: t, includes: [hi], script: [{agent: hi}]}\n")
    result = project.runpytest("--vt-report", path, "--junitxml", "j.xml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--vt-report*" + ("is a folder" if target == "folder" else "cannot be written") + "*"])


def test_two_ctrl_c_keep_every_result_and_say_interrupted(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_slow.py").write_text(
        "import time\nimport pytest\n\n@pytest.mark.parametrize('i', range(8))\ndef test_slow(i):\n    time.sleep(0.4)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--vt-report", "r.json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    journal = tmp_path / "r.json.partial.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (not journal.exists() or journal.read_text().count("\n") < 2):
        time.sleep(0.05)  # until two tests have finished
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == pytest.ExitCode.INTERRUPTED
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["exit_status"] == pytest.ExitCode.INTERRUPTED and len(report["results"]) == 8
    assert {r["status"] for r in report["results"]} <= {"pass", "skipped"} and any(r["status"] == "skipped" for r in report["results"])


# -------------------------------------------------------------------------- hangs


def test_a_hung_model_server_costs_one_test_deadline_not_minutes() -> None:
    started = time.perf_counter()
    with FakeLLMServer(max_hang=30) as server:
        server.inject(*["hang"] * 20)
        result = api.run_test(
            {"name": "t", "user_prompt": "hi", "includes": ["x"]},
            AGENT,
            models=MODELS,
            api_base=server.api_base,
            project=PLATFORMS,
            options={"test_timeout": 2, "llm_timeout": 60},
        )
    assert time.perf_counter() - started < 15
    assert result.status == "error" and "ran past its deadline of 2 s" in result.error_message


def test_a_catastrophic_regex_is_bounded_per_check_not_per_turn() -> None:
    turns = [Turn(role="agent", content="a" * 22 + "b") for _ in range(600)]  # about 0.05 s per turn: 30 s in all, unbounded
    started = time.perf_counter()
    [check] = check_rules(turns, [], [], ["(a|aa)+$"])
    assert time.perf_counter() - started < 5
    assert not check.passed and "took over 1 s" in check.evidence


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs need a POSIX system")
def test_fifos_and_devices_are_refused_not_read(tmp_path: Path) -> None:
    fifo = tmp_path / "tests.json"
    os.mkfifo(fifo)
    (tmp_path / "zero.json").symlink_to("/dev/zero")
    for path in (fifo, tmp_path / "zero.json"):
        with pytest.raises(InputError, match="not a regular file"):
            import_agent(path)
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "agent.json").write_text(AGENT.read_text())
    (tmp_path / "test_f.yaml").write_text("agent: agent.json\ntests_from: tests.json\n")
    with pytest.raises(InputError, match="tests.json: not a regular file"):
        load_file(tmp_path / "test_f.yaml", resolve_config(tmp_path))


# -------------------------------------------------------------------------- leaks


def test_a_token_in_the_api_base_echoed_by_the_server_reaches_no_report(project: pytest.Pytester) -> None:
    secret = "tok3nValue98765"
    with FakeLLMServer(lambda body: {"status": 404, "error": f"no route for /v1?token={secret}&x=1"}) as server:
        project.makefile(".yaml", test_leak="agent: agents/retell/sample_config.json\ntests:\n  - {name: t, user_prompt: hi, includes: [x]}\n")
        result = project.runpytest(
            "--vt-agent-model=openai/a",
            "--vt-simulator-model=openai/s",
            f"--vt-api-base={server.api_base}?token={secret}",
            "--vt-report",
            "r.json",
            "--junitxml",
            "j.xml",
            "--vt-html",
            "r.html",
        )
    outputs = [result.stdout.str(), result.stderr.str(), *((project.path / name).read_text() for name in ("r.json", "j.xml", "r.html"))]
    assert all(secret not in text for text in outputs)
    assert "token=***" in (project.path / "r.json").read_text()


def test_settings_show_no_password_inside_an_env_url(tmp_path: Path) -> None:
    (tmp_path / ".voicetest.toml").write_text(
        '[env]\nDATABASE_URL = "postgresql://app:hunter2secret@db/x"\nMY_URL = "https://h/x?api_key=abcdef123"\n'
    )
    shown = subprocess.run(
        [sys.executable, "-m", "pytest_voicetest.cli", "settings", "--dir", str(tmp_path), "--json"], capture_output=True, text=True, timeout=120
    )
    assert "hunter2secret" not in shown.stdout and "abcdef123" not in shown.stdout
    assert json.loads(shown.stdout)["env"]["DATABASE_URL"] == "postgresql://app:***@db/x"


def test_redaction_is_by_secret_words_and_shapes_not_by_substrings() -> None:
    data = {
        "author": "Ada",
        "keyboard_layout": "us",
        "monkey_count": "3",
        "max_tokens": "9",
        "api_key": "x",
        "Authorization": "y",
        "clientSecret": "z",
    }
    assert redact_data(data) == {
        "author": "Ada",
        "keyboard_layout": "us",
        "monkey_count": "3",
        "max_tokens": "9",
        "api_key": "***",
        "Authorization": "***",
        "clientSecret": "***",
    }
    assert redact("see https://u:pw1234@h/v1?sig=abc&page=2") == "see https://u:***@h/v1?sig=***&page=2"


def test_pwd_variables_are_secret_but_the_working_folder_is_not(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYSQL_PWD", "hunter2-db")
    monkeypatch.setenv("PWD", "/home/ada/project")
    monkeypatch.setenv("OLDPWD", "/home/ada")
    assert redact("db hunter2-db in /home/ada/project") == "db *** in /home/ada/project"
    assert redact_data({"smtp_pwd": "x", "pwd": "x"}) == {"smtp_pwd": "***", "pwd": "***"}


def test_a_secret_set_or_removed_between_two_redactions_is_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    assert redact("token tok-123456789") == "token tok-123456789"
    monkeypatch.setenv("SERVICE_TOKEN", "tok-123456789")
    assert redact("token tok-123456789") == "token ***"
    monkeypatch.setenv("SERVICE_TOKEN", "tok-987654321")
    assert redact_data(["tok-123456789", "tok-987654321"]) == ["tok-123456789", "***"]
    monkeypatch.delenv("SERVICE_TOKEN")
    assert redact("tok-987654321") == "tok-987654321"


def test_a_user_password_api_base_is_sent_as_basic_auth() -> None:
    with FakeLLMServer() as server:
        base = server.api_base.replace("http://", "http://user:pw@")
        result = api.run_test({"name": "t", "user_prompt": "hi", "includes": ["happy"]}, AGENT, models=MODELS, api_base=base, project=PLATFORMS)
        assert set(server.stats.authorization_seen) == {"Basic dXNlcjpwdw=="}
    assert result.status == "pass"


# ---------------------------------------------------------------------- tracebacks


def test_a_5000_node_logic_chain_and_a_5000_node_logic_loop_are_handled() -> None:
    nodes = {
        f"n{i}": {"id": f"n{i}", "node_type": "logic", "transitions": [{"target_node_id": f"n{i + 1}", "condition": {"type": "always"}}]}
        for i in range(5000)
    }
    nodes["n5000"] = {"id": "n5000", "state_prompt": "hi"}
    assert len(import_agent({"nodes": nodes, "entry_node_id": "n0"}).nodes) == 5001
    nodes["n4999"]["transitions"] = [{"target_node_id": "n0", "condition": {"type": "always"}}]
    with pytest.raises(InputError, match=r"logic nodes n0 -> n1 .* more \.\.\. -> n4999 -> n0 form a loop"):
        import_agent({"nodes": nodes, "entry_node_id": "n0"})


def test_deep_livekit_expressions_and_regexes_are_located_errors(tmp_path: Path) -> None:
    code = (
        "from livekit.agents import Agent\nX = "
        + "+".join(['"a"'] * 5000)
        + "\nclass A(Agent):\n    def __init__(self):\n        super().__init__(instructions=X)\n"
    )
    with pytest.raises(InputError, match="a.py: the code nests too deeply"):
        import_agent(code.encode(), filename="a.py")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "agent.json").write_text(AGENT.read_text())
    (tmp_path / "test_re.yaml").write_text("agent: agent.json\ntests:\n  - name: t\n    patterns: ['" + "(" * 900 + "a" + ")" * 900 + "']\n")
    with pytest.raises(InputError, match=r"test_re.yaml:4: tests\[0\].patterns: patterns\[0\] is not a valid regex: the pattern nests too deeply"):
        load_file(tmp_path / "test_re.yaml", resolve_config(tmp_path))


def test_cli_output_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest_voicetest.cli", "export", str(AGENT), "--format", "native", "-o", str(tmp_path / "no" / "x.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "the folder" in done.stderr and "does not exist" in done.stderr and "Traceback" not in done.stderr


TEST_FILE = Path(__file__).parents[1] / "example_project/test_clinic_routing.yaml"
BAD_CALLS = {
    "import_agent(123)": (lambda: api.import_agent(123), "source"),  # type: ignore[arg-type]
    "import_agent(format=5)": (lambda: api.import_agent(AGENT, format=5), "format"),  # type: ignore[arg-type]
    "export_agent(agent=5)": (lambda: api.export_agent(5, "native"), "agent"),  # type: ignore[arg-type]
    "run_test(case=5)": (lambda: api.run_test(5, AGENT), "case"),  # type: ignore[arg-type]
    "run_test(models=list)": (lambda: api.run_test({"name": "t", "includes": ["x"]}, AGENT, models=["a"]), "models"),  # type: ignore[arg-type]
    "run_test(options=list)": (lambda: api.run_test({"name": "t", "includes": ["x"]}, AGENT, options=[1]), "options"),  # type: ignore[arg-type]
    "run_test(api_base=5)": (lambda: api.run_test({"name": "t", "includes": ["x"]}, AGENT, api_base=5), "api_base"),  # type: ignore[arg-type]
    "run_test(test_id=5)": (lambda: api.run_test({"name": "t", "includes": ["x"]}, AGENT, test_id=5), "test_id"),  # type: ignore[arg-type]
    "run_tests(source=5)": (lambda: api.run_tests(5), "source"),  # type: ignore[arg-type]
    "run_tests(concurrency=True)": (lambda: api.run_tests(TEST_FILE, concurrency=True), "concurrency"),
    "evaluate_transcript(transcript=5)": (lambda: api.evaluate_transcript(5, ["x"], judge_model="m"), "transcript"),  # type: ignore[arg-type]
    "evaluate_transcript(judge_model=5)": (lambda: api.evaluate_transcript([{"role": "user", "content": "x"}], ["x"], judge_model=5), "judge_model"),  # type: ignore[arg-type]
    "get_settings(5)": (lambda: api.get_settings(5), "project"),  # type: ignore[arg-type]
    "update_settings({5: 5})": (lambda: api.update_settings({5: 5}), "assignments"),  # type: ignore[dict-item]
    "set_metrics_config(agent_path=5)": (lambda: api.set_metrics_config(5, {}), "agent_path"),  # type: ignore[arg-type]
    "export_tests(test_ids='x')": (lambda: api.export_tests(TEST_FILE, "retell", test_ids="x"), "test_ids"),
}


@pytest.mark.parametrize("call", sorted(BAD_CALLS))
def test_api_arguments_of_the_wrong_type_are_project_errors_naming_the_argument(call: str) -> None:
    bad, argument = BAD_CALLS[call]
    with pytest.raises(InputError) as raised:
        bad()
    assert raised.value.field == argument


def test_quiet_mode_still_truncates_a_long_transcript(project: pytest.Pytester) -> None:
    turns = "{agent: hi}, " + ", ".join(["{user: hi}, {agent: more}"] * 150)
    project.makefile(
        ".yaml", test_long=f"agent: agents/retell/sample_config.json\ntests:\n  - {{name: t, max_turns: 500, includes: [never], script: [{turns}]}}\n"
    )
    result = project.runpytest("-q")
    result.assert_outcomes(failed=1)
    assert "turns omitted (use -v)" in result.stdout.str() and result.stdout.str().count("caller: hi") < 100


# ----------------------------------------------------------------------------- fuzz

YAMLISH = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["name", "tests", "agent", "nodes", "role", "content", "x"]) | st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=60, deadline=None)
@given(test_file=YAMLISH, agent=YAMLISH, transcript=YAMLISH)
def test_generated_files_only_ever_give_located_project_errors(
    tmp_path_factory: pytest.TempPathFactory, test_file: Any, agent: Any, transcript: Any
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "pytest.ini").write_text("[pytest]\n")
    (root / "agent.json").write_text(json.dumps(agent, default=str))
    (root / "call.json").write_text(json.dumps(transcript, default=str))
    if isinstance(test_file, dict):
        test_file = {**test_file, "agent": "agent.json"}
        if isinstance(test_file.get("tests"), list) and test_file["tests"] and isinstance(test_file["tests"][0], dict):
            test_file["tests"][0] = {**test_file["tests"][0], "transcript": "call.json"}
    (root / "test_fuzz.yaml").write_text(json.dumps(test_file, default=str))
    try:
        load_file(root / "test_fuzz.yaml", resolve_config(root))
    except InputError as exc:
        assert exc.source, f"an error without its file: {exc}"
    try:
        import_agent(root / "agent.json")
    except InputError as exc:
        assert exc.source
    from pytest_voicetest.engine.recorded import load_transcript

    try:
        load_transcript(root / "call.json")
    except InputError as exc:
        assert exc.source
