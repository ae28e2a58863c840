"""The real litellm HTTP path against a local OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest

from pytest_voicetest.api import run_test
from pytest_voicetest.config.settings import RunOptions
from pytest_voicetest.errors import LLMError
from pytest_voicetest.importers import import_agent
from pytest_voicetest.llm.client import ClientOptions, LLMClient, LLMRequest
from pytest_voicetest.testing.server import FakeLLMServer, default_responder

from .conftest import PLATFORMS

MODELS = {"agent": "openai/gpt-4o-mini", "simulator": "openai/gpt-4o-mini", "judge": "openai/gpt-4o-mini"}
SECRET = "sk-test-Zx81kQ0pLm77Ys3Wv"


def request(**overrides: Any) -> LLMRequest:
    values = {"role": "agent", "kind": "agent", "model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
    return LLMRequest(**(values | overrides))


class RecordingSleep:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


def complete(server: FakeLLMServer, **options: Any) -> tuple[Any, RecordingSleep]:
    sleep = RecordingSleep()
    client = LLMClient(ClientOptions(api_base=server.api_base, **({"timeout": 5.0} | options)), sleep=sleep)
    return asyncio.run(client.complete(request())), sleep


@pytest.fixture(autouse=True)
def api_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def test_full_call_through_http(llm_server: FakeLLMServer) -> None:
    agent = import_agent(PLATFORMS / "retell/sample_config.json")
    result = run_test(
        {"name": "http call", "user_prompt": "Ask about billing", "metrics": ["The agent helped"], "includes": ["happy to help"]},
        agent,
        models=MODELS,
        api_base=llm_server.api_base,
        project=PLATFORMS,
    )
    assert result.status == "pass", result.failures()
    assert [t.role for t in result.transcript] == ["agent", "user", "agent", "user", "agent", "user"]
    assert result.end_reason == "user_ended"
    assert result.metric_results[0].score == 0.9 and result.metric_results[0].confidence == 0.8
    assert result.usage.calls == len(llm_server.requests) == 7  # 3 agent + 3 caller + 1 judge
    assert result.usage.prompt_tokens > 0 and result.usage.cost_usd > 0
    assert result.models_used == MODELS
    assert all(t.timestamp >= 0 for t in result.transcript)
    agent_requests = [r for r in llm_server.requests if "tools" in r and any(t["function"]["name"].startswith("route_to") for t in r["tools"])]
    assert agent_requests, "the agent must be offered its edges as real function-calling tools"


@pytest.mark.parametrize("fault", ["429", "500", "malformed", "truncated"])
def test_retries_after_injected_faults(llm_server: FakeLLMServer, fault: str) -> None:
    llm_server.inject(fault, fault)
    reply, sleep = complete(llm_server)
    assert reply.content.startswith("Agent reply")
    assert reply.retries == 2
    assert len(sleep.delays) == 2
    assert llm_server.stats.faults == {fault: 2}


def test_retry_after_is_honoured_and_backoff_is_capped(llm_server: FakeLLMServer) -> None:
    llm_server.retry_after = 0.75
    llm_server.inject("429")
    _, sleep = complete(llm_server, backoff_base=0.01)
    assert sleep.delays == [0.75]
    llm_server.inject("500", "500", "500", "500")
    _, sleep = complete(llm_server, backoff_base=1.0, backoff_cap=2.0, max_retries=4)
    assert len(sleep.delays) == 4 and max(sleep.delays) <= 2.0


def test_gives_up_after_max_retries(llm_server: FakeLLMServer) -> None:
    llm_server.inject("500", "500", "500")
    with pytest.raises(LLMError, match=r"failed after 3 attempts: InternalServerError"):
        complete(llm_server, max_retries=2)


@pytest.mark.parametrize("status", [400, 401, 404, 422])
def test_other_4xx_are_never_retried(status: int) -> None:
    responder = lambda body: {"status": status, "error": f"Incorrect API key provided: {SECRET}"}  # noqa: E731
    with FakeLLMServer(responder) as server:
        with pytest.raises(LLMError) as info:
            complete(server)
        assert len(server.requests) == 1
    assert SECRET not in str(info.value)
    assert "***" in str(info.value)


def test_hung_response_is_cut_by_the_timeout(llm_server: FakeLLMServer) -> None:
    complete(llm_server)  # warm litellm up first: only the hung requests are timed
    llm_server.inject("hang", "hang")
    started = time.perf_counter()
    with pytest.raises(LLMError, match="timed out"):
        complete(llm_server, timeout=0.5, max_retries=1)
    elapsed = time.perf_counter() - started
    assert 0.9 <= elapsed < 3.0
    assert len(llm_server.requests) == 3


def test_turn_timeout_ends_the_call(llm_server: FakeLLMServer) -> None:
    agent = import_agent(PLATFORMS / "retell/sample_config.json")
    llm_server.latency = 0.6
    result = run_test(
        {"name": "slow", "user_prompt": "hi", "turn_timeout": 0.3, "expect": {"end_reason": ["turn_timeout"]}},
        agent,
        models=MODELS,
        api_base=llm_server.api_base,
        project=PLATFORMS,
    )
    assert result.end_reason == "turn_timeout"
    assert result.status == "pass"


def test_call_timeout_ends_the_call(llm_server: FakeLLMServer) -> None:
    agent = import_agent(PLATFORMS / "retell/sample_config.json")
    llm_server.latency = 0.2
    llm_server.responder = default_responder(caller_lines=50)
    result = run_test(
        {"name": "long", "user_prompt": "hi", "includes": ["x"], "call_timeout": 1.0},
        agent,
        models=MODELS,
        api_base=llm_server.api_base,
        project=PLATFORMS,
    )
    assert (result.end_reason, result.status) == ("call_timeout", "fail")


def test_no_secret_in_results_logs_or_cassettes(llm_server: FakeLLMServer, tmp_path, caplog, capsys) -> None:
    caplog.set_level(logging.DEBUG)
    agent = import_agent(PLATFORMS / "retell/sample_config.json")
    result = run_test(
        {"name": "secret", "user_prompt": f"My key is {SECRET}.", "includes": ["happy"], "dynamic_variables": {"token": SECRET}},
        agent,
        models=MODELS,
        api_base=llm_server.api_base,
        project=PLATFORMS,
        test_id="secret",
        options={"record": True, "cassette_dir": str(tmp_path)},
    )
    [cassette] = tmp_path.rglob("*.json")
    assert all(header == f"Bearer {SECRET}" for header in llm_server.stats.authorization_seen)  # the key did reach the model
    captured = capsys.readouterr()
    artifacts = [result.model_dump_json(), cassette.read_text(), caplog.text, captured.out, captured.err]
    assert all(SECRET not in text for text in artifacts)
    assert "***" in cassette.read_text()


def test_run_options_flow_into_the_engine(llm_server: FakeLLMServer) -> None:
    agent = import_agent(PLATFORMS / "retell/sample_config.json")
    llm_server.responder = default_responder(caller_lines=10)
    result = run_test(
        {"name": "short", "user_prompt": "hi", "includes": ["happy"], "expect": {"end_reason": "max_turns"}},
        agent,
        models=MODELS,
        api_base=llm_server.api_base,
        options=RunOptions(max_turns=2),
        project=PLATFORMS,
    )
    assert (result.turn_count, result.end_reason, result.status) == (2, "max_turns", "pass")
    assert json.loads(result.model_dump_json())["turn_count"] == 2


def test_the_fake_server_runs_standalone_and_says_where() -> None:
    command = [sys.executable, "-m", "pytest_voicetest.testing.server", "--port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        base = re.search(r"at (http://127\.0\.0\.1:\d+/v1)", process.stdout.readline())
        assert base, "the server must print its URL"
        body = json.dumps({"model": "fake", "messages": [{"role": "system", "content": "You judge a phone call"}]}).encode()
        request = urllib.request.Request(f"{base.group(1)}/chat/completions", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            verdict = json.loads(json.loads(answer.read())["choices"][0]["message"]["content"])
        assert verdict["passed"] is True and verdict["sentiment"] == "Positive"
        port = base.group(1).split(":")[2].split("/")[0]
        busy = subprocess.run([*command[:-1], port], capture_output=True, text=True, timeout=30)
        assert busy.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in busy.stderr and "Traceback" not in busy.stderr
    finally:
        process.terminate()
        process.wait(timeout=10)
