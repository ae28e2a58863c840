"""Record then replay: identical results, no network, clear misses, no secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_voicetest.api import run_test
from pytest_voicetest.importers import import_agent
from pytest_voicetest.llm.cassette import cassette_path, request_key
from pytest_voicetest.llm.client import LLMRequest
from pytest_voicetest.testing.server import FakeLLMServer

from .conftest import PLATFORMS

MODELS = {"agent": "openai/gpt-4o-mini", "simulator": "openai/gpt-4o-mini", "judge": "openai/gpt-4o-mini"}
CASE = {
    "name": "books a visit",
    "user_prompt": "Book a visit",
    "metrics": ["The agent helped", {"criterion": "The agent was brief", "threshold": 0.5}],
    "includes": ["happy"],
}


TEST_ID = "test_clinic.yaml::books a visit"


def comparable(result) -> dict:
    """A result without what differs between recording and replaying: when, and how it was answered."""
    return result.model_dump(mode="json", exclude={"started_at", "usage"})


def replay(tmp_path: Path, case: dict = CASE, **options):
    agent = import_agent(PLATFORMS / "retell/sample_config.json")
    return run_test(
        case,
        agent,
        models=MODELS,
        api_base="http://127.0.0.1:9/v1",
        project=PLATFORMS,
        test_id=TEST_ID,
        options={"replay": True, "cassette_dir": str(tmp_path / "cassettes"), **options},
    )


def record(tmp_path: Path, case: dict = CASE) -> tuple[dict, Path]:
    path = cassette_path(tmp_path / "cassettes", "test_clinic.yaml", "books a visit")
    agent = import_agent(PLATFORMS / "retell/sample_config.json")
    with FakeLLMServer() as server:
        server.inject("429")  # a retry is recorded too
        result = run_test(
            case,
            agent,
            models=MODELS,
            api_base=server.api_base,
            project=PLATFORMS,
            test_id=TEST_ID,
            options={"record": True, "cassette_dir": str(tmp_path / "cassettes")},
        )
    assert result.status == "pass", result.failures()
    assert result.usage.calls == 9 and result.usage.retries == 1  # 8 answers and the 429 before one of them
    return comparable(result), path


def test_record_then_replay_is_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-cassette-key-000111")
    recorded, path = record(tmp_path)
    stored = json.loads(path.read_text())
    assert stored["test"] == "test_clinic.yaml::books a visit"
    assert {e["request"]["kind"] for e in stored["interactions"]} == {"agent", "simulator", "judge"}
    assert "sk-test-cassette-key-000111" not in path.read_text()
    replayed = replay(tmp_path)
    assert comparable(replayed) == recorded
    assert (replayed.usage.calls, replayed.usage.replayed_calls) == (0, 8)


def test_replay_miss_names_the_test_and_the_request(tmp_path: Path) -> None:
    _, path = record(tmp_path)
    result = replay(tmp_path, CASE | {"user_prompt": "Cancel a visit"})
    assert result.status == "error"
    message = result.error_message
    assert "replay miss in test 'test_clinic.yaml::books a visit'" in message
    assert str(path) in message
    assert "simulator simulator request to openai/gpt-4o-mini" in message
    assert "Re-record with --vt-record" in message


def test_missing_cassette_file_is_a_clear_error_with_the_record_command(tmp_path: Path) -> None:
    result = replay(tmp_path)
    assert result.status == "error"
    assert "no recording for this test at" in result.error_message and "options={'record': True}" in result.error_message


def test_a_corrupt_cassette_makes_its_test_an_error_that_names_the_file(tmp_path: Path) -> None:
    _, path = record(tmp_path)
    path.write_text('{"interactions": [1, 2')
    broken = replay(tmp_path)
    assert broken.status == "error" and f"{path.name}:1: invalid JSON" in broken.error_message
    path.write_text('{"interactions": "nope"}')
    wrong = replay(tmp_path)
    assert wrong.status == "error" and "not a voicetest cassette" in wrong.error_message and "re-record it with --vt-record" in wrong.error_message


def test_names_that_sanitise_alike_get_their_own_cassettes(tmp_path: Path) -> None:
    assert cassette_path(tmp_path, "test_x.yaml", "call 1") != cassette_path(tmp_path, "test_x.yaml", "call_1")


def test_replay_does_not_import_litellm(tmp_path: Path) -> None:
    _, path = record(tmp_path)
    code = f"""
import json, sys
from pytest_voicetest.api import run_test
from pytest_voicetest.importers import import_agent
agent = import_agent({str(PLATFORMS / "retell/sample_config.json")!r})
result = run_test({CASE!r}, agent, models={MODELS!r}, project={str(PLATFORMS)!r}, test_id={TEST_ID!r},
                  options={{"replay": True, "cassette_dir": {str(tmp_path / "cassettes")!r}}})
print(json.dumps([result.status, 'litellm' in sys.modules]))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120).stdout
    assert json.loads(out.strip().splitlines()[-1]) == ["pass", False]


def test_keys_depend_on_content_and_repeat_index_not_on_context() -> None:
    base = LLMRequest(role="agent", kind="agent", model="m", messages=[{"role": "user", "content": "a"}])
    same = LLMRequest(role="agent", kind="agent", model="m", messages=[{"role": "user", "content": "a"}], context={"node": "x"})
    other = LLMRequest(role="agent", kind="agent", model="m", messages=[{"role": "user", "content": "b"}])
    repeated = LLMRequest(role="agent", kind="agent", model="m", messages=[{"role": "user", "content": "a"}], repeat_index=2)
    assert request_key(base) == request_key(same)
    assert len({request_key(base), request_key(other), request_key(repeated)}) == 3


def test_cassette_paths_are_readable_and_safe(tmp_path: Path) -> None:
    path = cassette_path(tmp_path, "agents/test_clinic.yaml", "books a checkup / next week?")
    assert path.parent == tmp_path / "agents" / "test_clinic"
    assert path.name.startswith("books_a_checkup_next_week-") and path.suffix == ".json"
    assert cassette_path(tmp_path, "test_x.yaml", "plain_name").name == "plain_name.json"
    assert cassette_path(tmp_path, "../../etc/test_x.yaml", "t").is_relative_to(tmp_path)
