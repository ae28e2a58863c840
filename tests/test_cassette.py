"""Record then replay: identical results, no network, clear misses, no secrets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_voicetest.api import run_test
from pytest_voicetest.fake_server import FakeLLMServer
from pytest_voicetest.importers import import_agent
from pytest_voicetest.llm.cassette import Cassette, cassette_path, request_key
from pytest_voicetest.llm.client import LLMRequest

from .conftest import PLATFORMS

MODELS = {"agent": "openai/gpt-4o-mini", "simulator": "openai/gpt-4o-mini", "judge": "openai/gpt-4o-mini"}
CASE = {
    "name": "books a visit",
    "user_prompt": "Book a visit",
    "metrics": ["The agent helped", {"criterion": "The agent was brief", "threshold": 0.5}],
    "includes": ["happy"],
}


def record(tmp_path: Path, case: dict = CASE) -> tuple[str, Path]:
    path = tmp_path / "cassettes" / "test_clinic" / "books_a_visit.json"
    agent = import_agent(PLATFORMS / "retell/sample_config.json")
    with FakeLLMServer() as server:
        server.inject("429")  # a retry is recorded too
        cassette = Cassette(path, "record", "test_clinic.yaml::books a visit")
        result = run_test(case, agent, models=MODELS, api_base=server.api_base, cassette=cassette, project=PLATFORMS)
        cassette.save()
    assert result.status == "pass", result.failures()
    return result.model_dump_json(), path


def test_record_then_replay_is_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-cassette-key-000111")
    recorded, path = record(tmp_path)
    stored = json.loads(path.read_text())
    assert stored["test"] == "test_clinic.yaml::books a visit"
    assert {e["request"]["kind"] for e in stored["interactions"]} == {"agent", "simulator", "judge"}
    assert "sk-test-cassette-key-000111" not in path.read_text()
    agent = import_agent(PLATFORMS / "retell/sample_config.json")
    replay = Cassette(path, "replay", "test_clinic.yaml::books a visit")
    replayed = run_test(CASE, agent, models=MODELS, api_base="http://127.0.0.1:9/v1", cassette=replay, project=PLATFORMS)
    assert replayed.model_dump_json() == recorded
    assert replayed.usage.retries == 1


def test_replay_miss_names_the_test_and_the_request(tmp_path: Path) -> None:
    _, path = record(tmp_path)
    agent = import_agent(PLATFORMS / "retell/sample_config.json")
    changed = CASE | {"user_prompt": "Cancel a visit"}
    result = run_test(changed, agent, models=MODELS, cassette=Cassette(path, "replay", "test_clinic.yaml::books a visit"), project=PLATFORMS)
    assert result.status == "error"
    message = result.error_message
    assert "replay miss in test 'test_clinic.yaml::books a visit'" in message
    assert str(path) in message
    assert "simulator simulator request to openai/gpt-4o-mini" in message
    assert "Re-record with --vt-record" in message


def test_missing_cassette_file_is_a_clear_miss(tmp_path: Path) -> None:
    agent = import_agent(PLATFORMS / "retell/sample_config.json")
    cassette = Cassette(tmp_path / "none.json", "replay", "t")
    result = run_test(CASE, agent, models=MODELS, cassette=cassette, project=PLATFORMS)
    assert result.status == "error" and "no cassette at" in result.error_message


def test_replay_does_not_import_litellm(tmp_path: Path) -> None:
    _, path = record(tmp_path)
    code = f"""
import json, sys
from pytest_voicetest.api import run_test
from pytest_voicetest.importers import import_agent
from pytest_voicetest.llm.cassette import Cassette
agent = import_agent({str(PLATFORMS / 'retell/sample_config.json')!r})
result = run_test({CASE!r}, agent, models={MODELS!r}, cassette=Cassette(__import__('pathlib').Path({str(path)!r}), 'replay', 't'), project={str(PLATFORMS)!r})
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
    assert path == tmp_path / "agents" / "test_clinic" / "books_a_checkup_next_week.json"
    assert cassette_path(tmp_path, "../../etc/test_x.yaml", "t").is_relative_to(tmp_path)
