"""Bring your files: the voicetest harness's tests, transcripts, settings, agents and results
come in (and go out) with their meaning. Fixtures were written by the harness itself
(tests/fixtures/voicetest/NOTICE.md)."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import jsonschema
import pytest

from pytest_voicetest import api
from pytest_voicetest.config.models import resolve_models
from pytest_voicetest.config.resolve import Layer, resolve_config
from pytest_voicetest.engine.recorded import load_transcript, parse_turns
from pytest_voicetest.errors import InputError
from pytest_voicetest.exporters import export_agent
from pytest_voicetest.importers import import_agent
from pytest_voicetest.judges.rules import check_rules
from pytest_voicetest.models.results import Turn
from pytest_voicetest.report.seed import seed_run
from pytest_voicetest.run.testfile import PlannedTest, load_file
from pytest_voicetest.testing.server import FakeLLMServer

from .conftest import PLATFORMS, TESTS

HARNESS = TESTS / "fixtures" / "voicetest"
EXAMPLE = TESTS.parent / "example_project"


@pytest.fixture
def harness_project(tmp_path: Path) -> Path:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    shutil.copy(HARNESS / "demo" / "agent.json", tmp_path / "agent.json")
    for name in ("harness-format-tests.json", "stored-test-records.json"):
        shutil.copy(HARNESS / "tests" / name, tmp_path / name)
    return tmp_path


def planned(project: Path, tests_from: str) -> dict[str, PlannedTest]:
    (project / "test_h.yaml").write_text(f"agent: agent.json\ntests_from: {tests_from}\n")
    return {p.name: p for p in load_file(project / "test_h.yaml", resolve_config(project)) if isinstance(p, PlannedTest)}


# --------------------------------------------------------------------- test cases


def test_harness_test_files_load_with_their_meaning(harness_project: Path) -> None:
    data = json.loads((harness_project / "harness-format-tests.json").read_text())
    (harness_project / "harness-format-tests.json").write_text(json.dumps([t for t in data if t["name"] != "No checks at all"]))
    tests = {name: p.test for name, p in planned(harness_project, "harness-format-tests.json").items()}
    retell = tests["Books a checkup (Retell-style simulation)"]
    assert retell.harness and (retell.rules_on, retell.pattern_syntax) == ("transcript", "glob")
    assert retell.llm_model == "openai/fake-sim" and retell.models.agent is None  # the simulator's model, not the agent's
    assert retell.metadata == {"creation_timestamp": 1736935200000, "user_modified_timestamp": 1737021600000, "type": "simulation"}
    mocks = {m.tool: m for m in retell.tool_mocks}
    assert mocks["lookup_patient"].returns == {"patient_id": "P-1001", "found": True} and mocks["lookup_patient"].when is None
    assert mocks["book_appointment"].when == {"slot": "Tuesday 10:00"}
    named = tests["Office hours with name/response mocks (llm)"].tool_mocks[0]
    assert (named.tool, named.returns) == ("get_office_hours", {"weekdays": "8-17", "weekends": "closed"})
    assert tests["Greeting globs (unit, fnmatch default)"].type == "rule"
    assert tests["Unknown type value"].type == "llm" and tests["Unknown type value"].metadata["type"] == "conversation"
    stricter = tests["Unit test that also has metrics"]
    assert stricter.type == "llm" and "judges them" in stricter.metadata["note"]


def test_stored_test_records_load_and_keep_their_ids(harness_project: Path) -> None:
    tests = planned(harness_project, "stored-test-records.json")
    record = json.loads((harness_project / "stored-test-records.json").read_text())[0]
    first = tests[record["name"]].test
    assert first.metadata["id"] == record["id"] and first.metadata["agent_id"] == record["agent_id"]
    assert first.metadata["created_at"] == record["created_at"]
    assert len(tests) == 12


def test_a_test_with_no_checks_is_still_refused(harness_project: Path) -> None:
    with pytest.raises(InputError, match=r"harness-format-tests.json:\d+: \[7\]: test 'No checks at all' has no checks"):
        planned(harness_project, "harness-format-tests.json")


def test_pattern_engine_re2_makes_harness_patterns_regexes(harness_project: Path) -> None:
    (harness_project / ".voicetest").mkdir()
    (harness_project / ".voicetest" / "settings.toml").write_text('[run]\npattern_engine = "re2"\n')
    (harness_project / "t.json").write_text(json.dumps([{"name": "r", "user_prompt": "x", "type": "unit", "patterns": ["Acme\\s+Healthcare"]}]))
    assert planned(harness_project, "t.json")["r"].test.pattern_syntax == "regex"
    (harness_project / "test_h.yaml").write_text("agent: agent.json\ndefaults: {pattern_syntax: glob}\ntests_from: t.json\n")
    [only] = load_file(harness_project / "test_h.yaml", resolve_config(harness_project))
    assert isinstance(only, PlannedTest) and only.test.pattern_syntax == "glob"  # the file's own default wins over the setting


# ------------------------------------------------------------------------- rules

CALL = [
    Turn(role="agent", content="Agent reply 1: happy to help with your appointment."),
    Turn(role="user", content="No, that's all. Thank you, goodbye."),
]


def passed(patterns: list[str], syntax: str, rules_on: str) -> list[bool]:
    return [c.passed for c in check_rules(CALL, [], [], patterns, rules_on, syntax)]


def test_globs_match_within_one_line_of_the_whole_transcript_as_the_harness_does() -> None:
    assert passed(["Agent reply*help", "*appointment*", "user*goodbye", "A-[0-9]"], "glob", "transcript") == [True, True, True, False]
    assert passed(["appointment*goodbye"], "glob", "transcript") == [False]  # a glob never crosses a line
    assert passed(["help.*today", "Agent reply*help"], "regex", "agent") == [False, False]  # our YAML's documented default
    rule = json.loads((HARNESS / "rules" / "rule-judge-semantics.json").read_text())
    assert "ASSISTANT:" in rule["text_matched"] or "USER:" in rule["text_matched"]


def test_includes_over_the_whole_transcript_see_the_caller_too() -> None:
    [agent_only] = check_rules(CALL, [], ["goodbye"], [], "agent")
    [whole] = check_rules(CALL, [], ["goodbye"], [], "transcript")
    assert agent_only.passed and not whole.passed and whole.evidence.startswith('the transcript: "')


# ------------------------------------------------------------------------ models


def test_llm_model_is_the_simulators_default_as_in_the_harness() -> None:
    def simulator(settings: str | None, precedence: bool) -> str | None:
        return resolve_models(
            cli={},
            test={},
            file_defaults={},
            settings={"simulator": settings},
            environment={},
            graph_default=None,
            test_default={"simulator": "openai/from-llm-model"},
            test_model_precedence=precedence,
        )["simulator"]

    assert simulator(None, False) == "openai/from-llm-model"
    assert simulator("openai/configured", False) == "openai/configured"
    assert simulator("openai/configured", True) == "openai/from-llm-model"


# ------------------------------------------------------------------- transcripts


def test_harness_message_transcripts_load_with_timestamps_nodes_and_tool_turns() -> None:
    record = load_transcript(HARNESS / "transcripts" / "message-timestamps.input.json")
    assert [t.timestamp for t in record.transcript[:4]] == [0.0, 4250.0, 6000.0, 7000.0]  # ISO, ISO with offset, epoch seconds, naive ISO
    assert record.transcript[0].role == "agent" and record.nodes_visited[:2] == ["greeting", "verify_identity"]
    run = load_transcript(HARNESS / "transcripts" / "run-transcript.json")
    assert "route_to_verify_identity" not in [c.name for c in run.tools_called]  # transitions are not tool calls
    assert run.nodes_visited[0] == "greeting" and run.turn_count > 0


@pytest.mark.parametrize(
    ("turns", "message"),
    [
        ([{"role": "robot", "content": "x"}], r"\[0\].role: unknown role 'robot'.*Fix: use agent"),
        ([{"role": "user", "content": "x", "timestamp": "yesterday"}], r"\[0\].timestamp: timestamp \"'yesterday'\" is not a time"),
        ([{"role": "user", "content": "x", "timestamp": {"at": 3}}], r"\[0\].timestamp: timestamp .* is not a time"),
        (["just text"], r"\[0\]: each turn needs a role and content"),
    ],
)
def test_bad_turns_are_located_errors(turns: list, message: str) -> None:
    with pytest.raises(InputError, match=message):
        parse_turns(turns, "call.json")


def test_roles_and_content_shapes_are_understood() -> None:
    record = parse_turns([{"role": "bot", "content": "Hi", "node_id": "greet"}, {"role": "caller", "content": {"text": "Hello"}}], "c.json")
    assert [(t.role, t.content) for t in record.transcript] == [("agent", "Hi"), ("user", '{"text": "Hello"}')]


def test_retell_entries_are_checked_and_text_content_is_read(tmp_path: Path) -> None:
    path = tmp_path / "call.json"
    path.write_text(json.dumps({"transcript_object": [{"role": "agent", "content": {"text": "Hello there"}}, {"role": "user", "content": "Hi"}]}))
    assert [t.content for t in load_transcript(path).transcript] == ["Hello there", "Hi"]
    path.write_text(json.dumps({"transcript_object": [{"role": "agent", "content": "ok"}, 5]}))
    with pytest.raises(InputError, match=r"transcript_object\[1\]: entry is a int, not a transcript entry"):
        load_transcript(path)


# ----------------------------------------------------------- settings and options


def test_the_harness_settings_file_loads_with_one_warning(tmp_path: Path) -> None:
    shutil.copytree(HARNESS / "settings" / ".voicetest", tmp_path / ".voicetest")
    config = resolve_config(tmp_path, environ={})
    assert config.settings_models == {"agent": "openai/fake-agent", "simulator": "openai/fake-sim", "judge": "openai/fake-judge"}
    assert (config.options.pattern_engine, config.options.flow_judge, config.options.start_speaker) == ("re2", True, "user")
    [warning] = config.warnings
    assert "audio, export, cache" in warning and "audio_eval" in warning
    shown = subprocess.run(
        [sys.executable, "-m", "pytest_voicetest.cli", "settings", "--dir", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert f"settings file: {tmp_path / '.voicetest' / 'settings.toml'}" in shown.stdout and "warning" in shown.stderr
    assert "sk-fake" not in shown.stdout  # the key in [env] is masked


def test_harness_run_options_are_accepted_and_honoured(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    config = resolve_config(tmp_path, [Layer("options", {"timeout_seconds": 7, "judge_model": "openai/j"})])
    assert config.options.turn_timeout == 7 and config.command_models["judge"] == "openai/j"
    case = {"name": "t", "script": [{"user": "hi"}, {"agent": "Hello there"}, {"hangup": True}], "includes": ["hello"]}
    result = api.run_test(case, PLATFORMS / "retell/sample_config.json", project=TESTS, options={"start_speaker": "user", "flow_judge": False})
    assert result.status == "pass" and result.transcript[0].role == "user"


def test_streaming_measures_time_to_first_token(tmp_path: Path) -> None:
    case = {"name": "s", "user_prompt": "hi", "includes": ["happy"]}
    models = {"agent": "openai/a", "simulator": "openai/s"}
    with FakeLLMServer(latency=0.05, chunk_delay=0.1) as server:
        streamed = api.run_test(
            case, PLATFORMS / "retell/sample_config.json", models=models, api_base=server.api_base, project=TESTS, options={"streaming": True}
        )
        assert any(body.get("stream") for body in server.requests)
    assert streamed.status == "pass"
    assert max(streamed.latencies_ms[1:]) < 300  # about the 50 ms to the first chunk, not the 6 x 100 ms of the whole reply


def test_cot_transitions_ask_for_reasoning_and_verbose_prints_each_turn(capfd: pytest.CaptureFixture[str]) -> None:
    case = {"name": "c", "user_prompt": "hi", "includes": ["happy"]}
    models = {"agent": "openai/a", "simulator": "openai/s"}
    with FakeLLMServer() as server:
        api.run_test(
            case,
            PLATFORMS / "retell/sample_config.json",
            models=models,
            api_base=server.api_base,
            project=TESTS,
            options={"cot_transitions": True, "verbose": True},
        )
        routes = [t["function"] for body in server.requests for t in body.get("tools") or [] if t["function"]["name"].startswith("route_to_")]
    assert routes and all(r["parameters"]["required"] == ["reasoning"] for r in routes)
    assert "[c] [" in capfd.readouterr().err  # "[test] [node] agent: ..." lines as the call goes


def test_global_metrics_as_objects_with_their_own_threshold_and_enabled_flag(tmp_path: Path) -> None:
    agent = tmp_path / "flow.json"
    agent.write_text((PLATFORMS / "retell/sample_config.json").read_text())
    api.set_metrics_config(
        agent,
        {
            "threshold": 0.7,
            "global_metrics": [
                {"name": "Politeness", "criteria": "Agent was polite", "threshold": 0.5},
                {"name": "HIPAA", "criteria": "Agent kept records private", "enabled": False},
                "Agent was brief",
            ],
        },
    )
    script = {"turns": [{"agent": "Hi"}], "judge": {"*": 0.6}}
    result = api.run_test({"name": "t", "script": script}, agent, project=tmp_path)
    assert [(m.metric, m.threshold, m.passed) for m in result.metric_results] == [("Agent was polite", 0.5, True), ("Agent was brief", 0.7, False)]


# ------------------------------------------------------------------------ agents

HARNESS_SCHEMA = json.loads((HARNESS / "schemas" / "AgentGraph.schema.json").read_text())


@pytest.mark.parametrize("export", sorted(p.name for p in (HARNESS / "exports").glob("*_voicetest.vt.json")))
def test_the_harness_native_export_imports_and_ours_loads_in_the_harness(export: str) -> None:
    graph = import_agent(HARNESS / "exports" / export)
    original = json.loads((HARNESS / "exports" / export).read_text())
    assert set(graph.nodes) == set(original["nodes"]) and graph.entry_node_id == original["entry_node_id"]
    for node_id, node in original["nodes"].items():
        assert graph.nodes[node_id].state_prompt == node["state_prompt"] and graph.nodes[node_id].node_type == node["node_type"]
        assert [t.target_node_id for t in graph.nodes[node_id].transitions] == [t["target_node_id"] for t in node["transitions"]]
    ours = json.loads(export_agent(graph, "native"))
    jsonschema.Draft202012Validator(HARNESS_SCHEMA).validate(ours)  # the harness's own model accepts it
    assert import_agent(ours) == graph


@pytest.mark.parametrize(("export", "source"), [("demo-healthcare_bland.json", "bland"), ("demo-healthcare_telnyx.json", "telnyx")])
def test_the_harness_bland_and_telnyx_exports_are_detected(export: str, source: str) -> None:
    graph = import_agent(HARNESS / "exports" / export)
    assert graph.source_type == source and graph.nodes[graph.entry_node_id].state_prompt


def test_a_forced_format_that_does_not_match_names_what_was_found() -> None:
    with pytest.raises(InputError, match=r"forced to 'vapi_assistant'.*looks like pytest-voicetest graph IR .*\(native\)"):
        import_agent(PLATFORMS / "graphs/simple_graph.json", format="vapi")


def test_livekit_bland_and_telnyx_exporters_round_trip(tmp_path: Path) -> None:
    graph = import_agent(EXAMPLE / "agents" / "clinic_flow.json")
    code = export_agent(graph, "livekit")
    ast.parse(code)
    (tmp_path / "agent.py").write_text(code)
    back = import_agent(tmp_path / "agent.py")
    assert set(back.nodes) == set(graph.nodes) and back.entry_node_id == graph.entry_node_id and back.begin_message == graph.begin_message
    for node in graph.nodes.values():
        assert sorted(t.target_node_id for t in back.nodes[node.id].transitions) == sorted(t.target_node_id for t in node.transitions)
    bland = import_agent(json.loads(export_agent(graph, "bland")))
    assert set(bland.nodes) == set(graph.nodes)
    telnyx = import_agent(json.loads(export_agent(graph, "telnyx")))
    assert "Step schedule" in telnyx.nodes[telnyx.entry_node_id].state_prompt  # one prompt holding every step


@pytest.mark.parametrize("format", ["retell_llm", "vapi"])
def test_end_and_transfer_nodes_stay_end_and_transfer(format: str) -> None:
    graph = import_agent(EXAMPLE / "agents" / "clinic_flow.json")
    back = import_agent(json.loads(export_agent(graph, format)))
    assert back.nodes["goodbye"].node_type == "end" and back.nodes["nurse_transfer"].node_type == "transfer"


# ------------------------------------------------------------ tests and results out


def test_test_export_formats_selection_and_what_they_cannot_hold() -> None:
    source = EXAMPLE / "test_clinic_llm.yaml"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        harness = api.export_tests(source, "voicetest", select="checkup")
    assert [t["name"] for t in harness] == ["books a checkup next week"]
    assert harness[0]["type"] == "llm" and harness[0]["tool_mocks"][0] == {"name": "lookup_patient", "response": {"patient_id": "P-42"}}
    lost = [str(w.message) for w in caught]
    assert any("expect (path assertions) dropped" in line for line in lost) and any("per-metric thresholds" in line for line in lost)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        retell = api.export_tests(source, "retell", test_ids=["test_clinic_llm.yaml::books a checkup next week"])
    lost = [str(w.message) for w in caught if issubclass(w.category, api.VoicetestWarning)]
    assert lost and all(line.startswith("retell cannot hold 'books a checkup next week': ") for line in lost)
    assert any("expect (path assertions) dropped" in line for line in lost) and any("only agent turns" in line for line in lost)
    assert retell[0]["type"] == "simulation" and retell[0]["tool_mocks"][0]["input_match_rule"] == {
        "type": "partial_match",
        "args": {"full_name": "john smith"},
    }
    native = api.export_tests(EXAMPLE / "test_clinic_routing.yaml", "native")
    assert native[0]["script"] and native[0]["expect"]  # everything kept
    with pytest.raises(InputError, match="no test with id or name 'nope'"):
        api.export_tests(source, "retell", test_ids=["nope"])
    with pytest.raises(InputError, match="unknown test export format 'csv'"):
        api.export_tests(source, "csv")


def test_exported_harness_tests_load_back_with_tests_from(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    shutil.copytree(EXAMPLE / "agents", tmp_path / "agents")
    with pytest.warns(api.VoicetestWarning):
        entries = api.export_tests(EXAMPLE / "test_clinic_llm.yaml", "voicetest")
    (tmp_path / "t.json").write_text(json.dumps(entries))
    (tmp_path / "test_back.yaml").write_text("agent: agents/clinic_flow.json\ntests_from: t.json\n")
    back = [p.name for p in load_file(tmp_path / "test_back.yaml", resolve_config(tmp_path))]
    assert back == [e["name"] for e in entries]


def test_results_in_the_harness_api_shape(tmp_path: Path) -> None:
    run = api.run_tests(EXAMPLE / "test_clinic_routing.yaml", select="books")
    seed = seed_run(run.model_dump(mode="json"))
    assert seed["run_id"] == run.run_id and set(seed) == {"run_id", "started_at", "completed_at", "results"}
    result = seed["results"][0]
    assert result["transcript"][0]["role"] == "assistant" and result["transcript"][0]["timestamp"].endswith("Z")
    assert isinstance(result["duration_ms"], int) and result["duration_ms"] > 0  # the wall time of a scripted call
    assert result["metric_results"][0]["metric"].startswith("includes: ")
    recorded = api.run_tests(EXAMPLE / "test_clinic_recorded.yaml")
    assert all(r["end_reason"] == "" or isinstance(r["end_reason"], str) for r in seed_run(recorded.model_dump(mode="json"))["results"])
    message = json.loads((HARNESS / "schemas" / "Message.schema.json").read_text())
    for turn in result["transcript"]:
        jsonschema.Draft202012Validator(message).validate(turn)
